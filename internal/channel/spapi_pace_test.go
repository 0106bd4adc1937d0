package channel

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// The pacing tests run in real time against a fake that enforces a usage
// plan with a token bucket, as Amazon does. The plan is Amazon's burst of 5
// at 20 requests per second instead of 1, so that a 20-order pass (40
// requests) takes about two seconds instead of forty; what is checked (no
// 429, at least 90 % of the allowed rate) does not depend on the scale.
const (
	paceRate  = 20.0
	paceBurst = 5
)

// paceOrders adds n eligible orders to api and returns their ids.
func paceOrders(api *fakeSPAPI, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("302-%07d-%07d", i, i)
		api.addOrder(ids[i], mpDE, fakeOrder{eligible: true})
	}
	return ids
}

// usage is the share of the usage plan the requests used: how many went,
// over how many the bucket allowed between the first and the last.
func usage(reqs []loggedRequest) float64 {
	span := reqs[len(reqs)-1].At.Sub(reqs[0].At).Seconds()
	return float64(len(reqs)) / (paceBurst + paceRate*span)
}

// TestSPAPIPacing: a 20-order pass against a peer enforcing the usage plan
// gets no 429 and still uses at least 90 % of the allowed rate, whatever
// the clock the pass runs on says. A frozen clock is what `run --once --at`
// gives the channel; pacing on it made every wait a step longer than the one
// before.
func TestSPAPIPacing(t *testing.T) {
	frozen := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	clocks := []struct {
		name string
		now  func() time.Time
	}{
		{"wall clock", time.Now},
		{"frozen pass clock", func() time.Time { return frozen }},
	}
	for _, c := range clocks {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newSPAPIFixture(t, func(cfg *SPAPIConfig) {
				cfg.Rate, cfg.Burst, cfg.Now, cfg.Sleep = paceRate, paceBurst, c.now, nil
			})
			f.api.setQuota(paceRate, paceBurst)
			ids := paceOrders(f.api, 20)
			// At the plan's rate the pass needs about 2 s; a pacer that drifts
			// runs into this deadline instead of taking minutes.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			for _, id := range ids {
				if err := f.s.Send(ctx, spapiMessage(id)); err != nil {
					t.Fatalf("Send %s: %v (answers so far: %v)", id, err, f.api.statuses())
				}
			}
			reqs := f.api.requests()
			if n := f.api.statuses()[http.StatusTooManyRequests]; n != 0 {
				t.Errorf("%d answers were 429 QuotaExceeded, want none", n)
			}
			for _, id := range ids {
				if !f.api.order(id).sent {
					t.Errorf("order %s was not solicited", id)
				}
			}
			if len(reqs) != 2*len(ids) {
				t.Errorf("%d requests for %d orders, want a GET and a POST each", len(reqs), len(ids))
			}
			if u := usage(reqs); u < 0.9 || u > 1 {
				t.Errorf("used %.1f %% of the allowed rate, want 90 to 100 %%", 100*u)
			} else {
				t.Logf("%d requests in %s: %.1f %% of the allowed rate", len(reqs), reqs[len(reqs)-1].At.Sub(reqs[0].At).Round(time.Millisecond), 100*u)
			}
		})
	}
}

// TestSPAPIRateLimitHeader: a lower x-amzn-RateLimit-Limit slows the
// requests that follow; a higher one never raises the configured rate.
func TestSPAPIRateLimitHeader(t *testing.T) {
	f := newSPAPIFixture(t, func(c *SPAPIConfig) { c.Burst = 1 })
	f.api.addOrder(orderA, mpDE, fakeOrder{eligible: true})
	f.api.addOrder(orderB, mpDE, fakeOrder{eligible: true})
	f.api.mu.Lock()
	f.api.rateLimit = "10"
	f.api.mu.Unlock()
	for _, id := range []string{orderA, orderB} {
		if err := f.s.Send(context.Background(), spapiMessage(id)); err != nil {
			t.Fatal(err)
		}
	}
	// The first answer says 10 req/s. The request right after it may still
	// find the token the bucket earned at the configured 95 req/s while
	// that answer was on its way (on a busy machine, it will); every one
	// after that waits for a token at 9.5 req/s (about 105 ms), not at
	// 95 req/s (about 11 ms).
	reqs := f.api.requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want GET and POST for each of two orders", len(reqs))
	}
	for i := 2; i < len(reqs); i++ {
		if gap := reqs[i].At.Sub(reqs[i-1].At); gap < 50*time.Millisecond {
			t.Errorf("request %d came %s after the one before, want about 100 ms at 10 req/s", i+1, gap)
		}
	}
	if r := f.s.Rate(); r != 10 {
		t.Errorf("Rate = %v, want 10", r)
	}
	f.api.mu.Lock()
	f.api.rateLimit = "1000"
	f.api.mu.Unlock()
	if _, err := f.s.Reconcile(context.Background(), spapiMessage(orderA)); err != nil {
		t.Fatal(err)
	}
	if r := f.s.Rate(); r != 10 {
		t.Errorf("Rate after a higher limit = %v, want 10", r)
	}
}

// TestSPAPIQuotaUsedElsewhere: another application of the seller's emptied
// the shared bucket, so the first request gets a 429 although campaignd's
// own bucket is full. campaignd backs off and empties its bucket too: the
// requests after it wait for Amazon's bucket to refill instead of spending
// a burst on more 429s.
func TestSPAPIQuotaUsedElsewhere(t *testing.T) {
	f := newSPAPIFixture(t, func(c *SPAPIConfig) {
		// Amazon's 1 s first backoff at 1 req/s, scaled like the plan.
		c.Rate, c.Burst, c.Sleep, c.Backoff = paceRate, paceBurst, nil, time.Duration(float64(time.Second)/paceRate)
	})
	f.api.setQuota(paceRate, paceBurst)
	f.api.force(http.MethodGet, canned{status: http.StatusTooManyRequests, drain: true,
		body: `{"errors":[{"code":"QuotaExceeded","message":"You exceeded your quota for the requested resource.","details":""}]}`})
	ids := paceOrders(f.api, 3)
	for _, id := range ids {
		if err := f.s.Send(context.Background(), spapiMessage(id)); err != nil {
			t.Fatalf("Send %s: %v", id, err)
		}
	}
	if n := f.api.statuses()[http.StatusTooManyRequests]; n != 1 {
		t.Errorf("%d answers were 429, want only the first (answers: %v)", n, f.api.statuses())
	}
	for _, id := range ids {
		if !f.api.order(id).sent {
			t.Errorf("order %s was not solicited", id)
		}
	}
}
