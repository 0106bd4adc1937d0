package ledger

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// maxCheckErrors bounds how many broken invariants Check reports.
const maxCheckErrors = 20

// Check verifies the ledger's invariants with a full scan, for tests and
// `campaignd ledger check`: the counters equal a full count; every
// scheduled order is in the due index exactly once at its send time and
// nothing else is; the deadline index holds exactly the waiting and
// scheduled orders with a deadline; the state index holds every order once
// under its state; every order's history ends in its current state; no
// order in sent, failed, excluded or expired holds buyer data; no scheduled
// order carries an exclusion; the file index matches the files.
func (l *Ledger) Check() error {
	var errs []error
	fail := func(format string, args ...any) {
		if len(errs) < maxCheckErrors {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	err := l.view(func(t *txn) error {
		counts := map[State]int{}
		wantDue := map[string]bool{}
		wantDeadline := map[string]bool{}
		wantState := map[string]bool{}
		c := t.orders.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var rec Record
			if err := json.Unmarshal(v, &rec); err != nil {
				fail("order %q: %v", k, err)
				continue
			}
			kb, err := orderKey(rec.Key)
			if err != nil || !bytes.Equal(kb, k) {
				fail("order %q: stored under the wrong key (record says %s)", k, rec.Key)
			}
			if rec.Order.ID != rec.Key.OrderID {
				fail("order %s: facts are about order %q", rec.Key, rec.Order.ID)
			}
			if !rec.State.valid() {
				fail("order %s: unknown state %q", rec.Key, rec.State)
			}
			counts[rec.State]++
			wantState[string(stateKey(rec.State, k))] = true
			if inDue(&rec) {
				wantDue[string(timeKey(rec.SendAt, k))] = true
			} else if !rec.SendAt.IsZero() {
				fail("order %s: %s with a send time", rec.Key, rec.State)
			}
			if inDeadlines(&rec) {
				wantDeadline[string(timeKey(rec.Deadline, k))] = true
			}
			if rec.State.purgesBuyer() && (rec.Order.BuyerEmail != "" || rec.Order.BuyerName != "") {
				fail("order %s: %s but still holds buyer data", rec.Key, rec.State)
			}
			if rec.State == Scheduled && rec.Order.Excluded != "" {
				fail("order %s: scheduled but excluded (%s)", rec.Key, rec.Order.Excluded)
			}
			last, ok, err := t.lastEvent(k)
			switch {
			case err != nil:
				fail("order %s: %v", rec.Key, err)
			case !ok:
				fail("order %s: no audit event", rec.Key)
			case last.To != rec.State:
				fail("order %s: is %s but its last event says %s", rec.Key, rec.State, last.To)
			case last.Key != rec.Key:
				fail("order %s: its last event is about %s", rec.Key, last.Key)
			}
		}
		for _, s := range States {
			var n int
			if v := t.counts.Get([]byte(s)); len(v) == 8 {
				n = int(binary.BigEndian.Uint64(v))
			}
			if n != counts[s] {
				fail("counter %s = %d, orders in that state = %d", s, n, counts[s])
			}
		}
		compareIndex(t.due.Cursor(), wantDue, "due", fail)
		compareIndex(t.deadlines.Cursor(), wantDeadline, "deadline", fail)
		compareIndex(t.states.Cursor(), wantState, "state", fail)

		wantFiles := map[string]bool{}
		fc := t.files.Cursor()
		for k, v := fc.First(); k != nil; k, v = fc.Next() {
			var f FileRecord
			if err := json.Unmarshal(v, &f); err != nil {
				fail("file %q: %v", k, err)
				continue
			}
			wantFiles[string(timeKey(f.IngestedAt, k))] = true
		}
		compareIndex(t.filesByTime.Cursor(), wantFiles, "file time", fail)

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

// lastEvent returns the newest event of the order whose key is kb.
func (t *txn) lastEvent(kb []byte) (Event, bool, error) {
	prefix := append(bytes.Clone(kb), 0)
	c := t.orderEvents.Cursor()
	// Every key of this order is prefix + 8 bytes, so none sorts after
	// prefix + 8×0xff: seek there and step back.
	k, _ := c.Seek(append(bytes.Clone(prefix), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	if k == nil || !bytes.HasPrefix(k, prefix) || len(k) != len(prefix)+8 {
		return Event{}, false, nil
	}
	ev, err := t.eventAt(k[len(prefix):])
	return ev, err == nil, err
}
