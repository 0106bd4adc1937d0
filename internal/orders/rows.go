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
// row, into a shared string slab (a cell that repeats the row before's
// shares its string).
type rowParser struct {
	lay  *layout
	opts Options
	utf8 bool // the file is read as UTF-8: bad bytes reject their row
	rec  *record
	// valid is true when the row's bytes are all UTF-8 (decoded legacy
	// text always is).
	valid bool

	// What the last accepted row said: its facts (without items) and its
	// line item, if it names one.
	o       Order
	item    Item
	hasItem bool

	// Where the row's trimmed cells up to the last one read lie in raw
	// (empty past a short row's end), and the row's text
	// cells by layout slot once asked for, in texts[cur] (the row before's
	// in the other, reused when a cell repeats it). Offsets rather than
	// slices, in storage reused for every row: few pointers are written
	// per row, which matters while the garbage collector runs.
	raw   []byte
	spans []span
	texts [2][8]string
	cur   int
	ntext int
	slab  textSlab
	evBuf []byte
}

// row validates one record and states its facts in p.o and p.item, or
// returns the reason it is rejected. It returns the order id. lastID is
// the id of the previous accepted row, for MFN continuation lines.
func (p *rowParser) row(rec *record, lastID string) (string, *RowError) {
	p.rec, p.raw, p.ntext, p.o, p.item, p.hasItem = rec, rec.raw, 0, Order{}, Item{}, false
	p.cutCells()
	if e := p.checkFields(); e != nil {
		return "", e
	}
	if p.valid = utf8.Valid(rec.raw); !p.valid && p.utf8 {
		if e := p.checkUTF8(); e != nil {
			return "", e
		}
	}
	id, continuation, e := p.orderID(lastID)
	if e != nil {
		return "", e
	}
	if p.rec.n < len(p.lay.header) && !continuation {
		return "", p.fieldCount()
	}
	p.o.ID = id
	if continuation {
		p.addItem(false)
		return id, nil
	}
	if e := p.layoutRow(); e != nil {
		return "", e
	}
	p.markNonAmazon()
	return id, nil
}

// layoutRow reads the facts of the row by the report's layout: one
// function per layout.
func (p *rowParser) layoutRow() *RowError {
	switch p.lay.kind {
	case KindAllOrders:
		return p.allOrdersRow()
	case KindFBAShipments:
		return p.fbaShipmentRow()
	case KindMFNOrders, KindUnshipped:
		return p.mfnRow()
	case KindMFNReturns, KindFBAReturns:
		return p.returnRow()
	}
	return p.genericRow()
}

// cutCells cuts and trims the row's cells up to the last one read, in one
// go, into cells.
func (p *rowParser) cutCells() {
	r, last := p.rec, int(p.lay.last)
	r.field(min(last, r.n-1))
	p.spans = p.spans[:0]
	for i := 0; i <= last; i++ {
		if i >= r.n {
			p.spans = append(p.spans, span{})
			continue
		}
		start, end := r.bounds[2*i], r.bounds[2*i+1]
		if start < end && (r.raw[start]-'!' > '~'-'!' || r.raw[end-1]-'!' > '~'-'!') {
			p.spans = append(p.spans, trimSpan(r.raw, start, end)) // spaces or non-ASCII at an end
			continue
		}
		p.spans = append(p.spans, span{start, end})
	}
}

