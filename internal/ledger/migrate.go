package ledger

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Converting a schema-1 ledger (JSON records keyed by order id, one JSON
// event per change with an order_events index) to this schema.
//
// The new ledger is written whole into a file beside the old one while
// the old one stays locked and untouched; only when it is complete and
// synced does a rename put it in the old one's place. A crash at any point
// leaves either the old ledger at its path (the half-written new file is
// removed and the conversion starts again on the next open) or the new one,
// never a mix. The old file stays beside it as PATH.schema-1 for an
// operator who wants to go back to the earlier build.

// migrateSuffix names the file the conversion writes beside the ledger.
const migrateSuffix = ".schema-2.tmp"

// BackupSuffix is appended to the ledger's path for the copy of a schema-1
// ledger kept after it was converted.
const BackupSuffix = ".schema-1"

// migrate converts the schema-1 ledger l (open for writing, so locked) and
// puts the result at l's path. l must be closed afterwards.
func (l *Ledger) migrate(opt Options) error {
	tmp := filepath.Join(filepath.Dir(l.path), "."+filepath.Base(l.path)+migrateSuffix)
	_ = os.Remove(tmp)
	db, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: opt.Timeout + time.Second})
	if err != nil {
		return err
	}
	nl := &Ledger{db: db, path: tmp}
	err = nl.boltUpdate(initSchema)
	if err == nil {
		err = l.copySchema1(nl)
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Link(l.path, l.path+BackupSuffix); err != nil && !errors.Is(err, os.ErrExist) {
		_ = os.Remove(tmp)
		return fmt.Errorf("keep the schema-1 file: %w", err)
	}
	if err := os.Rename(tmp, l.path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	syncDir(filepath.Dir(l.path))
	return nil
}

// copySchema1 reads every bucket of the schema-1 ledger l and writes the
// new ledger nl.
func (l *Ledger) copySchema1(nl *Ledger) error {
	last, err := l.copyEvents1(nl)
	if err != nil {
		return err
	}
	w := &bulkWriter{l: nl, ops: newSorter(filepath.Dir(nl.path), opsRunBytes), deferred: true}
	defer w.ops.close()
	if err := l.copyOrders1(nl, w, last); err != nil {
		return err
	}
	if err := w.indexes(nil); err != nil {
		return err
	}
	return l.boltView(func(tx *bolt.Tx) error {
		return nl.boltUpdate(func(ntx *bolt.Tx) error {
			for _, name := range []string{bucketProblems, bucketFiles, bucketFilesByTime} {
				src, dst := tx.Bucket([]byte(name)), ntx.Bucket([]byte(name))
				if src == nil {
					return fmt.Errorf("%w: bucket %q missing", ErrSchema, name)
				}
				if err := src.ForEach(func(k, v []byte) error { return dst.Put(k, v) }); err != nil {
					return err
				}
			}
			if v := tx.Bucket([]byte(bucketMeta)).Get([]byte(keyProblems)); v != nil {
				return ntx.Bucket([]byte(bucketMeta)).Put([]byte(keyProblems), v)
			}
			return nil
		})
	})
}

// copyEvents1 converts the event log in order, chaining each event to the
// same order's previous one, and returns each order's newest event.
func (l *Ledger) copyEvents1(nl *Ledger) (map[string]uint64, error) {
	last := map[string]uint64{}
	var after []byte
	for {
		n := 0
		err := l.boltView(func(tx *bolt.Tx) error {
			src := tx.Bucket([]byte(bucketEvents))
			if src == nil {
				return fmt.Errorf("%w: bucket %q missing", ErrSchema, bucketEvents)
			}
			return nl.boltUpdate(func(ntx *bolt.Tx) error {
				dst := ntx.Bucket([]byte(bucketEvents))
				dst.FillPercent = 1
				if err := dst.SetSequence(src.Sequence()); err != nil {
					return err
				}
				c := src.Cursor()
				k, v := c.First()
				if after != nil {
					c.Seek(after)
					k, v = c.Next()
				}
				for ; k != nil && n < txMaxOrders; k, v = c.Next() {
					var ev Event
					if err := json.Unmarshal(v, &ev); err != nil {
						return fmt.Errorf("event %x: %w", k, err)
					}
					kb, err := orderKey(ev.Key)
					if err != nil {
						return fmt.Errorf("event %x: %w", k, err)
					}
					ev.Time = ev.Time.UTC()
					if err := dst.Put(k, encodeEvent(nil, &ev, last[string(kb)], kb)); err != nil {
						return err
					}
					last[string(kb)] = binary.BigEndian.Uint64(k)
					after = append(after[:0], k...)
					n++
				}
				return nil
			})
		})
		if err != nil {
			return nil, fmt.Errorf("convert events: %w", err)
		}
		if n < txMaxOrders {
			return last, nil
		}
	}
}

// copyOrders1 converts the orders in key order, numbering them in that
// order, and gathers their index entries in w.
func (l *Ledger) copyOrders1(nl *Ledger, w *bulkWriter, last map[string]uint64) error {
	var after []byte
	for {
		n := 0
		err := l.boltView(func(tx *bolt.Tx) error {
			c := tx.Bucket([]byte(bucketOrders)).Cursor()
			k, v := c.First()
			if after != nil {
				c.Seek(after)
				k, v = c.Next()
			}
			return nl.updateLocked(time.Time{}, func(t *txn) error {
				t.ids.FillPercent = 1
				for ; k != nil && n < txMaxOrders; k, v = c.Next() {
					if err := w.copyOrder1(t, k, v, last[string(k)]); err != nil {
						return err
					}
					after = append(after[:0], k...)
					n++
				}
				return nil
			})
		})
		if err != nil {
			return fmt.Errorf("convert orders: %w", err)
		}
		if n < txMaxOrders {
			return nil
		}
	}
}

// record1 is a schema-1 record as it was stored: Record's JSON, with the
// times Record now names in snake case under their Go names.
type record1 struct {
	Record
	CreatedAt, UpdatedAt, ClaimedAt, SentAt time.Time
}

// decodeRecord1 reads a schema-1 record.
func decodeRecord1(v []byte) (Record, error) {
	var r1 record1
	if err := json.Unmarshal(v, &r1); err != nil {
		return Record{}, err
	}
	rec := r1.Record
	rec.CreatedAt, rec.UpdatedAt, rec.ClaimedAt, rec.SentAt = r1.CreatedAt, r1.UpdatedAt, r1.ClaimedAt, r1.SentAt
	return rec, nil
}

// copyOrder1 writes one schema-1 record (key k, JSON v) as it was, under
// a new number, and keeps its index entries for later.
func (w *bulkWriter) copyOrder1(t *txn, k, v []byte, lastEvent uint64) error {
	rec, err := decodeRecord1(v)
	if err != nil {
		return fmt.Errorf("order %q: %w", k, err)
	}
	kb, err := orderKey(rec.Key)
	if err != nil || string(kb) != string(k) {
		return fmt.Errorf("order %q: stored under the wrong key (record says %s)", k, rec.Key)
	}
	for _, p := range []*time.Time{&rec.SendAt, &rec.Deadline, &rec.NotBefore, &rec.DeliveringAt, &rec.CreatedAt,
		&rec.UpdatedAt, &rec.ClaimedAt, &rec.SentAt, &rec.Order.PurchaseDate, &rec.Order.StatusAt,
		&rec.Order.ShippedAt, &rec.Order.DeliveredAt, &rec.Order.EstimatedArrival} {
		*p = utc(*p)
	}
	if rec.State == Claimed && rec.DeliveringAt.IsZero() {
		// A build that did not record the point of no return claimed it: the
		// send may have gone, so it must be in doubt after a crash, never
		// retried as surely unsent.
		rec.DeliveringAt = rec.ClaimedAt
	}
	forgetUnneeded(&rec)
	rec.lastEvent = lastEvent
	if rec.oid, err = t.orders.NextSequence(); err != nil {
		return err
	}
	if err := t.ids.Put(kb, u64(rec.oid)); err != nil {
		return err
	}
	if err := t.orders.Put(u64(rec.oid), encodeRecord(nil, &rec)); err != nil {
		return err
	}
	t.deltas[stateCode(rec.State)]++
	indexChanges(nil, &rec, func(op indexOp) {
		if err == nil {
			err = w.ops.add(op[:17], op[17:])
		}
	})
	return err
}
