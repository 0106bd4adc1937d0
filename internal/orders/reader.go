package orders

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/bits"
)

// maxRecord bounds one record (a physical line, or a quoted CSV record over
// several lines). A longer record is rejected as a row and skipped, so a
// runaway quote or a file without line breaks cannot make memory grow with
// the file.
const maxRecord = 1 << 20

// bufSize is the size of the read buffers.
const bufSize = 64 << 10

// errRecordTooLong is returned by read for a record over maxRecord bytes;
// the reader has skipped it and can go on.
var errRecordTooLong = errors.New("record longer than 1 MiB")

// newlineReader turns CRLF and lone CR into LF, so the rest of the parser
// sees one line ending and physical line numbers stay true.
type newlineReader struct {
	r      io.Reader
	pendCR bool // the previous chunk ended in CR
}

func (n *newlineReader) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		if !n.pendCR && k > 0 && bytes.IndexByte(p[:k], '\r') < 0 {
			return k, err // LF only: nothing to change
		}
		w := 0
		for i := 0; i < k; i++ {
			b := p[i]
			switch {
			case b == '\r':
				p[w] = '\n'
				w++
				n.pendCR = true
				continue
			case b == '\n' && n.pendCR:
				// second half of CRLF: already written as LF
			default:
				p[w] = b
				w++
			}
			n.pendCR = false
		}
		if w > 0 || err != nil || k == 0 {
			return w, err
		}
	}
}

// record is one row as the file holds it. Its cells are slices of raw,
// cut on demand: a tab-separated line is cut only as far as a cell is
// asked for, and holds no pointer per cell.
type record struct {
	line   int    // physical line the record starts on (1-based)
	raw    []byte // the bytes the cells are cut from: the line, or the unquoted CSV record
	n      int    // how many fields the record has
	sep    byte   // separator to cut raw on, for the cells not cut yet
	bounds []int  // start and end of every field cut so far
}

// setLine makes the record the fields of a tab-separated line.
func (r *record) setLine(l []byte, sep byte) {
	r.raw, r.sep, r.bounds = l, sep, r.bounds[:0]
	r.n = bytes.Count(l, []byte{sep}) + 1
}

// field returns field i (0 <= i < n), untrimmed.
func (r *record) field(i int) []byte {
	if len(r.bounds) <= 2*i {
		r.cutTo(i)
	}
	return r.raw[r.bounds[2*i]:r.bounds[2*i+1]]
}

// cutTo cuts the fields up to i, going on from the last one cut. It finds
// the separators eight bytes at a time, every one in a word in one step.
func (r *record) cutTo(i int) {
	if cap(r.bounds) < 2*r.n {
		r.bounds = append(make([]int, 0, 2*r.n+16), r.bounds...)
	}
	start, raw, b := 0, r.raw, r.bounds
	if k := len(b); k > 0 {
		start = b[k-1] + 1
	}
	const low7, high = 0x7f7f7f7f7f7f7f7f, 0x8080808080808080
	seps := uint64(r.sep) * 0x0101010101010101
	j := start
	for ; j+8 <= len(raw) && len(b) <= 2*i; j += 8 {
		w := binary.LittleEndian.Uint64(raw[j:]) ^ seps
		found := ^(((w & low7) + low7) | w | low7) & high // 0x80 exactly where sep is
		for found != 0 {
			at := j + bits.TrailingZeros64(found)/8
			b = append(b, start, at)
			start, found = at+1, found&(found-1)
		}
	}
	for ; j < len(raw) && len(b) <= 2*i; j++ {
		if raw[j] == r.sep {
			b = append(b, start, j)
			start = j + 1
		}
	}
	if len(b) <= 2*i { // the last field runs to the end of the line
		b = append(b, start, len(raw))
	}
	r.bounds = b
}

// blankFrom reports whether every field from i on is empty or spaces.
func (r *record) blankFrom(i int) bool {
	for ; i < r.n; i++ {
		if len(bytes.TrimSpace(r.field(i))) != 0 {
			return false
		}
	}
	return true
}

// recordReader splits the decoded, LF-only stream into records. With quoted
// false (Amazon's tab-delimited files) a record is one line split on sep and
// quotes mean nothing. With quoted true (comma or semicolon CSV) RFC 4180
// quoting applies, leniently: a quoted field may hold separators, doubled
// quotes and line breaks; a stray quote is kept as a character.
type recordReader struct {
	br        *bufio.Reader
	sep       byte
	quoted    bool
	next      int    // physical line number of the next line to read
	acc       []byte // a line longer than the bufio buffer
	csv       csvSplitter
	rec       record // the record read last, handed out by read
	probed    record // a line read alone, by looksLikeRow
	linesRead int    // lines handed out by readLine, from the file or again

	// shape, once the header is read, tells a whole row from a broken one
	// (quoted CSV only; nil while reading the header).
	shape rowShape
	// again holds lines read ahead past a broken row, to be read again
	// before br; ahead collects the lines a quoted cell runs over.
	again, ahead, spare lineStore
	probe               csvSplitter
	// openThrough is the last line a broken row's lookahead fed with its
	// quote still open at the line's end. A row starting at or before it
	// that leaves a quote open would run the same course over those lines
	// (the state at a line's start is all that carries over): it is
	// broken at once, which keeps a file of stray quotes linear to read.
	openThrough int
}

