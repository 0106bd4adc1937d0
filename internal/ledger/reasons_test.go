package ledger_test

import (
	"maps"
	"path/filepath"
	"testing"
	"time"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"
)

// classDecide is decide with the reason classes a real decider gives.
func classDecide(o orders.Order, now time.Time) ledger.Decision {
	d := decide(o, now)
	switch {
	case d.State == ledger.Waiting && o.PurchaseDate.IsZero():
		d.Class = "no_purchase_date"
	case d.State == ledger.Waiting:
		d.Class = "not_shipped"
	case d.State == ledger.Excluded:
		d.Class = string(o.Excluded)
	}
	return d
}

func wantReasons(t *testing.T, l *ledger.Ledger, want map[ledger.State]map[string]int) {
	t.Helper()
	got, ok, err := l.ReasonCounts()
	if err != nil || !ok {
		t.Fatalf("reason counts: ok %v, %v", ok, err)
	}
	for _, s := range []ledger.State{ledger.Waiting, ledger.Excluded} {
		if !maps.Equal(got[s], want[s]) {
			t.Errorf("%s by reason = %v, want %v", s, got[s], want[s])
		}
	}
}

// Waiting and excluded orders are counted by the class of their reason,
// in the transactions that change them: ingest, re-decision, exclusion by
// hand, and a state that leaves the classed ones.
func TestReasonCounts(t *testing.T) {
	l := MustOpen(t)
	var batch []orders.Order
	for i := range 10 {
		o := order(orderID(i))
		switch {
		case i < 3:
			o.Shipped = false
		case i < 5:
			o.Exclude(orders.ExcludedCancelled, "test")
		case i == 5:
			o.Exclude(orders.ExcludedReturned, "test")
		}
		batch = append(batch, o)
	}
	if _, err := l.Upsert("", batch, classDecide, t0); err != nil {
		t.Fatal(err)
	}
	wantReasons(t, l, map[ledger.State]map[string]int{
		ledger.Waiting:  {"not_shipped": 3},
		ledger.Excluded: {"cancelled": 2, "returned": 1},
	})

	// a later report ships one waiting order and returns another
	shipped, returned := order(orderID(0)), order(orderID(1))
	returned.Exclude(orders.ExcludedReturned, "later report")
	if _, err := l.Upsert("", []orders.Order{shipped, returned}, classDecide, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	must(t, l.OperatorExclude(key(orderID(6)), t0.Add(2*time.Hour), "", "by hand"))
	must(t, l.OperatorExclude(key("111-0000099-0000099"), t0.Add(2*time.Hour), "", "not seen yet"))
	wantReasons(t, l, map[ledger.State]map[string]int{
		ledger.Waiting:  {"not_shipped": 1},
		ledger.Excluded: {"cancelled": 2, "returned": 2, "operator": 2},
	})

	// new rules: every waiting order waits for another reason
	other := func(o orders.Order, now time.Time) ledger.Decision {
		d := classDecide(o, now)
		if d.State == ledger.Waiting {
			d.Class, d.Reason = "no_room", "other rules"
		}
		return d
	}
	n, err := l.Redecide(other, t0.Add(3*time.Hour))
	must(t, err)
	if n != 3 { // the waiting order, and the two excluded by hand (their reason is the rules' now)
		t.Errorf("re-decided %d, want 3", n)
	}
	wantReasons(t, l, map[ledger.State]map[string]int{
		ledger.Waiting:  {"no_room": 1},
		ledger.Excluded: {"cancelled": 2, "returned": 2, "operator": 2},
	})
	if rec := mustGet(t, l, key(orderID(7))); rec.Class != "" {
		t.Errorf("a scheduled order has class %q", rec.Class)
	}
}

// A ledger whose reason counters are missing (written by an older build)
// shows none to a reader, and gets them counted from its records by the
// next writable Open.
func TestReasonCountsRebuilt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.db")
	l, err := ledger.Open(path, ledger.Options{})
	must(t, err)
	o := order(orderID(1))
	o.Shipped = false
	if _, err := l.Upsert("", []orders.Order{o, order(orderID(2))}, classDecide, t0); err != nil {
		t.Fatal(err)
	}
	must(t, ledger.DropReasonCounts(l))
	if _, ok, err := l.ReasonCounts(); err != nil || ok {
		t.Fatalf("counters dropped: ok %v, %v", ok, err)
	}
	must(t, l.Close())
	ro, err := ledger.Open(path, ledger.Options{ReadOnly: true})
	must(t, err)
	if _, ok, err := ro.ReasonCounts(); err != nil || ok {
		t.Fatalf("read-only, before a writable open: ok %v, %v", ok, err)
	}
	must(t, ro.Close())
	l = MustOpenPath(t, path)
	wantReasons(t, l, map[ledger.State]map[string]int{ledger.Waiting: {"not_shipped": 1}, ledger.Excluded: {}})
}
