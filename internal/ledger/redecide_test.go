package ledger_test

import (
	"testing"
	"time"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"
)

// Redecide walks the open orders in small transactions: every waiting,
// scheduled and excluded order is decided once more, orders that move to
// a state walked later are decided again without a second event, and
// claimed orders are left alone.
func TestRedecideInChunks(t *testing.T) {
	ledger.SmallRedecide(7)
	defer ledger.SmallRedecide(4096)
	l := MustOpen(t)
	var batch []orders.Order
	for i := range 100 {
		o := order(orderID(i))
		switch i % 4 {
		case 1:
			o.Shipped = false // waiting
		case 2:
			o.Exclude(orders.ExcludedCancelled, "test") // excluded for good
		}
		batch = append(batch, o)
	}
	mustUpsert(t, l, t0, batch...)
	_, err := l.Claim(key(orderID(3)), "outbox", t0.Add(5*day))
	must(t, err)

	// Every scheduled order but the claimed one gets a later send: 49 orders.
	later := decideDelay(7 * day)
	n, err := l.Redecide(later, t0.Add(time.Hour))
	must(t, err)
	if n != 49 {
		t.Fatalf("changed = %d, want 49", n)
	}
	for i := range 100 {
		if i == 3 {
			continue
		}
		rec := wantState(t, l, key(orderID(i)), map[int]ledger.State{0: ledger.Scheduled, 1: ledger.Waiting, 2: ledger.Excluded, 3: ledger.Scheduled}[i%4])
		if (i%4 == 0 || i%4 == 3 && i != 3) && !rec.SendAt.Equal(t0.Add(7*day)) {
			t.Errorf("order %d: send at %s", i, rec.SendAt)
		}
	}
	wantState(t, l, key(orderID(3)), ledger.Claimed)
	if n, err := l.Redecide(later, t0.Add(2*time.Hour)); err != nil || n != 0 {
		t.Fatalf("the same rules again changed %d (%v)", n, err)
	}
}
