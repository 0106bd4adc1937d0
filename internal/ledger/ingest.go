package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"campaignd/internal/orders"
)

// FileRecord is what the ledger remembers about one ingested file, keyed by
// the SHA-256 of its bytes so the same bytes dropped twice change nothing.
type FileRecord struct {
	SHA256     string    `json:"sha256"`
	Name       string    `json:"name"`
	Size       int64     `json:"size"`
	Kind       string    `json:"kind,omitempty"`
	Encoding   string    `json:"encoding,omitempty"`
	IngestedAt time.Time `json:"ingested_at"`
	Rows       int       `json:"rows"`
	Orders     int       `json:"orders"`
	Rejected   int       `json:"rejected"`
	Outcome    string    `json:"outcome"`              // "processed" or "rejected"
	Error      string    `json:"error,omitempty"`      // why rejected
	Causes     []string  `json:"causes,omitempty"`     // the rejected rows' causes, a line each, most frequent first
	RowErrors  []string  `json:"row_errors,omitempty"` // first 100 rejected-row messages
}

// maxRowErrors bounds FileRecord.RowErrors.
const maxRowErrors = 100

// File returns the record of the file whose SHA-256 is sha, and whether the
// ledger has one.
func (l *Ledger) File(sha string) (FileRecord, bool, error) {
	var f FileRecord
	var ok bool
	err := l.view(func(t *txn) error {
		raw := t.files.Get([]byte(sha))
		if raw == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(raw, &f)
	})
	if err != nil {
		return FileRecord{}, false, fmt.Errorf("get file %s: %w", sha, err)
	}
	return f, ok, nil
}

// check validates f and normalises it for storing.
func (f *FileRecord) check() error {
	if f.SHA256 == "" {
		return errors.New("record file: empty sha256")
	}
	if len(f.RowErrors) > maxRowErrors {
		f.RowErrors = f.RowErrors[:maxRowErrors]
	}
	f.IngestedAt = utc(f.IngestedAt)
	return nil
}

// fileTimeKey is a files_by_time key: the time, then the SHA-256.
func fileTimeKey(t time.Time, sha []byte) []byte { return append(timeBytes(t), sha...) }

// RecordFile stores f, replacing an earlier record of the same bytes.
func (l *Ledger) RecordFile(f FileRecord) error {
	if err := f.check(); err != nil {
		return err
	}
	err := l.update(f.IngestedAt, func(t *txn) error { return t.recordFile(&f) })
	if err != nil {
		return fmt.Errorf("record file %s: %w", f.Name, err)
	}
	return nil
}

func (t *txn) recordFile(f *FileRecord) error {
	data, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("record file %s: %w", f.Name, err)
	}
	sha := []byte(f.SHA256)
	if raw := t.files.Get(sha); raw != nil {
		var old FileRecord
		if err := json.Unmarshal(raw, &old); err != nil {
			return err
		}
		if err := t.filesByTime.Delete(fileTimeKey(old.IngestedAt, sha)); err != nil {
			return err
		}
	}
	if err := t.files.Put(sha, data); err != nil {
		return err
	}
	return t.filesByTime.Put(fileTimeKey(f.IngestedAt, sha), []byte{})
}

// RecentFiles returns up to n file records, newest first.
func (l *Ledger) RecentFiles(n int) ([]FileRecord, error) {
	var out []FileRecord
	err := l.view(func(t *txn) error {
		c := t.filesByTime.Cursor()
		for k, _ := c.Last(); k != nil && len(out) < n; k, _ = c.Prev() {
			raw := t.files.Get(k[8:])
			if raw == nil {
				return fmt.Errorf("file index names unknown file %q", k[8:])
			}
			var f FileRecord
			if err := json.Unmarshal(raw, &f); err != nil {
				return err
			}
			out = append(out, f)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recent files: %w", err)
	}
	return out, nil
}

// UpsertStats counts what Upsert did with each distinct order of a batch.
type UpsertStats struct {
	New       int // not in the ledger before
	Updated   int // facts or decision changed
	Unchanged int // nothing changed
	Frozen    int // facts merged into an order in a final state (claimed/sent/in_doubt/failed/expired); state untouched
}

// Upsert merges each order's facts into the ledger (orders.Merge(old, new))
// in one transaction, then, for orders that are new or waiting, scheduled or
// excluded, applies decide(merged, now) and records the transition. A
// cancellation or return arriving before the send therefore stops it.
// Orders that are claimed, sent, in doubt, failed or expired keep their
// state; their facts are still merged, but buyer data is not added back
// once purged. Orders repeated in batch are merged first.
func (l *Ledger) Upsert(account string, batch []orders.Order, decide Decider, now time.Time) (UpsertStats, error) {
	if len(batch) == 0 {
		return UpsertStats{}, nil
	}
	if decide == nil {
		return UpsertStats{}, errors.New("upsert orders: no decider")
	}
	b := l.Bulk(account)
	defer b.Close()
	for _, o := range batch {
		if err := b.Add(o); err != nil {
			return UpsertStats{}, fmt.Errorf("upsert orders: %w", err)
		}
	}
	st, err := b.Commit(context.Background(), decide, now, nil)
	if err != nil {
		return UpsertStats{}, fmt.Errorf("upsert orders: %w", err)
	}
	return st, nil
}

// putIfChanged stores rec unless it encodes to raw, old's stored bytes, and
// reports whether it did.
func (t *txn) putIfChanged(raw []byte, old, rec *Record) (bool, error) {
	var err error
	changed, serr := t.storeIfChanged(raw, old, rec, func(op indexOp) {
		if err == nil {
			err = t.apply(op)
		}
	})
	if serr != nil {
		return changed, serr
	}
	return changed, err
}
