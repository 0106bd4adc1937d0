package fetch_test

import (
	"testing"
	"time"

	"campaignd/internal/fetch"
	"campaignd/internal/fetch/fetchtest"
)

// getReport keeps to its published plan (2/s, burst 15) on the pacing
// clock, and to the rate Amazon reports in x-amzn-RateLimit-Limit, lower or
// higher, once it has said so. Polls are 1 ms apart here, so the usage plan
// alone spaces them.
func TestGetReportKeepsToItsUsagePlan(t *testing.T) {
	tests := []struct {
		header string
		rate   float64
	}{
		{"", 2},      // the published plan
		{"0.5", 0.5}, // Amazon applies less
		{"10", 10},   // Amazon grants more
	}
	for _, tt := range tests {
		h := newHarness(t, t0)
		h.amz.SetPlan(func(fetchtest.CreateSpec) fetchtest.Report {
			return fetchtest.Report{Polls: 30, Final: "DONE", Doc: fetchtest.AllOrders(us, 1)}
		})
		h.amz.SetRateLimit("getReport", tt.header)
		cfg := h.config([]string{fetch.AllOrdersByLastUpdate}, []string{us})
		cfg.PollFirst, cfg.PollMax = time.Millisecond, time.Millisecond
		f := h.fetcher(cfg)
		mustRun(t, f, t0)

		polls := h.times("GET", "/reports/2021-06-30/reports/")
		if len(polls) != 31 {
			t.Fatalf("header %q: %d polls, want 31", tt.header, len(polls))
		}
		// 15 at once (the burst), then the other 16 at the rate.
		if burst := polls[14].Sub(polls[0]); burst > 20*time.Millisecond {
			t.Errorf("header %q: the first 15 polls took %s, want the burst at once", tt.header, burst)
		}
		want := time.Duration(16 / tt.rate * float64(time.Second))
		got := polls[30].Sub(polls[14])
		if got < want*95/100 || got > want*105/100 {
			t.Errorf("header %q: the 16 polls after the burst took %s, want %s (rate %v/s)", tt.header, got, want, tt.rate)
		}
	}
}
