package ledger_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"
)

// setupState puts the order k into state s (or leaves it unknown for "")
// and returns the clock to continue at.
func setupState(t *testing.T, l *ledger.Ledger, k ledger.Key, s ledger.State) time.Time {
	t.Helper()
	now := t0.Add(time.Hour)
	o := order(k.OrderID)
	switch s {
	case "":
		return t0.Add(6 * day)
	case ledger.Waiting:
		o.Shipped = false
	case ledger.Excluded:
		o.Excluded, o.Because = orders.ExcludedCancelled, "Cancelled"
	case ledger.Expired:
		now = t0.Add(31 * day)
	}
	if _, err := l.Upsert(k.Account, []orders.Order{o}, decide, now); err != nil {
		t.Fatalf("setup upsert: %v", err)
	}
	now = t0.Add(6 * day)
	switch s {
	case ledger.Claimed, ledger.Sent, ledger.InDoubt, ledger.Failed:
		if _, err := l.Claim(k, "outbox", now); err != nil {
			t.Fatalf("setup claim: %v", err)
		}
	}
	switch s {
	case ledger.Sent:
		must(t, l.MarkSent(k, now, "sent"))
	case ledger.InDoubt:
		must(t, l.MarkInDoubt(k, now, "smtp: connection reset after DATA"))
	case ledger.Failed:
		must(t, l.MarkFailed(k, now, "550 no such user"))
	}
	wantState(t, l, k, s)
	return now.Add(time.Minute)
}

type op struct {
	name  string
	actor string
	do    func(l *ledger.Ledger, k ledger.Key, now time.Time) error
}

var ops = map[string]op{
	"Claim": {"Claim", "scheduler", func(l *ledger.Ledger, k ledger.Key, now time.Time) error {
		_, err := l.Claim(k, "outbox", now)
		return err
	}},
	"MarkSent":    {"MarkSent", "scheduler", func(l *ledger.Ledger, k ledger.Key, now time.Time) error { return l.MarkSent(k, now, "ok") }},
	"MarkInDoubt": {"MarkInDoubt", "scheduler", func(l *ledger.Ledger, k ledger.Key, now time.Time) error { return l.MarkInDoubt(k, now, "timeout") }},
	"MarkFailed":  {"MarkFailed", "scheduler", func(l *ledger.Ledger, k ledger.Key, now time.Time) error { return l.MarkFailed(k, now, "550") }},
	"Retry": {"Retry", "scheduler", func(l *ledger.Ledger, k ledger.Key, now time.Time) error {
		return l.Retry(k, now.Add(time.Hour), now, "421 try later")
	}},
	"Refuse": {"Refuse", "scheduler", func(l *ledger.Ledger, k ledger.Key, now time.Time) error {
		return l.Refuse(k, now.Add(day), now, "P-LINK: a link in the product title")
	}},
	"ResolveSent": {"ResolveSent", "operator", func(l *ledger.Ledger, k ledger.Key, now time.Time) error {
		return l.Resolve(k, true, decide, now, "", "buyer confirmed")
	}},
	"ResolveRetry": {"ResolveRetry", "operator", func(l *ledger.Ledger, k ledger.Key, now time.Time) error {
		return l.Resolve(k, false, decide, now, "", "smtp log shows no delivery")
	}},
	"OperatorMarkSent": {"OperatorMarkSent", "operator", func(l *ledger.Ledger, k ledger.Key, now time.Time) error {
		return l.OperatorMarkSent(k, now, "", "sent from Seller Central")
	}},
	"OperatorExclude": {"OperatorExclude", "operator", func(l *ledger.Ledger, k ledger.Key, now time.Time) error {
		return l.OperatorExclude(k, now, "", "buyer complained")
	}},
}

