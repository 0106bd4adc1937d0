package orders

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

// ErrNotReport is returned when a file is not an order or return report
// campaignd can read: empty, binary, a damaged gzip stream, without a
// recognisable header, without the order-id column, or with a header and
// no data rows.
var ErrNotReport = errors.New("not an order or return report")

// The encodings Inspect reports and Parse accepts.
const (
	EncodingUTF8        = "utf-8"
	EncodingWindows1252 = "windows-1252"
	EncodingShiftJIS    = "shift_jis"
)

// binarySniff is how much of the raw file is looked at for binary content.
const binarySniff = 8 << 10

// Parse reads one report from r (encoded as Inspect said: "utf-8",
// "windows-1252" or "shift_jis"; "" means UTF-8), detects its kind from the
// header, and calls emit once per run of adjacent rows that share an order
// id, with the facts of that run merged. The same order appearing again
// later in the file is emitted again (the caller merges; Merge is
// idempotent), so memory does not grow with the file.
//
// r may hold a gzip stream (see the package documentation). name is used
// only in error text. A file that cannot be read as a whole (empty,
// binary, a damaged gzip stream, header only, no recognisable header,
// missing the order-id column) returns an error wrapping ErrNotReport and
// emits nothing. Rejected
// rows are listed in the Summary and do not stop the good ones. An error
// from emit stops parsing and is returned as is; a nil emit only counts.
// The Orders emitted are the caller's to keep: Parse never changes them
// afterwards (their strings and item lists may share allocations with
// other Orders of the same file; appending to Items copies).
//
// Parse works in three phases: openText (binary sniffing, BOM, decoding,
// line endings), readHeader (delimiter and report kind) and readRows.
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
	text, line, err := openText(r, name, enc)
	if err != nil {
		return sum, err
	}
	rr, lay, err := readHeader(text, line, name, opts, &sum)
	if err != nil {
		return sum, err
	}
	return sum, readRows(rr, lay, name, opts, emit, &sum)
}

// notReport is the error for a file rejected whole.
func notReport(name, format string, a ...any) error {
	return fmt.Errorf("%s: %w: %s", name, ErrNotReport, fmt.Sprintf(format, a...))
}

// openText turns the raw bytes into LF-only UTF-8 text positioned at the
// first line that is not blank, whose number it returns. A gzip stream is
// decompressed first. Binary files and files with nothing but blank lines
// are rejected here.
func openText(r io.Reader, name, enc string) (*bufio.Reader, int, error) {
	// The sniffing buffer is smaller than the text buffer's reads, which
	// therefore go straight to r once it is drained (no second copy).
	raw := bufio.NewReaderSize(r, 2*binarySniff)
	head, err := peekHead(raw, name)
	if err == nil && isGzip(head) {
		if raw, err = openGzip(r, raw, name); err == nil {
			head, err = peekHead(raw, name)
		}
	}
	if err != nil {
		return nil, 0, err
	}
	if len(head) == 0 {
		return nil, 0, notReport(name, "empty file")
	}
	if why := binaryReason(head); why != "" {
		return nil, 0, notReport(name, "%s", why)
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
	line, err := skipBlankLines(br, name)
	return br, line, err
}

// peekHead returns the first bytes of raw (up to binarySniff) for sniffing.
func peekHead(raw *bufio.Reader, name string) ([]byte, error) {
	head, err := raw.Peek(binarySniff)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, gzipError(name, err)
	}
	return head, nil
}

// skipBlankLines drops the empty lines before the header and returns the
// number of the header's line.
func skipBlankLines(br *bufio.Reader, name string) (int, error) {
	line := 1
	for {
		b, err := br.Peek(1)
		if len(b) == 0 {
			if err != nil && !errors.Is(err, io.EOF) {
				return 0, fmt.Errorf("read %s: %w", name, err)
			}
			return 0, notReport(name, "empty file")
		}
		if b[0] != '\n' {
			return line, nil
		}
		_, _ = br.Discard(1)
		line++
	}
}

