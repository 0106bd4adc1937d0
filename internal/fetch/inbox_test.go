package fetch_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"campaignd/internal/fetch"
	"campaignd/internal/inbox"
)

// ingestThrough is the Ingest hook the daemon uses: the inbox's own
// Process, which handles a file one at a time with the watcher's scans and
// files it into processed/ or rejected/. A file rejected whole, or one the
// handler could not read now, is not ingested.
func ingestThrough(w *inbox.Watcher) fetch.IngestFunc {
	return func(ctx context.Context, f fetch.File) error {
		out, err := w.Process(ctx, f.Path)
		switch {
		case err != nil:
			return err
		case out.Retried:
			return fmt.Errorf("not read now: %s", out.Result.Reason)
		case out.Rejected:
			return fmt.Errorf("rejected: %s", out.Result.Reason)
		}
		return nil
	}
}

// The fetcher's files go through the real inbox: the watcher never sees the
// .part file, Process files the report into processed/, and a rejected
// file leaves the report pending.
func TestIngestThroughTheInbox(t *testing.T) {
	h := newHarness(t, t0)
	var mu sync.Mutex
	var handled []string
	reject := false
	w := &inbox.Watcher{
		Dir: h.inbox, ProcessedDir: h.processed, RejectedDir: filepath.Join(filepath.Dir(h.inbox), "rejected"),
		Handle: func(ctx context.Context, path string) inbox.Result {
			b, err := os.ReadFile(path)
			if err != nil {
				return inbox.Result{Retry: true, Reason: err.Error()}
			}
			mu.Lock()
			handled = append(handled, filepath.Base(path))
			mu.Unlock()
			if reject || !strings.HasPrefix(string(b), "amazon-order-id\t") {
				return inbox.Result{Rejected: true, Reason: "unrecognised report"}
			}
			return inbox.Result{}
		},
	}
	if err := w.Open(); err != nil {
		t.Fatal(err)
	}
	cfg := h.config([]string{fetch.AllOrdersByLastUpdate}, []string{us, ca})
	cfg.Ingest = ingestThrough(w)
	f := h.fetcher(cfg)
	res := mustRun(t, f, t0)
	if len(handled) != 2 {
		t.Fatalf("the inbox handled %v, want the two reports", handled)
	}
	for _, rr := range res.Reports {
		name := filepath.Base(rr.File)
		if _, err := os.Stat(filepath.Join(h.processed, name)); err != nil {
			t.Errorf("%s is not in processed/: %v", name, err)
		}
	}
	if n, err := w.Scan(context.Background()); n != 0 || err != nil || len(h.inboxNames()) != 0 {
		t.Errorf("after the run the inbox still held files: scan %d, %v, %v", n, err, h.inboxNames())
	}

	reject = true
	h.amz.SetNow(t0.Add(4 * time.Hour))
	res2, err := f.Run(context.Background(), t0.Add(4*time.Hour))
	if !errors.Is(err, fetch.ErrIngest) || !strings.Contains(err.Error(), "unrecognised report") {
		t.Fatalf("Run = %v", err)
	}
	for _, rr := range res2.Reports {
		if st := h.load(rr.Key); st.Pending == nil || st.Fetched.End != res.Reports[0].Range.End {
			t.Errorf("%s: a rejected report counted as fetched: %+v", rr.Key, st)
		}
	}
}
