package scheduler_test

import (
	"strings"
	"testing"
	"time"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"
	"campaignd/internal/scheduler"
)

func testRules() scheduler.Rules {
	return scheduler.Rules{
		Window: 30 * 24 * time.Hour,
		Campaigns: []scheduler.Campaign{
			{Name: "en", Markets: []string{"Amazon.com", "Amazon.co.uk"}, Channel: "outbox", Delay: 5 * 24 * time.Hour, Transit: 3 * 24 * time.Hour},
			{Name: "de", Markets: []string{"Amazon.de"}, Channel: "outbox", Delay: 5 * 24 * time.Hour, Transit: 3 * 24 * time.Hour},
		},
		SKUs: map[string]bool{"NOPE-SKU": true}, ASINs: map[string]bool{"B0BLOCKED": true},
		Orders: map[string]bool{"111-0000000-0000009": true}, BuyerEmail: map[string]bool{"blocked@marketplace.amazon.com": true},
	}
}

var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

func day(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func TestDecide(t *testing.T) {
	base := func() orders.Order {
		return orders.Order{ID: "111-0000000-0000001", Marketplace: "Amazon.com", PurchaseDate: t0,
			Items: []orders.Item{{SKU: "A", ASIN: "B0A", Title: "Bottle"}}}
	}
	tests := []struct {
		name     string
		edit     func(*orders.Order)
		now      time.Time
		state    ledger.State
		sendAt   time.Time
		reason   string
		campaign string
	}{
		{"delivered: delivery + delay", func(o *orders.Order) { o.Shipped, o.DeliveredAt = true, t0.Add(day(4)) }, t0.Add(day(5)), ledger.Scheduled, t0.Add(day(9)), "delivered", "en"},
		{"estimated arrival wins over ship date", func(o *orders.Order) {
			o.Shipped, o.ShippedAt, o.EstimatedArrival = true, t0.Add(day(1)), t0.Add(day(6))
		}, t0, ledger.Scheduled, t0.Add(day(11)), "estimated arrival", "en"},
		{"shipped: ship + transit + delay", func(o *orders.Order) { o.Shipped, o.ShippedAt = true, t0.Add(day(2)) }, t0, ledger.Scheduled, t0.Add(day(10)), "transit", "en"},
		{"shipped without ship date uses the status time", func(o *orders.Order) { o.Shipped, o.StatusAt = true, t0.Add(day(1)) }, t0, ledger.Scheduled, t0.Add(day(9)), "shipped", "en"},
		{"not shipped waits", func(o *orders.Order) { o.Status = "Pending" }, t0, ledger.Waiting, time.Time{}, "not shipped yet (status Pending)", "en"},
		{"excluded fact", func(o *orders.Order) { o.Shipped = true; o.Exclude(orders.ExcludedCancelled, "order-status Cancelled") }, t0, ledger.Excluded, time.Time{}, "cancelled: order-status Cancelled", ""},
		{"MCF id", func(o *orders.Order) { o.ID = "S01-1234567-1234567"; o.Shipped = true }, t0, ledger.Excluded, time.Time{}, "non_amazon", ""},
		{"non-amazon channel", func(o *orders.Order) { o.Marketplace = "Non-Amazon"; o.Shipped = true }, t0, ledger.Excluded, time.Time{}, "non_amazon", ""},
		{"excluded sku", func(o *orders.Order) { o.Items = append(o.Items, orders.Item{SKU: "NOPE-SKU"}); o.Shipped = true }, t0, ledger.Excluded, time.Time{}, "NOPE-SKU is excluded", ""},
		{"cancelled item with excluded sku does not count", func(o *orders.Order) {
			o.Items = append(o.Items, orders.Item{SKU: "NOPE-SKU", Cancelled: true})
			o.Shipped, o.ShippedAt = true, t0
		}, t0, ledger.Scheduled, t0.Add(day(8)), "transit", "en"},
		{"excluded asin", func(o *orders.Order) { o.Items[0].ASIN = "b0blocked"; o.Shipped = true }, t0, ledger.Excluded, time.Time{}, "asin", ""},
		{"order on exclude list", func(o *orders.Order) { o.ID = "111-0000000-0000009"; o.Shipped = true }, t0, ledger.Excluded, time.Time{}, "exclude list", ""},
		{"blocked buyer", func(o *orders.Order) { o.BuyerEmail = "Blocked@marketplace.amazon.com"; o.Shipped = true }, t0, ledger.Excluded, time.Time{}, "block list", ""},
		{"no campaign for marketplace", func(o *orders.Order) { o.Marketplace = "Amazon.co.jp"; o.Shipped = true }, t0, ledger.Excluded, time.Time{}, "no_campaign", ""},
		{"unknown marketplace waits", func(o *orders.Order) { o.Marketplace = "" }, t0, ledger.Waiting, time.Time{}, "marketplace", ""},
		{"no purchase date waits", func(o *orders.Order) { o.PurchaseDate = time.Time{}; o.Shipped = true }, t0, ledger.Waiting, time.Time{}, "purchase date", "en"},
		{"one second before the deadline is still open", func(o *orders.Order) { o.Shipped, o.DeliveredAt = true, t0.Add(day(2)) }, t0.Add(day(30) - time.Second), ledger.Scheduled, t0.Add(day(7)), "delivered", "en"},
		{"at the deadline: expired", func(o *orders.Order) { o.Shipped, o.DeliveredAt = true, t0.Add(day(2)) }, t0.Add(day(30)), ledger.Expired, time.Time{}, "deadline", "en"},
		{"earliest send at the deadline waits, never scheduled", func(o *orders.Order) { o.Shipped, o.DeliveredAt = true, t0.Add(day(25)) }, t0.Add(day(26)), ledger.Waiting, time.Time{}, "no room for a send before the deadline", "en"},
		{"earliest send leaving exactly the send margin waits", func(o *orders.Order) {
			o.Shipped, o.DeliveredAt = true, t0.Add(day(25)-scheduler.SendMargin)
		}, t0.Add(day(26)), ledger.Waiting, time.Time{}, "no room for a send", "en"},
		{"earliest send a second more than the margin before the deadline is scheduled", func(o *orders.Order) {
			o.Shipped, o.DeliveredAt = true, t0.Add(day(25)-scheduler.SendMargin-time.Second)
		}, t0.Add(day(26)), ledger.Scheduled, t0.Add(day(30) - scheduler.SendMargin - time.Second), "delivered", "en"},
		{"other campaign by marketplace", func(o *orders.Order) { o.Marketplace = "amazon.de"; o.Shipped, o.DeliveredAt = true, t0 }, t0, ledger.Scheduled, t0.Add(day(5)), "delivered", "de"},
	}
	// the class of each reason that holds or excludes an order ("" otherwise)
	classes := map[string]string{
		"not shipped waits": scheduler.ClassNotShipped, "excluded fact": "cancelled", "MCF id": "non_amazon",
		"non-amazon channel": "non_amazon", "excluded sku": scheduler.ClassSKU, "excluded asin": scheduler.ClassASIN,
		"order on exclude list": scheduler.ClassExcludeList, "blocked buyer": scheduler.ClassBlocked,
		"no campaign for marketplace": "no_campaign:Amazon.co.jp", "unknown marketplace waits": scheduler.ClassNoMarketplace,
		"no purchase date waits": scheduler.ClassNoPurchaseDate, "earliest send at the deadline waits, never scheduled": scheduler.ClassNoRoom,
		"earliest send leaving exactly the send margin waits": scheduler.ClassNoRoom,
	}
	r := testRules()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base()
			tt.edit(&o)
			d := r.Decide(o, tt.now)
			if d.State != tt.state {
				t.Fatalf("state = %s (%s), want %s", d.State, d.Reason, tt.state)
			}
			if d.Class != classes[tt.name] {
				t.Errorf("class = %q, want %q", d.Class, classes[tt.name])
			}
			if !d.SendAt.Equal(tt.sendAt) {
				t.Errorf("send at = %v, want %v", d.SendAt, tt.sendAt)
			}
			if !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("reason = %q, want it to mention %q", d.Reason, tt.reason)
			}
			if d.Campaign != tt.campaign {
				t.Errorf("campaign = %q, want %q", d.Campaign, tt.campaign)
			}
			if d.State == ledger.Scheduled && (d.Deadline.IsZero() || !d.SendAt.Before(d.Deadline)) {
				t.Errorf("scheduled at %v with deadline %v: a send must come before the deadline", d.SendAt, d.Deadline)
			}
			if !o.PurchaseDate.IsZero() && d.State != ledger.Excluded && !d.Deadline.Equal(o.PurchaseDate.Add(day(30))) {
				t.Errorf("deadline = %v, want purchase + 30 days", d.Deadline)
			}
		})
	}
}

