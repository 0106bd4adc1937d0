package orders

import (
	"fmt"
	"strings"
)

// Options tune parsing.
type Options struct {
	// Columns maps campaignd's field names to the header names of a generic
	// CSV (the seller's own export). Field names: "order_id" (required),
	// "purchase_date" (required), "marketplace", "status", "sku", "asin",
	// "product_name", "quantity", "ship_date", "delivery_date",
	// "estimated_delivery", "buyer_email", "buyer_name", "cancelled" (a
	// truthy cell), "returned" (a truthy cell). Header names compare
	// case-insensitively. Empty map: generic CSV detection is off.
	Columns map[string]string
	// DateLayouts are extra Go time layouts tried for generic CSV dates
	// after RFC 3339 and before the built-in fallbacks. A layout without a
	// zone reads the time as UTC.
	DateLayouts []string
	// KeepBuyerEmail and KeepBuyerName keep personal data (only when a
	// channel or template needs it); otherwise those fields stay empty.
	KeepBuyerEmail, KeepBuyerName bool
}

// GenericFields returns the field names Options.Columns may map, in
// documentation order.
func GenericFields() []string {
	return []string{
		"order_id", "purchase_date", "marketplace", "status", "sku", "asin",
		"product_name", "quantity", "ship_date", "delivery_date",
		"estimated_delivery", "buyer_email", "buyer_name", "cancelled", "returned",
	}
}

// Validate reports a Columns map that names an unknown field, maps a field
// to an empty header, or lacks order_id or purchase_date. An empty map is
// valid (generic CSV detection off).
func (o Options) Validate() error {
	if len(o.Columns) == 0 {
		return nil
	}
	known := map[string]bool{}
	for _, f := range GenericFields() {
		known[f] = true
	}
	for f, h := range o.Columns {
		if !known[f] {
			return fmt.Errorf("columns: unknown field %q (known: %s)", f, strings.Join(GenericFields(), ", "))
		}
		if strings.TrimSpace(h) == "" {
			return fmt.Errorf("columns: field %q maps to an empty header name", f)
		}
	}
	for _, f := range []string{"order_id", "purchase_date"} {
		if _, ok := o.Columns[f]; !ok {
			return fmt.Errorf("columns: field %q is required", f)
		}
	}
	return nil
}
