package ledger_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"
)

func TestUpsertDecides(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(o *orders.Order)
		now      time.Time
		want     ledger.State
		sendAt   time.Time
		deadline time.Time
		buyer    bool
	}{
		{"shipped", func(o *orders.Order) {}, t0, ledger.Scheduled, t0.Add(5 * day), t0.Add(30 * day), true},
		{"not shipped", func(o *orders.Order) { o.Shipped = false }, t0, ledger.Waiting, time.Time{}, t0.Add(30 * day), true},
		{"no purchase date", func(o *orders.Order) { o.PurchaseDate = time.Time{} }, t0, ledger.Waiting, time.Time{}, time.Time{}, true},
		{"cancelled", func(o *orders.Order) { o.Excluded = orders.ExcludedCancelled }, t0, ledger.Excluded, time.Time{}, t0.Add(30 * day), false},
		{"every item cancelled", func(o *orders.Order) { o.Items[0].Cancelled = true }, t0, ledger.Excluded, time.Time{}, t0.Add(30 * day), false},
		{"too old", func(o *orders.Order) {}, t0.Add(30 * day), ledger.Expired, time.Time{}, t0.Add(30 * day), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := MustOpen(t)
			o := order("111-0000001-0000001")
			tc.edit(&o)
			st, err := l.Upsert("", []orders.Order{o}, decide, tc.now)
			must(t, err)
			if st != (ledger.UpsertStats{New: 1}) {
				t.Errorf("stats = %+v", st)
			}
			rec := wantState(t, l, key(o.ID), tc.want)
			if !rec.SendAt.Equal(tc.sendAt) || !rec.Deadline.Equal(tc.deadline) {
				t.Errorf("send at %s, deadline %s; want %s, %s", rec.SendAt, rec.Deadline, tc.sendAt, tc.deadline)
			}
			if got := rec.Order.BuyerEmail != ""; got != tc.buyer {
				t.Errorf("buyer email kept = %v, want %v", got, tc.buyer)
			}
			if rec.Campaign != "en" || rec.Channel != "smtp" || rec.Reason == "" || !rec.CreatedAt.Equal(tc.now) {
				t.Errorf("record = %+v", rec)
			}
			ev := lastEvent(t, l, key(o.ID))
			if ev.From != "" || ev.To != tc.want || ev.Actor != "ingest" {
				t.Errorf("event = %+v", ev)
			}
		})
	}
}

// A decider that schedules an excluded order, or one past its deadline, is
// overruled.
func TestUpsertOverrulesBadDecisions(t *testing.T) {
	always := func(o orders.Order, now time.Time) ledger.Decision {
		return ledger.Decision{State: ledger.Scheduled, SendAt: now, Deadline: t0.Add(30 * day)}
	}
	l := MustOpen(t)
	o := order("111-0000001-0000001")
	o.Excluded = orders.ExcludedReturned
	_, err := l.Upsert("", []orders.Order{o, order("111-0000001-0000002")}, always, t0.Add(30*day))
	must(t, err)
	wantState(t, l, key("111-0000001-0000001"), ledger.Excluded)
	wantState(t, l, key("111-0000001-0000002"), ledger.Expired)

	bad := func(o orders.Order, now time.Time) ledger.Decision { return ledger.Decision{State: ledger.Sent} }
	noTime := func(o orders.Order, now time.Time) ledger.Decision { return ledger.Decision{State: ledger.Scheduled} }
	for name, d := range map[string]ledger.Decider{"sent": bad, "scheduled without time": noTime} {
		if _, err := l.Upsert("", []orders.Order{order("111-0000001-0000003")}, d, t0); err == nil {
			t.Errorf("decider %s accepted", name)
		}
	}
	if _, ok, _ := l.Get(key("111-0000001-0000003")); ok {
		t.Error("a failed upsert left an order behind")
	}
}

