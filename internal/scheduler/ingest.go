package scheduler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"
)

// maxReportedRows caps the rejected rows kept in the ledger's file record.
const maxReportedRows = 100

// IngestReport says what one file did to the ledger.
type IngestReport struct {
	Path      string
	Info      orders.FileInfo
	Summary   orders.Summary
	Stats     ledger.UpsertStats
	Duplicate bool      // the same bytes were ingested before; nothing changed
	Previous  time.Time // when, for a duplicate
	Rejected  bool      // the file as a whole is not a report campaignd reads
	Reason    string    // why rejected
	// Held counts the file's orders that the rules left waiting or
	// excluded, by reason class (ClassNoCampaign, ClassNoRelay...).
	Held map[string]int
}

// classCount wraps a decider and counts the reason classes of the waiting
// and excluded orders it decides. A bulk write may decide in a goroutine of
// its own, hence the lock.
type classCount struct {
	decide ledger.Decider
	mu     sync.Mutex
	n      map[string]int
}

func (c *classCount) Decide(o orders.Order, now time.Time) ledger.Decision {
	d := c.decide(o, now)
	if d.State == ledger.Waiting || d.State == ledger.Excluded {
		c.mu.Lock()
		c.n[d.Class]++
		c.mu.Unlock()
	}
	return d
}

// counts returns the counts, once the bulk write that used c has ended.
func (c *classCount) counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// RowReport lists the rejected rows as "FILE:LINE: COLUMN: reason" lines,
// after one "FILE: N rows: …" line per cause when there are several.
func (r IngestReport) RowReport() string {
	var b strings.Builder
	name := filepath.Base(r.Path)
	if r.Summary.RejectedCount > 1 {
		for _, line := range r.Summary.RejectedSummary() {
			fmt.Fprintf(&b, "%s: %s\n", name, line)
		}
	}
	for _, re := range r.Summary.Rejected {
		fmt.Fprintln(&b, rowLine(name, re))
	}
	if extra := r.Summary.RejectedCount - len(r.Summary.Rejected); extra > 0 {
		fmt.Fprintf(&b, "%s: %d more rejected rows not listed\n", name, extra)
	}
	return b.String()
}

// ErrChanged is returned by Ingest when a file's bytes changed while it
// was read (it was still being written, or rewritten in place): nothing of
// it was ingested, and it should be tried again once it is stable.
var ErrChanged = errors.New("the file changed while it was read")

// Test hooks: afterInspect runs between the first read of a file (its hash
// and encoding) and the second (its rows); beforeCommit between the rows
// being read and their write to the ledger.
var afterInspect, beforeCommit = func(string) {}, func(string) {}

// Ingest reads one file into the ledger from one open descriptor: its
// SHA-256 first (the same bytes twice change nothing), then its rows,
// hashed again as they are parsed. Only when the whole file has been read
// and both hashes agree are its orders written, every row of an order
// merged first (a cancellation at the end of a file stops an order shipped
// at its start), and the file's record last. A file that is not a report
// is recorded as rejected and changes no order. The returned error means
// the file could not be read now and should be tried again (ErrChanged
// when its bytes moved under the read); everything else is in the report.
func (e *Engine) Ingest(ctx context.Context, path string, now time.Time) (IngestReport, error) {
	defer limitMemory()()
	rep := IngestReport{Path: path}
	f, info, err := openReport(path)
	if err != nil {
		return rep, err
	}
	defer f.Close()
	rep.Info = info
	if prev, ok, err := e.Ledger.File(info.SHA256); err != nil {
		return rep, fmt.Errorf("look up %s in the ledger: %w", path, err)
	} else if ok {
		rep.Duplicate, rep.Previous = true, prev.IngestedAt
		if prev.Outcome == "rejected" {
			rep.Rejected, rep.Reason = true, prev.Error
		}
		return rep, nil
	}
	afterInspect(path)
	s := e.Setup()
	bulk := e.Ledger.Bulk(e.Account)
	defer bulk.Close()
	var sum orders.Summary
	if info.Damaged != "" {
		// A cut-off or corrupt gzip stream is the file's own fault: reject
		// it whole now rather than retry it for ever.
		err = fmt.Errorf("%s: %w: %s", filepath.Base(path), orders.ErrNotReport, info.Damaged)
	} else {
		sum, err = parseHashed(f, path, info, s.Parse, bulk.Add)
	}
	rep.Summary = sum
	fr := fileRecord(path, info, sum, now)
	if rep.Rejected, rep.Reason, err = rejection(sum, err); err != nil {
		return rep, err // nothing was written
	}
	beforeCommit(path)
	if rep.Rejected {
		fr.Outcome, fr.Error = "rejected", rep.Reason
		if err := e.Ledger.RecordFile(fr); err != nil {
			return rep, fmt.Errorf("record file %s: %w", path, err)
		}
		return rep, nil
	}
	held := &classCount{decide: s.Decide, n: map[string]int{}}
	rep.Stats, err = bulk.Commit(ctx, held.Decide, now, &fr)
	rep.Held = held.counts()
	if err != nil {
		return rep, fmt.Errorf("write the orders of %s to the ledger: %w", path, err)
	}
	return rep, nil
}