func TestDecideShorterWindow(t *testing.T) {
	r := testRules()
	r.Window = day(10)
	o := orders.Order{ID: "111-0000000-0000001", Marketplace: "Amazon.com", PurchaseDate: t0, Shipped: true, DeliveredAt: t0.Add(day(6))}
	if d := r.Decide(o, t0); d.State != ledger.Waiting || !d.Deadline.Equal(t0.Add(day(10))) {
		t.Fatalf("decision = %+v, want waiting with a 10-day deadline (send at day 11 is too late)", d)
	}
}

func TestQuietHours(t *testing.T) {
	r := testRules()
	r.QuietFrom, r.QuietTo = 21*60, 8*60
	// 2026-11-10 05:00 UTC is 21:00 in Los Angeles (PST, UTC-8): quiet until 08:00 PST = 16:00 UTC.
	at := time.Date(2026, 11, 10, 5, 0, 0, 0, time.UTC)
	in, end := r.InQuietHours(at, "Amazon.com")
	if !in || !end.Equal(time.Date(2026, 11, 10, 16, 0, 0, 0, time.UTC)) {
		t.Fatalf("InQuietHours(%v, Amazon.com) = %v, %v", at, in, end)
	}
	// The same instant is 06:00 in London: quiet until 08:00 UTC.
	if in, end := r.InQuietHours(at, "Amazon.co.uk"); !in || !end.Equal(time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("InQuietHours(%v, Amazon.co.uk) = %v, %v", at, in, end)
	}
	if in, _ := r.InQuietHours(at.Add(-time.Second), "Amazon.com"); in {
		t.Fatal("20:59:59 in Los Angeles is not quiet")
	}
	// A send time that falls in quiet hours moves to their end.
	o := orders.Order{ID: "111-0000000-0000001", Marketplace: "Amazon.com", PurchaseDate: at.Add(-day(10)), Shipped: true, DeliveredAt: at.Add(-day(5))}
	if d := r.Decide(o, at.Add(-day(5))); !d.SendAt.Equal(time.Date(2026, 11, 10, 16, 0, 0, 0, time.UTC)) {
		t.Fatalf("send at = %v, want the end of quiet hours", d.SendAt)
	}
}