// rowShape is what the record reader knows of the header: whether a record
// has the fields of a row, and whether one line read alone looks like the
// start of a row (the header's field count and an order id in its column).
type rowShape interface {
	fits(r *record) bool
	startsRow(r *record, open bool) bool
}

// maxQuotedLines is how many lines one record may span in quoted CSV (a
// quoted cell with line breaks). Longer, its quote is taken as unbalanced.
const maxQuotedLines = 100

// brokenQuoteError is returned by read for a quoted CSV row whose quoted
// cell runs past the end of its line and does not close as a row should:
// the quote is unbalanced. The reader has skipped that one line; the lines
// the cell ran over are read again as rows of their own.
type brokenQuoteError struct {
	field int // index of the field whose quote is open
}

func (e *brokenQuoteError) Error() string { return "unbalanced quote" }

// read returns the next record, valid until the next call. At the end it
// returns io.EOF. A record over maxRecord is skipped and reported with
// errRecordTooLong, and a CSV row with an unbalanced quote with
// *brokenQuoteError (rec.line set in both cases).
func (rr *recordReader) read() (rec *record, err error) {
	rec = &rr.rec
	rec.line = rr.next
	if rr.quoted {
		return rec, rr.readQuoted(rec)
	}
	l, err := rr.readLine()
	if err != nil {
		return rec, err
	}
	rec.setLine(l, rr.sep)
	return rec, nil
}

// readLine reads one physical line without its LF. It returns io.EOF only
// when nothing at all was left. The line is valid until the next call.
func (rr *recordReader) readLine() ([]byte, error) {
	rr.linesRead++
	if l, long, ok := rr.again.pop(); ok {
		rr.next++
		if long {
			return nil, errRecordTooLong
		}
		return l, nil
	}
	return rr.readFileLine()
}

// readFileLine is readLine from the file, past the lines read again.
func (rr *recordReader) readFileLine() ([]byte, error) {
	acc := rr.acc[:0]
	long := false // the line went over maxRecord: drop it but read to its end
	for {
		chunk, err := rr.br.ReadSlice('\n')
		switch {
		case err == nil, errors.Is(err, io.EOF):
			if err != nil && len(chunk) == 0 && len(acc) == 0 && !long {
				return nil, io.EOF
			}
			rr.next++
			if err == nil {
				chunk = chunk[:len(chunk)-1]
			}
			if long || len(acc)+len(chunk) > maxRecord {
				return nil, errRecordTooLong
			}
			if len(acc) == 0 {
				return chunk, nil
			}
			acc = append(acc, chunk...)
			rr.acc = acc
			return acc, nil
		case errors.Is(err, bufio.ErrBufferFull):
			if long || len(acc)+len(chunk) > maxRecord {
				long = true
				acc = acc[:0]
				continue
			}
			acc = append(acc, chunk...)
			rr.acc = acc
		default:
			return nil, err
		}
	}
}

// readQuoted reads one RFC 4180 record, which may span several lines.
func (rr *recordReader) readQuoted(rec *record) error {
	l, err := rr.readLine()
	if err != nil {
		return err
	}
	s := &rr.csv
	s.reset(rr.sep)
	s.feed(l)
	if s.open && rr.shape == nil {
		s.closeField() // header cells do not span lines
	}
	if s.open && rec.line <= rr.openThrough {
		return &brokenQuoteError{field: s.openField}
	}
	if s.open {
		if err := rr.continueQuoted(); err != nil {
			return err
		}
	}
	s.cut(rec)
	return nil
}

// continueQuoted reads the lines an open quoted cell runs on to. The
// record is whole when the quote closes within maxQuotedLines lines, no
// line on the way looks like the start of a row of its own, and the record
// then has the fields of a row. Otherwise the quote is unbalanced: the
// row's first line is given up and the lines after it are read again.
func (rr *recordReader) continueQuoted() error {
	s := &rr.csv
	rr.ahead.reset()
	for lines := 1; s.open; lines++ {
		if lines == maxQuotedLines {
			return rr.broken()
		}
		l, err := rr.readLine()
		switch {
		case errors.Is(err, io.EOF):
			return rr.broken()
		case errors.Is(err, errRecordTooLong):
			rr.ahead.add(nil, true)
			return rr.broken()
		case err != nil:
			return err
		}
		rr.ahead.add(l, false)
		s.buf = append(s.buf, '\n')
		if len(s.buf)+len(l) > maxRecord || rr.looksLikeRow(l) {
			return rr.broken()
		}
		if s.feed(l); s.open {
			rr.openThrough = max(rr.openThrough, rr.next-1)
		}
	}
	if s.cut(&rr.rec); !rr.shape.fits(&rr.rec) {
		return rr.broken()
	}
	return nil
}

