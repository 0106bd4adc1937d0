package ledger

import (
	"path/filepath"
	"testing"
	"time"

	"campaignd/internal/orders"
)

// While a bulk write's index changes are pending, an index entry may still
// name an order whose record moved on: Due, Upcoming, List and
// ExpireOverdue go by the record, never by the stale entry.
func TestStaleIndexEntriesAreSkipped(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "l.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	decide := func(o orders.Order, now time.Time) Decision {
		return Decision{State: Scheduled, SendAt: t0.Add(time.Hour), Deadline: t0.Add(48 * time.Hour), Channel: "smtp"}
	}
	if _, err := l.Upsert("", []orders.Order{{ID: "111-0000001-0000001"}}, decide, t0); err != nil {
		t.Fatal(err)
	}
	// the record is excluded; its due, deadline and state entries are not moved
	err = l.update(t0, func(t *txn) error {
		old, err := t.mustGet(Key{OrderID: "111-0000001-0000001"})
		if err != nil {
			return err
		}
		rec := old
		rec.State, rec.SendAt, rec.Reason = Excluded, time.Time{}, "cancelled"
		return t.store(&old, &rec, func(indexOp) {})
	})
	if err != nil {
		t.Fatal(err)
	}
	if due, err := l.Due(t0.Add(2*time.Hour), 0); err != nil || len(due) != 0 {
		t.Errorf("Due = %v, %v", due, err)
	}
	if up, err := l.Upcoming(10); err != nil || len(up) != 0 {
		t.Errorf("Upcoming = %v, %v", up, err)
	}
	if ls, err := l.List(Scheduled, 0); err != nil || len(ls) != 0 {
		t.Errorf("List(scheduled) = %v, %v", ls, err)
	}
	if n, err := l.ExpireOverdue(t0.Add(72 * time.Hour)); err != nil || n != 0 {
		t.Errorf("ExpireOverdue = %d, %v", n, err)
	}
	if err := l.Check(); err == nil {
		t.Error("Check does not see the stale entries")
	}
}