func TestReadBlockList(t *testing.T) {
	got, err := scheduler.ReadBlockList(strings.NewReader("# buyers who asked\n\n111-0000000-0000002\n  someone@marketplace.amazon.de \n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "111-0000000-0000002" || got[1] != "someone@marketplace.amazon.de" {
		t.Fatalf("ReadBlockList = %q", got)
	}
}

// An smtp campaign's order waits for a report that carries the buyer's
// relay address; the other channels need none.
func TestDecideSMTPNeedsRelay(t *testing.T) {
	r := testRules()
	o := orders.Order{ID: "111-0000000-0000001", Marketplace: "Amazon.com", PurchaseDate: t0, Shipped: true, DeliveredAt: t0.Add(day(2))}
	if d := r.Decide(o, t0); d.State != ledger.Scheduled {
		t.Fatalf("outbox campaign without a relay address: %s (%s)", d.State, d.Reason)
	}
	r.Campaigns[0].Channel = "smtp"
	d := r.Decide(o, t0)
	if d.State != ledger.Waiting || d.Class != scheduler.ClassNoRelay || !strings.Contains(d.Reason, "no buyer relay address") {
		t.Fatalf("smtp campaign without a relay address: %s %q (%s)", d.State, d.Class, d.Reason)
	}
	o.BuyerEmail = "abc@marketplace.amazon.com"
	if d := r.Decide(o, t0); d.State != ledger.Scheduled {
		t.Fatalf("smtp campaign with a relay address: %s (%s)", d.State, d.Reason)
	}
}
