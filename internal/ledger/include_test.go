package ledger_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"
)

// OperatorInclude undoes OperatorExclude: the order is what the rules say
// again, with an audit event naming the operator; what reports said while
// it was excluded (a return) still counts; a sent order, an order the
// rules exclude, and one not excluded are refused.
func TestOperatorInclude(t *testing.T) {
	l := MustOpen(t)
	a, b, c, d := key(orderID(1)), key(orderID(2)), key(orderID(3)), key(orderID(4))
	cancelled := order(c.OrderID)
	cancelled.Exclude(orders.ExcludedCancelled, "order-status Cancelled")
	mustUpsert(t, l, t0, order(a.OrderID), order(b.OrderID), cancelled, order(d.OrderID))
	before := wantState(t, l, a, ledger.Scheduled)

	now := t0.Add(time.Hour)
	must(t, l.OperatorExclude(a, now, "uid 1000 (alice)", "by mistake"))
	must(t, l.OperatorExclude(b, now, "uid 1000 (alice)", ""))
	// a report returns b while it is excluded by hand
	returned := order(b.OrderID)
	returned.Exclude(orders.ExcludedReturned, "FBA customer returns (line 2)")
	mustUpsert(t, l, now.Add(time.Hour), order(a.OrderID), returned)
	wantState(t, l, a, ledger.Excluded)

	later := now.Add(2 * time.Hour)
	rec, err := l.OperatorInclude(a, classDecide, later, "uid 1001 (bob)", "excluded the wrong one")
	must(t, err)
	if rec.State != ledger.Scheduled || !rec.SendAt.Equal(before.SendAt) || rec.ExcludedBy != "" {
		t.Fatalf("included: %s at %s (excluded by %q), want scheduled at %s", rec.State, rec.SendAt, rec.ExcludedBy, before.SendAt)
	}
	ev := lastEvent(t, l, a)
	if ev.Actor != "operator uid 1001 (bob)" || ev.From != ledger.Excluded || ev.To != ledger.Scheduled || !strings.Contains(ev.Reason, "included by operator: excluded the wrong one") {
		t.Errorf("audit event %+v", ev)
	}
	if due := dueIDs(t, l, t0.Add(20*day)); len(due) != 2 {
		t.Errorf("due after the include = %v, want a and d", due)
	}

	rec, err = l.OperatorInclude(b, classDecide, later, "", "")
	must(t, err)
	if rec.State != ledger.Excluded || !strings.Contains(rec.Reason, "returned") || rec.Class != "returned" {
		t.Fatalf("included after a return: %s (%s, %s), want excluded: returned", rec.State, rec.Reason, rec.Class)
	}

	must(t, l.OperatorMarkSent(d, later, "", "asked by phone"))
	for name, k := range map[string]ledger.Key{"sent": d, "excluded by the rules": c, "scheduled": a} {
		if _, err := l.OperatorInclude(k, classDecide, later, "", ""); !errors.Is(err, ledger.ErrWrongState) {
			t.Errorf("include of a %s order: %v, want ErrWrongState", name, err)
		}
	}
	wantState(t, l, d, ledger.Sent)
	if _, err := l.OperatorInclude(key(orderID(9)), classDecide, later, "", ""); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("include of an unknown order: %v", err)
	}
}

// An order an older build excluded by hand carries the exclusion in its
// facts: include lifts it too.
func TestOperatorIncludeLegacyExclusion(t *testing.T) {
	l := MustOpen(t)
	o := order(orderID(1))
	o.Exclude(orders.ExcludedOperator, "by hand, older build")
	mustUpsert(t, l, t0, o)
	wantState(t, l, key(o.ID), ledger.Excluded)
	rec, err := l.OperatorInclude(key(o.ID), classDecide, t0.Add(time.Hour), "", "")
	must(t, err)
	if rec.State != ledger.Scheduled || rec.Order.Excluded != "" {
		t.Fatalf("included: %s, facts excluded %q", rec.State, rec.Order.Excluded)
	}
}