func TestTransitions(t *testing.T) {
	const unknown = ledger.State("")
	// what each operation does from each state: a state, or an error
	type outcome struct {
		to  ledger.State
		err error
	}
	to := func(s ledger.State) outcome { return outcome{to: s} }
	fails := func(err error) outcome { return outcome{err: err} }
	all := append([]ledger.State{unknown}, ledger.States...)
	table := map[string]map[ledger.State]outcome{
		"Claim":            {unknown: fails(ledger.ErrNotFound), ledger.Scheduled: to(ledger.Claimed)},
		"MarkSent":         {unknown: fails(ledger.ErrNotFound), ledger.Claimed: to(ledger.Sent)},
		"MarkInDoubt":      {unknown: fails(ledger.ErrNotFound), ledger.Claimed: to(ledger.InDoubt)},
		"MarkFailed":       {unknown: fails(ledger.ErrNotFound), ledger.Claimed: to(ledger.Failed)},
		"Retry":            {unknown: fails(ledger.ErrNotFound), ledger.Claimed: to(ledger.Scheduled)},
		"Refuse":           {unknown: fails(ledger.ErrNotFound), ledger.Scheduled: to(ledger.Scheduled)},
		"ResolveSent":      {unknown: fails(ledger.ErrNotFound), ledger.InDoubt: to(ledger.Sent)},
		"ResolveRetry":     {unknown: fails(ledger.ErrNotFound), ledger.InDoubt: to(ledger.Scheduled)},
		"OperatorMarkSent": {ledger.Claimed: fails(ledger.ErrWrongState)},
		"OperatorExclude": {ledger.Claimed: fails(ledger.ErrWrongState), ledger.Sent: fails(ledger.ErrWrongState),
			ledger.InDoubt: fails(ledger.ErrWrongState)},
	}
	for name, byState := range table {
		for _, from := range all {
			want, ok := byState[from]
			if !ok {
				switch name {
				case "Claim":
					want = fails(ledger.ErrNotClaimable)
				case "OperatorMarkSent":
					want = to(ledger.Sent)
				case "OperatorExclude":
					want = to(ledger.Excluded)
				default:
					want = fails(ledger.ErrWrongState)
				}
			}
			fromName := string(from)
			if from == unknown {
				fromName = "unknown"
			}
			t.Run(name+"/from_"+fromName, func(t *testing.T) {
				l := MustOpen(t)
				k := ledger.Key{Account: "acct-eu", OrderID: "111-0000001-0000001"}
				now := setupState(t, l, k, from)
				before, known, err := l.Get(k)
				must(t, err)
				evsBefore, err := l.Events(k)
				must(t, err)

				err = ops[name].do(l, k, now)

				if want.err != nil {
					wantErr(t, err, want.err)
					after, knownAfter, err := l.Get(k)
					must(t, err)
					if knownAfter != known || after.State != before.State || !after.UpdatedAt.Equal(before.UpdatedAt) {
						t.Errorf("failed %s changed the order: %+v -> %+v", name, before, after)
					}
					evs, err := l.Events(k)
					must(t, err)
					if len(evs) != len(evsBefore) {
						t.Errorf("failed %s wrote %d events", name, len(evs)-len(evsBefore))
					}
					return
				}
				must(t, err)
				rec := wantState(t, l, k, want.to)
				if reconfirm := from == ledger.Sent && want.to == ledger.Sent; !reconfirm && !rec.UpdatedAt.Equal(now) {
					t.Errorf("UpdatedAt = %s, want %s", rec.UpdatedAt, now)
				}
				ev := lastEvent(t, l, k)
				if ev.To != want.to || ev.From != from || ev.Actor != ops[name].actor || !ev.Time.Equal(now) || ev.Key != k {
					t.Errorf("last event = %+v, want %s -> %s by %s at %s", ev, from, want.to, ops[name].actor, now)
				}
				if ev.Reason == "" {
					t.Error("event without a reason")
				}
				switch want.to {
				case ledger.Sent, ledger.Failed, ledger.Excluded, ledger.Expired:
					if rec.Order.BuyerEmail != "" || rec.Order.BuyerName != "" {
						t.Errorf("%s order keeps buyer data %q %q", want.to, rec.Order.BuyerEmail, rec.Order.BuyerName)
					}
				}
				if want.to == ledger.Sent && rec.SentAt.IsZero() {
					t.Error("sent without SentAt")
				}
				if want.to == ledger.Claimed && (rec.Attempts != 1 || !rec.ClaimedAt.Equal(now) || rec.Channel != "outbox") {
					t.Errorf("claimed record = attempts %d, claimed at %s, channel %q", rec.Attempts, rec.ClaimedAt, rec.Channel)
				}
				if name == "OperatorExclude" && (rec.ExcludedBy != "operator" || rec.Class != "operator") {
					t.Errorf("operator exclusion not recorded: excluded by %q, class %q", rec.ExcludedBy, rec.Class)
				}
			})
		}
	}
}

