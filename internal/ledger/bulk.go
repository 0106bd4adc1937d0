package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"campaignd/internal/orders"

	bolt "go.etcd.io/bbolt"
)

// A bulk write takes the orders of one report in any order and writes them
// to the ledger in key order, in three steps:
//
//  1. Add: each order's facts are encoded and handed to an external sort
//     (sorted runs of bounded size, spilled to an unlinked temporary file
//     beside the ledger), so memory does not grow with the file.
//  2. Commit, records: the runs are merged; every row of an order, wherever
//     it was in the file, is merged before the order is decided and
//     written. Records go out in transactions of bounded size, new orders
//     numbered in key order so the orders and ids buckets take them at
//     their ends; counters change once per transaction.
//  3. Commit, indexes: the state, due and deadline index changes of all
//     those transactions, sorted by key, are written in order; then the
//     file's record, last.
//
// While step 3 is pending, the meta key "indexing" is set: a reader may
// meet an index entry that no longer matches its record (Due, List and
// ExpireOverdue skip those) and orders of the file are not yet due, so a
// send pass never acts on a file read in part. A crash in steps 2 or 3
// leaves the key set, and the next writable Open rebuilds the three
// indexes from the records; the file has no record yet, so it is read
// again, and merging the same facts again changes nothing (orders.Merge is
// idempotent). A small write (one transaction's worth, no spilled run) does
// everything in one transaction.
//
// A bulk write holds the ledger's writer lock from the start of Commit to
// its end: sends wait for it (their claims and outcomes are writes), reads
// do not.

// Sizes of a bulk write's steps (variables so tests can make them small).
var (
	factsRunBytes = 16 << 20 // facts held in memory before a run is spilled
	opsRunBytes   = 4 << 20  // index changes held in memory before a run is spilled
	txFactsBytes  = 6 << 20  // facts (encoded) per records transaction
	txMaxOrders   = 30_000   // orders per records transaction
	txMaxOps      = 300_000  // index changes per index transaction
)

// Bulk collects the orders of one report for one account; Commit writes
// them. It is not safe for concurrent use; Close releases it.
type Bulk struct {
	l         *Ledger
	account   string
	facts     *sorter
	n         int
	kb, vb    []byte
	committed bool
}

// Bulk starts a bulk write of orders of account. Its temporary file (only
// for large reports) goes beside the ledger file.
func (l *Ledger) Bulk(account string) *Bulk {
	return &Bulk{l: l, account: account, facts: newSorter(filepath.Dir(l.path), factsRunBytes)}
}

// Add takes one order's facts. The same order may come many times; its
// facts are merged in the order they came.
func (b *Bulk) Add(o orders.Order) error {
	if b.committed {
		return errors.New("add order: the bulk write is committed")
	}
	if _, err := orderKey(Key{b.account, o.ID}); err != nil {
		return fmt.Errorf("add order: %w", err)
	}
	b.kb = appendOrderKey(b.kb[:0], b.account, o.ID)
	b.vb = encodeFacts(b.vb[:0], &o, o.ID)
	b.n++
	return b.facts.add(b.kb, b.vb)
}

// Len returns how many orders were added (counting repeats).
func (b *Bulk) Len() int { return b.n }

// Close releases the temporary file; a Bulk not committed writes nothing.
func (b *Bulk) Close() error { return b.facts.close() }

// Commit merges the added facts into the ledger as Upsert does, decides
// every order that is new or still undecided with decide at now, and
// then, if file is not nil, records the file (last, so a file with a record
// was ingested whole). When ctx is cancelled it stops between transactions,
// finishes the indexes of what it wrote, and returns ctx's error without
// recording the file.
func (b *Bulk) Commit(ctx context.Context, decide Decider, now time.Time, file *FileRecord) (UpsertStats, error) {
	var st UpsertStats
	if b.committed {
		return st, errors.New("bulk write: committed already")
	}
	b.committed = true
	if decide == nil && b.n > 0 {
		return st, errors.New("bulk write: no decider")
	}
	if file != nil {
		if err := file.check(); err != nil {
			return st, err
		}
	}
	it, err := b.facts.iter()
	if err != nil {
		return st, fmt.Errorf("bulk write: %w", err)
	}
	l := b.l
	l.wmu.Lock()
	defer l.wmu.Unlock()
	w := &bulkWriter{l: l, account: b.account, decide: decide, now: now, it: it, st: &st}
	w.oneTx = !b.facts.spilled() && b.n <= txMaxOrders
	if w.oneTx {
		err = w.single(file)
	} else {
		err = w.run(ctx, file)
	}
	if err != nil {
		return st, fmt.Errorf("bulk write: %w", err)
	}
	return st, nil
}

