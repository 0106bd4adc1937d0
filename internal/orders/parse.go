package orders

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

// ErrNotReport is returned when a file is not an order or return report
// campaignd can read: empty, binary, without a recognisable header, without
// the order-id column, or with a header and no data rows.
var ErrNotReport = errors.New("not an order or return report")

// The encodings Inspect reports and Parse accepts.
const (
	EncodingUTF8        = "utf-8"
	EncodingWindows1252 = "windows-1252"
	EncodingShiftJIS    = "shift_jis"
)

// maxRejected is how many rejected rows a Summary lists.
const maxRejected = 1000

// binarySniff is how much of the raw file is looked at for binary content.
const binarySniff = 8 << 10

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

// RowError is one rejected row.
type RowError struct {
	Line   int    // 1-based physical line in the file where the row starts
	Column string // header name of the offending column ("" when the whole row is bad)
	Reason string
}

// Error formats the row error as "line 12: purchase-date: cannot parse ...".
func (e RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Column, e.Reason)
}

// Summary describes one parsed file.
type Summary struct {
	Kind          Kind
	Encoding      string
	Delimiter     string     // "tab", "comma", "semicolon"
	Rows          int        // data rows read (not counting the header, repeated headers or blank lines)
	Groups        int        // order groups emitted
	Rejected      []RowError // the first 1000 rejected rows
	RejectedCount int        // all rejected rows
}

// Describe gives a human name for a report kind, for summaries.
func Describe(k Kind) string {
	switch k {
	case KindAllOrders:
		return "All Orders report"
	case KindFBAShipments:
		return "FBA Amazon Fulfilled Shipments report"
	case KindMFNOrders:
		return "MFN Order Report"
	case KindUnshipped:
		return "Unshipped Orders report"
	case KindMFNReturns:
		return "seller-fulfilled returns report"
	case KindFBAReturns:
		return "FBA customer returns report"
	case KindGeneric:
		return "generic CSV (columns mapped in config)"
	case "":
		return "unknown file"
	}
	return "unknown report kind " + strconv.Quote(string(k))
}

