package ledger

import (
	"encoding/json"
	"testing"
	"time"

	"campaignd/internal/orders"
)

// A record survives its encoding field for field, unexported ones
// included, and every cut-off prefix of an encoding fails to decode
// cleanly instead of panicking or decoding as something else.
func TestRecordEncodingRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 123, time.UTC)
	full := Record{
		Key: Key{Account: "acct", OrderID: "111-0000001-0000001"},
		Order: orders.Order{
			ID: "111-0000001-0000001", Marketplace: "Amazon.de", PurchaseDate: at, Status: "Shipped", StatusAt: at.Add(time.Hour),
			FulfillmentChannel: "AFN", Shipped: true, ShippedAt: at, DeliveredAt: at.Add(48 * time.Hour), EstimatedArrival: at.Add(72 * time.Hour),
			Items:      []orders.Item{{SKU: "S", ASIN: "B0", Title: "Tasse – grün", Quantity: -2, Cancelled: true}, {Title: "x"}},
			BuyerEmail: "a@marketplace.amazon.de", BuyerName: "Anna", Excluded: orders.ExcludedReturned, Because: "return",
		},
		State: InDoubt, Reason: "no answer", Campaign: "de", Channel: "smtp", SendAt: at, Deadline: at.Add(30 * 24 * time.Hour),
		Attempts: 3, LastError: "421", Refusal: "P-LINK", NotBefore: at, DeliveringAt: at, CreatedAt: at, UpdatedAt: at,
		ClaimedAt: at, SentAt: time.Unix(-5, 7).UTC(), lastEvent: 1 << 40, first: &creation{state: Scheduled, reason: "delivered"},
		Class: "no_campaign:Amazon.nl", ExcludedBy: "operator uid 1000 (alice)",
	}
	bare := Record{Key: Key{OrderID: "111-0000001-0000002"}, Order: orders.Order{ID: "111-0000001-0000002"}, State: Waiting}
	common := bare
	common.Class = "not_shipped"
	for name, rec := range map[string]Record{"full": full, "bare": bare, "common class": common} {
		b := encodeRecord(nil, &rec)
		got, err := decodeRecord(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if g, w := dump(t, got), dump(t, rec); g != w {
			t.Errorf("%s after a round trip:\n%s\nwant\n%s", name, g, w)
		}
		for n := range len(b) {
			if _, err := decodeRecord(b[:n]); err == nil {
				t.Errorf("%s: a %d-byte prefix of %d decoded without error", name, n, len(b))
			}
		}
	}
}

// dump shows a record with its unexported fields.
func dump(t *testing.T, r Record) string {
	b, err := json.Marshal(struct {
		R         Record
		LastEvent uint64
		First     *creation
		FirstS    State
		FirstR    string
	}{r, r.lastEvent, r.first, stateOrEmpty(r.first), reasonOrEmpty(r.first)})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func stateOrEmpty(c *creation) State {
	if c == nil {
		return ""
	}
	return c.state
}

func reasonOrEmpty(c *creation) string {
	if c == nil {
		return ""
	}
	return c.reason
}