func TestUpsertIdempotent(t *testing.T) {
	l := MustOpen(t)
	batch := []orders.Order{order("111-0000001-0000001"), order("111-0000001-0000002"), order("111-0000001-0000002")}
	st := mustUpsert(t, l, t0, batch...)
	if st != (ledger.UpsertStats{New: 2}) {
		t.Errorf("first upsert = %+v", st)
	}
	evs, err := l.RecentEvents(100)
	must(t, err)
	before := mustGet(t, l, key("111-0000001-0000001"))
	st = mustUpsert(t, l, t0.Add(time.Hour), batch...)
	if st != (ledger.UpsertStats{Unchanged: 2}) {
		t.Errorf("second upsert = %+v", st)
	}
	again, err := l.RecentEvents(100)
	must(t, err)
	if len(again) != len(evs) {
		t.Errorf("re-ingesting wrote %d events", len(again)-len(evs))
	}
	after, _, _ := l.Get(key("111-0000001-0000001"))
	if !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("unchanged order was rewritten at %s", after.UpdatedAt)
	}
	// new facts without a new decision: updated, no event
	o := order("111-0000001-0000001")
	o.Items = append(o.Items, orders.Item{SKU: "SKU-2", Title: "Saucer", Quantity: 2})
	st = mustUpsert(t, l, t0.Add(2*time.Hour), o)
	if st != (ledger.UpsertStats{Updated: 1}) {
		t.Errorf("new items = %+v", st)
	}
	if rec := mustGet(t, l, key(o.ID)); len(rec.Order.Items) != 2 {
		t.Errorf("items = %+v", rec.Order.Items)
	}
	again2, _ := l.RecentEvents(100)
	if len(again2) != len(evs) {
		t.Errorf("new facts without a new decision wrote an event")
	}
}

func TestCancellationBeforeSendStopsIt(t *testing.T) {
	l := MustOpen(t)
	k := key("111-0000001-0000001")
	mustUpsert(t, l, t0, order(k.OrderID), order("111-0000001-0000002"))
	if ids := dueIDs(t, l, t0.Add(6*day)); !slices.Contains(ids, k.OrderID) {
		t.Fatalf("due before cancellation = %v", ids)
	}
	cancel := orders.Order{ID: k.OrderID, Status: "Cancelled", StatusAt: t0.Add(2 * day), Excluded: orders.ExcludedCancelled, Because: "order-status Cancelled"}
	st := mustUpsert(t, l, t0.Add(2*day), cancel)
	if st != (ledger.UpsertStats{Updated: 1}) {
		t.Errorf("stats = %+v", st)
	}
	rec := wantState(t, l, k, ledger.Excluded)
	if rec.Order.BuyerEmail != "" || rec.Order.BuyerName != "" || !rec.SendAt.IsZero() {
		t.Errorf("excluded record = %+v", rec)
	}
	if ids := dueIDs(t, l, t0.Add(6*day)); slices.Contains(ids, k.OrderID) || len(ids) != 1 {
		t.Errorf("due after cancellation = %v", ids)
	}
	ev := lastEvent(t, l, k)
	if ev.From != ledger.Scheduled || ev.To != ledger.Excluded || ev.Actor != "ingest" {
		t.Errorf("event = %+v", ev)
	}
	// The original file arriving again does not bring it back.
	mustUpsert(t, l, t0.Add(3*day), order(k.OrderID))
	wantState(t, l, k, ledger.Excluded)
	if _, err := l.Claim(k, "outbox", t0.Add(6*day)); err == nil {
		t.Error("claimed a cancelled order")
	}
}

func TestFactsNeverRescheduleFinalOrders(t *testing.T) {
	for _, s := range []ledger.State{ledger.Claimed, ledger.Sent, ledger.InDoubt, ledger.Failed, ledger.Expired} {
		t.Run(string(s), func(t *testing.T) {
			l := MustOpen(t)
			k := key("111-0000001-0000001")
			now := setupState(t, l, k, s)
			before := mustGet(t, l, k)
			evs, _ := l.Events(k)
			later := order(k.OrderID)
			later.EstimatedArrival = t0.Add(9 * day)
			later.PurchaseDate = t0.Add(-day) // earlier: would move the deadline
			later.BuyerEmail = "new@marketplace.amazon.com"
			st := mustUpsert(t, l, now, later)
			if st != (ledger.UpsertStats{Frozen: 1}) {
				t.Errorf("stats = %+v", st)
			}
			rec := wantState(t, l, k, s)
			if !rec.SendAt.Equal(before.SendAt) || !rec.Deadline.Equal(before.Deadline) {
				t.Errorf("send at/deadline moved: %s %s", rec.SendAt, rec.Deadline)
			}
			if !rec.Order.EstimatedArrival.Equal(t0.Add(9 * day)) {
				t.Errorf("facts not merged: %+v", rec.Order)
			}
			purged := s == ledger.Sent || s == ledger.Failed || s == ledger.Expired
			if purged && rec.Order.BuyerEmail != "" {
				t.Errorf("buyer email re-added to a %s order", s)
			}
			if evs2, _ := l.Events(k); len(evs2) != len(evs) {
				t.Errorf("frozen upsert wrote an event")
			}
			if ids := dueIDs(t, l, t0.Add(29*day)); len(ids) != 0 {
				t.Errorf("due = %v", ids)
			}
		})
	}
}

