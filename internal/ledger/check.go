package ledger

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// maxCheckErrors bounds how many broken invariants Check reports.
const maxCheckErrors = 20

// Check verifies the ledger's invariants with a full scan, for tests and
// `campaignd ledger check`: no bulk write is left half indexed; the id
// index and the orders agree both ways; the counters equal a full count;
// every scheduled order is in the due index exactly once at its send time
// and nothing else is; the deadline index holds exactly the waiting and
// scheduled orders with a deadline; the state index holds every order once
// under its state; every order's history ends in its current state; no
// order holds buyer data its state or channel does not need; no scheduled
// order carries an exclusion; only waiting and excluded orders carry a
// reason class, and the reason counters (when the ledger has them) equal a
// full count; the file index matches the files; every report-fetch state
// decodes and is stored under its own stream's key.
func (l *Ledger) Check() error {
	var errs []error
	fail := func(format string, args ...any) {
		if len(errs) < maxCheckErrors {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	err := l.view(func(t *txn) error {
		if v := t.meta.Get([]byte(keyIndexing)); v != nil {
			fail("a bulk write started %s did not finish its indexes (the next writable open rebuilds them)", v)
		}
		counts := map[State]int{}
		reasons := map[reasonKey]int64{}
		want := map[byte]map[string]bool{opStates: {}, opDue: {}, opDeadlines: {}}
		c := t.orders.Cursor()
		n := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			n++
			rec, err := decodeRecord(v)
			if err != nil {
				fail("order #%d: %v", binary.BigEndian.Uint64(k), err)
				continue
			}
			rec.oid = binary.BigEndian.Uint64(k)
			counts[rec.State]++
			if rec.State.classed() {
				reasons[reasonKey{stateCode(rec.State), rec.Class}]++
			}
			indexChanges(nil, &rec, func(op indexOp) { want[op.bucket()][string(op.key())] = true })
			checkRecord(t, &rec, fail)
		}
		checkIDs(t, n, fail)
		for _, s := range States {
			var n int
			if v := t.counts.Get([]byte(s)); len(v) == 8 {
				n = int(binary.BigEndian.Uint64(v))
			}
			if n != counts[s] {
				fail("counter %s = %d, orders in that state = %d", s, n, counts[s])
			}
		}
		checkReasons(t, reasons, fail)
		compareIndex(t.due.Cursor(), want[opDue], "due", fail)
		compareIndex(t.deadlines.Cursor(), want[opDeadlines], "deadline", fail)
		compareIndex(t.states.Cursor(), want[opStates], "state", fail)
		checkFiles(t, fail)
		checkProblems(t, fail)
		checkFetch(t.tx, fail)
		return nil
	})
	if err != nil {
		return fmt.Errorf("check ledger: %w", err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("check ledger: %w", errors.Join(errs...))
	}
	return nil
}

// checkRecord checks one order against its key, its history and the rules
// on buyer data.
func checkRecord(t *txn, rec *Record, fail func(string, ...any)) {
	kb, err := orderKey(rec.Key)
	if err != nil {
		fail("order #%d: %v", rec.oid, err)
		return
	}
	if got := t.oidOf(kb); got != rec.oid {
		fail("order %s is #%d, the id index says #%d", rec.Key, rec.oid, got)
	}
	if rec.Order.ID != rec.Key.OrderID {
		fail("order %s: facts are about order %q", rec.Key, rec.Order.ID)
	}
	if !rec.State.valid() {
		fail("order %s: unknown state %q", rec.Key, rec.State)
	}
	if !inDue(rec) && !rec.SendAt.IsZero() {
		fail("order %s: %s with a send time", rec.Key, rec.State)
	}
	if held := rec.Order.BuyerEmail != "" || rec.Order.BuyerName != ""; held && rec.State.purgesBuyer() {
		fail("order %s: %s but still holds buyer data", rec.Key, rec.State)
	} else if held && !channelKeepsBuyer(rec.Channel) {
		fail("order %s: holds buyer data its channel %s does not need", rec.Key, rec.Channel)
	}
	if rec.Class != "" && !rec.State.classed() {
		fail("order %s: %s with a reason class %q", rec.Key, rec.State, rec.Class)
	}
	if rec.State == Scheduled && rec.Order.Excluded != "" {
		fail("order %s: scheduled but excluded (%s)", rec.Key, rec.Order.Excluded)
	}
	if rec.State == Scheduled && rec.ExcludedBy != "" {
		fail("order %s: scheduled but excluded by %s", rec.Key, rec.ExcludedBy)
	}
	switch {
	case rec.lastEvent != 0:
		ev, _, err := t.eventAt(rec.lastEvent)
		switch {
		case err != nil:
			fail("order %s: %v", rec.Key, err)
		case ev.Key != rec.Key:
			fail("order %s: its last event is about %s", rec.Key, ev.Key)
		case ev.To != rec.State:
			fail("order %s: is %s but its last event says %s", rec.Key, rec.State, ev.To)
		}
	case rec.first != nil:
		if rec.first.state != rec.State {
			fail("order %s: is %s but its creation says %s and no event followed", rec.Key, rec.State, rec.first.state)
		}
	default:
		fail("order %s: no audit event", rec.Key)
	}
}

// checkIDs checks that the id index has one entry per order, each naming
// an order with that key.
func checkIDs(t *txn, orders int, fail func(string, ...any)) {
	n := 0
	c := t.ids.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		n++
		if len(v) != 8 || t.orders.Get(v) == nil {
			fail("id index: %q names no order", k)
		}
	}
	if n != orders {
		fail("id index holds %d entries for %d orders", n, orders)
	}
}

func checkFiles(t *txn, fail func(string, ...any)) {
	want := map[string]bool{}
	fc := t.files.Cursor()
	for k, v := fc.First(); k != nil; k, v = fc.Next() {
		var f FileRecord
		if err := json.Unmarshal(v, &f); err != nil {
			fail("file %q: %v", k, err)
			continue
		}
		want[string(fileTimeKey(f.IngestedAt, k))] = true
	}
	compareIndex(t.filesByTime.Cursor(), want, "file time", fail)
}

func checkProblems(t *txn, fail func(string, ...any)) {
	pc := t.problems.Cursor()
	np := 0
	for k, _ := pc.First(); k != nil; k, _ = pc.Next() {
		np++
		if t.events.Get(k) == nil {
			fail("problem %x: no such event", k)
		}
	}
	var want int
	if v := t.meta.Get([]byte(keyProblems)); len(v) == 8 {
		want = int(binary.BigEndian.Uint64(v))
	}
	if np != want || np > maxProblems {
		fail("problems bucket holds %d entries, meta says %d (max %d)", np, want, maxProblems)
	}
}

type cursor interface {
	First() ([]byte, []byte)
	Next() ([]byte, []byte)
}

// compareIndex reports entries of an index that are missing or extra.
func compareIndex(c cursor, want map[string]bool, name string, fail func(string, ...any)) {
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if !want[string(k)] {
			fail("%s index: stray entry %q", name, k)
			continue
		}
		delete(want, string(k))
	}
	for k := range want {
		fail("%s index: missing entry %q", name, k)
	}
}
