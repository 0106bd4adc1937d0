package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// redecideChunk is how many orders Redecide reads and writes per
// transaction (a variable so tests can make it small).
var redecideChunk = 4096

// Redecide applies decide again to every waiting, scheduled and excluded
// order, as after a configuration reload, and returns how many changed
// state, send time, deadline or reason. It walks the state index in
// transactions of at most redecideChunk orders, so neither memory nor a
// transaction grows with the ledger; each order is read again in the
// transaction that writes it, and deciding an order twice changes nothing
// the second time.
func (l *Ledger) Redecide(decide Decider, now time.Time) (int, error) {
	if decide == nil {
		return 0, errors.New("redecide orders: no decider")
	}
	changed := 0
	for _, s := range []State{Waiting, Scheduled, Excluded} {
		var after uint64
		for more := true; more; {
			n := 0
			err := l.update(now, func(t *txn) error {
				var err error
				n, after, more, err = t.redecideChunk(s, after, decide, now)
				return err
			})
			if err != nil {
				return changed, fmt.Errorf("redecide orders: %w", err)
			}
			changed += n
		}
	}
	return changed, nil
}

// redecideChunk re-decides up to redecideChunk orders in state s numbered
// above after. It returns how many changed, the last number it read, and
// whether there may be more.
func (t *txn) redecideChunk(s State, after uint64, decide Decider, now time.Time) (int, uint64, bool, error) {
	prefix := []byte{stateCode(s)}
	var oids []uint64
	c := t.states.Cursor()
	k, _ := c.Seek(binary.BigEndian.AppendUint64(bytes.Clone(prefix), after+1))
	for ; k != nil && k[0] == prefix[0] && len(oids) < redecideChunk; k, _ = c.Next() {
		oids = append(oids, binary.BigEndian.Uint64(k[1:]))
	}
	changed := 0
	for _, oid := range oids {
		old, ok, err := t.byOID(oid)
		if err != nil {
			return 0, 0, false, err
		}
		if !ok || old.State != s {
			continue // an index entry a bulk write has not yet replaced
		}
		raw := bytes.Clone(t.orders.Get(u64(oid)))
		rec := old
		if err := applyDecision(&rec, decide(rec.Order, now), t.now); err != nil {
			return 0, 0, false, err
		}
		if decisionChanged(&old, &rec) {
			changed++
			if err := t.transition(&old, &rec, rec.Reason, "scheduler", false); err != nil {
				return 0, 0, false, err
			}
			continue
		}
		if _, err := t.putIfChanged(raw, &old, &rec); err != nil {
			return 0, 0, false, err
		}
	}
	if len(oids) == 0 {
		return 0, after, false, nil
	}
	return changed, oids[len(oids)-1], len(oids) == redecideChunk, nil
}