// bulkWriter is one Commit in progress.
type bulkWriter struct {
	l       *Ledger
	account string
	decide  Decider
	now     time.Time
	it      iterator
	st      *UpsertStats
	oneTx   bool

	pending  *merged   // the next order, read ahead
	done     bool      // it is exhausted (in run, read by the preparing goroutine only)
	drained  bool      // every prepared chunk was written
	ops      *sorter   // deferred index changes
	txOps    []indexOp // this transaction's index changes
	deferred bool      // the indexing mark is set
}

// merged is one order's facts, merged over every entry of its key, and
// the order's number in the ledger (0: a new order).
type merged struct {
	kb    []byte
	facts orders.Order
	oid   uint64
}

// lookupChunk is how many orders have their numbers looked up with one
// forward pass of a cursor over the id index, before any of them is
// written (a write would invalidate the cursor).
const lookupChunk = 1024

// chunk returns up to n next orders, in a new slice.
func (w *bulkWriter) chunk(n int) ([]*merged, error) {
	var out []*merged
	for len(out) < n {
		m, err := w.nextOrder()
		if err != nil {
			return nil, err
		}
		if m == nil {
			break
		}
		out = append(out, m)
	}
	return out, nil
}

// lookup sets the number of each order of chunk (in key order) that the
// ledger holds. The cursor steps forward over near keys and seeks to far
// ones; an empty id index costs nothing.
func (w *bulkWriter) lookup(t *txn, chunk []*merged) {
	c := t.ids.Cursor()
	var k, v []byte
	for i, m := range chunk {
		if i == 0 {
			k, v = c.Seek(m.kb)
		}
		for step := 0; k != nil && bytes.Compare(k, m.kb) < 0; step++ {
			if step == 4 {
				k, v = c.Seek(m.kb)
				break
			}
			k, v = c.Next()
		}
		if k != nil && len(v) == 8 && bytes.Equal(k, m.kb) {
			m.oid = binary.BigEndian.Uint64(v)
		}
	}
}

// nextOrder returns the next order's merged facts, nil at the end.
func (w *bulkWriter) nextOrder() (*merged, error) {
	if w.done {
		return nil, nil
	}
	var cur *merged
	for {
		if w.pending == nil {
			k, v, ok, err := w.it.next()
			if err != nil {
				return nil, err
			}
			if !ok {
				w.done = true
				return cur, nil
			}
			m := &merged{kb: bytes.Clone(k)}
			id := string(k[bytes.IndexByte(k, 0)+1:])
			d := newDec(v)
			decodeFacts(d, &m.facts, id)
			if d.err != nil {
				return nil, fmt.Errorf("read back order %s: %w", id, d.err)
			}
			w.pending = m
		}
		if cur == nil {
			cur, w.pending = w.pending, nil
			continue
		}
		if !bytes.Equal(cur.kb, w.pending.kb) {
			return cur, nil
		}
		cur.facts = orders.Merge(cur.facts, w.pending.facts)
		w.pending = nil
	}
}

// single writes everything, indexes and file record included, in one
// transaction.
func (w *bulkWriter) single(file *FileRecord) error {
	return w.l.updateLocked(w.now, func(t *txn) error {
		*w.st = UpsertStats{}
		var ierr error
		index := func(op indexOp) {
			if ierr == nil {
				ierr = t.apply(op)
			}
		}
		for {
			chunk, err := w.chunk(lookupChunk)
			if err != nil || len(chunk) == 0 {
				if err == nil && file != nil {
					err = t.recordFile(file)
				}
				return err
			}
			plans, err := w.prepare(t, chunk)
			if err != nil {
				return err
			}
			for i := range plans {
				if err := w.write(t, &plans[i], index); err != nil {
					return err
				}
			}
			if ierr != nil {
				return ierr
			}
		}
	})
}

