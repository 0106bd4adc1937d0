package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"campaignd/internal/orders"

	bolt "go.etcd.io/bbolt"
)

// FileRecord is what the ledger remembers about one ingested file, keyed by
// the SHA-256 of its bytes so the same bytes dropped twice change nothing.
type FileRecord struct {
	SHA256     string    `json:"sha256"`
	Name       string    `json:"name"`
	Size       int64     `json:"size"`
	Kind       string    `json:"kind,omitempty"`
	Encoding   string    `json:"encoding,omitempty"`
	IngestedAt time.Time `json:"ingested_at"`
	Rows       int       `json:"rows"`
	Orders     int       `json:"orders"`
	Rejected   int       `json:"rejected"`
	Outcome    string    `json:"outcome"`              // "processed" or "rejected"
	Error      string    `json:"error,omitempty"`      // why rejected
	RowErrors  []string  `json:"row_errors,omitempty"` // first 100 rejected-row messages
}

// maxRowErrors bounds FileRecord.RowErrors.
const maxRowErrors = 100

// File returns the record of the file whose SHA-256 is sha, and whether the
// ledger has one.
func (l *Ledger) File(sha string) (FileRecord, bool, error) {
	var f FileRecord
	var ok bool
	err := l.boltView(func(tx *bolt.Tx) error {
		raw := tx.Bucket([]byte(bucketFiles)).Get([]byte(sha))
		if raw == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(raw, &f)
	})
	if err != nil {
		return FileRecord{}, false, fmt.Errorf("get file %s: %w", sha, err)
	}
	return f, ok, nil
}

// RecordFile stores f, replacing an earlier record of the same bytes.
func (l *Ledger) RecordFile(f FileRecord) error {
	if f.SHA256 == "" {
		return errors.New("record file: empty sha256")
	}
	if len(f.RowErrors) > maxRowErrors {
		f.RowErrors = f.RowErrors[:maxRowErrors]
	}
	f.IngestedAt = utc(f.IngestedAt)
	data, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("record file %s: %w", f.Name, err)
	}
	err = l.boltUpdate(func(tx *bolt.Tx) error {
		t := newTxn(tx, f.IngestedAt)
		sha := []byte(f.SHA256)
		if raw := t.files.Get(sha); raw != nil {
			var old FileRecord
			if err := json.Unmarshal(raw, &old); err != nil {
				return err
			}
			if err := t.filesByTime.Delete(timeKey(old.IngestedAt, sha)); err != nil {
				return err
			}
		}
		if err := t.files.Put(sha, data); err != nil {
			return err
		}
		return t.filesByTime.Put(timeKey(f.IngestedAt, sha), []byte{})
	})
	if err != nil {
		return fmt.Errorf("record file %s: %w", f.Name, err)
	}
	return nil
}

