package scheduler

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"
)

// ingestBatch is how many orders one ledger transaction takes.
const ingestBatch = 1000

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
}

// RowReport lists the rejected rows as "FILE:LINE: COLUMN: reason" lines.
func (r IngestReport) RowReport() string {
	var b strings.Builder
	name := filepath.Base(r.Path)
	for _, re := range r.Summary.Rejected {
		fmt.Fprintln(&b, rowLine(name, re))
	}
	if extra := r.Summary.RejectedCount - len(r.Summary.Rejected); extra > 0 {
		fmt.Fprintf(&b, "%s: %d more rejected rows not listed\n", name, extra)
	}
	return b.String()
}

// Ingest reads one file into the ledger: its SHA-256 first (the same bytes
// twice change nothing), then its rows, streamed in batches through the
// current rules. A file that is not a report is recorded as rejected and
// changes no order. The returned error means the file could not be read
// now and should be tried again; everything else is in the report.
func (e *Engine) Ingest(ctx context.Context, path string, now time.Time) (IngestReport, error) {
	rep := IngestReport{Path: path}
	info, err := inspect(path)
	if err != nil {
		return rep, err
	}
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
	s := e.Setup()
	f, err := os.Open(path)
	if err != nil {
		return rep, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	batch := make([]orders.Order, 0, ingestBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		st, err := e.Ledger.Upsert(e.Account, batch, s.Decide, now)
		if err != nil {
			return fmt.Errorf("write orders to the ledger: %w", err)
		}
		rep.Stats.New += st.New
		rep.Stats.Updated += st.Updated
		rep.Stats.Unchanged += st.Unchanged
		rep.Stats.Frozen += st.Frozen
		batch = batch[:0]
		return ctx.Err()
	}
	sum, err := orders.Parse(f, filepath.Base(path), info.Encoding, s.Parse, func(o orders.Order) error {
		batch = append(batch, o)
		if len(batch) == ingestBatch {
			return flush()
		}
		return nil
	})
	rep.Summary = sum
	if err == nil {
		err = flush()
	}
	fr := ledger.FileRecord{
		SHA256: info.SHA256, Name: filepath.Base(path), Size: info.Size, Kind: string(sum.Kind),
		Encoding: info.Encoding, IngestedAt: now, Rows: sum.Rows, Orders: sum.Groups,
		Rejected: sum.RejectedCount, Outcome: "processed",
	}
	switch {
	case errors.Is(err, orders.ErrNotReport):
		rep.Rejected, rep.Reason = true, err.Error()
		fr.Outcome, fr.Error = "rejected", err.Error()
	case err != nil:
		// Orders already written stay: merging them again is harmless.
		return rep, err
	}
	for i, re := range sum.Rejected {
		if i == maxReportedRows {
			break
		}
		fr.RowErrors = append(fr.RowErrors, rowLine(fr.Name, re))
	}
	if err := e.Ledger.RecordFile(fr); err != nil {
		return rep, fmt.Errorf("record file %s: %w", path, err)
	}
	return rep, nil
}

// rowLine formats a rejected row as FILE:LINE: COLUMN: reason.
func rowLine(name string, re orders.RowError) string {
	if re.Column == "" {
		return fmt.Sprintf("%s:%d: %s", name, re.Line, re.Reason)
	}
	return fmt.Sprintf("%s:%d: %s: %s", name, re.Line, re.Column, re.Reason)
}

func inspect(path string) (orders.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return orders.FileInfo{}, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return orders.FileInfo{}, fmt.Errorf("stat %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return orders.FileInfo{}, fmt.Errorf("%s is not a regular file", path)
	}
	info, err := orders.Inspect(f)
	if err != nil {
		return orders.FileInfo{}, fmt.Errorf("read %s: %w", path, err)
	}
	return info, nil
}