func TestClaimAfterDeadlineExpires(t *testing.T) {
	tests := []struct {
		name string
		at   time.Duration
		want error
	}{
		{"just before", 30*day - time.Nanosecond, nil},
		{"at the deadline", 30 * day, ledger.ErrExpired},
		{"after the deadline", 40 * day, ledger.ErrExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := MustOpen(t)
			k := key("111-0000001-0000001")
			mustUpsert(t, l, t0, order(k.OrderID))
			_, err := l.Claim(k, "spapi", t0.Add(tc.at))
			wantErr(t, err, tc.want)
			if tc.want == nil {
				wantState(t, l, k, ledger.Claimed)
				return
			}
			rec := wantState(t, l, k, ledger.Expired)
			if rec.Attempts != 0 || rec.Order.BuyerEmail != "" {
				t.Errorf("expired record = %+v", rec)
			}
			if ids := dueIDs(t, l, t0.Add(50*day)); len(ids) != 0 {
				t.Errorf("expired order still due: %v", ids)
			}
			if _, err := l.Claim(k, "spapi", t0.Add(tc.at)); !errors.Is(err, ledger.ErrNotClaimable) {
				t.Errorf("second claim = %v, want ErrNotClaimable", err)
			}
		})
	}
}

func TestRetry(t *testing.T) {
	tests := []struct {
		name   string
		at     time.Duration
		want   ledger.State
		sendAt time.Duration
	}{
		{"inside the window", 7 * day, ledger.Scheduled, 7 * day},
		{"at the deadline", 30 * day, ledger.Expired, 0},
		{"beyond the deadline", 31 * day, ledger.Expired, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := MustOpen(t)
			k := key("111-0000001-0000001")
			now := setupState(t, l, k, ledger.Claimed)
			must(t, l.Retry(k, t0.Add(tc.at), now, "429 too many requests"))
			rec := wantState(t, l, k, tc.want)
			if rec.LastError != "429 too many requests" {
				t.Errorf("LastError = %q", rec.LastError)
			}
			if tc.want == ledger.Scheduled && !rec.SendAt.Equal(t0.Add(tc.sendAt)) {
				t.Errorf("SendAt = %s, want %s", rec.SendAt, t0.Add(tc.sendAt))
			}
			probs, err := l.RecentProblems(10)
			must(t, err)
			if len(probs) != 1 || probs[0].To != tc.want || probs[0].From != ledger.Claimed {
				t.Errorf("problems = %+v", probs)
			}
			if tc.want == ledger.Scheduled {
				if _, err := l.Claim(k, "outbox", t0.Add(tc.sendAt)); err != nil {
					t.Errorf("claim after retry: %v", err)
				}
				if rec := mustGet(t, l, k); rec.Attempts != 2 {
					t.Errorf("attempts = %d, want 2", rec.Attempts)
				}
			}
		})
	}
}