// run writes records in bounded transactions with their index changes
// deferred, then the indexes, then the file record.
func (w *bulkWriter) run(ctx context.Context, file *FileRecord) error {
	w.ops = newSorter(filepath.Dir(w.l.path), opsRunBytes)
	defer w.ops.close()
	plans, stop := w.prepareAhead()
	defer stop()
	var stopped error
	for !w.drained && stopped == nil {
		if err := w.recordsTx(plans); err != nil {
			if w.deferred {
				// what committed before stays; its indexes are still written
				if ierr := w.indexes(nil); ierr != nil {
					return errors.Join(err, ierr)
				}
			}
			return err
		}
		stopped = ctx.Err()
	}
	if stopped != nil {
		file = nil
	}
	if err := w.indexes(file); err != nil {
		return err
	}
	return stopped
}

// prepared is one chunk of orders made ready for writing, or the error
// that stopped their preparation.
type prepared struct {
	plans []plan
	err   error
}

// prepareAhead merges, looks up and decides the orders in a goroutine, a
// chunk at a time in short read transactions, while the caller writes the
// chunks before them: the ledger's writer lock keeps every other writer
// out, and each order comes once, so what a chunk reads is what the bulk
// write found. stop ends the goroutine.
func (w *bulkWriter) prepareAhead() (<-chan prepared, func()) {
	out := make(chan prepared, 1)
	quit := make(chan struct{})
	go func() {
		defer close(out)
		for {
			chunk, err := w.chunk(lookupChunk)
			var p prepared
			if err == nil && len(chunk) == 0 {
				return
			}
			if p.err = err; err == nil {
				p.err = w.l.boltView(func(tx *bolt.Tx) error {
					var err error
					p.plans, err = w.prepare(newTxn(tx, w.now), chunk)
					return err
				})
			}
			select {
			case out <- p:
			case <-quit:
				return
			}
			if p.err != nil {
				return
			}
		}
	}()
	return out, func() {
		close(quit)
		for range out {
		}
	}
}

