package fetch

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

const (
	// maxDownloads is how often one run downloads a document, each time
	// with a fresh presigned URL from getReportDocument.
	maxDownloads = 3
	// downloadTimeout bounds one download of a document.
	downloadTimeout = 30 * time.Minute
	// maxErrorDocument is how much of a FATAL report's error document is read.
	maxErrorDocument = 64 << 10
)

// errTooLarge is returned when a document is larger than the limit; a
// retry cannot help.
var errTooLarge = fmt.Errorf("%w: larger than allowed", ErrDocument)

// File is a report document written into the inbox and handed to Ingest.
type File struct {
	Key
	ReportID string
	// Range is the data range the report covers.
	Range Range
	// Path is where the file is in the inbox; Name its base name:
	// REPORT_TYPE.MARKETPLACE_ID.REPORT_ID.txt, with ".gz" added when Amazon
	// served it gzip-compressed (the bytes are kept as served).
	Path, Name string
	Size       int64
	Gzip       bool
}

// docFile is what saveDocument made of a document.
type docFile struct {
	File
	noData bool // no data rows: nothing was written into the inbox
}

// fetchDocument downloads a DONE report's document into the inbox. An
// expired or refused URL, a cut-off body or a damaged gzip stream is tried
// again with a fresh URL, up to maxDownloads times.
func (f *Fetcher) fetchDocument(ctx context.Context, k Key, rep report) (docFile, error) {
	var last error
	for try := 0; try < maxDownloads; try++ {
		if try > 0 {
			if err := f.sleep(ctx, backoff(try-1)); err != nil {
				return docFile{}, err
			}
		}
		doc, err := f.api.getReportDocument(ctx, rep.ReportDocumentID)
		if err != nil {
			return docFile{}, err
		}
		out, err := f.saveDocument(ctx, k, rep.ReportID, doc)
		switch {
		case err == nil:
			return out, nil
		case ctx.Err() != nil:
			return docFile{}, ctx.Err()
		case errors.Is(err, errTooLarge):
			return docFile{}, err
		}
		last = err
		f.log.Warn("report document: retrying", keyReport, k.String(), keyReportID, rep.ReportID, "attempt", try+1, keyError, err)
	}
	return docFile{}, last
}

// saveDocument downloads doc into a hidden .part file in the inbox, syncs
// it, checks it, and renames it into place. A document with no data rows
// is removed instead.
func (f *Fetcher) saveDocument(ctx context.Context, k Key, reportID string, doc reportDocument) (docFile, error) {
	base := fileBase(k, reportID)
	tmp, err := os.CreateTemp(f.cfg.InboxDir, "."+base+".*.part")
	if err != nil {
		return docFile{}, fmt.Errorf("inbox: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err := f.download(ctx, doc.URL, tmp, f.cfg.MaxDocumentBytes)
	if err != nil {
		return docFile{}, err
	}
	if err := tmp.Sync(); err != nil {
		return docFile{}, fmt.Errorf("inbox: %w", err)
	}
	gz, rows, err := inspect(tmp, f.cfg.MaxDocumentBytes)
	if err != nil {
		return docFile{}, err
	}
	if doc.CompressionAlgorithm == "GZIP" && !gz {
		return docFile{}, fmt.Errorf("%w: announced as GZIP but is not gzip", ErrDocument)
	}
	out := docFile{File: File{Key: k, ReportID: reportID, Size: n, Gzip: gz}, noData: !rows}
	if !rows {
		return out, nil
	}
	out.Name = base + ".txt"
	if gz {
		out.Name += ".gz"
	}
	out.Path = filepath.Join(f.cfg.InboxDir, out.Name)
	if err := place(tmp, out.Path); err != nil {
		return docFile{}, err
	}
	done = true
	return out, nil
}

// place closes tmp and renames it to path, then syncs the folder so the
// rename survives a crash.
func place(tmp *os.File, path string) error {
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("inbox: sync folder: %w", err)
	}
	return nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// fileBase names a report's file: report type, marketplace and report id.
func fileBase(k Key, reportID string) string {
	return k.ReportType + "." + k.MarketplaceID + "." + unsafeName.ReplaceAllString(reportID, "_")
}

// s3Code finds the error code in an S3-style XML error body.
var s3Code = regexp.MustCompile(`<Code>([A-Za-z]{1,64})</Code>`)

// download copies the document at rawURL into w, at most max bytes. The
// request carries no access token: the URL is presigned, and the token is
// for Amazon's API only. It asks for the bytes as stored (no transparent
// decompression), so what lands in the inbox is what Amazon served.
func (f *Fetcher) download(ctx context.Context, rawURL string, w io.Writer, max int64) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, downloadTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrDocument, stripURL(err))
	}
	req.Header.Set("user-agent", f.cfg.UserAgent)
	req.Header.Set("accept-encoding", "identity")
	resp, err := f.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%w: download: %v", ErrDocument, stripURL(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		head, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		desc := fmt.Sprintf("http %d", resp.StatusCode)
		if m := s3Code.FindSubmatch(head); m != nil {
			desc += " " + string(m[1])
		}
		if resp.StatusCode == http.StatusForbidden {
			desc += " (the presigned URL expired or was refused)"
		}
		return 0, fmt.Errorf("%w: download: %s", ErrDocument, desc)
	}
	n, err := io.Copy(w, io.LimitReader(resp.Body, max+1))
	switch {
	case err != nil:
		return n, fmt.Errorf("%w: download cut short after %d bytes: %v", ErrDocument, n, stripURL(err))
	case n > max:
		return n, fmt.Errorf("%w (%d bytes)", errTooLarge, max)
	}
	return n, nil
}

