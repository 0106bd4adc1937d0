package ledger_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"
)

// TestRandomOperations runs random operations with a fixed seed, checks
// every invariant after each step, and asserts that no order ever leaves
// sent, and none leaves in_doubt except by an operator.
func TestRandomOperations(t *testing.T) {
	steps := 700
	if testing.Short() || raceEnabled {
		steps = 250
	}
	rng := rand.New(rand.NewPCG(20260301, 42))
	l := MustOpen(t)
	var keys []ledger.Key
	for i := range 220 {
		keys = append(keys, ledger.Key{Account: []string{"", "eu"}[i%2], OrderID: orderID(i)})
	}
	now := t0
	state := map[ledger.Key]ledger.State{}
	// pick chooses among 40 orders in a window that slides over the pool,
	// so new orders keep arriving as old ones reach final states.
	step := 0
	pick := func() ledger.Key { return keys[step*(len(keys)-40)/steps+rng.IntN(40)] }
	expected := func(err error) error {
		for _, s := range []error{ledger.ErrNotFound, ledger.ErrNotClaimable, ledger.ErrExpired, ledger.ErrWrongState} {
			if errors.Is(err, s) {
				return nil
			}
		}
		return err
	}
	facts := func(k ledger.Key) orders.Order {
		o := orders.Order{ID: k.OrderID, PurchaseDate: now.Add(-time.Duration(rng.IntN(25*24)) * time.Hour), Shipped: rng.IntN(4) > 0}
		if rng.IntN(2) == 0 {
			o.BuyerEmail, o.BuyerName = "x@marketplace.amazon.de", "B"
		}
		if rng.IntN(12) == 0 {
			o.Excluded = []orders.Exclusion{orders.ExcludedCancelled, orders.ExcludedReturned, orders.ExcludedLost}[rng.IntN(3)]
		}
		return o
	}
	// pickIn prefers an order in state s, so transitions out of it happen.
	pickIn := func(s ledger.State) ledger.Key {
		recs, err := l.List(s, 0)
		must(t, err)
		if len(recs) == 0 || rng.IntN(4) == 0 {
			return pick()
		}
		return recs[rng.IntN(len(recs))].Key
	}
	for ; step < steps; step++ {
		now = now.Add(time.Duration(rng.IntN(36*60)) * time.Minute)
		k := pick()
		var name string
		var err error
		operator := false
		// weights: ingest and the send path often, operators rarely
		weights := []int{8, 7, 4, 1, 1, 3, 2, 1, 1, 1, 2, 1} // sums to 32
		op, r := 0, rng.IntN(32)
		for ; r >= weights[op]; op++ {
			r -= weights[op]
		}
		switch op {
		case 0:
			name = "upsert"
			acct := []string{"", "eu"}[rng.IntN(2)]
			var batch []orders.Order
			for range 1 + rng.IntN(6) {
				k := pick()
				if k.Account == acct {
					batch = append(batch, facts(k))
				}
			}
			_, err = l.Upsert(acct, batch, decide, now)
		case 1:
			name = "claim"
			if due, derr := l.Due(now, 1); derr == nil && len(due) > 0 && rng.IntN(3) > 0 {
				k = due[0].Key
			}
			before := state[k]
			_, err = l.Claim(k, "outbox", now)
			if err == nil && (before == ledger.Sent || before == ledger.InDoubt) {
				t.Fatalf("step %d: claimed %s order %s", step, before, k)
			}
		case 2:
			name, k = "mark sent", pickIn(ledger.Claimed)
			err = l.MarkSent(k, now, "ok")
		case 3:
			name, k = "mark in doubt", pickIn(ledger.Claimed)
			err = l.MarkInDoubt(k, now, "timeout")
		case 4:
			name, k = "mark failed", pickIn(ledger.Claimed)
			err = l.MarkFailed(k, now, "550")
		case 5:
			name, k = "retry", pickIn(ledger.Claimed)
			err = l.Retry(k, now.Add(time.Duration(rng.IntN(72))*time.Hour), now, "421")
		case 6:
			name, k = "refuse", pickIn(ledger.Scheduled)
			err = l.Refuse(k, now.Add(time.Duration(rng.IntN(72))*time.Hour), now, fmt.Sprintf("P-LINK %d", rng.IntN(2)))
		case 7:
			name = "expire"
			_, err = l.ExpireOverdue(now)
		case 8:
			name, operator = "operator mark sent", true
			err = l.OperatorMarkSent(k, now, "", "by hand")
		case 9:
			name, operator = "operator exclude", true
			err = l.OperatorExclude(k, now, "", "by hand")
		case 10:
			name, operator, k = "resolve", true, pickIn(ledger.InDoubt)
			err = l.Resolve(k, rng.IntN(2) == 0, decide, now, "", "checked")
		case 11:
			name = "redecide"
			_, err = l.Redecide(decideDelay(time.Duration(3+rng.IntN(5))*day), now)
			if rng.IntN(4) == 0 {
				_, err = l.PurgePersonal(now, 30*day)
			}
		}
		if err := expected(err); err != nil {
			t.Fatalf("step %d %s %s: %v", step, name, k, err)
		}
		if err := l.Check(); err != nil {
			t.Fatalf("step %d %s %s: %v", step, name, k, err)
		}
		must(t, l.ForEach(func(rec ledger.Record) error {
			k2, was := rec.Key, state[rec.Key]
			switch {
			case was == ledger.Sent && rec.State != ledger.Sent:
				t.Fatalf("step %d %s: order %s left sent for %s", step, name, k2, rec.State)
			case was == ledger.InDoubt && rec.State != ledger.InDoubt && !(operator && k2 == k):
				t.Fatalf("step %d %s: order %s left in_doubt for %s without an operator", step, name, k2, rec.State)
			}
			state[k2] = rec.State
			return nil
		}))
	}
	// every history: nothing after a send but sent, one send at most, and
	// never from in_doubt to claimed directly
	seen := map[ledger.State]int{}
	for _, k := range keys {
		evs, err := l.Events(k)
		must(t, err)
		sent := false
		sends := 0
		for _, ev := range evs {
			seen[ev.To]++
			if sent && ev.To != ledger.Sent {
				t.Errorf("order %s: %s -> %s after it was sent", k, ev.From, ev.To)
			}
			if ev.To == ledger.Claimed && (ev.From == ledger.Sent || ev.From == ledger.InDoubt) {
				t.Errorf("order %s: %s -> claimed", k, ev.From)
			}
			if ev.To == ledger.Sent && ev.From != ledger.Sent {
				sent = true
				sends++
			}
		}
		if sends > 1 {
			t.Errorf("order %s sent %d times", k, sends)
		}
	}
	t.Logf("events per target state: %v", seen)
	// the walk reached every state, or the test proves little
	for _, s := range ledger.States {
		if seen[s] == 0 {
			t.Errorf("no order ever reached %s", s)
		}
	}
	counts, err := l.Counts()
	must(t, err)
	full := map[ledger.State]int{}
	total := 0
	must(t, l.ForEach(func(r ledger.Record) error { full[r.State]++; total++; return nil }))
	for _, s := range ledger.States {
		if counts.ByState[s] != full[s] {
			t.Errorf("count %s = %d, full count %d", s, counts.ByState[s], full[s])
		}
	}
	if counts.Total != total {
		t.Errorf("total = %d, full count %d", counts.Total, total)
	}
}
