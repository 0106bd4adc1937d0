package orders

import (
	"bytes"
	"slices"
	"strings"
	"unicode/utf8"
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

	// text lists the columns whose cells become strings in an Order; slot
	// maps a column to its place in text (or -1). reads lists every column
	// campaignd reads.
	text  []col
	slot  []int
	reads []col
	last  col // the last column read
}

// colName returns the header name of c as the file writes it.
func (l *layout) colName(c col) string {
	if c < 0 || int(c) >= len(l.header) {
		return ""
	}
	return l.header[c]
}

// mfn reports the MFN Order Report and Unshipped Orders, whose promotion
// continuation lines leave most cells blank.
func (l *layout) mfn() bool { return l.kind == KindMFNOrders || l.kind == KindUnshipped }

// returns reports the two return reports, which only contribute exclusions.
func (l *layout) returns() bool { return l.kind == KindMFNReturns || l.kind == KindFBAReturns }

// fits reports whether a record has the header's fields: as many, or more
// when the extra ones are blank (an MFN continuation line may have fewer).
func (l *layout) fits(r *record) bool {
	switch {
	case r.n > len(l.header):
		return r.blankFrom(len(l.header))
	case r.n < len(l.header):
		return l.mfn()
	}
	return true
}

// startsRow reports whether a record, read from one line alone, looks
// like the start of a row of this report: an order id, and the header's
// field count (at most that many when the line ends inside a quoted cell,
// open, whose row goes on over the next lines).
func (l *layout) startsRow(r *record, open bool) bool {
	fit := l.fits(r) || (open && r.n <= len(l.header))
	if !fit || int(l.id) >= r.n || (open && int(l.id) == r.n-1) {
		return false
	}
	id := bytes.TrimSpace(r.field(int(l.id)))
	return fastValidID(id) || ValidID(string(id)) || (IsNonAmazonID(string(id)) && plausibleMCF(id))
}

// isHeader reports a record that repeats the header (concatenated files,
// or fixtures that repeat the header line).
func (l *layout) isHeader(r *record) bool {
	if r.n != len(l.norm) {
		return false
	}
	if c := firstByte(r.raw) | 0x20; len(l.norm[0]) > 0 && c >= 'a' && c <= 'z' && c != l.norm[0][0] {
		return false // a letter, and not the header's first
	}
	if !bytes.EqualFold(trimHeader(r.field(0)), []byte(l.header[0])) {
		return false
	}
	for i := range l.norm {
		if !bytes.EqualFold(trimHeader(r.field(i)), []byte(l.norm[i])) {
			return false
		}
	}
	return true
}

// trimHeader trims a header cell; a BOM or quotes left around it do not count.
func trimHeader(b []byte) []byte {
	b = bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(b), []byte("\ufeff")))
	return bytes.TrimSpace(bytes.Trim(b, `"`))
}

// normHeader trims a header name and lower-cases it.
func normHeader(s string) string {
	return strings.ToLower(string(trimHeader([]byte(s))))
}

// headerIndex finds columns by their lower-cased header name (the first
// column of a name wins).
type headerIndex map[string]col

func (h headerIndex) has(names ...string) bool {
	for _, n := range names {
		if _, ok := h[n]; !ok {
			return false
		}
	}
	return true
}

// col returns the first of names the header has, or absent.
func (h headerIndex) col(names ...string) col {
	for _, n := range names {
		if i, ok := h[n]; ok {
			return i
		}
	}
	return absent
}

// newLayout reads the header cells into a layout with every column absent.
func newLayout(r *record) (*layout, headerIndex) {
	l := &layout{header: make([]string, r.n), norm: make([]string, r.n)}
	h := make(headerIndex, r.n)
	for i := range r.n {
		f := trimHeader(r.field(i))
		if utf8.Valid(f) {
			l.header[i] = string(f)
		} else {
			l.header[i] = strings.ToValidUTF8(string(f), "\uFFFD")
		}
		l.norm[i] = strings.ToLower(l.header[i])
		if _, dup := h[l.norm[i]]; !dup && l.norm[i] != "" {
			h[l.norm[i]] = col(i)
		}
	}
	for _, c := range []*col{&l.id, &l.purchase, &l.lastUpdated, &l.status, &l.itemStatus, &l.fulfilment,
		&l.channel, &l.sku, &l.asin, &l.title, &l.quantity, &l.shipDate, &l.estimated, &l.delivered,
		&l.email, &l.name, &l.cancelled, &l.returned} {
		*c = absent
	}
	return l, h
}

// detect finds the report kind from the header cells. It returns nil and
// the reason when the header is not one campaignd reads.
func detect(hdr *record, opts Options) (*layout, string) {
	l, h := newLayout(hdr)
	switch {
	case h.has("amazon-order-id", "order-status", "item-status"):
		l.setAllOrders(h)
	case h.has("amazon-order-id", "shipment-id"):
		l.setFBAShipments(h)
	case h.has("order-id", "order-item-id", "payments-date"):
		l.setMFN(h)
	case h.has("order id", "return request date"):
		l.kind = KindMFNReturns
		l.id, l.purchase = h.col("order id"), h.col("order date")
	case h.has("return-date", "order-id", "fnsku"):
		l.kind = KindFBAReturns
		l.id = h.col("order-id")
	case len(opts.Columns) > 0 && h.has(normHeader(opts.Columns["order_id"]), normHeader(opts.Columns["purchase_date"])):
		l.setGeneric(h, opts)
	default:
		return nil, missingReason(h, opts)
	}
	if l.purchase == absent && !l.returns() {
		// Every documented variant has it; without it no deadline is known.
		return nil, "missing the purchase-date column"
	}
	l.setText(opts)
	return l, ""
}

