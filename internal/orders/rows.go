package orders

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// rowParser turns one data row into the facts it states.
type rowParser struct {
	lay  *layout
	opts Options
}

// row validates one record and returns its order id and facts, or the
// reason it is rejected. lastID is the id of the previous accepted row, for
// MFN continuation lines.
func (p *rowParser) row(line int, f []string, lastID string) (string, Order, *RowError) {
	l := p.lay
	bad := func(c col, format string, a ...any) (string, Order, *RowError) {
		return "", Order{}, &RowError{Line: line, Column: l.colName(c), Reason: fmt.Sprintf(format, a...)}
	}
	if len(f) > len(l.header) {
		extra := f[len(l.header):]
		if !blankRecord(extra) {
			return bad(absent, "wrong field count: %d fields, the header has %d", len(f), len(l.header))
		}
	}
	if len(f) < len(l.header) && l.kind != KindMFNOrders && l.kind != KindUnshipped && p.quotedCSV() {
		return bad(absent, "wrong field count: %d fields, the header has %d", len(f), len(l.header))
	}
	for _, s := range f {
		if strings.IndexByte(s, 0) >= 0 {
			return bad(absent, "contains a NUL byte")
		}
	}
	cell := func(c col) string {
		if c < 0 || int(c) >= len(f) {
			return ""
		}
		return strings.TrimSpace(f[c])
	}

	id := cell(l.id)
	mfn := l.kind == KindMFNOrders || l.kind == KindUnshipped
	continuation := false
	if mfn && lastID != "" && (id == "" || (id == lastID && cell(l.purchase) == "")) {
		// An MFN promotion continuation line: most cells blank, it belongs
		// to the order on the line before.
		id, continuation = lastID, true
	}
	if id == "" {
		if mfn {
			return bad(l.id, "empty order id, and no accepted row just before it for a continuation line")
		}
		return bad(l.id, "empty order id")
	}
	nonAmazonID := IsNonAmazonID(id)
	if !fastValidID(id) && !ValidID(id) && !(nonAmazonID && plausibleMCF(id)) {
		return bad(l.id, "invalid order id %s (want the 3-7-7 form 123-1234567-1234567)", quote(id))
	}
	channel := cell(l.channel)
	nonAmazon := nonAmazonID || strings.EqualFold(channel, "Non-Amazon")
	returns := l.kind == KindMFNReturns || l.kind == KindFBAReturns

	o := Order{ID: id}
	if continuation {
		if it, ok := p.item(cell); ok {
			o.Items = []Item{it}
		}
		return id, o, nil
	}

	// Dates. Return files only contribute the exclusion; a date there that
	// does not parse is left out rather than losing the return.
	dateOf := func(c col) (time.Time, *RowError) {
		s := cell(c)
		if s == "" {
			return time.Time{}, nil
		}
		t, ok := p.parseDate(s)
		if !ok {
			if returns {
				return time.Time{}, nil
			}
			return time.Time{}, &RowError{Line: line, Column: l.colName(c), Reason: fmt.Sprintf("cannot parse %s as a date", quote(s))}
		}
		return t, nil
	}
	var rerr *RowError
	if o.PurchaseDate, rerr = dateOf(l.purchase); rerr != nil {
		return "", Order{}, rerr
	}
	if o.PurchaseDate.IsZero() && !nonAmazon && !returns && l.purchase != absent {
		return bad(l.purchase, "empty; the purchase date is required")
	}
	var updated, shipped, eta, delivered time.Time
	for _, d := range []struct {
		c col
		t *time.Time
	}{{l.lastUpdated, &updated}, {l.shipDate, &shipped}, {l.estimated, &eta}, {l.delivered, &delivered}} {
		if *d.t, rerr = dateOf(d.c); rerr != nil {
			return "", Order{}, rerr
		}
	}

	// evidence names the cell that showed an exclusion; built only then.
	evidence := func(c col, v string) string {
		return fmt.Sprintf("%s %s (line %d)", l.colName(c), quote(v), line)
	}
	switch l.kind {
	case KindAllOrders:
		o.Marketplace = channel
		o.FulfillmentChannel = fulfilment(cell(l.fulfilment))
		if st := cell(l.status); st != "" {
			if ex := applyStatus(&o, st, updated); ex != "" {
				o.Exclude(ex, evidence(l.status, st))
			}
		}
		if it, ok := p.item(cell); ok {
			is := cell(l.itemStatus)
			it.Cancelled = strings.EqualFold(is, "cancelled") || strings.EqualFold(is, "canceled")
			o.Items = []Item{it}
		}
	case KindFBAShipments:
		o.Marketplace = channel
		o.FulfillmentChannel = "AFN"
		o.Shipped, o.ShippedAt, o.EstimatedArrival = true, shipped, eta
		if it, ok := p.item(cell); ok {
			o.Items = []Item{it}
		}
		p.buyer(&o, cell)
	case KindMFNOrders, KindUnshipped:
		o.Marketplace = channel
		o.FulfillmentChannel = "MFN"
		if it, ok := p.item(cell); ok {
			o.Items = []Item{it}
		}
		p.buyer(&o, cell)
	case KindMFNReturns, KindFBAReturns:
		o.Exclude(ExcludedReturned, fmt.Sprintf("return reported in %s (line %d)", l.kind, line))
	case KindGeneric:
		o.Marketplace = channel
		if st := cell(l.status); st != "" {
			if ex := applyStatus(&o, st, time.Time{}); ex != "" {
				o.Exclude(ex, evidence(l.status, st))
			}
		}
		if v := cell(l.cancelled); truthy(v) {
			o.Exclude(ExcludedCancelled, evidence(l.cancelled, v))
		}
		if v := cell(l.returned); truthy(v) {
			o.Exclude(ExcludedReturned, evidence(l.returned, v))
		}
		if !shipped.IsZero() {
			o.Shipped, o.ShippedAt = true, shipped
		}
		if !delivered.IsZero() {
			o.Shipped, o.DeliveredAt = true, delivered
		}
		o.EstimatedArrival = eta
		if it, ok := p.item(cell); ok {
			o.Items = []Item{it}
		}
		p.buyer(&o, cell)
	}
	if nonAmazon {
		if strings.EqualFold(channel, "Non-Amazon") {
			o.Exclude(ExcludedNonAmazon, evidence(l.channel, channel))
		} else {
			o.Exclude(ExcludedNonAmazon, fmt.Sprintf("%s %s is a Multi-Channel Fulfilment order (line %d)", l.colName(l.id), quote(id), line))
		}
	}
	return id, o, nil
}