func TestPostpone(t *testing.T) {
	tests := []struct {
		name     string
		at       time.Duration
		want     ledger.State
		problems int
	}{
		{"inside the window: routine, no problem", 7 * day, ledger.Scheduled, 0},
		{"at the deadline: expiry is a problem", 30 * day, ledger.Expired, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := MustOpen(t)
			k := key("111-0000001-0000001")
			now := setupState(t, l, k, ledger.Claimed)
			must(t, l.Postpone(k, t0.Add(tc.at), now, "not offered yet"))
			rec := wantState(t, l, k, tc.want)
			if rec.LastError != "" {
				t.Errorf("LastError = %q, want none", rec.LastError)
			}
			if tc.want == ledger.Scheduled && (!rec.SendAt.Equal(t0.Add(tc.at)) || !strings.Contains(rec.Reason, "not offered yet")) {
				t.Errorf("SendAt = %s, reason %q", rec.SendAt, rec.Reason)
			}
			probs, err := l.RecentProblems(10)
			must(t, err)
			if len(probs) != tc.problems {
				t.Errorf("problems = %+v, want %d", probs, tc.problems)
			}
			evs, err := l.Events(k)
			must(t, err)
			if last := evs[len(evs)-1]; last.From != ledger.Claimed || last.To != tc.want {
				t.Errorf("last event %+v", last)
			}
		})
	}
}

func TestRefuse(t *testing.T) {
	l := MustOpen(t)
	k := key("111-0000001-0000001")
	now := setupState(t, l, k, ledger.Scheduled)
	refusal := "P-LINK: the product title holds a link"
	steps := []struct {
		name      string
		retryAt   time.Time
		refusal   string
		want      ledger.State
		newEvents int
	}{
		{"first refusal", now.Add(day), refusal, ledger.Scheduled, 1},
		{"same refusal again", now.Add(2 * day), refusal, ledger.Scheduled, 0},
		{"different refusal", now.Add(3 * day), "P-CONTACT: an email address", ledger.Scheduled, 1},
		{"retry beyond the deadline", t0.Add(30 * day), "P-CONTACT: an email address", ledger.Expired, 1},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before, err := l.Events(k)
			must(t, err)
			must(t, l.Refuse(k, st.retryAt, now, st.refusal))
			rec := wantState(t, l, k, st.want)
			if rec.Refusal != st.refusal {
				t.Errorf("Refusal = %q, want %q", rec.Refusal, st.refusal)
			}
			if st.want == ledger.Scheduled && !rec.SendAt.Equal(st.retryAt) {
				t.Errorf("SendAt = %s, want %s", rec.SendAt, st.retryAt)
			}
			after, err := l.Events(k)
			must(t, err)
			if len(after)-len(before) != st.newEvents {
				t.Errorf("%d new events, want %d", len(after)-len(before), st.newEvents)
			}
		})
	}
	probs, err := l.RecentProblems(10)
	must(t, err)
	if len(probs) != 3 || probs[0].To != ledger.Expired || probs[2].Reason == "" {
		t.Errorf("problems = %+v", probs)
	}
	if ids := dueIDs(t, l, t0.Add(40*day)); len(ids) != 0 {
		t.Errorf("due = %v", ids)
	}
}

func TestClaimClearsRefusal(t *testing.T) {
	l := MustOpen(t)
	k := key("111-0000001-0000001")
	now := setupState(t, l, k, ledger.Scheduled)
	must(t, l.Refuse(k, now, now, "P-LINK"))
	rec, err := l.Claim(k, "outbox", now)
	must(t, err)
	if rec.Refusal != "" || rec.State != ledger.Claimed {
		t.Errorf("claimed record = %+v", rec)
	}
}

func TestResolveRetryFollowsDecider(t *testing.T) {
	l := MustOpen(t)
	k := key("111-0000001-0000001")
	now := setupState(t, l, k, ledger.InDoubt)
	late := t0.Add(35 * day)
	must(t, l.Resolve(k, false, decide, late, "", "not sent after all"))
	rec := wantState(t, l, k, ledger.Expired)
	if rec.Order.BuyerEmail != "" {
		t.Error("expired order keeps buyer email")
	}
	ev := lastEvent(t, l, k)
	if ev.Actor != "operator" || ev.From != ledger.InDoubt || !ev.Time.Equal(late) {
		t.Errorf("resolve event = %+v", ev)
	}
	if now.After(late) {
		t.Fatal("setup clock is after the resolve")
	}
}

