package orders

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// maxRecord bounds one record (a physical line, or a quoted CSV record over
// several lines). A longer record is rejected as a row and skipped, so a
// runaway quote or a file without line breaks cannot make memory grow with
// the file.
const maxRecord = 1 << 20

// bufSize is the size of the read buffers.
const bufSize = 64 << 10

// errRecordTooLong is returned by next for a record over maxRecord bytes;
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

// recordReader splits the decoded, LF-only stream into records. With quoted
// false (Amazon's tab-delimited files) a record is one line split on sep and
// quotes mean nothing. With quoted true (comma or semicolon CSV) RFC 4180
// quoting applies, leniently: a quoted field may hold separators, doubled
// quotes and line breaks; a stray quote is kept as a character.
type recordReader struct {
	br      *bufio.Reader
	sep     byte
	quoted  bool
	next    int    // physical line number of the next line to read
	acc     []byte // a line longer than the bufio buffer
	scratch []byte // the unquoted bytes of a CSV record
	ends    []int
	fields  []string
}

// read returns the next record and the physical line it starts on. The
// fields are valid until the next call. At the end it returns io.EOF. A
// record over maxRecord is skipped and reported with errRecordTooLong.
func (rr *recordReader) read() (line int, fields []string, err error) {
	line = rr.next
	if !rr.quoted {
		l, err := rr.readLine()
		if err != nil {
			return line, nil, err
		}
		return line, rr.split(l), nil
	}
	return rr.readQuoted()
}

// readLine reads one physical line without its LF. It returns io.EOF only
// when nothing at all was left. The line is valid until the next call.
func (rr *recordReader) readLine() ([]byte, error) {
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

// split cuts an unquoted line on sep; the fields share one string.
func (rr *recordReader) split(l []byte) []string {
	s := makeString(l)
	rr.fields = rr.fields[:0]
	for {
		i := strings.IndexByte(s, rr.sep)
		if i < 0 {
			rr.fields = append(rr.fields, s)
			return rr.fields
		}
		rr.fields = append(rr.fields, s[:i])
		s = s[i+1:]
	}
}

// readQuoted reads one RFC 4180 record, which may span several lines.
func (rr *recordReader) readQuoted() (int, []string, error) {
	line := rr.next
	l, err := rr.readLine()
	if err != nil {
		return line, nil, err
	}
	buf := rr.scratch[:0]
	ends := rr.ends[:0]
	defer func() { rr.scratch, rr.ends = buf[:0], ends[:0] }()
	i := 0
	for {
		// start of a field: blanks before an opening quote are dropped
		j := i
		for j < len(l) && l[j] == ' ' {
			j++
		}
		if j < len(l) && l[j] == '"' {
			i = j + 1
			for {
				k := bytes.IndexByte(l[i:], '"')
				if k < 0 {
					// the quoted field goes on past the end of the line
					buf = append(buf, l[i:]...)
					buf = append(buf, '\n')
					if len(buf) > maxRecord {
						return line, nil, errRecordTooLong
					}
					nl, err := rr.readLine()
					if errors.Is(err, io.EOF) {
						// unterminated quote at the end of the file
						buf = buf[:len(buf)-1]
						ends = append(ends, len(buf))
						return line, rr.fieldStrings(buf, ends), nil
					}
					if err != nil {
						return line, nil, err
					}
					l, i = nl, 0
					continue
				}
				buf = append(buf, l[i:i+k]...)
				i += k + 1
				if i < len(l) && l[i] == '"' {
					buf = append(buf, '"')
					i++
					continue
				}
				// a closing quote is followed by the separator or the end of
				// the line, maybe after blanks; any other quote is kept
				j := i
				for j < len(l) && l[j] == ' ' {
					j++
				}
				if j >= len(l) || l[j] == rr.sep {
					i = j
					break
				}
				buf = append(buf, '"')
			}
			// after the closing quote, anything up to the separator is kept (below)
		}
		k := bytes.IndexByte(l[i:], rr.sep)
		if k < 0 {
			buf = append(buf, l[i:]...)
			ends = append(ends, len(buf))
			break
		}
		buf = append(buf, l[i:i+k]...)
		ends = append(ends, len(buf))
		i += k + 1
	}
	return line, rr.fieldStrings(buf, ends), nil
}

func (rr *recordReader) fieldStrings(buf []byte, ends []int) []string {
	s := makeString(buf)
	rr.fields = rr.fields[:0]
	start := 0
	for _, e := range ends {
		rr.fields = append(rr.fields, s[start:e])
		start = e
	}
	return rr.fields
}

// makeString copies b into a string, replacing invalid UTF-8 so that text
// reaching templates is always well formed.
func makeString(b []byte) string {
	if !utf8.Valid(b) {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(b)
}