// quotedCSV reports whether the file is comma or semicolon CSV, where rows
// must have as many fields as the header.
func (p *rowParser) quotedCSV() bool { return p.lay.quoted }

// item reads the line item of a row; ok is false when the row names none.
func (p *rowParser) item(cell func(col) string) (Item, bool) {
	l := p.lay
	it := Item{SKU: cell(l.sku), ASIN: cell(l.asin), Title: cell(l.title), Quantity: quantity(cell(l.quantity))}
	return it, it.SKU != "" || it.ASIN != "" || it.Title != ""
}

// buyer copies the buyer fields Options asks to keep.
func (p *rowParser) buyer(o *Order, cell func(col) string) {
	if p.opts.KeepBuyerEmail {
		o.BuyerEmail = cell(p.lay.email)
	}
	if p.opts.KeepBuyerName {
		o.BuyerName = cell(p.lay.name)
	}
}

// parseDate parses an RFC 3339 time with any offset (Amazon's reports), and
// for generic CSV also the configured and built-in layouts. The result is UTC.
func (p *rowParser) parseDate(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	if p.lay.kind != KindGeneric {
		return time.Time{}, false
	}
	for _, layout := range p.opts.DateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	// Built-in fallbacks for generic CSV; layouts without a zone read UTC.
	builtin := [...]string{
		"2006-01-02 15:04:05Z07:00",
		"2006-01-02 15:04:05 -0700",
		"2006-01-02T15:04:05",
		"2006-01-02 15:04:05",
		"2006-01-02",
	}
	for _, layout := range builtin {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// applyStatus applies an order status (All Orders wording) to o and returns
// the exclusion it shows, if any. at is the time the status was reported
// (may be zero).
func applyStatus(o *Order, status string, at time.Time) Exclusion {
	o.Status, o.StatusAt = status, at
	var buf [64]byte
	s := appendLower(buf[:0], status)
	has := func(sub string) bool { return bytes.Contains(s, []byte(sub)) }
	if has("cancel") {
		return ExcludedCancelled
	}
	delivered := has("delivered") || has("picked up")
	if bytes.HasPrefix(s, []byte("shipped")) || string(s) == "shipping" || delivered {
		o.Shipped = true
		if !at.IsZero() {
			o.ShippedAt = at
			if delivered {
				o.DeliveredAt = at
			}
		}
	}
	switch {
	case has("return"), has("refund"):
		return ExcludedReturned
	case has("rejected"):
		return ExcludedRejected
	case has("undeliverable"):
		return ExcludedUndeliverable
	case has("lost"):
		return ExcludedLost
	case has("damaged"):
		return ExcludedDamaged
	}
	return ""
}

// appendLower appends s lower-cased (ASCII letters only) to b.
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// fulfilment normalises fulfillment-channel: Amazon/AFN -> AFN,
// Merchant/MFN -> MFN, anything else -> "".
func fulfilment(s string) string {
	switch {
	case strings.EqualFold(s, "amazon"), strings.EqualFold(s, "afn"):
		return "AFN"
	case strings.EqualFold(s, "merchant"), strings.EqualFold(s, "mfn"):
		return "MFN"
	}
	return ""
}

// quantity reads a quantity cell; a spreadsheet's "1.0" counts, anything
// unreadable is 0.
func quantity(s string) int {
	if s == "" {
		return 0
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return n
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && f < 1e9 && f == float64(int(f)) {
		return int(f)
	}
	return 0
}

// truthy reads a generic "cancelled"/"returned" cell. Empty, false, no, n,
// "-" and any zero number (0, 0.00, 0,00) are false; anything else, such as true,
// yes, y, x, 1 or a date in a "Cancelled at" column, is true, so that an
// unexpected value errs on the side of not asking for a review.
func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "false", "no", "n", "0", "-", "none", "null", "nein", "non":
		return false
	}
	if f, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(s), ",", "."), 64); err == nil && f == 0 {
		return false
	}
	return true
}

// fastValidID is ValidID without the regular expression, for the common
// case; a false answer is checked again by ValidID.
func fastValidID(id string) bool {
	if len(id) != 19 || id[3] != '-' || id[11] != '-' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case i == 3 || i == 11:
		case i < 3 && 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9':
		default:
			return false
		}
	}
	return true
}

// plausibleMCF accepts a Multi-Channel Fulfilment id (S0…) of ordinary
// shape, so it can be recorded as excluded.
func plausibleMCF(id string) bool {
	if len(id) > 40 {
		return false
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '-') {
			return false
		}
	}
	return true
}

// quote quotes a cell for an error message, cut short when long.
func quote(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max]) + "…"
	}
	return strconv.Quote(s)
}