// inspect reads the file from its start: is it gzip (by its magic bytes,
// whatever it is called), is the gzip stream whole (it is read to its end,
// which checks its CRC and length), and does it hold a data row after its
// header? At most max bytes are decompressed.
func inspect(r io.ReadSeeker, max int64) (gz, rows bool, err error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return false, false, fmt.Errorf("inbox: %w", err)
	}
	br := bufio.NewReader(r)
	magic, _ := br.Peek(2)
	gz = len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b
	var src io.Reader = br
	if gz {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return true, false, fmt.Errorf("%w: damaged gzip stream: %v", ErrDocument, err)
		}
		defer zr.Close()
		src = zr
	}
	lc := &lineCounter{stopAt: 2}
	if gz {
		lc.stopAt = 0 // read a gzip stream to its end to check it
	}
	n, err := io.Copy(lc, io.LimitReader(src, max+1))
	switch {
	case errors.Is(err, errEnoughLines):
	case err != nil:
		return gz, false, fmt.Errorf("%w: damaged gzip stream: %v", ErrDocument, err)
	case n > max:
		return gz, false, fmt.Errorf("%w (%d bytes once decompressed)", errTooLarge, max)
	}
	return gz, lc.count() >= 2, nil
}

var errEnoughLines = errors.New("enough lines")

// lineCounter counts lines holding something other than white space; CR,
// LF and CRLF all end a line. With stopAt > 0 it stops (errEnoughLines)
// once it has seen that many.
type lineCounter struct {
	lines  int
	inLine bool
	stopAt int
}

func (c *lineCounter) Write(p []byte) (int, error) {
	for i, b := range p {
		switch {
		case b == '\n' || b == '\r':
			if c.inLine {
				c.lines++
				c.inLine = false
			}
			if c.stopAt > 0 && c.lines >= c.stopAt {
				return i + 1, errEnoughLines
			}
		case b > ' ':
			c.inLine = true
		}
	}
	return len(p), nil
}

// count returns the lines seen, the last one included even without an end.
func (c *lineCounter) count() int {
	if c.inLine {
		return c.lines + 1
	}
	return c.lines
}

// errorDocument downloads a FATAL report's error document and returns its
// text, shortened. The text is Amazon's description of what went wrong.
func (f *Fetcher) errorDocument(ctx context.Context, docID string) (string, error) {
	doc, err := f.api.getReportDocument(ctx, docID)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if _, err := f.download(ctx, doc.URL, &buf, maxErrorDocument); err != nil && !errors.Is(err, errTooLarge) {
		return "", err
	}
	text := buf.Bytes()
	if len(text) >= 2 && text[0] == 0x1f && text[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(text))
		if err != nil {
			return "", fmt.Errorf("%w: error document: damaged gzip stream: %v", ErrDocument, err)
		}
		// A cut-off stream still yields what came before the cut.
		text, _ = io.ReadAll(io.LimitReader(zr, maxErrorDocument))
	}
	return shorten(strings.ToValidUTF8(string(text), "?"), 500), nil
}
