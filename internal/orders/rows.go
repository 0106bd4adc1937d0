package orders

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// rowParser turns one data row into the facts it states. It reads the
// row's cells as bytes and copies only the cells an Order keeps, once per
// row, into one string.
type rowParser struct {
	lay  *layout
	opts Options
	utf8 bool // the file is read as UTF-8: bad bytes reject their row
	rec  record

	text    []string // the row's text cells, by layout slot; nil until first asked
	textBuf []byte
}

// row validates one record and returns its order id and facts, or the
// reason it is rejected. lastID is the id of the previous accepted row, for
// MFN continuation lines.
func (p *rowParser) row(rec record, lastID string) (string, Order, *RowError) {
	p.rec, p.text = rec, p.text[:0]
	if e := p.checkFields(); e != nil {
		return "", Order{}, e
	}
	if p.utf8 && !utf8.Valid(rec.raw) {
		if e := p.checkUTF8(); e != nil {
			return "", Order{}, e
		}
	}
	id, continuation, e := p.orderID(lastID)
	if e != nil {
		return "", Order{}, e
	}
	if len(p.rec.fields) < len(p.lay.header) && !continuation {
		return "", Order{}, p.fieldCount()
	}
	o := Order{ID: id}
	if continuation {
		p.addItem(&o, false)
		return id, o, nil
	}
	if e := p.lay.read(p, &o); e != nil {
		return "", Order{}, e
	}
	p.markNonAmazon(&o)
	return id, o, nil
}

// checkFields rejects a row with more fields than the header (unless the
// extra ones are blank) or with fewer (a row cut off or cells lost; only an
// MFN continuation line may be short, which row decides once it has the
// id), or that holds a NUL byte.
func (p *rowParser) checkFields() *RowError {
	l, f := p.lay, p.rec.fields
	if len(f) > len(l.header) && !blankFields(f[len(l.header):]) {
		return p.fieldCount()
	}
	if len(f) < len(l.header) && !l.mfn() {
		return p.fieldCount()
	}
	if bytes.IndexByte(p.rec.raw, 0) >= 0 {
		return p.errorf(absent, CauseNUL, "", "contains a NUL byte")
	}
	return nil
}