// readHeader sniffs the delimiter from the first line, reads the header
// record and detects the report kind from it.
func readHeader(br *bufio.Reader, line int, name string, opts Options, sum *Summary) (*recordReader, *layout, error) {
	first, err := br.Peek(bufSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, nil, fmt.Errorf("read %s: %w", name, err)
	}
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	} else if len(first) == bufSize {
		return nil, nil, notReport(name, "no recognisable header (the first line is longer than %d bytes)", bufSize)
	}
	sep, delim := sniffDelimiter(first)
	sum.Delimiter = delim
	if sep == 0 {
		return nil, nil, notReport(name, "no recognisable header (no tab, comma or semicolon in the first line)")
	}
	rr := &recordReader{br: br, sep: sep, quoted: sep != '\t', next: line}
	hdr, err := rr.read()
	if err != nil {
		if errors.Is(err, errRecordTooLong) {
			return nil, nil, notReport(name, "no recognisable header (the header record is too long)")
		}
		return nil, nil, fmt.Errorf("read %s: %w", name, err)
	}
	lay, why := detect(hdr, opts)
	if lay == nil {
		return nil, nil, notReport(name, "%s", why)
	}
	sum.Kind = lay.kind
	lay.quoted = rr.quoted
	return rr, lay, nil
}

// readRows reads the data rows, rejecting the bad ones into sum, and emits
// each run of adjacent rows of one order as one Order.
func readRows(rr *recordReader, lay *layout, name string, opts Options, emit func(Order) error, sum *Summary) error {
	p := &rowParser{lay: lay, opts: opts, utf8: sum.Encoding == EncodingUTF8}
	g := &grouper{emit: emit, sum: sum}
	rr.shape = lay
	lastID := "" // id of the last accepted row, for continuation lines
	for {
		rec, err := rr.read()
		if errors.Is(err, io.EOF) {
			break
		}
		if rerr := unreadRow(rec.line, err, lay); rerr != nil {
			sum.Rows++
			sum.reject(*rerr)
			lastID = ""
			continue
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		if rec.blankFrom(0) || lay.isHeader(rec) {
			continue
		}
		sum.Rows++
		id, rerr := p.row(rec, lastID)
		if rerr != nil {
			sum.reject(*rerr)
			lastID = ""
			continue
		}
		lastID = id
		if err := g.add(id, p); err != nil {
			return err
		}
	}
	if sum.Rows == 0 {
		return notReport(name, "%s header without data rows", Describe(lay.kind))
	}
	return g.flush()
}

// unreadRow turns the record reader's errors about one row into the
// row's RowError (nil for any other error).
func unreadRow(line int, err error, lay *layout) *RowError {
	if err == nil {
		return nil
	}
	var bq *brokenQuoteError
	switch {
	case errors.Is(err, errRecordTooLong):
		return &RowError{Line: line, Reason: "row is longer than 1 MiB", Cause: CauseTooLong}
	case errors.As(err, &bq):
		return &RowError{Line: line, Column: lay.colName(col(bq.field)), Cause: CauseUnbalancedQuote,
			Reason: "unbalanced quote: the quoted cell runs past the end of its line; the lines after it are read as rows of their own"}
	}
	return nil
}

// grouper folds adjacent rows of one order into one Order and emits it
// when the order id changes. The Order being built is its own until
// emitted, so rows are folded into it in place; its items are gathered in
// a scratch list and copied out once, at the exact size, when it is emitted.
type grouper struct {
	emit    func(Order) error
	sum     *Summary
	cur     Order
	curID   string
	pending bool // cur holds facts not yet emitted
	items   []Item
	merger  itemMerger
	slab    itemSlab
}

// itemSlab hands out the item lists of emitted orders as pieces of shared
// arrays of 64 items (one allocation for many orders); each piece is capped
// so that appending to it copies.
type itemSlab struct {
	buf []Item
}

func (s *itemSlab) take(items []Item) []Item {
	const size = 64
	if len(items) > size/4 {
		return slices.Clone(items)
	}
	if len(s.buf)+len(items) > cap(s.buf) {
		s.buf = make([]Item, 0, size)
	}
	start := len(s.buf)
	s.buf = append(s.buf, items...)
	return s.buf[start:len(s.buf):len(s.buf)]
}

// add folds the row p just read into the order being built, or emits that
// one and starts the next.
func (g *grouper) add(id string, p *rowParser) error {
	if g.pending && id == g.curID {
		g.cur.fold(&p.o, &g.merger)
	} else {
		if err := g.flush(); err != nil {
			return err
		}
		g.cur, g.curID, g.pending = p.o, id, true
		g.items = g.items[:0]
		g.merger.reset()
	}
	if p.hasItem {
		g.items = g.merger.mergeOne(g.items, p.item)
	}
	return nil
}

// flush emits the order being built, if any.
func (g *grouper) flush() error {
	if !g.pending {
		return nil
	}
	g.pending = false
	g.sum.Groups++
	if len(g.items) > 0 {
		g.cur.Items = g.slab.take(g.items)
	}
	g.cur.settle()
	return g.emit(g.cur)
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
	case isGzip(head):
		return "a gzip file inside a gzip file"
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
