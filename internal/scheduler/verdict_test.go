package scheduler_test

import (
	"strings"
	"testing"
	"time"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"
	"campaignd/internal/scheduler"
)

// TestVerdict: what a pass at an instant does with an order in each state,
// around its send time, its deadline and quiet hours.
func TestVerdict(t *testing.T) {
	r := testRules()
	r.QuietFrom, r.QuietTo = 21*60, 8*60 // 21:00-08:00 local time
	deadline := t0.Add(day(30))          // 12-01 10:00 UTC
	sendAt := t0.Add(day(9))             // 11-10 10:00 UTC, 02:00 in Los Angeles
	rec := func(s ledger.State, market string) ledger.Record {
		return ledger.Record{Key: ledger.Key{OrderID: "111-0000000-0000001"}, State: s, Reason: "why " + string(s),
			Order: orders.Order{Marketplace: market}, SendAt: sendAt, Deadline: deadline, SentAt: t0.Add(day(8))}
	}
	for _, tt := range []struct {
		name   string
		rec    ledger.Record
		at     time.Time
		action scheduler.Action
		state  ledger.State
		reason string
		until  time.Time
	}{
		{"due, a day in London", rec(ledger.Scheduled, "Amazon.co.uk"), sendAt, scheduler.Send, ledger.Scheduled, "", time.Time{}},
		{"due, night in Los Angeles", rec(ledger.Scheduled, "Amazon.com"), sendAt, scheduler.Hold, ledger.Scheduled,
			"quiet hours in Amazon.com until 2026-11-10T16:00:00Z", time.Date(2026, 11, 10, 16, 0, 0, 0, time.UTC)},
		{"not due yet", rec(ledger.Scheduled, "Amazon.co.uk"), sendAt.Add(-time.Second), scheduler.Hold, ledger.Scheduled,
			"not due until 2026-11-10T10:00:00Z (why scheduled)", sendAt},
		{"a send's margin and a second before the deadline", rec(ledger.Scheduled, "Amazon.co.uk"), deadline.Add(-scheduler.SendMargin - time.Second),
			scheduler.Send, ledger.Scheduled, "", time.Time{}},
		{"a send's margin before the deadline", rec(ledger.Scheduled, "Amazon.co.uk"), deadline.Add(-scheduler.SendMargin),
			scheduler.Expire, ledger.Expired, "too close to the deadline 2026-12-01T10:00:00Z for a send to finish before it (2m0s left)", time.Time{}},
		{"at the deadline", rec(ledger.Scheduled, "Amazon.co.uk"), deadline, scheduler.Expire, ledger.Expired, "deadline 2026-12-01T10:00:00Z has passed", time.Time{}},
		{"waiting", rec(ledger.Waiting, "Amazon.co.uk"), sendAt, scheduler.Hold, ledger.Waiting, "why waiting", time.Time{}},
		{"waiting at the deadline", rec(ledger.Waiting, "Amazon.co.uk"), deadline, scheduler.Expire, ledger.Expired, "has passed", time.Time{}},
		{"sent", rec(ledger.Sent, "Amazon.co.uk"), sendAt, scheduler.Hold, ledger.Sent, "already sent 2026-11-09T10:00:00Z", time.Time{}},
		{"in doubt, after the deadline", rec(ledger.InDoubt, "Amazon.co.uk"), deadline, scheduler.Hold, ledger.InDoubt, "why in_doubt", time.Time{}},
		{"excluded", rec(ledger.Excluded, "Amazon.co.uk"), sendAt, scheduler.Hold, ledger.Excluded, "why excluded", time.Time{}},
	} {
		v := r.Verdict(tt.rec, tt.at)
		if v.Action != tt.action || v.State != tt.state || !v.Until.Equal(tt.until) {
			t.Errorf("%s: verdict %+v, want action %d, state %s, until %v", tt.name, v, tt.action, tt.state, tt.until)
		}
		if tt.reason == "" && v.Reason != "" || !strings.Contains(v.Reason, tt.reason) {
			t.Errorf("%s: reason %q, want %q", tt.name, v.Reason, tt.reason)
		}
	}
}
