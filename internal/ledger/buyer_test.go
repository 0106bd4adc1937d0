package ledger_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"
)

// decideChannel is decide with every order sent through channel.
func decideChannel(channel string) ledger.Decider {
	return func(o orders.Order, now time.Time) ledger.Decision {
		d := decide(o, now)
		d.Channel = channel
		return d
	}
}

// Buyer data stays only where the order's channel needs it: smtp mails the
// relay address; spapi and outbox need neither it nor the name, so a
// decision for them drops both, at ingest or when a reload moves the order.
func TestBuyerDataOnlyForSMTP(t *testing.T) {
	l := MustOpen(t)
	a, b := order("111-0000001-0000001"), order("111-0000001-0000002")
	_, err := l.Upsert("", []orders.Order{a}, decideChannel("smtp"), t0)
	must(t, err)
	_, err = l.Upsert("", []orders.Order{b}, decideChannel("spapi"), t0)
	must(t, err)
	if r := mustGet(t, l, key(a.ID)); r.Order.BuyerEmail == "" || r.Order.BuyerName == "" {
		t.Errorf("smtp order lost its buyer data: %+v", r.Order)
	}
	if r := mustGet(t, l, key(b.ID)); r.Order.BuyerEmail != "" || r.Order.BuyerName != "" {
		t.Errorf("spapi order kept buyer data: %+v", r.Order)
	}
	// a later report brings the data again: still not kept for spapi
	_, err = l.Upsert("", []orders.Order{b}, decideChannel("spapi"), t0.Add(time.Hour))
	must(t, err)
	if r := mustGet(t, l, key(b.ID)); r.Order.BuyerEmail != "" {
		t.Errorf("spapi order took buyer data from a later report: %+v", r.Order)
	}
	// a reload that moves a to the outbox drops its data
	_, err = l.Redecide(decideChannel("outbox"), t0.Add(2*time.Hour))
	must(t, err)
	if r := mustGet(t, l, key(a.ID)); r.Order.BuyerEmail != "" || r.Order.BuyerName != "" {
		t.Errorf("order moved to the outbox kept buyer data: %+v", r.Order)
	}
}

// Export leaves buyer data out unless asked for it.
func TestExportLeavesBuyerDataOut(t *testing.T) {
	l := MustOpen(t)
	mustUpsert(t, l, t0, order("111-0000001-0000001")) // decide: smtp, keeps the data
	var plain, personal bytes.Buffer
	must(t, l.Export(&plain))
	must(t, l.ExportWith(&personal, ledger.ExportOptions{Personal: true}))
	if strings.Contains(plain.String(), "marketplace.amazon") || strings.Contains(plain.String(), "Ann Buyer") {
		t.Errorf("export printed buyer data: %s", plain.String())
	}
	if !strings.Contains(personal.String(), "abc@marketplace.amazon.com") || !strings.Contains(personal.String(), "Ann Buyer") {
		t.Errorf("export asked for personal data left it out: %s", personal.String())
	}
}