// checkFields rejects a row with more fields than the header (unless the
// extra ones are blank) or with fewer (a row cut off or cells lost; only an
// MFN continuation line may be short, which row decides once it has the
// id), or that holds a NUL byte.
func (p *rowParser) checkFields() *RowError {
	l, n := p.lay, p.rec.n
	if n > len(l.header) && !p.rec.blankFrom(len(l.header)) {
		return p.fieldCount()
	}
	if n < len(l.header) && !l.mfn() {
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

// fieldCount rejects the row for having more or fewer fields than the header.
func (p *rowParser) fieldCount() *RowError {
	cause := CauseFewerFields
	if p.rec.n > len(p.lay.header) {
		cause = CauseMoreFields
	}
	return p.errorf(absent, cause, strconv.Itoa(len(p.lay.header)), "wrong field count: %d fields, the header has %d", p.rec.n, len(p.lay.header))
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
func (p *rowParser) allOrdersRow() *RowError {
	l, o := p.lay, &p.o
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
	p.addItem(cancelledItem(p.cell(l.itemStatus)))
	return nil
}

// fbaShipmentRow reads an FBA Amazon Fulfilled Shipments row: one shipment
// of one item, with Amazon's arrival estimate.
func (p *rowParser) fbaShipmentRow() *RowError {
	l, o := p.lay, &p.o
	d, e := p.dates(o, l.shipDate, l.estimated)
	if e != nil {
		return e
	}
	o.Marketplace = p.str(l.channel)
	o.FulfillmentChannel = "AFN"
	o.Shipped, o.ShippedAt, o.EstimatedArrival = true, d[0], d[1]
	p.addItem(false)
	p.buyer()
	return nil
}

// mfnRow reads an MFN Order Report or Unshipped Orders row: an order not
// yet shipped, one item.
func (p *rowParser) mfnRow() *RowError {
	o := &p.o
	if _, e := p.dates(o); e != nil {
		return e
	}
	o.Marketplace = p.str(p.lay.channel)
	o.FulfillmentChannel = "MFN"
	p.addItem(false)
	p.buyer()
	return nil
}

// returnRow reads a row of either return report: the order is excluded.
// A date there that does not parse is left out rather than losing the return.
func (p *rowParser) returnRow() *RowError {
	o := &p.o
	if t, ok := p.parseDate(p.cell(p.lay.purchase)); ok {
		o.PurchaseDate = t
	}
	o.Exclude(ExcludedReturned, "return reported in "+string(p.lay.kind)+" (line "+strconv.Itoa(p.rec.line)+")")
	return nil
}

// genericRow reads a row of the seller's own CSV, mapped by Options.Columns.
func (p *rowParser) genericRow() *RowError {
	l, o := p.lay, &p.o
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
	p.addItem(false)
	p.buyer()
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
func (p *rowParser) markNonAmazon() {
	l, o := p.lay, &p.o
	switch {
	case bytes.EqualFold(p.cell(l.channel), []byte("Non-Amazon")):
		o.Exclude(ExcludedNonAmazon, p.evidence(l.channel, p.str(l.channel)))
	case IsNonAmazonID(o.ID):
		o.Exclude(ExcludedNonAmazon, l.colName(l.id)+" "+quote(o.ID)+" is a Multi-Channel Fulfilment order (line "+strconv.Itoa(p.rec.line)+")")
	}
}

// addItem states the row's line item, if the row names one.
func (p *rowParser) addItem(cancelled bool) {
	l := p.lay
	p.item = Item{SKU: p.str(l.sku), ASIN: p.str(l.asin), Title: p.str(l.title), Quantity: quantity(p.cell(l.quantity)), Cancelled: cancelled}
	p.hasItem = p.item.SKU != "" || p.item.ASIN != "" || p.item.Title != ""
}

// buyer copies the buyer fields Options asks to keep.
func (p *rowParser) buyer() {
	if p.opts.KeepBuyerEmail {
		p.o.BuyerEmail = p.str(p.lay.email)
	}
	if p.opts.KeepBuyerName {
		p.o.BuyerName = p.str(p.lay.name)
	}
}

// cell returns the trimmed bytes of column c in the current row: nil when
// the column is absent, empty past a short row's end. Valid until the next
// row. Only columns up to the layout's last one read are asked for.
func (p *rowParser) cell(c col) []byte {
	if uint(c) < uint(len(p.spans)) {
		sp := p.spans[c]
		return p.raw[sp.start:sp.end]
	}
	return nil
}

// str returns column c as a string. The first call in a row copies every
// text column of the layout into one allocation; the strings stay valid
// for good (emitted Orders keep them).
func (p *rowParser) str(c col) string {
	if c < 0 {
		return ""
	}
	if p.ntext == 0 {
		p.copyText()
	}
	if s := p.lay.slot[c]; s >= 0 {
		return p.texts[p.cur][s]
	}
	return string(p.cell(c))
}

func (p *rowParser) copyText() {
	var cells [8][]byte // at most id, channel, status, sku, asin, title, email, name
	cs := cells[:len(p.lay.text)]
	p.ntext, p.cur = len(cs), 1-p.cur
	text, prev := &p.texts[p.cur], &p.texts[1-p.cur]
	n := 0
	for i, c := range p.lay.text {
		if b := p.cell(c); string(b) == prev[i] {
			text[i] = prev[i] // as on the row before: shared, not copied
		} else {
			cs[i], n = b, n+len(b)
		}
	}
	if !p.valid {
		// invalid bytes never reach templates: each cell is mended on its own
		for i, b := range cs {
			if b != nil {
				text[i] = strings.ToValidUTF8(string(b), "\uFFFD")
			}
		}
	} else if n > 0 {
		s := p.slab.take(cs, n)
		for i, b := range cs {
			if b != nil {
				text[i], s = s[:len(b)], s[len(b):]
			}
		}
	}
}

// textSlab hands out the text of rows as pieces of shared strings, so that
// a row's text costs no allocation of its own: one 4 KiB strings.Builder
// (whose strings never change once returned) serves many rows. A piece
// keeps its whole slab alive, which bounds what a caller keeping only some
// orders holds to 4 KiB per order.
type textSlab struct {
	b strings.Builder
}

const textSlabSize = 4 << 10

// take returns the concatenation of cells (n bytes in all) as a string.
func (t *textSlab) take(cells [][]byte, n int) string {
	b := &t.b
	switch {
	case n > textSlabSize/4:
		b = &strings.Builder{} // a long row gets a string of its own
		b.Grow(n)
	case b.Cap()-b.Len() < n:
		t.b = strings.Builder{} // the slab is full: the next one
		b.Grow(textSlabSize)
	}
	start := b.Len()
	for _, c := range cells {
		b.Write(c)
	}
	return b.String()[start:]
}

// span is where a cell lies in its row's bytes.
type span struct{ start, end int }

// trimSpan is the span of raw[start:end] without the spaces trim drops.
func trimSpan(raw []byte, start, end int) span {
	b := raw[start:end]
	t := trim(b)
	switch {
	case len(t) == len(b):
	case len(t) == 0:
		end = start
	default:
		start += cap(b) - cap(t)
		end = start + len(t)
	}
	return span{start, end}
}

// trim is bytes.TrimSpace, inlined for a cell that needs none (one that
// starts and ends with printable ASCII).
func trim(b []byte) []byte {
	if n := len(b); n == 0 || (b[0]-'!' < '~'-'!'+1 && b[n-1]-'!' < '~'-'!'+1) {
		return b
	}
	return bytes.TrimSpace(b)
}

// evidence names the cell that showed an exclusion: `order-status "Cancelled" (line 4)`.
func (p *rowParser) evidence(c col, v string) string {
	b := append(p.evBuf[:0], p.lay.colName(c)...)
	b = append(b, ' ')
	b = appendQuote(b, v)
	b = append(b, " (line "...)
	b = strconv.AppendInt(b, int64(p.rec.line), 10)
	b = append(b, ')')
	p.evBuf = b
	return p.slab.take([][]byte{b}, len(b))
}

// errorf builds the RowError of the current row; example is the value
// its cause shows in the Summary (never buyer data).
func (p *rowParser) errorf(c col, cause Cause, example, format string, a ...any) *RowError {
	return &RowError{Line: p.rec.line, Column: p.lay.colName(c), Reason: fmt.Sprintf(format, a...), Cause: cause, example: cut(example)}
}

// parseDate parses an RFC 3339 time with any offset (Amazon's reports), and
// for generic CSV also the configured and built-in layouts. The result is UTC.
func (p *rowParser) parseDate(b []byte) (time.Time, bool) {
	if t, ok := fastRFC3339(b); ok {
		return t, true
	}
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
	shipped, delivered, ex := classifyStatus(s)
	if shipped {
		o.Shipped = true
		if !at.IsZero() {
			o.ShippedAt = at
			if delivered {
				o.DeliveredAt = at
			}
		}
	}
	return ex
}

// classifyStatus reads a lower-cased order status: whether it says the
// order shipped, was delivered, or is excluded. The statuses Amazon writes
// most are matched whole; anything else by the words it holds.
func classifyStatus(s []byte) (shipped, delivered bool, ex Exclusion) {
	switch string(s) {
	case "shipped", "shipping":
		return true, false, ""
	case "shipped - delivered to buyer", "shipped - picked up":
		return true, true, ""
	case "pending", "unshipped":
		return false, false, ""
	case "cancelled", "canceled":
		return false, false, ExcludedCancelled
	}
	has := func(sub string) bool { return bytes.Contains(s, []byte(sub)) }
	if has("cancel") {
		return false, false, ExcludedCancelled
	}
	delivered = has("delivered") || has("picked up")
	shipped = bytes.HasPrefix(s, []byte("shipped")) || delivered
	switch {
	case has("return"), has("refund"):
		ex = ExcludedReturned
	case has("rejected"):
		ex = ExcludedRejected
	case has("undeliverable"):
		ex = ExcludedUndeliverable
	case has("lost"):
		ex = ExcludedLost
	case has("damaged"):
		ex = ExcludedDamaged
	}
	return shipped, delivered, ex
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

// appendQuote appends quote(s) to b, without strconv for short plain ASCII.
func appendQuote(b []byte, s string) []byte {
	if len(s) > 40 {
		return strconv.AppendQuote(b, cut(s))
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return strconv.AppendQuote(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
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
