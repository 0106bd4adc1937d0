package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	berrors "go.etcd.io/bbolt/errors"
)

// Waiting and excluded orders are counted by the class of their reason
// (Record.Class) in the reasons bucket: state code(1) + class -> uint64.
// Like the state counters, they change once per transaction, in the
// transaction that changes the orders, so `campaignd status` reads them
// without a scan. The bucket is newer than schema 2: a writable Open
// creates it and, when it is missing, incomplete or does not add up to the
// state counters (a ledger written by an older build), counts it again
// from the records, then sets the meta mark "reasons".
const (
	bucketReasons = "reasons"
	keyReasons    = "reasons"
)

// classed reports whether orders in s carry a reason class.
func (s State) classed() bool { return s == Waiting || s == Excluded }

// reasonKey is one reason counter: a state and a class.
type reasonKey struct {
	state byte
	class string
}

func (k reasonKey) bytes() []byte { return append([]byte{k.state}, k.class...) }

// countReason adds d to the counter of rec's state and class, when rec is
// in a classed state (nil counts nothing).
func (t *txn) countReason(rec *Record, d int64) {
	if rec == nil || !rec.State.classed() {
		return
	}
	if t.reasons == nil {
		t.reasons = map[reasonKey]int64{}
	}
	t.reasons[reasonKey{stateCode(rec.State), rec.Class}] += d
}

// finishReasons writes the reason counters changed in the transaction.
func (t *txn) finishReasons() error {
	if len(t.reasons) == 0 {
		return nil
	}
	b, err := t.tx.CreateBucketIfNotExists([]byte(bucketReasons))
	if err != nil {
		return err
	}
	for k, d := range t.reasons {
		if d == 0 {
			continue
		}
		key := k.bytes()
		var n int64
		if v := b.Get(key); len(v) == 8 {
			n = int64(binary.BigEndian.Uint64(v))
		}
		switch n += d; {
		case n < 0:
			return fmt.Errorf("reason counter %d/%q would go negative", k.state, k.class)
		case n == 0:
			err = b.Delete(key)
		default:
			err = b.Put(key, u64(uint64(n)))
		}
		if err != nil {
			return err
		}
	}
	clear(t.reasons)
	return nil
}

// ReasonCounts returns, for waiting and excluded orders, how many are in
// each reason class (Record.Class; "" for orders decided before classes
// were kept), from counters; it does not scan the orders. ok is false when
// the ledger has no complete counters yet (it was last opened for writing
// by an older build): the next writable Open counts them.
func (l *Ledger) ReasonCounts() (by map[State]map[string]int, ok bool, err error) {
	err = l.view(func(t *txn) error {
		by, ok = readReasons(t)
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("count orders by reason: %w", err)
	}
	return by, ok, nil
}

// readReasons reads the reason counters, and whether they are complete and
// add up to the state counters.
func readReasons(t *txn) (map[State]map[string]int, bool) {
	b := t.tx.Bucket([]byte(bucketReasons))
	if b == nil || t.meta.Get([]byte(keyReasons)) == nil {
		return nil, false
	}
	by := map[State]map[string]int{Waiting: {}, Excluded: {}}
	sums := map[State]int{}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		s, known := stateOf(k[0])
		if !known || !s.classed() || len(v) != 8 {
			return nil, false
		}
		n := int(binary.BigEndian.Uint64(v))
		by[s][string(k[1:])] = n
		sums[s] += n
	}
	for _, s := range []State{Waiting, Excluded} {
		var n int
		if v := t.counts.Get([]byte(s)); len(v) == 8 {
			n = int(binary.BigEndian.Uint64(v))
		}
		if n != sums[s] {
			return nil, false
		}
	}
	return by, true
}

// ensureReasons counts the reasons from the records when the counters are
// missing or do not add up (see bucketReasons). It runs in a writable Open,
// before anything else uses the ledger.
func (l *Ledger) ensureReasons() error {
	var ok bool
	if err := l.view(func(t *txn) error { _, ok = readReasons(t); return nil }); err != nil || ok {
		return err
	}
	counts := map[reasonKey]int64{}
	err := l.ForEach(func(rec Record) error {
		if rec.State.classed() {
			counts[reasonKey{stateCode(rec.State), rec.Class}]++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("count orders by reason: %w", err)
	}
	err = l.update(time.Time{}, func(t *txn) error {
		if err := t.tx.DeleteBucket([]byte(bucketReasons)); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
			return err
		}
		t.reasons = counts
		if err := t.finishReasons(); err != nil {
			return err
		}
		return t.meta.Put([]byte(keyReasons), []byte("1"))
	})
	if err != nil {
		return fmt.Errorf("count orders by reason: %w", err)
	}
	return nil
}

// checkReasons compares the reason counters, when the ledger has them,
// with a full count.
func checkReasons(t *txn, want map[reasonKey]int64, fail func(string, ...any)) {
	b := t.tx.Bucket([]byte(bucketReasons))
	if b == nil || t.meta.Get([]byte(keyReasons)) == nil {
		return
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		rk := reasonKey{k[0], string(k[1:])}
		if got := int64(binary.BigEndian.Uint64(v)); len(v) != 8 || got != want[rk] {
			fail("reason counter %x = %x, orders with that state and class = %d", k, v, want[rk])
		}
		delete(want, rk)
	}
	for k, n := range want {
		if n != 0 {
			fail("reason counter %x missing, orders with that state and class = %d", k.bytes(), n)
		}
	}
}