// checkUTF8 rejects a row of a UTF-8 file whose cells campaignd reads hold
// bytes that are not UTF-8: read as they are they would reach a buyer as
// mojibake or replacement characters. Bad bytes in other cells do not matter.
func (p *rowParser) checkUTF8() *RowError {
	for _, c := range p.lay.reads {
		b := p.cell(c)
		if utf8.Valid(b) {
			continue
		}
		at := 0
		for at < len(b) {
			r, n := utf8.DecodeRune(b[at:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			at += n
		}
		return p.errorf(c, CauseInvalidUTF8, "", "invalid UTF-8 (byte 0x%02X at character %d) in a file that is otherwise UTF-8; was the row pasted from a file in another encoding? Correct it and drop the file again",
			b[at], utf8.RuneCount(b[:at])+1)
	}
	return nil
}

func (p *rowParser) fieldCount() *RowError {
	cause := CauseFewerFields
	if len(p.rec.fields) > len(p.lay.header) {
		cause = CauseMoreFields
	}
	return p.errorf(absent, cause, strconv.Itoa(len(p.lay.header)), "wrong field count: %d fields, the header has %d", len(p.rec.fields), len(p.lay.header))
}

// orderID reads and checks the row's order id. An MFN promotion
// continuation line (most cells blank) belongs to the order on the line
// before: continuation is true and the id is lastID.
func (p *rowParser) orderID(lastID string) (id string, continuation bool, e *RowError) {
	l := p.lay
	b := p.cell(l.id)
	if l.mfn() && lastID != "" && (len(b) == 0 || (string(b) == lastID && len(p.cell(l.purchase)) == 0)) {
		return lastID, true, nil
	}
	if len(b) == 0 {
		if l.mfn() {
			return "", false, p.errorf(l.id, CauseEmptyID, "", "empty order id, and no accepted row just before it for a continuation line")
		}
		return "", false, p.errorf(l.id, CauseEmptyID, "", "empty order id")
	}
	if !fastValidID(b) && !ValidID(string(b)) && !(IsNonAmazonID(string(b)) && plausibleMCF(b)) {
		id := string(b)
		return "", false, p.errorf(l.id, idCause(id), id, "invalid order id %s (want the 3-7-7 form 123-1234567-1234567)", quote(id))
	}
	return p.str(l.id), false, nil
}

// allOrdersRow reads an All Orders row: status, marketplace, one item.
func (p *rowParser) allOrdersRow(o *Order) *RowError {
	l := p.lay
	updated, e := p.dates(o, l.lastUpdated)
	if e != nil {
		return e
	}
	o.Marketplace = p.str(l.channel)
	o.FulfillmentChannel = fulfilment(p.cell(l.fulfilment))
	if st := p.str(l.status); st != "" {
		if ex := applyStatus(o, st, updated[0]); ex != "" {
			o.Exclude(ex, p.evidence(l.status, st))
		}
	}
	p.addItem(o, cancelledItem(p.cell(l.itemStatus)))
	return nil
}

// fbaShipmentRow reads an FBA Amazon Fulfilled Shipments row: one shipment
// of one item, with Amazon's arrival estimate.
func (p *rowParser) fbaShipmentRow(o *Order) *RowError {
	l := p.lay
	d, e := p.dates(o, l.shipDate, l.estimated)
	if e != nil {
		return e
	}
	o.Marketplace = p.str(l.channel)
	o.FulfillmentChannel = "AFN"
	o.Shipped, o.ShippedAt, o.EstimatedArrival = true, d[0], d[1]
	p.addItem(o, false)
	p.buyer(o)
	return nil
}

// mfnRow reads an MFN Order Report or Unshipped Orders row: an order not
// yet shipped, one item.
func (p *rowParser) mfnRow(o *Order) *RowError {
	if _, e := p.dates(o); e != nil {
		return e
	}
	o.Marketplace = p.str(p.lay.channel)
	o.FulfillmentChannel = "MFN"
	p.addItem(o, false)
	p.buyer(o)
	return nil
}

// returnRow reads a row of either return report: the order is excluded.
// A date there that does not parse is left out rather than losing the return.
func (p *rowParser) returnRow(o *Order) *RowError {
	if t, ok := p.parseDate(p.cell(p.lay.purchase)); ok {
		o.PurchaseDate = t
	}
	o.Exclude(ExcludedReturned, "return reported in "+string(p.lay.kind)+" (line "+strconv.Itoa(p.rec.line)+")")
	return nil
}

// genericRow reads a row of the seller's own CSV, mapped by Options.Columns.
func (p *rowParser) genericRow(o *Order) *RowError {
	l := p.lay
	d, e := p.dates(o, l.shipDate, l.estimated, l.delivered)
	if e != nil {
		return e
	}
	shipped, eta, delivered := d[0], d[1], d[2]
	o.Marketplace = p.str(l.channel)
	if st := p.str(l.status); st != "" {
		if ex := applyStatus(o, st, time.Time{}); ex != "" {
			o.Exclude(ex, p.evidence(l.status, st))
		}
	}
	for _, flag := range []struct {
		c  col
		ex Exclusion
	}{{l.cancelled, ExcludedCancelled}, {l.returned, ExcludedReturned}} {
		if v := string(p.cell(flag.c)); truthy(v) {
			o.Exclude(flag.ex, p.evidence(flag.c, v))
		}
	}
	if !shipped.IsZero() {
		o.Shipped, o.ShippedAt = true, shipped
	}
	if !delivered.IsZero() {
		o.Shipped, o.DeliveredAt = true, delivered
	}
	o.EstimatedArrival = eta
	p.addItem(o, false)
	p.buyer(o)
	return nil
}

// dates reads the purchase date into o (required unless the order is an
// MCF one) and then the dates in cols, in order. The first that does not
// parse rejects the row.
func (p *rowParser) dates(o *Order, cols ...col) ([3]time.Time, *RowError) {
	var out [3]time.Time
	l := p.lay
	t, e := p.date(l.purchase)
	if e != nil {
		return out, e
	}
	if t.IsZero() && !p.nonAmazon() {
		return out, p.errorf(l.purchase, CauseNoPurchaseDate, "", "empty; the purchase date is required")
	}
	o.PurchaseDate = t
	for i, c := range cols {
		if out[i], e = p.date(c); e != nil {
			return out, e
		}
	}
	return out, nil
}

// date reads the date in column c: zero when the cell is empty, an error
// when it does not parse.
func (p *rowParser) date(c col) (time.Time, *RowError) {
	b := p.cell(c)
	if len(b) == 0 {
		return time.Time{}, nil
	}
	t, ok := p.parseDate(b)
	if !ok {
		s := string(b)
		return time.Time{}, p.errorf(c, dateCause(s), s, "cannot parse %s as a date", quote(s))
	}
	return t, nil
}

// nonAmazon reports a Multi-Channel Fulfilment row (S0… id or the
// Non-Amazon sales channel).
func (p *rowParser) nonAmazon() bool {
	return IsNonAmazonID(string(p.cell(p.lay.id))) || bytes.EqualFold(p.cell(p.lay.channel), []byte("Non-Amazon"))
}

// markNonAmazon excludes an MCF order, naming the cell that shows it.
func (p *rowParser) markNonAmazon(o *Order) {
	l := p.lay
	switch {
	case bytes.EqualFold(p.cell(l.channel), []byte("Non-Amazon")):
		o.Exclude(ExcludedNonAmazon, p.evidence(l.channel, p.str(l.channel)))
	case IsNonAmazonID(o.ID):
		o.Exclude(ExcludedNonAmazon, l.colName(l.id)+" "+quote(o.ID)+" is a Multi-Channel Fulfilment order (line "+strconv.Itoa(p.rec.line)+")")
	}
}

// addItem adds the row's line item to o, if the row names one.
func (p *rowParser) addItem(o *Order, cancelled bool) {
	l := p.lay
	it := Item{SKU: p.str(l.sku), ASIN: p.str(l.asin), Title: p.str(l.title), Quantity: quantity(p.cell(l.quantity)), Cancelled: cancelled}
	if it.SKU != "" || it.ASIN != "" || it.Title != "" {
		o.Items = []Item{it}
	}
}

// buyer copies the buyer fields Options asks to keep.
func (p *rowParser) buyer(o *Order) {
	if p.opts.KeepBuyerEmail {
		o.BuyerEmail = p.str(p.lay.email)
	}
	if p.opts.KeepBuyerName {
		o.BuyerName = p.str(p.lay.name)
	}
}

// cell returns the trimmed bytes of column c in the current row (nil when
// the column is absent or the row is short). Valid until the next row.
func (p *rowParser) cell(c col) []byte {
	f := p.rec.fields
	if c < 0 || int(c) >= len(f) {
		return nil
	}
	return bytes.TrimSpace(f[c])
}

// str returns column c as a string. The first call in a row copies every
// text column of the layout into one allocation; the strings stay valid
// for good (emitted Orders keep them).
func (p *rowParser) str(c col) string {
	if c < 0 {
		return ""
	}
	if len(p.text) == 0 {
		p.copyText()
	}
	if s := p.lay.slot[c]; s >= 0 {
		return p.text[s]
	}
	return string(p.cell(c))
}

func (p *rowParser) copyText() {
	buf := p.textBuf[:0]
	for _, c := range p.lay.text {
		buf = append(buf, p.cell(c)...)
	}
	p.textBuf = buf
	if !utf8.Valid(buf) {
		// invalid bytes never reach templates: each cell is mended on its own
		for _, c := range p.lay.text {
			p.text = append(p.text, strings.ToValidUTF8(string(p.cell(c)), "\uFFFD"))
		}
		return
	}
	s := string(buf)
	for _, c := range p.lay.text {
		n := len(p.cell(c))
		p.text, s = append(p.text, s[:n]), s[n:]
	}
}

// evidence names the cell that showed an exclusion: `order-status "Cancelled" (line 4)`.
func (p *rowParser) evidence(c col, v string) string {
	return p.lay.colName(c) + " " + quote(v) + " (line " + strconv.Itoa(p.rec.line) + ")"
}

// errorf builds the RowError of the current row; example is the value
// its cause shows in the Summary (never buyer data).
func (p *rowParser) errorf(c col, cause Cause, example, format string, a ...any) *RowError {
	return &RowError{Line: p.rec.line, Column: p.lay.colName(c), Reason: fmt.Sprintf(format, a...), Cause: cause, example: cut(example)}
}

// parseDate parses an RFC 3339 time with any offset (Amazon's reports), and
// for generic CSV also the configured and built-in layouts. The result is UTC.
func (p *rowParser) parseDate(b []byte) (time.Time, bool) {
	s := string(b)
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
	for _, layout := range [...]string{
		"2006-01-02 15:04:05Z07:00",
		"2006-01-02 15:04:05 -0700",
		"2006-01-02T15:04:05",
		"2006-01-02 15:04:05",
		"2006-01-02",
	} {
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

// cancelledItem reads an item-status cell.
func cancelledItem(b []byte) bool {
	return bytes.EqualFold(b, []byte("cancelled")) || bytes.EqualFold(b, []byte("canceled"))
}

// fulfilment normalises fulfillment-channel: Amazon/AFN -> AFN,
// Merchant/MFN -> MFN, anything else -> "".
func fulfilment(b []byte) string {
	switch {
	case bytes.EqualFold(b, []byte("amazon")), bytes.EqualFold(b, []byte("afn")):
		return "AFN"
	case bytes.EqualFold(b, []byte("merchant")), bytes.EqualFold(b, []byte("mfn")):
		return "MFN"
	}
	return ""
}

// quantity reads a quantity cell; a spreadsheet's "1.0" counts, anything
// unreadable is 0.
func quantity(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	if len(b) <= 9 {
		n := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				n = -1
				break
			}
			n = n*10 + int(c-'0')
		}
		if n >= 0 {
			return n
		}
	}
	s := string(b)
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
func fastValidID(id []byte) bool {
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
func plausibleMCF(id []byte) bool {
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

// blankFields reports fields that are all empty or spaces.
func blankFields(fields [][]byte) bool {
	for _, f := range fields {
		if len(bytes.TrimSpace(f)) != 0 {
			return false
		}
	}
	return true
}

// quote quotes a cell for an error message, cut short when long.
func quote(s string) string { return strconv.Quote(cut(s)) }

// cut shortens a cell to 40 characters for messages.
func cut(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max]) + "…"
	}
	return s
}
