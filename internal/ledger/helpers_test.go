package ledger_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"
)

// t0 is the tests' clock origin.
var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// MustOpen opens a ledger in a fresh temporary folder. Its cleanup checks
// every invariant, failing the test on a break, then closes it.
func MustOpen(tb testing.TB) *ledger.Ledger {
	tb.Helper()
	return MustOpenPath(tb, filepath.Join(tb.TempDir(), "ledger.db"))
}

// MustOpenPath is MustOpen for a given file.
func MustOpenPath(tb testing.TB, path string) *ledger.Ledger {
	tb.Helper()
	l, err := ledger.Open(path, ledger.Options{Timeout: 200 * time.Millisecond})
	if err != nil {
		tb.Fatalf("open ledger: %v", err)
	}
	tb.Cleanup(func() {
		if err := l.Check(); err != nil {
			tb.Errorf("ledger invariants broken: %v", err)
		}
		if err := l.Close(); err != nil {
			tb.Errorf("close ledger: %v", err)
		}
	})
	return l
}

// decide is a tiny real decider: no purchase date or not shipped waits;
// excluded facts exclude; the deadline is purchase + 30 days; the send is
// purchase + 5 days.
func decide(o orders.Order, now time.Time) ledger.Decision {
	return decideDelay(5*day)(o, now)
}

func decideDelay(delay time.Duration) ledger.Decider {
	return func(o orders.Order, now time.Time) ledger.Decision {
		d := ledger.Decision{Campaign: "en", Channel: "smtp"}
		if o.PurchaseDate.IsZero() {
			d.State, d.Reason = ledger.Waiting, "no purchase date yet"
			return d
		}
		d.Deadline = o.PurchaseDate.Add(30 * day)
		switch {
		case o.Excluded != "":
			d.State, d.Reason = ledger.Excluded, "excluded: "+string(o.Excluded)
		case !now.Before(d.Deadline):
			d.State, d.Reason = ledger.Expired, "window closed"
		case !o.Shipped:
			d.State, d.Reason = ledger.Waiting, "not shipped yet"
		default:
			d.State, d.Reason, d.SendAt = ledger.Scheduled, "delivered", o.PurchaseDate.Add(delay)
		}
		return d
	}
}

// order returns the facts of a shipped order placed at t0 with buyer data.
func order(id string) orders.Order {
	return orders.Order{
		ID: id, Marketplace: "Amazon.com", PurchaseDate: t0, Shipped: true, ShippedAt: t0.Add(day),
		Items:      []orders.Item{{SKU: "SKU-1", ASIN: "B000000001", Title: "Mug", Quantity: 1}},
		BuyerEmail: "abc@marketplace.amazon.com", BuyerName: "Ann Buyer",
	}
}

func orderID(i int) string { return fmt.Sprintf("111-%07d-%07d", i/10000000, i%10000000) }

func key(id string) ledger.Key { return ledger.Key{OrderID: id} }

func mustUpsert(tb testing.TB, l *ledger.Ledger, now time.Time, os ...orders.Order) ledger.UpsertStats {
	tb.Helper()
	st, err := l.Upsert("", os, decide, now)
	if err != nil {
		tb.Fatalf("upsert: %v", err)
	}
	return st
}

func mustGet(tb testing.TB, l *ledger.Ledger, k ledger.Key) ledger.Record {
	tb.Helper()
	rec, ok, err := l.Get(k)
	if err != nil {
		tb.Fatalf("get %s: %v", k, err)
	}
	if !ok {
		tb.Fatalf("get %s: not found", k)
	}
	return rec
}

func wantState(tb testing.TB, l *ledger.Ledger, k ledger.Key, want ledger.State) ledger.Record {
	tb.Helper()
	rec := mustGet(tb, l, k)
	if rec.State != want {
		tb.Fatalf("order %s is %s (%s), want %s", k, rec.State, rec.Reason, want)
	}
	return rec
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func wantErr(tb testing.TB, err, want error) {
	tb.Helper()
	if want == nil {
		if err != nil {
			tb.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		tb.Fatalf("error = %v, want %v", err, want)
	}
}

func dueIDs(tb testing.TB, l *ledger.Ledger, now time.Time) []string {
	tb.Helper()
	recs, err := l.Due(now, 0)
	if err != nil {
		tb.Fatalf("due: %v", err)
	}
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.Key.OrderID)
	}
	return ids
}

func lastEvent(tb testing.TB, l *ledger.Ledger, k ledger.Key) ledger.Event {
	tb.Helper()
	evs, err := l.Events(k)
	if err != nil {
		tb.Fatalf("events: %v", err)
	}
	if len(evs) == 0 {
		tb.Fatalf("order %s has no events", k)
	}
	return evs[len(evs)-1]
}