// Parse reads one report from r (encoded as Inspect said: "utf-8",
// "windows-1252" or "shift_jis"; "" means UTF-8), detects its kind from the
// header, and calls emit once per run of adjacent rows that share an order
// id, with the facts of that run merged. The same order appearing again
// later in the file is emitted again (the caller merges; Merge is
// idempotent), so memory does not grow with the file.
//
// name is used only in error text. A file that cannot be read as a whole
// (empty, binary, header only, no recognisable header, missing the order-id
// column) returns an error wrapping ErrNotReport and emits nothing. Rejected
// rows are listed in the Summary and do not stop the good ones. An error
// from emit stops parsing and is returned as is; a nil emit only counts.
func Parse(r io.Reader, name, encoding string, opts Options, emit func(Order) error) (Summary, error) {
	sum := Summary{}
	if emit == nil {
		emit = func(Order) error { return nil }
	}
	if err := opts.Validate(); err != nil {
		return sum, fmt.Errorf("parse %s: %w", name, err)
	}
	enc, err := canonicalEncoding(encoding)
	if err != nil {
		return sum, fmt.Errorf("parse %s: %w", name, err)
	}
	sum.Encoding = enc
	notReport := func(format string, a ...any) error {
		return fmt.Errorf("%s: %w: %s", name, ErrNotReport, fmt.Sprintf(format, a...))
	}

	raw := bufio.NewReaderSize(r, bufSize)
	head, err := raw.Peek(binarySniff)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return sum, fmt.Errorf("read %s: %w", name, err)
	}
	if len(head) == 0 {
		return sum, notReport("empty file")
	}
	if why := binaryReason(head); why != "" {
		return sum, notReport("%s", why)
	}

	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		// a UTF-8 BOM goes whatever the encoding, before any decoding
		_, _ = raw.Discard(3)
	}
	var dec io.Reader = raw
	switch enc {
	case EncodingWindows1252:
		dec = transform.NewReader(raw, charmap.Windows1252.NewDecoder())
	case EncodingShiftJIS:
		dec = transform.NewReader(raw, japanese.ShiftJIS.NewDecoder())
	}
	br := bufio.NewReaderSize(&newlineReader{r: dec}, bufSize)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}

	// Skip blank lines before the header, then sniff the delimiter from it.
	line := 1
	for {
		b, err := br.Peek(1)
		if len(b) == 0 {
			if err != nil && !errors.Is(err, io.EOF) {
				return sum, fmt.Errorf("read %s: %w", name, err)
			}
			return sum, notReport("empty file")
		}
		if b[0] != '\n' {
			break
		}
		_, _ = br.Discard(1)
		line++
	}
	first, err := br.Peek(bufSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return sum, fmt.Errorf("read %s: %w", name, err)
	}
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	} else if len(first) == bufSize {
		return sum, notReport("no recognisable header (the first line is longer than %d bytes)", bufSize)
	}
	sep, delim := sniffDelimiter(first)
	sum.Delimiter = delim
	if sep == 0 {
		return sum, notReport("no recognisable header (no tab, comma or semicolon in the first line)")
	}

	rr := &recordReader{br: br, sep: sep, quoted: sep != '\t', next: line}
	_, hfields, err := rr.read()
	if err != nil {
		if errors.Is(err, errRecordTooLong) {
			return sum, notReport("no recognisable header (the header record is too long)")
		}
		return sum, fmt.Errorf("read %s: %w", name, err)
	}
	lay, why := detect(hfields, opts)
	if lay == nil {
		return sum, notReport("%s", why)
	}
	sum.Kind = lay.kind
	lay.quoted = rr.quoted

	p := &rowParser{lay: lay, opts: opts}
	var (
		cur     Order
		curID   string
		lastID  string // id of the last accepted row, for continuation lines
		pending bool   // cur holds facts not yet emitted
	)
	reject := func(e RowError) {
		sum.RejectedCount++
		if len(sum.Rejected) < maxRejected {
			sum.Rejected = append(sum.Rejected, e)
		}
		lastID = ""
	}
	for {
		ln, fields, err := rr.read()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, errRecordTooLong) {
			sum.Rows++
			reject(RowError{Line: ln, Reason: "row is longer than 1 MiB"})
			continue
		}
		if err != nil {
			return sum, fmt.Errorf("read %s: %w", name, err)
		}
		if blankRecord(fields) || lay.isHeader(fields) {
			continue
		}
		sum.Rows++
		id, o, rerr := p.row(ln, fields, lastID)
		if rerr != nil {
			reject(*rerr)
			continue
		}
		lastID = id
		if pending && id == curID {
			cur = Merge(cur, o)
			continue
		}
		if pending {
			sum.Groups++
			if err := emit(cur); err != nil {
				return sum, err
			}
		}
		cur, curID, pending = Merge(Order{}, o), id, true
	}
	if sum.Rows == 0 {
		return sum, notReport("%s header without data rows", Describe(lay.kind))
	}
	if pending {
		sum.Groups++
		if err := emit(cur); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// canonicalEncoding maps the names Parse accepts onto Inspect's three.
func canonicalEncoding(e string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(e)) {
	case "", "utf-8", "utf8":
		return EncodingUTF8, nil
	case "windows-1252", "cp1252", "iso-8859-1", "latin1":
		return EncodingWindows1252, nil
	case "shift_jis", "shift-jis", "sjis", "cp932", "windows-31j":
		return EncodingShiftJIS, nil
	}
	return "", fmt.Errorf("unknown encoding %q (want utf-8, windows-1252 or shift_jis)", e)
}

// binaryReason says why the start of a file is not text, or "".
func binaryReason(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return "a zip or Excel (.xlsx) file; export the report as tab-delimited text"
	case bytes.HasPrefix(head, []byte("\xd0\xcf\x11\xe0")):
		return "an old Excel (.xls) file; export the report as tab-delimited text"
	case bytes.HasPrefix(head, []byte("\xff\xfe")), bytes.HasPrefix(head, []byte("\xfe\xff")):
		return "UTF-16 text; save the report as UTF-8"
	case bytes.HasPrefix(head, []byte("%PDF")):
		return "a PDF file"
	case bytes.IndexByte(head, 0) >= 0:
		return "binary data (a NUL byte in the first 8 KiB)"
	}
	return ""
}

// sniffDelimiter picks the most frequent of tab, comma and semicolon in the
// header line (ties: tab, then comma).
func sniffDelimiter(line []byte) (byte, string) {
	tabs := bytes.Count(line, []byte{'\t'})
	commas := bytes.Count(line, []byte{','})
	semis := bytes.Count(line, []byte{';'})
	switch {
	case tabs == 0 && commas == 0 && semis == 0:
		return 0, ""
	case tabs >= commas && tabs >= semis:
		return '\t', "tab"
	case commas >= semis:
		return ',', "comma"
	}
	return ';', "semicolon"
}

// blankRecord reports a record whose every field is empty or spaces.
func blankRecord(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}
