package orders

import (
	"strings"
)

// col is the index of a column in the header, or -1 when it is absent.
type col int

const absent col = -1

// layout is what the header said: the kind of report and where each column
// campaignd reads sits. Columns are found by name, never by position.
type layout struct {
	kind   Kind
	header []string // header names as the file writes them (trimmed)
	norm   []string // lower-cased header names
	quoted bool     // comma or semicolon CSV (RFC 4180), not Amazon's TSV

	id, purchase, lastUpdated, status, itemStatus, fulfilment, channel col
	sku, asin, title, quantity, shipDate, estimated, delivered         col
	email, name, cancelled, returned                                   col
}

// colName returns the header name of c as the file writes it.
func (l *layout) colName(c col) string {
	if c < 0 || int(c) >= len(l.header) {
		return ""
	}
	return l.header[c]
}

// isHeader reports a record that repeats the header (concatenated files,
// or fixtures that repeat the header line).
func (l *layout) isHeader(fields []string) bool {
	if len(fields) != len(l.norm) || !strings.EqualFold(strings.TrimSpace(strings.Trim(strings.TrimSpace(fields[0]), `"`)), l.header[0]) {
		return false
	}
	for i, f := range fields {
		if normHeader(f) != l.norm[i] {
			return false
		}
	}
	return true
}

// normHeader trims a header cell and lower-cases it; a BOM or quotes left
// around it do not count.
func normHeader(s string) string {
	s = strings.TrimSpace(strings.TrimPrefix(s, "\ufeff"))
	s = strings.TrimSpace(strings.Trim(s, `"`))
	return strings.ToLower(s)
}

// detect finds the report kind from the header cells. It returns nil and
// the reason when the header is not one campaignd reads.
func detect(fields []string, opts Options) (*layout, string) {
	l := &layout{header: make([]string, len(fields)), norm: make([]string, len(fields))}
	idx := make(map[string]col, len(fields))
	for i, f := range fields {
		f = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(f), "\ufeff"))
		f = strings.TrimSpace(strings.Trim(f, `"`))
		l.header[i] = f
		l.norm[i] = strings.ToLower(f)
		if _, dup := idx[l.norm[i]]; !dup && l.norm[i] != "" {
			idx[l.norm[i]] = col(i)
		}
	}
	has := func(names ...string) bool {
		for _, n := range names {
			if _, ok := idx[n]; !ok {
				return false
			}
		}
		return true
	}
	c := func(names ...string) col {
		for _, n := range names {
			if i, ok := idx[n]; ok {
				return i
			}
		}
		return absent
	}
	set := func(k Kind) {
		l.kind = k
		l.id, l.purchase, l.lastUpdated, l.status, l.itemStatus = absent, absent, absent, absent, absent
		l.fulfilment, l.channel, l.sku, l.asin, l.title, l.quantity = absent, absent, absent, absent, absent, absent
		l.shipDate, l.estimated, l.delivered, l.email, l.name = absent, absent, absent, absent, absent
		l.cancelled, l.returned = absent, absent
	}

	switch {
	case has("amazon-order-id", "order-status", "item-status"):
		set(KindAllOrders)
		l.id, l.purchase, l.lastUpdated = c("amazon-order-id"), c("purchase-date"), c("last-updated-date")
		l.status, l.itemStatus, l.fulfilment = c("order-status"), c("item-status"), c("fulfillment-channel")
		l.channel, l.sku, l.asin = c("sales-channel"), c("sku"), c("asin")
		l.title, l.quantity = c("product-name"), c("quantity", "quantity-purchased")
	case has("amazon-order-id", "shipment-id"):
		set(KindFBAShipments)
		l.id, l.purchase, l.shipDate = c("amazon-order-id"), c("purchase-date"), c("shipment-date")
		l.estimated, l.channel, l.fulfilment = c("estimated-arrival-date"), c("sales-channel"), c("fulfillment-channel")
		l.sku, l.asin, l.title, l.quantity = c("sku"), c("asin"), c("product-name"), c("quantity-shipped", "quantity")
		l.email, l.name = c("buyer-email"), c("buyer-name")
	case has("order-id", "order-item-id", "payments-date"):
		if has("quantity-to-ship") {
			set(KindUnshipped)
		} else {
			set(KindMFNOrders)
		}
		l.id, l.purchase, l.channel = c("order-id"), c("purchase-date"), c("sales-channel")
		l.sku, l.asin, l.title = c("sku"), c("asin"), c("product-name")
		l.quantity = c("quantity-purchased", "quantity")
		l.email, l.name = c("buyer-email"), c("buyer-name")
	case has("order id", "return request date"):
		set(KindMFNReturns)
		l.id, l.purchase = c("order id"), c("order date")
	case has("return-date", "order-id", "fnsku"):
		set(KindFBAReturns)
		l.id = c("order-id")
	case len(opts.Columns) > 0 && has(normHeader(opts.Columns["order_id"]), normHeader(opts.Columns["purchase_date"])):
		set(KindGeneric)
		g := func(field string) col {
			h, ok := opts.Columns[field]
			if !ok {
				return absent
			}
			return c(normHeader(h))
		}
		l.id, l.purchase, l.channel, l.status = g("order_id"), g("purchase_date"), g("marketplace"), g("status")
		l.sku, l.asin, l.title, l.quantity = g("sku"), g("asin"), g("product_name"), g("quantity")
		l.shipDate, l.delivered, l.estimated = g("ship_date"), g("delivery_date"), g("estimated_delivery")
		l.email, l.name, l.cancelled, l.returned = g("buyer_email"), g("buyer_name"), g("cancelled"), g("returned")
	default:
		return nil, missingReason(has, opts)
	}
	if l.purchase == absent && l.kind != KindMFNReturns && l.kind != KindFBAReturns {
		// Every documented variant has it; without it no deadline is known.
		return nil, "missing the purchase-date column"
	}
	return l, ""
}

// missingReason explains a header that matched no layout, naming the
// order-id column when the rest looks like a known report.
func missingReason(has func(...string) bool, opts Options) string {
	switch {
	case has("order-status", "item-status"), has("shipment-id", "shipment-date"):
		return "missing the amazon-order-id column"
	case has("order-item-id", "payments-date"), has("return-date", "fnsku"):
		return "missing the order-id column"
	case has("return request date"):
		return `missing the "Order ID" column`
	case len(opts.Columns) > 0 && has(normHeader(opts.Columns["purchase_date"])):
		return "missing the order id column " + quote(opts.Columns["order_id"]) + " (from the configured columns)"
	case len(opts.Columns) > 0 && has(normHeader(opts.Columns["order_id"])):
		return "missing the purchase date column " + quote(opts.Columns["purchase_date"]) + " (from the configured columns)"
	}
	return "no recognisable header (not All Orders, FBA shipments, MFN orders, unshipped orders, returns, or the configured generic columns)"
}