func (l *layout) setAllOrders(h headerIndex) {
	l.kind = KindAllOrders
	l.id, l.purchase, l.lastUpdated = h.col("amazon-order-id"), h.col("purchase-date"), h.col("last-updated-date")
	l.status, l.itemStatus, l.fulfilment = h.col("order-status"), h.col("item-status"), h.col("fulfillment-channel")
	l.channel, l.sku, l.asin = h.col("sales-channel"), h.col("sku"), h.col("asin")
	l.title, l.quantity = h.col("product-name"), h.col("quantity", "quantity-purchased")
}

func (l *layout) setFBAShipments(h headerIndex) {
	l.kind = KindFBAShipments
	l.id, l.purchase, l.shipDate = h.col("amazon-order-id"), h.col("purchase-date"), h.col("shipment-date")
	l.estimated, l.channel, l.fulfilment = h.col("estimated-arrival-date"), h.col("sales-channel"), h.col("fulfillment-channel")
	l.sku, l.asin, l.title, l.quantity = h.col("sku"), h.col("asin"), h.col("product-name"), h.col("quantity-shipped", "quantity")
	l.email, l.name = h.col("buyer-email"), h.col("buyer-name")
}

func (l *layout) setMFN(h headerIndex) {
	l.kind = KindMFNOrders
	if h.has("quantity-to-ship") {
		l.kind = KindUnshipped
	}
	l.id, l.purchase, l.channel = h.col("order-id"), h.col("purchase-date"), h.col("sales-channel")
	l.sku, l.asin, l.title = h.col("sku"), h.col("asin"), h.col("product-name")
	l.quantity = h.col("quantity-purchased", "quantity")
	l.email, l.name = h.col("buyer-email"), h.col("buyer-name")
}

func (l *layout) setGeneric(h headerIndex, opts Options) {
	l.kind = KindGeneric
	g := func(field string) col {
		name, ok := opts.Columns[field]
		if !ok {
			return absent
		}
		return h.col(normHeader(name))
	}
	l.id, l.purchase, l.channel, l.status = g("order_id"), g("purchase_date"), g("marketplace"), g("status")
	l.sku, l.asin, l.title, l.quantity = g("sku"), g("asin"), g("product_name"), g("quantity")
	l.shipDate, l.delivered, l.estimated = g("ship_date"), g("delivery_date"), g("estimated_delivery")
	l.email, l.name, l.cancelled, l.returned = g("buyer_email"), g("buyer_name"), g("cancelled"), g("returned")
}

// setText lists the columns whose cells an Order keeps as text: they are
// copied out of the row into one string per row.
func (l *layout) setText(opts Options) {
	l.slot = make([]int, len(l.header))
	for i := range l.slot {
		l.slot[i] = -1
	}
	cols := []col{l.id, l.channel, l.status, l.sku, l.asin, l.title}
	if opts.KeepBuyerEmail {
		cols = append(cols, l.email)
	}
	if opts.KeepBuyerName {
		cols = append(cols, l.name)
	}
	for _, c := range cols {
		if c != absent && l.slot[c] < 0 {
			l.slot[c] = len(l.text)
			l.text = append(l.text, c)
		}
	}
	l.reads = append([]col(nil), l.text...)
	for _, c := range []col{l.purchase, l.lastUpdated, l.itemStatus, l.fulfilment, l.quantity,
		l.shipDate, l.estimated, l.delivered, l.cancelled, l.returned} {
		if c != absent && l.slot[c] < 0 {
			l.reads = append(l.reads, c)
		}
	}
	l.last = slices.Max(l.reads)
}

// missingReason explains a header that matched no layout, naming the
// order-id column when the rest looks like a known report.
func missingReason(h headerIndex, opts Options) string {
	switch {
	case h.has("order-status", "item-status"), h.has("shipment-id", "shipment-date"):
		return "missing the amazon-order-id column"
	case h.has("order-item-id", "payments-date"), h.has("return-date", "fnsku"):
		return "missing the order-id column"
	case h.has("return request date"):
		return `missing the "Order ID" column`
	case len(opts.Columns) > 0 && h.has(normHeader(opts.Columns["purchase_date"])):
		return "missing the order id column " + quote(opts.Columns["order_id"]) + " (from the configured columns)"
	case len(opts.Columns) > 0 && h.has(normHeader(opts.Columns["order_id"])):
		return "missing the purchase date column " + quote(opts.Columns["purchase_date"]) + " (from the configured columns)"
	}
	return "no recognisable header (not All Orders, FBA shipments, MFN orders, unshipped orders, returns, or the configured generic columns)"
}

// firstByte returns b[0], or 0 for an empty b.
func firstByte(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}
