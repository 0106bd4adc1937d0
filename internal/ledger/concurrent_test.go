package ledger_test

import (
	"sync"
	"testing"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"
)

// Two senders racing over the same due orders while files keep arriving and
// status is read: every order is claimed and sent exactly once.
func TestConcurrentClaimsSendOnce(t *testing.T) {
	l := MustOpen(t)
	const n = 60
	var batch []orders.Order
	for i := range n {
		batch = append(batch, order(orderID(i)))
	}
	mustUpsert(t, l, t0, batch...)
	now := t0.Add(6 * day)

	var mu sync.Mutex
	claims := map[ledger.Key]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 2 {
		wg.Go(func() {
			for {
				due, err := l.Due(now, 5)
				if err != nil {
					errs <- err
					return
				}
				if len(due) == 0 {
					return
				}
				for _, r := range due {
					if _, err := l.Claim(r.Key, "outbox", now); err != nil {
						continue // the other sender won
					}
					mu.Lock()
					claims[r.Key]++
					mu.Unlock()
					if err := l.MarkSent(r.Key, now, "ok"); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Go(func() { // the same file dropped again, and again
		for range 5 {
			if _, err := l.Upsert("", batch, decide, now); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Go(func() { // status
		for range 20 {
			if _, err := l.Counts(); err != nil {
				errs <- err
				return
			}
			if _, err := l.RecentEvents(10); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(claims) != n {
		t.Errorf("%d orders claimed, want %d", len(claims), n)
	}
	for k, c := range claims {
		if c != 1 {
			t.Errorf("order %s claimed %d times", k, c)
		}
	}
	counts, err := l.Counts()
	must(t, err)
	if counts.ByState[ledger.Sent] != n || counts.Total != n {
		t.Errorf("counts = %+v", counts)
	}
}