// rejection says whether a file read to its end (err is the parser's) is
// rejected whole, and why, or returns the error that stopped it being read.
func rejection(sum orders.Summary, err error) (bool, string, error) {
	switch {
	case errors.Is(err, orders.ErrNotReport):
		return true, err.Error(), nil
	case err != nil:
		return false, "", err
	case sum.Groups == 0 && sum.RejectedCount > 0:
		// Every row that could have been an order was rejected: the file
		// is at fault (re-saved by a spreadsheet, cut, another export), and
		// must not pass for a report that was read.
		return true, noOrderReason(sum), nil
	}
	return false, "", nil
}

// noOrderReason says why a file whose rows were all rejected is rejected:
// its most frequent cause (with a hint where one is known), and how many
// others there are; the file's report lists every rejected row.
func noOrderReason(sum orders.Summary) string {
	causes := sum.RejectedSummary()
	reason := fmt.Sprintf("no order could be read from it: %d of %d rows rejected", sum.RejectedCount, sum.Rows)
	if len(causes) > 0 {
		reason += ", " + causes[0]
	}
	if len(causes) > 1 {
		reason += fmt.Sprintf("; %d other causes", len(causes)-1)
	}
	return reason
}

// ingestMemoryLimit is the Go heap's soft limit while a report is
// ingested, unless the process has one of its own (GOMEMLIMIT). What an
// ingest holds is bounded by design (a sort run of 16 MiB, transactions of
// 6 MiB of records: about 45 MiB live at most); the limit makes the
// collector keep the garbage near that instead of letting the heap grow to
// twice it and more while the collector lags behind on a busy machine.
const ingestMemoryLimit = 100 << 20

var (
	memMu      sync.Mutex
	memIngests int  // ingests running
	memOurs    bool // the limit in force is ingestMemoryLimit, set here
)

// limitMemory sets ingestMemoryLimit while any ingest runs, unless the
// process has a limit of its own, and returns the function that ends this
// ingest's part in it.
func limitMemory() (restore func()) {
	memMu.Lock()
	defer memMu.Unlock()
	if memIngests == 0 && debug.SetMemoryLimit(-1) == math.MaxInt64 {
		debug.SetMemoryLimit(ingestMemoryLimit)
		memOurs = true
	}
	memIngests++
	return func() {
		memMu.Lock()
		defer memMu.Unlock()
		if memIngests--; memIngests == 0 && memOurs {
			debug.SetMemoryLimit(math.MaxInt64)
			memOurs = false
		}
	}
}

// fileRecord is the ledger's record of a file read whole.
func fileRecord(path string, info orders.FileInfo, sum orders.Summary, now time.Time) ledger.FileRecord {
	fr := ledger.FileRecord{
		SHA256: info.SHA256, Name: filepath.Base(path), Size: info.Size, Kind: string(sum.Kind),
		Encoding: info.Encoding, IngestedAt: now, Rows: sum.Rows, Orders: sum.Groups,
		Rejected: sum.RejectedCount, Outcome: "processed", Causes: sum.RejectedSummary(),
	}
	for i, re := range sum.Rejected {
		if i == maxReportedRows {
			break
		}
		fr.RowErrors = append(fr.RowErrors, rowLine(fr.Name, re))
	}
	return fr
}

// parseHashed parses f from its start, hashing every byte it reads (and
// the rest after the parser stops), and fails with ErrChanged unless the
// hash is the one info holds: the rows come from exactly the bytes hashed.
func parseHashed(f *os.File, path string, info orders.FileInfo, opts orders.Options, emit func(orders.Order) error) (orders.Summary, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return orders.Summary{}, fmt.Errorf("read %s: %w", path, err)
	}
	h := sha256.New()
	sum, perr := orders.Parse(io.TeeReader(f, h), filepath.Base(path), info.Encoding, opts, emit)
	if _, err := io.Copy(h, f); err != nil {
		return sum, fmt.Errorf("read %s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != info.SHA256 {
		return sum, fmt.Errorf("%s: %w (SHA-256 %s, then %s); nothing of it was ingested", path, ErrChanged, short(info.SHA256), short(got))
	}
	return sum, perr
}

func short(sha string) string { return sha[:min(12, len(sha))] }

// rowLine formats a rejected row as FILE:LINE: COLUMN: reason.
func rowLine(name string, re orders.RowError) string {
	if re.Column == "" {
		return fmt.Sprintf("%s:%d: %s", name, re.Line, re.Reason)
	}
	return fmt.Sprintf("%s:%d: %s: %s", name, re.Line, re.Column, re.Reason)
}

// openReport opens path once, checks it is a regular file, and reads it
// through to its hash, size and encoding. The caller reads the rows from
// the same descriptor and closes it.
func openReport(path string) (*os.File, orders.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, orders.FileInfo{}, fmt.Errorf("open %s: %w", path, err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", path)
	}
	var info orders.FileInfo
	if err == nil {
		if info, err = orders.Inspect(f); err != nil {
			err = fmt.Errorf("read %s: %w", path, err)
		}
	}
	if err != nil {
		f.Close()
		return nil, orders.FileInfo{}, err
	}
	return f, info, nil
}