func TestWaitingBecomesScheduled(t *testing.T) {
	l := MustOpen(t)
	k := key("111-0000001-0000001")
	o := order(k.OrderID)
	o.Shipped = false
	mustUpsert(t, l, t0, o)
	wantState(t, l, k, ledger.Waiting)
	o.Shipped = true
	st := mustUpsert(t, l, t0.Add(day), o)
	if st != (ledger.UpsertStats{Updated: 1}) {
		t.Errorf("stats = %+v", st)
	}
	rec := wantState(t, l, k, ledger.Scheduled)
	if !rec.SendAt.Equal(t0.Add(5 * day)) {
		t.Errorf("SendAt = %s", rec.SendAt)
	}
	evs, _ := l.Events(k)
	if len(evs) != 2 || evs[0].To != ledger.Waiting || evs[1].From != ledger.Waiting || evs[1].To != ledger.Scheduled {
		t.Errorf("history = %+v", evs)
	}
}

func TestAccountsAreSeparate(t *testing.T) {
	l := MustOpen(t)
	id := "111-0000001-0000001"
	_, err := l.Upsert("", []orders.Order{order(id)}, decide, t0)
	must(t, err)
	_, err = l.Upsert("eu", []orders.Order{order(id)}, decide, t0)
	must(t, err)
	must(t, l.OperatorMarkSent(ledger.Key{Account: "eu", OrderID: id}, t0, "", ""))
	wantState(t, l, key(id), ledger.Scheduled)
	wantState(t, l, ledger.Key{Account: "eu", OrderID: id}, ledger.Sent)
	due, err := l.Due(t0.Add(6*day), 0)
	must(t, err)
	if len(due) != 1 || due[0].Key != key(id) {
		t.Errorf("due = %+v", due)
	}
	if evs, _ := l.Events(key(id)); len(evs) != 1 {
		t.Errorf("default account history = %+v", evs)
	}
}

func TestRedecide(t *testing.T) {
	l := MustOpen(t)
	a, b, c := key("111-0000001-0000001"), key("111-0000001-0000002"), key("111-0000001-0000003")
	ob := order(b.OrderID)
	ob.Shipped = false
	mustUpsert(t, l, t0, order(a.OrderID), ob, order(c.OrderID))
	_, err := l.Claim(c, "outbox", t0.Add(5*day))
	must(t, err)
	tests := []struct {
		name    string
		decide  ledger.Decider
		changed int
		aSendAt time.Time
	}{
		{"same rules", decide, 0, t0.Add(5 * day)},
		{"longer delay", decideDelay(7 * day), 1, t0.Add(7 * day)},
		{"longer delay again", decideDelay(7 * day), 0, t0.Add(7 * day)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := l.Redecide(tc.decide, t0.Add(time.Hour))
			must(t, err)
			if n != tc.changed {
				t.Errorf("changed = %d, want %d", n, tc.changed)
			}
			if rec := wantState(t, l, a, ledger.Scheduled); !rec.SendAt.Equal(tc.aSendAt) {
				t.Errorf("SendAt = %s, want %s", rec.SendAt, tc.aSendAt)
			}
			wantState(t, l, b, ledger.Waiting)
			wantState(t, l, c, ledger.Claimed)
		})
	}
	// a rule that excludes (an excluded SKU in config) and is lifted again
	skuRule := func(o orders.Order, now time.Time) ledger.Decision {
		d := decide(o, now)
		d.State, d.Reason, d.SendAt = ledger.Excluded, "excluded SKU SKU-1", time.Time{}
		return d
	}
	n, err := l.Redecide(skuRule, t0.Add(2*time.Hour))
	must(t, err)
	if n != 2 {
		t.Errorf("excluding rule changed %d", n)
	}
	wantState(t, l, a, ledger.Excluded)
	n, err = l.Redecide(decide, t0.Add(3*time.Hour))
	must(t, err)
	if n != 2 {
		t.Errorf("lifting the rule changed %d", n)
	}
	wantState(t, l, a, ledger.Scheduled)
	if ev := lastEvent(t, l, a); ev.Actor != "scheduler" || ev.From != ledger.Excluded {
		t.Errorf("event = %+v", ev)
	}
}