func TestOperatorCreatesUnknownOrders(t *testing.T) {
	l := MustOpen(t)
	sent, excl := key("111-0000001-0000001"), key("111-0000001-0000002")
	must(t, l.OperatorMarkSent(sent, t0, "", "asked by hand"))
	must(t, l.OperatorExclude(excl, t0, "", "buyer asked for no mail"))
	st := mustUpsert(t, l, t0.Add(time.Hour), order(sent.OrderID), order(excl.OrderID))
	if st != (ledger.UpsertStats{Updated: 1, Frozen: 1}) {
		t.Errorf("stats = %+v", st)
	}
	rec := wantState(t, l, sent, ledger.Sent)
	if rec.Order.BuyerEmail != "" || rec.Order.Marketplace != "Amazon.com" {
		t.Errorf("sent order after upsert: %+v", rec.Order)
	}
	rec = wantState(t, l, excl, ledger.Excluded)
	if rec.ExcludedBy != "operator" || rec.Order.Excluded != "" || rec.Order.BuyerEmail != "" {
		t.Errorf("excluded order after upsert: by %q, %+v", rec.ExcludedBy, rec.Order)
	}
	if ids := dueIDs(t, l, t0.Add(20*day)); len(ids) != 0 {
		t.Errorf("due = %v", ids)
	}
	// an operator re-confirming a sent order is audited but changes nothing
	must(t, l.OperatorMarkSent(sent, t0.Add(2*time.Hour), "", "again"))
	ev := lastEvent(t, l, sent)
	if ev.From != ledger.Sent || ev.To != ledger.Sent || ev.Actor != "operator" {
		t.Errorf("re-confirm event = %+v", ev)
	}
	// the operator's identity, when known, is in the audit event
	must(t, l.OperatorMarkSent(sent, t0.Add(3*time.Hour), "uid 1000 (alice)", "again"))
	if ev := lastEvent(t, l, sent); ev.Actor != "operator uid 1000 (alice)" {
		t.Errorf("actor = %q, want the operator named", ev.Actor)
	}
}

func TestBadKeys(t *testing.T) {
	l := MustOpen(t)
	tests := []struct {
		name string
		k    ledger.Key
	}{
		{"empty order id", ledger.Key{}},
		{"NUL in order id", ledger.Key{OrderID: "111\x00"}},
		{"NUL in account", ledger.Key{Account: "a\x00b", OrderID: "111-0000001-0000001"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := l.Upsert(tc.k.Account, []orders.Order{{ID: tc.k.OrderID}}, decide, t0); err == nil {
				t.Error("Upsert accepted a bad key")
			}
			if _, _, err := l.Get(tc.k); err == nil {
				t.Error("Get accepted a bad key")
			}
			if err := l.OperatorExclude(tc.k, t0, "", ""); err == nil {
				t.Error("OperatorExclude accepted a bad key")
			}
		})
	}
	if c, err := l.Counts(); err != nil || c.Total != 0 {
		t.Errorf("counts = %+v, %v", c, err)
	}
}

// A back-off from Retry or Refuse survives re-ingesting the same facts and
// re-deciding; a later decided send time still wins.
func TestBackoffSurvivesRedecide(t *testing.T) {
	tests := []struct {
		name    string
		backoff func(l *ledger.Ledger, k ledger.Key, at, now time.Time) error
	}{
		{"retry", func(l *ledger.Ledger, k ledger.Key, at, now time.Time) error {
			if _, err := l.Claim(k, "smtp", now); err != nil {
				return err
			}
			return l.Retry(k, at, now, "solicitation not offered yet")
		}},
		{"refuse", func(l *ledger.Ledger, k ledger.Key, at, now time.Time) error {
			return l.Refuse(k, at, now, "P-LINK")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := MustOpen(t)
			k := key("111-0000001-0000001")
			now := setupState(t, l, k, ledger.Scheduled)
			at := now.Add(day)
			must(t, tc.backoff(l, k, at, now))
			st := mustUpsert(t, l, now.Add(time.Hour), order(k.OrderID))
			if st != (ledger.UpsertStats{Unchanged: 1}) {
				t.Errorf("re-ingest stats = %+v", st)
			}
			n, err := l.Redecide(decide, now.Add(2*time.Hour))
			must(t, err)
			if n != 0 {
				t.Errorf("redecide changed %d", n)
			}
			if rec := wantState(t, l, k, ledger.Scheduled); !rec.SendAt.Equal(at) {
				t.Errorf("SendAt = %s, want the back-off %s", rec.SendAt, at)
			}
			if ids := dueIDs(t, l, at.Add(-time.Minute)); len(ids) != 0 {
				t.Errorf("due during back-off: %v", ids)
			}
			// rules that send later than the back-off win
			_, err = l.Redecide(decideDelay(9*day), now.Add(3*time.Hour))
			must(t, err)
			if rec := mustGet(t, l, k); !rec.SendAt.Equal(t0.Add(9 * day)) {
				t.Errorf("SendAt = %s, want %s", rec.SendAt, t0.Add(9*day))
			}
		})
	}
}

