package orders_test

import (
	"testing"

	"campaignd/internal/orders"
)

func TestIsNonAmazon(t *testing.T) {
	for _, tt := range []struct {
		id, channel string
		want        bool
	}{
		{"S01-1234567-1234567", "Amazon.com", true},
		{"111-1234567-1234567", "Non-Amazon", true},
		{"111-1234567-1234567", "non-amazon", true},
		{"111-1234567-1234567", "Amazon.com", false},
		{"111-1234567-1234567", "", false},
	} {
		if got := orders.IsNonAmazon(tt.id, tt.channel); got != tt.want {
			t.Errorf("IsNonAmazon(%q, %q) = %v, want %v", tt.id, tt.channel, got, tt.want)
		}
	}
}

func TestExclusionReason(t *testing.T) {
	var o orders.Order
	if got := o.ExclusionReason(); got != "" {
		t.Errorf("an order nothing excludes: %q", got)
	}
	o.Exclude(orders.ExcludedOperator, "")
	if got := o.ExclusionReason(); got != "operator" {
		t.Errorf("without evidence: %q", got)
	}
	o = orders.Order{}
	o.Exclude(orders.ExcludedCancelled, "order-status Cancelled (line 4)")
	if got, want := o.ExclusionReason(), "cancelled: order-status Cancelled (line 4)"; got != want {
		t.Errorf("with evidence: %q, want %q", got, want)
	}
}