// RecentFiles returns up to n file records, newest first.
func (l *Ledger) RecentFiles(n int) ([]FileRecord, error) {
	var out []FileRecord
	err := l.boltView(func(tx *bolt.Tx) error {
		files := tx.Bucket([]byte(bucketFiles))
		c := tx.Bucket([]byte(bucketFilesByTime)).Cursor()
		for k, _ := c.Last(); k != nil && len(out) < n; k, _ = c.Prev() {
			raw := files.Get(k[8:])
			if raw == nil {
				return fmt.Errorf("file index names unknown file %q", k[8:])
			}
			var f FileRecord
			if err := json.Unmarshal(raw, &f); err != nil {
				return err
			}
			out = append(out, f)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recent files: %w", err)
	}
	return out, nil
}

// UpsertStats counts what Upsert did with each distinct order of a batch.
type UpsertStats struct {
	New       int // not in the ledger before
	Updated   int // facts or decision changed
	Unchanged int // nothing changed
	Frozen    int // facts merged into an order in a final state (claimed/sent/in_doubt/failed/expired); state untouched
}

// Upsert merges each order's facts into the ledger (orders.Merge(old, new))
// in one transaction, then, for orders that are new or waiting, scheduled or
// excluded, applies decide(merged, now) and records the transition. A
// cancellation or return arriving before the send therefore stops it.
// Orders that are claimed, sent, in doubt, failed or expired keep their
// state; their facts are still merged, but buyer data is not added back
// once purged. Orders repeated in batch are merged first.
func (l *Ledger) Upsert(account string, batch []orders.Order, decide Decider, now time.Time) (UpsertStats, error) {
	var st UpsertStats
	if len(batch) == 0 {
		return st, nil
	}
	if decide == nil {
		return st, errors.New("upsert orders: no decider")
	}
	facts := make(map[string]orders.Order, len(batch))
	ids := make([]string, 0, len(batch))
	for _, o := range batch {
		if _, err := orderKey(Key{account, o.ID}); err != nil {
			return st, fmt.Errorf("upsert orders: %w", err)
		}
		if prev, ok := facts[o.ID]; ok {
			facts[o.ID] = orders.Merge(prev, o)
			continue
		}
		facts[o.ID] = o
		ids = append(ids, o.ID)
	}
	slices.Sort(ids) // key order: bbolt touches each page once
	err := l.boltUpdate(func(tx *bolt.Tx) error {
		st = UpsertStats{}
		t := newTxn(tx, now)
		for _, id := range ids {
			k := Key{account, id}
			kb, _ := orderKey(k)
			raw := t.orders.Get(kb)
			if raw == nil {
				rec := Record{Key: k, Order: orders.Merge(orders.Order{}, facts[id])}
				if err := applyDecision(&rec, decide(rec.Order, now), t.now); err != nil {
					return err
				}
				if err := t.transition(nil, &rec, rec.Reason, "ingest", false); err != nil {
					return err
				}
				st.New++
				continue
			}
			raw = bytes.Clone(raw) // compared after writes below
			var old Record
			if err := json.Unmarshal(raw, &old); err != nil {
				return fmt.Errorf("decode order %s: %w", k, err)
			}
			rec := old
			rec.Order = orders.Merge(old.Order, facts[id])
			if !old.State.decidable() {
				st.Frozen++
				if _, err := t.putIfChanged(raw, &old, &rec); err != nil {
					return err
				}
				continue
			}
			if err := applyDecision(&rec, decide(rec.Order, now), t.now); err != nil {
				return err
			}
			if decisionChanged(&old, &rec) {
				st.Updated++
				if err := t.transition(&old, &rec, rec.Reason, "ingest", false); err != nil {
					return err
				}
				continue
			}
			changed, err := t.putIfChanged(raw, &old, &rec)
			if err != nil {
				return err
			}
			if changed {
				st.Updated++
			} else {
				st.Unchanged++
			}
		}
		return nil
	})
	if err != nil {
		return UpsertStats{}, fmt.Errorf("upsert orders: %w", err)
	}
	return st, nil
}

// putIfChanged stores rec unless it encodes to raw, old's stored bytes, and
// reports whether it did.
func (t *txn) putIfChanged(raw []byte, old, rec *Record) (bool, error) {
	if rec.State.purgesBuyer() {
		rec.Order.ForgetBuyer()
	}
	rec.UpdatedAt = old.UpdatedAt
	data, err := json.Marshal(rec)
	if err != nil {
		return false, err
	}
	if bytes.Equal(data, raw) {
		return false, nil
	}
	return true, t.put(old, rec)
}

// Redecide applies decide again to every waiting, scheduled and excluded
// order, as after a configuration reload, and returns how many changed
// state, send time, deadline or reason.
func (l *Ledger) Redecide(decide Decider, now time.Time) (int, error) {
	if decide == nil {
		return 0, errors.New("redecide orders: no decider")
	}
	changed := 0
	err := l.boltUpdate(func(tx *bolt.Tx) error {
		changed = 0
		t := newTxn(tx, now)
		var keys [][]byte
		for _, s := range []State{Waiting, Scheduled, Excluded} {
			prefix := stateKey(s, nil)
			c := t.states.Cursor()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				keys = append(keys, bytes.Clone(k[len(prefix):]))
			}
		}
		for _, kb := range keys {
			raw := bytes.Clone(t.orders.Get(kb))
			var old Record
			if err := json.Unmarshal(raw, &old); err != nil {
				return fmt.Errorf("decode order %q: %w", kb, err)
			}
			rec := old
			if err := applyDecision(&rec, decide(rec.Order, now), t.now); err != nil {
				return err
			}
			if decisionChanged(&old, &rec) {
				changed++
				if err := t.transition(&old, &rec, rec.Reason, "scheduler", false); err != nil {
					return err
				}
				continue
			}
			if _, err := t.putIfChanged(raw, &old, &rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("redecide orders: %w", err)
	}
	return changed, nil
}