func TestDueUpcomingExpire(t *testing.T) {
	l := MustOpen(t)
	var batch []orders.Order
	for i := range 10 {
		o := order(orderID(i))
		o.PurchaseDate = t0.Add(time.Duration(9-i) * day) // order 9 is due first
		batch = append(batch, o)
	}
	o := order("111-0000009-0000009")
	o.Shipped = false
	batch = append(batch, o)
	mustUpsert(t, l, t0, batch...)

	tests := []struct {
		name  string
		now   time.Time
		limit int
		want  []string
	}{
		{"nothing due", t0.Add(5*day - time.Nanosecond), 0, nil},
		{"exactly due", t0.Add(5 * day), 0, []string{orderID(9)}},
		{"three due", t0.Add(7 * day), 0, []string{orderID(9), orderID(8), orderID(7)}},
		{"limited", t0.Add(20 * day), 2, []string{orderID(9), orderID(8)}},
		{"all", t0.Add(20 * day), 100, []string{orderID(9), orderID(8), orderID(7), orderID(6), orderID(5), orderID(4), orderID(3), orderID(2), orderID(1), orderID(0)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := l.Due(tc.now, tc.limit)
			must(t, err)
			var ids []string
			for _, r := range recs {
				ids = append(ids, r.Key.OrderID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("due = %v, want %v", ids, tc.want)
			}
		})
	}
	up, err := l.Upcoming(3)
	must(t, err)
	if len(up) != 3 || up[0].Key.OrderID != orderID(9) || up[2].Key.OrderID != orderID(7) {
		t.Errorf("upcoming = %+v", up)
	}
	// Deadlines: order i's is t0 + (39-i) days; the waiting order's t0 + 30d.
	n, err := l.ExpireOverdue(t0.Add(30*day + 12*time.Hour))
	must(t, err)
	if n != 2 { // order 9 (deadline t0+30d) and the waiting order
		t.Errorf("expired %d, want 2", n)
	}
	wantState(t, l, key(orderID(9)), ledger.Expired)
	wantState(t, l, key("111-0000009-0000009"), ledger.Expired)
	wantState(t, l, key(orderID(8)), ledger.Scheduled)
	if n, _ := l.ExpireOverdue(t0.Add(30*day + 12*time.Hour)); n != 0 {
		t.Errorf("second expiry pass expired %d", n)
	}
	counts, err := l.Counts()
	must(t, err)
	if counts.Total != 11 || counts.ByState[ledger.Expired] != 2 || counts.ByState[ledger.Scheduled] != 9 || len(counts.ByState) != len(ledger.States) {
		t.Errorf("counts = %+v", counts)
	}
	exp, err := l.List(ledger.Expired, 0)
	must(t, err)
	if len(exp) != 2 {
		t.Errorf("list expired = %d", len(exp))
	}
	if one, _ := l.List(ledger.Scheduled, 1); len(one) != 1 {
		t.Errorf("list with n=1 returned %d", len(one))
	}
}

func TestFiles(t *testing.T) {
	l := MustOpen(t)
	if _, ok, err := l.File("nope"); ok || err != nil {
		t.Errorf("unknown file: %v %v", ok, err)
	}
	errs := make([]string, 150)
	for i := range errs {
		errs[i] = "line: bad"
	}
	files := []ledger.FileRecord{
		{SHA256: "a", Name: "a.txt", IngestedAt: t0.Add(2 * time.Hour), Outcome: "processed"},
		{SHA256: "b", Name: "b.txt", IngestedAt: t0, Outcome: "rejected", Error: "unknown header"},
		{SHA256: "c", Name: "c.txt", IngestedAt: t0.Add(time.Hour), Outcome: "processed", RowErrors: errs, Rejected: 150},
	}
	for _, f := range files {
		must(t, l.RecordFile(f))
	}
	got, ok, err := l.File("c")
	must(t, err)
	if !ok || got.Name != "c.txt" || len(got.RowErrors) != 100 || got.Rejected != 150 {
		t.Errorf("file c = %+v", got)
	}
	recent, err := l.RecentFiles(2)
	must(t, err)
	if len(recent) != 2 || recent[0].SHA256 != "a" || recent[1].SHA256 != "c" {
		t.Errorf("recent = %+v", recent)
	}
	// the same bytes again, later: one record, moved in time
	must(t, l.RecordFile(ledger.FileRecord{SHA256: "b", Name: "b2.txt", IngestedAt: t0.Add(3 * time.Hour), Outcome: "processed"}))
	recent, err = l.RecentFiles(10)
	must(t, err)
	if len(recent) != 3 || recent[0].Name != "b2.txt" {
		t.Errorf("recent after re-record = %+v", recent)
	}
	if err := l.RecordFile(ledger.FileRecord{}); err == nil {
		t.Error("file without sha recorded")
	}
}

func TestEventsAndExport(t *testing.T) {
	l := MustOpen(t)
	k := key("111-0000001-0000001")
	now := setupState(t, l, k, ledger.Sent)
	mustUpsert(t, l, now, order("111-0000001-0000002"))
	evs, err := l.Events(k)
	must(t, err)
	want := []ledger.State{ledger.Scheduled, ledger.Claimed, ledger.Sent}
	if len(evs) != len(want) {
		t.Fatalf("history = %+v", evs)
	}
	for i, ev := range evs {
		if ev.To != want[i] || (i > 0 && ev.Seq <= evs[i-1].Seq) {
			t.Errorf("event %d = %+v", i, ev)
		}
	}
	// a new order's first sighting is kept with the order, not in the log
	recent, err := l.RecentEvents(3)
	must(t, err)
	if len(recent) != 2 || recent[0].To != ledger.Sent || recent[1].To != ledger.Claimed {
		t.Errorf("recent = %+v", recent)
	}
	if evs, err := l.Events(key("111-0000001-0000002")); err != nil || len(evs) != 1 || evs[0].To != ledger.Scheduled || evs[0].Actor != "ingest" || !evs[0].Time.Equal(now) {
		t.Errorf("history of the new order = %+v, %v", evs, err)
	}
	var buf bytes.Buffer
	must(t, l.Export(&buf))
	sc := bufio.NewScanner(&buf)
	var ids []string
	for sc.Scan() {
		var rec ledger.Record
		must(t, json.Unmarshal(sc.Bytes(), &rec))
		ids = append(ids, rec.Key.OrderID)
		if rec.Key.OrderID == k.OrderID && (rec.State != ledger.Sent || rec.Order.BuyerEmail != "") {
			t.Errorf("exported %+v", rec)
		}
	}
	if !slices.Equal(ids, []string{k.OrderID, "111-0000001-0000002"}) {
		t.Errorf("exported ids = %v", ids)
	}
}

func TestForEachInChunks(t *testing.T) {
	l := MustOpen(t)
	const n = 1300
	var batch []orders.Order
	for i := range n {
		batch = append(batch, order(orderID(i)))
	}
	mustUpsert(t, l, t0, batch...)
	var ids []string
	must(t, l.ForEach(func(r ledger.Record) error {
		// fn may write to the ledger: ForEach holds no transaction
		if len(ids) == 700 {
			if err := l.OperatorExclude(r.Key, t0, "", "while walking"); err != nil {
				return err
			}
		}
		ids = append(ids, r.Key.OrderID)
		return nil
	}))
	if len(ids) != n || !slices.IsSorted(ids) || ids[0] != orderID(0) || ids[n-1] != orderID(n-1) {
		t.Errorf("walked %d orders, sorted %v", len(ids), slices.IsSorted(ids))
	}
}

func TestPurgePersonal(t *testing.T) {
	l := MustOpen(t)
	recent, old, claimed := order("111-0000001-0000001"), order("111-0000001-0000002"), order("111-0000001-0000003")
	recent.DeliveredAt = t0.Add(3 * day)
	old.Shipped = false // waiting; only the purchase date is known
	claimed.EstimatedArrival = t0.Add(2 * day)
	mustUpsert(t, l, t0, recent, old, claimed)
	_, err := l.Claim(key(claimed.ID), "smtp", t0.Add(5*day))
	must(t, err)
	n, err := l.PurgePersonal(t0.Add(32*day), 30*day)
	must(t, err)
	if n != 1 {
		t.Errorf("purged %d, want 1", n)
	}
	if rec := mustGet(t, l, key(old.ID)); rec.Order.BuyerEmail != "" || rec.Order.BuyerName != "" {
		t.Errorf("old order keeps buyer data")
	}
	if rec := mustGet(t, l, key(recent.ID)); rec.Order.BuyerEmail == "" {
		t.Errorf("recent order lost its buyer data")
	}
	if rec := mustGet(t, l, key(claimed.ID)); rec.Order.BuyerEmail == "" {
		t.Errorf("claimed order lost its buyer data mid-send")
	}
}