// recordsTx writes the next records transaction from prepared chunks.
func (w *bulkWriter) recordsTx(plans <-chan prepared) error {
	before := *w.st
	if w.txOps == nil {
		w.txOps = make([]indexOp, 0, 3*txMaxOrders+3*lookupChunk)
	}
	index := func(op indexOp) { w.txOps = append(w.txOps, op) }
	err := w.l.updateLocked(w.now, func(t *txn) error {
		*w.st = before
		w.txOps = w.txOps[:0]
		if !w.deferred {
			if err := t.meta.Put([]byte(keyIndexing), []byte(w.now.UTC().Format(time.RFC3339))); err != nil {
				return err
			}
		}
		t.ids.FillPercent = 1
		size, count := 0, 0
		for size < txFactsBytes && count < txMaxOrders {
			p, ok := <-plans
			if !ok {
				w.drained = true
				return nil
			}
			if p.err != nil {
				return p.err
			}
			for i := range p.plans {
				if err := w.write(t, &p.plans[i], index); err != nil {
					return err
				}
				size += len(p.plans[i].m.kb) + 200
			}
			count += len(p.plans)
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.deferred = true
	for i := range w.txOps {
		if err := w.ops.add(w.txOps[i][:17], w.txOps[i][17:]); err != nil {
			return err
		}
	}
	return nil
}

// indexes writes the deferred index changes in key order, then file (if
// not nil), and clears the indexing mark, in as few bounded transactions as
// it takes.
func (w *bulkWriter) indexes(file *FileRecord) error {
	it, err := w.ops.iter()
	if err != nil {
		return err
	}
	more := true
	for more {
		err := w.l.updateLocked(w.now, func(t *txn) error {
			t.due.FillPercent, t.deadlines.FillPercent, t.states.FillPercent = 0.9, 0.9, 0.9
			for n := 0; n < txMaxOps; n++ {
				k, v, ok, err := it.next()
				if err != nil {
					return err
				}
				if !ok {
					more = false
					break
				}
				var op indexOp
				copy(op[:17], k)
				op[17] = v[0]
				if err := t.apply(op); err != nil {
					return err
				}
			}
			if more {
				return nil
			}
			if file != nil {
				if err := t.recordFile(file); err != nil {
					return err
				}
			}
			return t.meta.Delete([]byte(keyIndexing))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// plan is one order's merge and decision, made outside the write
// transaction: what write then stores.
type plan struct {
	m        *merged
	old, rec Record
	raw      []byte // old's stored bytes; nil for a new order
	frozen   bool   // old is in flight or final: facts only
	decided  bool   // the decision changed: an audit event
}

// prepare looks up the chunk's orders (in key order) in t, merges each
// one's facts into what the ledger holds, and decides it (see Upsert).
func (w *bulkWriter) prepare(t *txn, chunk []*merged) ([]plan, error) {
	w.lookup(t, chunk)
	plans := make([]plan, len(chunk))
	for i, m := range chunk {
		p := &plans[i]
		p.m = m
		k := Key{Account: w.account, OrderID: m.facts.ID}
		if m.oid == 0 {
			p.rec = Record{Key: k, Order: orders.Merge(orders.Order{}, m.facts)}
			if err := applyDecision(&p.rec, w.decide(p.rec.Order, w.now), t.now); err != nil {
				return nil, err
			}
			p.rec.first = &creation{state: p.rec.State, reason: p.rec.Reason}
			continue
		}
		raw := t.orders.Get(u64(m.oid))
		if raw == nil {
			return nil, fmt.Errorf("id index names order #%d for %s, which is not in the ledger", m.oid, k)
		}
		old, err := decodeRecord(raw)
		if err != nil {
			return nil, fmt.Errorf("decode order %s: %w", k, err)
		}
		old.oid = m.oid
		p.old, p.raw = old, bytes.Clone(raw)
		p.rec = old
		p.rec.Order = orders.Merge(old.Order, m.facts)
		if p.frozen = !old.State.decidable(); p.frozen {
			continue
		}
		if err := applyDecision(&p.rec, w.decide(p.rec.Order, w.now), t.now); err != nil {
			return nil, err
		}
		p.decided = decisionChanged(&p.old, &p.rec)
	}
	return plans, nil
}

// write stores one prepared order and passes its index changes to index.
func (w *bulkWriter) write(t *txn, p *plan, index func(indexOp)) error {
	switch {
	case p.raw == nil:
		w.st.New++
		return t.store(nil, &p.rec, index)
	case p.frozen:
		w.st.Frozen++
		_, err := t.storeIfChanged(p.raw, &p.old, &p.rec, index)
		return err
	case p.decided:
		w.st.Updated++
		if err := t.event(&p.rec, p.old.State, p.rec.State, p.rec.Reason, "ingest", false); err != nil {
			return err
		}
		return t.store(&p.old, &p.rec, index)
	}
	changed, err := t.storeIfChanged(p.raw, &p.old, &p.rec, index)
	if changed {
		w.st.Updated++
	} else {
		w.st.Unchanged++
	}
	return err
}

// storeIfChanged stores rec unless it encodes to raw, old's stored bytes,
// and reports whether it did.
func (t *txn) storeIfChanged(raw []byte, old, rec *Record, index func(indexOp)) (bool, error) {
	forgetUnneeded(rec)
	rec.UpdatedAt = old.UpdatedAt
	t.buf = encodeRecord(t.buf[:0], rec)
	if bytes.Equal(t.buf, raw) {
		return false, nil
	}
	return true, t.store(old, rec, index)
}

// --- repair ---

// repairIndexes rebuilds the state, due and deadline indexes and the
// counters from the records when a bulk write was cut off (the indexing
// mark is set), then clears the mark.
func (l *Ledger) repairIndexes() error {
	var marked bool
	err := l.boltView(func(tx *bolt.Tx) error {
		marked = tx.Bucket([]byte(bucketMeta)).Get([]byte(keyIndexing)) != nil
		return nil
	})
	if err != nil || !marked {
		return err
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	err = l.updateLocked(time.Time{}, func(t *txn) error {
		for _, name := range []string{bucketStates, bucketDue, bucketDeadlines, bucketCounts} {
			if err := t.tx.DeleteBucket([]byte(name)); err != nil {
				return err
			}
			if _, err := t.tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = l.reindexAll()
	}
	if err != nil {
		return fmt.Errorf("rebuild indexes: %w", err)
	}
	return nil
}

// reindexAll writes every order's index entries and counters into the
// emptied index buckets, sorted, and clears the indexing mark.
func (l *Ledger) reindexAll() error {
	w := &bulkWriter{l: l, ops: newSorter(filepath.Dir(l.path), opsRunBytes), deferred: true}
	defer w.ops.close()
	var counts [9]int64
	err := l.ForEach(func(rec Record) error {
		counts[stateCode(rec.State)]++
		var err error
		indexChanges(nil, &rec, func(op indexOp) {
			if err == nil {
				err = w.ops.add(op[:17], op[17:])
			}
		})
		return err
	})
	if err == nil {
		err = l.updateLocked(time.Time{}, func(t *txn) error {
			t.deltas = counts
			return nil
		})
	}
	if err == nil {
		err = w.indexes(nil)
	}
	return err
}