func TestHold(t *testing.T) {
	tests := []struct {
		name  string
		until time.Duration
		want  ledger.State
	}{
		{"inside the window", 8 * day, ledger.Scheduled},
		{"at the deadline", 30 * day, ledger.Expired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := MustOpen(t)
			k := key("111-0000001-0000001")
			now := setupState(t, l, k, ledger.Scheduled)
			must(t, l.Hold(k, t0.Add(tc.until), now, "quiet hours in Amazon.com until 08:00"))
			rec := wantState(t, l, k, tc.want)
			if tc.want == ledger.Scheduled {
				if !rec.SendAt.Equal(t0.Add(tc.until)) || rec.Refusal != "" {
					t.Errorf("SendAt %s refusal %q", rec.SendAt, rec.Refusal)
				}
				if due, err := l.Due(t0.Add(tc.until).Add(-time.Second), 0); err != nil || len(due) != 0 {
					t.Errorf("held order still due before its new time: %d, %v", len(due), err)
				}
				if probs, _ := l.RecentProblems(5); len(probs) != 0 {
					t.Errorf("a hold counted as a problem: %+v", probs)
				}
			}
			evs, err := l.Events(k)
			must(t, err)
			if last := evs[len(evs)-1]; last.To != tc.want || !strings.Contains(last.Reason, "quiet hours") {
				t.Errorf("last event %+v", last)
			}
		})
	}
	l := MustOpen(t)
	k := key("111-0000002-0000002")
	now := setupState(t, l, k, ledger.Sent)
	if err := l.Hold(k, now.Add(time.Hour), now, "quiet"); !errors.Is(err, ledger.ErrWrongState) {
		t.Fatalf("Hold of a sent order = %v, want ErrWrongState", err)
	}
}

func TestMarkDelivering(t *testing.T) {
	l := MustOpen(t)
	k := key("111-0000001-0000001")
	now := setupState(t, l, k, ledger.Claimed)
	if rec := mustGet(t, l, k); !rec.DeliveringAt.IsZero() {
		t.Fatalf("a fresh claim is already delivering: %s", rec.DeliveringAt)
	}
	must(t, l.MarkDelivering(k, now.Add(time.Second)))
	rec := wantState(t, l, k, ledger.Claimed)
	if !rec.DeliveringAt.Equal(now.Add(time.Second)) {
		t.Errorf("DeliveringAt = %s, want %s", rec.DeliveringAt, now.Add(time.Second))
	}
	// a retry and a new claim start again from "not delivering"
	must(t, l.Retry(k, now.Add(time.Hour), now.Add(2*time.Second), "connection reset"))
	if err := l.MarkDelivering(k, now.Add(3*time.Second)); !errors.Is(err, ledger.ErrWrongState) {
		t.Errorf("MarkDelivering of a scheduled order: %v, want ErrWrongState", err)
	}
	if _, err := l.Claim(k, "smtp", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if rec := mustGet(t, l, k); !rec.DeliveringAt.IsZero() {
		t.Errorf("a new claim kept DeliveringAt %s", rec.DeliveringAt)
	}
}
