package ledger_test

import (
	"testing"
	"time"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"
)

// What went out is counted per UTC day and marketplace, in the
// transactions that record it; old days are dropped as new ones come.
func TestDailyCounts(t *testing.T) {
	l := MustOpen(t)
	var batch []orders.Order
	for i := range 8 {
		o := order(orderID(i))
		if i >= 4 {
			o.Marketplace = "Amazon.de"
		}
		batch = append(batch, o)
	}
	mustUpsert(t, l, t0, batch...)
	day1, day2 := t0.Add(5*day+time.Hour), t0.Add(6*day+time.Hour)
	claim := func(i int, at time.Time) ledger.Key {
		k := key(orderID(i))
		if _, err := l.Claim(k, "smtp", at); err != nil {
			t.Fatal(err)
		}
		return k
	}
	must(t, l.MarkSent(claim(0, day1), day1, "sent"))
	must(t, l.MarkSent(claim(1, day1), day1, "sent"))
	must(t, l.MarkSent(claim(4, day1), day1, "sent"))
	must(t, l.Refuse(key(orderID(5)), day2, day1, "P-CONTACT"))
	must(t, l.MarkFailed(claim(2, day2), day2, "550 no such user"))
	must(t, l.Retry(claim(3, day2), day2.Add(time.Hour), day2, "421 try later"))
	must(t, l.MarkInDoubt(claim(6, day2), day2, "no answer"))
	must(t, l.Resolve(key(orderID(6)), true, nil, day2, "", "seen in the sent folder"))
	must(t, l.Postpone(claim(7, day2), day2.Add(day), day2, "not offered yet")) // routine: not counted

	got, err := l.Daily(day1, day2)
	must(t, err)
	want := []ledger.DayCount{
		{Day: "2026-03-06", Marketplace: "Amazon.com", Sent: 2},
		{Day: "2026-03-06", Marketplace: "Amazon.de", Sent: 1, Refused: 1},
		{Day: "2026-03-07", Marketplace: "Amazon.com", Failed: 1, Retried: 1},
		{Day: "2026-03-07", Marketplace: "Amazon.de", Sent: 1, InDoubt: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("daily = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("daily[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if got, _ := l.Daily(day2, day2); len(got) != 2 {
		t.Errorf("one day: %+v", got)
	}

	// a send 401 days on: the first days are gone
	late := day2.Add(401 * day)
	o := order(orderID(99))
	o.PurchaseDate = late.Add(-6 * day)
	mustUpsert(t, l, late.Add(-2*day), o)
	must(t, l.MarkSent(claim(99, late), late, "sent"))
	if got, _ := l.Daily(t0, late); len(got) != 1 || got[0].Sent != 1 {
		t.Errorf("after 401 days: %+v", got)
	}
}