// looksLikeRow reports whether l, read alone, looks like a row of the file.
func (rr *recordReader) looksLikeRow(l []byte) bool {
	p := &rr.probe
	p.reset(rr.sep)
	p.feed(l)
	open := p.open
	if open {
		p.closeField()
	}
	p.cut(&rr.probed)
	return rr.shape.startsRow(&rr.probed, open)
}

// broken gives the lines read ahead back to be read again, and reports
// the row as one with an unbalanced quote.
func (rr *recordReader) broken() error {
	rr.next -= len(rr.ahead.lines)
	rr.spare.reset()
	rr.spare.appendAll(&rr.ahead)
	rr.spare.appendAll(&rr.again)
	rr.again, rr.spare = rr.spare, rr.again
	return &brokenQuoteError{field: rr.csv.openField}
}

// lineStore holds whole lines, in order, to be popped from the front.
type lineStore struct {
	buf   []byte
	lines []storedLine
	pos   int // next line to pop
	off   int // where it starts in buf
}

type storedLine struct {
	end  int
	long bool // the line was over maxRecord; its bytes are not kept
}

func (q *lineStore) reset() { q.buf, q.lines, q.pos, q.off = q.buf[:0], q.lines[:0], 0, 0 }

func (q *lineStore) add(l []byte, long bool) {
	q.buf = append(q.buf, l...)
	q.lines = append(q.lines, storedLine{end: len(q.buf), long: long})
}

// appendAll adds the lines of o not yet popped.
func (q *lineStore) appendAll(o *lineStore) {
	off := o.off
	for _, sl := range o.lines[o.pos:] {
		q.add(o.buf[off:sl.end], sl.long)
		off = sl.end
	}
}

// pop returns the next line; ok is false when none is left.
func (q *lineStore) pop() (l []byte, long, ok bool) {
	if q.pos >= len(q.lines) {
		return nil, false, false
	}
	sl := q.lines[q.pos]
	l, q.pos, q.off = q.buf[q.off:sl.end], q.pos+1, sl.end
	if q.pos == len(q.lines) {
		q.reset()
	}
	return l, sl.long, true
}

// csvSplitter unquotes a comma or semicolon record fed to it line by line.
// The unquoted cells go into buf, one after the other; ends holds where
// each one stops. open is true while a quoted field runs on past the line
// fed last.
type csvSplitter struct {
	sep       byte
	buf       []byte
	ends      []int
	open      bool
	openField int // index of the field that opened the quote, while open
}

func (s *csvSplitter) reset(sep byte) {
	s.sep, s.buf, s.ends, s.open = sep, s.buf[:0], s.ends[:0], false
}

// feed reads one line: the rest of an open quoted field first, then fields
// up to the end of the line.
func (s *csvSplitter) feed(l []byte) {
	i := 0
	if s.open {
		if i = s.quoted(l, 0); s.open {
			return
		}
	}
	for {
		// start of a field: blanks before an opening quote are dropped
		j := i
		for j < len(l) && l[j] == ' ' {
			j++
		}
		if j < len(l) && l[j] == '"' {
			s.openField = len(s.ends)
			if i = s.quoted(l, j+1); s.open {
				return
			}
		}
		k := bytes.IndexByte(l[i:], s.sep)
		if k < 0 {
			s.buf = append(s.buf, l[i:]...)
			s.closeField()
			return
		}
		s.buf = append(s.buf, l[i:i+k]...)
		s.closeField()
		i += k + 1
	}
}

// quoted copies a quoted field's text from l[i:] up to its closing quote
// and returns where the field goes on (at the separator or the end of the
// line). When the line ends first, open is set and the field continues on
// the next line.
func (s *csvSplitter) quoted(l []byte, i int) int {
	for {
		k := bytes.IndexByte(l[i:], '"')
		if k < 0 {
			s.buf = append(s.buf, l[i:]...)
			s.open = true
			return len(l)
		}
		s.buf = append(s.buf, l[i:i+k]...)
		i += k + 1
		if i < len(l) && l[i] == '"' {
			s.buf = append(s.buf, '"')
			i++
			continue
		}
		// a closing quote is followed by the separator or the end of the
		// line, maybe after blanks; any other quote is kept
		j := i
		for j < len(l) && l[j] == ' ' {
			j++
		}
		if j >= len(l) || l[j] == s.sep {
			s.open = false
			return j
		}
		s.buf = append(s.buf, '"')
	}
}

func (s *csvSplitter) closeField() {
	s.ends = append(s.ends, len(s.buf))
	s.open = false
}

// cut makes r the record's fields, all cut, as slices of buf.
func (s *csvSplitter) cut(r *record) {
	r.raw, r.n, r.sep, r.bounds = s.buf, len(s.ends), 0, r.bounds[:0]
	start := 0
	for _, e := range s.ends {
		r.bounds = append(r.bounds, start, e)
		start = e
	}
}
