package orders

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// A gzip report (how Amazon's Reports API serves documents, and what a
// seller may drop as report.txt.gz) is told by its magic bytes, never its
// name, and read through a streaming decompressor.
//
// The text may expand to at most maxGzipRatio times the compressed bytes
// read so far, plus gzipSlack: real reports compress 5 to 15 times, a
// gzip bomb up to about 1000 times. Memory stays flat either way (the text
// is streamed, never kept or written out); the bound limits the time spent.
const (
	maxGzipRatio = 100
	gzipSlack    = 64 << 20
)

// gzipMagic starts every gzip stream of deflate data (RFC 1952).
var gzipMagic = []byte{0x1f, 0x8b, 0x08}

// isGzip reports whether the head of a file is a gzip stream.
func isGzip(head []byte) bool {
	return len(head) >= 2 && head[0] == gzipMagic[0] && head[1] == gzipMagic[1]
}

// gzipDamage is what a gzip stream that cannot be read whole returns:
// cut off, corrupted, or expanding past the bound.
type gzipDamage struct {
	why string
}

func (e *gzipDamage) Error() string { return e.why }

// gunzip decompresses a gzip stream, bounding what it expands to, and
// reports a damaged stream as *gzipDamage; errors of the reader beneath
// pass through as they are.
type gunzip struct {
	in  countingReader
	zr  *gzip.Reader
	out int64
}

// newGunzip starts decompressing r (its header is read now).
func newGunzip(r io.Reader) (*gunzip, error) {
	g := &gunzip{in: countingReader{r: r}}
	zr, err := gzip.NewReader(bufio.NewReaderSize(&g.in, 32<<10))
	if err != nil {
		return nil, g.damage(err)
	}
	g.zr = zr
	return g, nil
}

func (g *gunzip) Read(p []byte) (int, error) {
	n, err := g.zr.Read(p)
	g.out += int64(n)
	if g.out > gzipSlack && g.out > maxGzipRatio*g.in.n {
		return n, &gzipDamage{why: fmt.Sprintf("gzip stream expands more than %d times (%d bytes of text from %d compressed); refused as a decompression bomb",
			maxGzipRatio, g.out, g.in.n)}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return n, g.damage(err)
	}
	return n, err
}

// damage turns a decompression error into *gzipDamage, unless the reader
// beneath failed.
func (g *gunzip) damage(err error) error {
	if g.in.err != nil && !errors.Is(g.in.err, io.EOF) && errors.Is(err, g.in.err) {
		return err
	}
	why := "corrupted"
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		why = "cut off"
	}
	return &gzipDamage{why: fmt.Sprintf("damaged gzip stream (%s after %d bytes of text: %v); download the report again", why, g.out, err)}
}

// countingReader counts the bytes read through it and keeps the last error.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// openGzip returns the text of the gzip stream raw starts with. When r can
// seek, the whole stream is read through first, so that a damaged one is
// rejected before anything is emitted, and raw is then reset to where it
// began; otherwise damage is an error where it is met.
func openGzip(r io.Reader, raw *bufio.Reader, name string) (*bufio.Reader, error) {
	if rs, ok := r.(io.Seeker); ok {
		if err := checkGzip(rs, raw, name); err != nil {
			return nil, err
		}
		raw.Reset(r)
	}
	g, err := newGunzip(raw)
	if err != nil {
		return nil, gzipError(name, err)
	}
	return bufio.NewReaderSize(g, bufSize), nil
}

// checkGzip reads the gzip stream at raw to its end, then seeks rs back to
// where raw started reading it. An rs that cannot seek is left to openGzip.
func checkGzip(rs io.Seeker, raw *bufio.Reader, name string) error {
	pos, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil // not a file that seeks (a pipe): checked while reading
	}
	start := pos - int64(raw.Buffered())
	g, err := newGunzip(raw)
	if err == nil {
		_, err = io.Copy(io.Discard, g)
	}
	if err != nil {
		return gzipError(name, err)
	}
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	return nil
}

// gzipError makes a damaged stream a file rejected whole.
func gzipError(name string, err error) error {
	var d *gzipDamage
	if errors.As(err, &d) {
		return notReport(name, "%s", d.why)
	}
	return fmt.Errorf("read %s: %w", name, err)
}

// inspectGzip feeds the text of a gzip stream to sn; it returns how much
// text there was, and why the stream cannot be read whole ("" when it can).
// The rest of the raw bytes still reach the hash behind raw.
func inspectGzip(raw *bufio.Reader, sn *encodingSniffer) (int64, string, error) {
	g, err := newGunzip(raw)
	var n int64
	if err == nil {
		n, err = io.CopyBuffer(sn, g, make([]byte, bufSize))
	}
	var d *gzipDamage
	if errors.As(err, &d) {
		_, err = io.Copy(io.Discard, raw)
		return n, d.why, err
	}
	return n, "", err
}
