package inbox_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"campaignd/internal/inbox"
)

// diskFull is what the handler answers while the disk is full.
var diskFull = inbox.Result{Retry: true, Reason: "write orders to the ledger: write campaignd.db: no space left on device"}

// TestScanTemporaryFailureNeverRejects: a valid report that cannot be
// ingested for a while (the disk is full) stays in the inbox however many
// tries fail, is tried again with a growing backoff (not at every scan), and
// is filed in processed/ once the fault is gone; it never goes to rejected/.
func TestScanTemporaryFailureNeverRejects(t *testing.T) {
	const failures = 12 // well past MaxAttempts
	script := make([]inbox.Result, 0, failures+1)
	for range failures {
		script = append(script, diskFull)
	}
	f := newFixture(t, func(w *inbox.Watcher) { w.MaxAttempts = 5 })
	f.rec.answer("orders.txt", append(script, inbox.Result{})...)
	path := filepath.Join(f.dir, "orders.txt")
	writeFile(t, path, "rows")
	f.scan(t, 0)
	// Scan every second of fake time for an hour, as a busy inbox would.
	for range 3600 {
		f.scan(t, time.Second)
		if _, err := os.Stat(filepath.Join(f.rejected, "orders.txt")); err == nil {
			t.Fatalf("rejected after %d tries that failed for want of disk space", len(f.rec.Calls()))
		}
	}
	assertContents(t, f.processed, map[string]string{"orders.txt": "rows"})
	assertContents(t, f.rejected, map[string]string{})
	assertContents(t, f.dir, map[string]string{})
	// Backoff: 0.25 s, 0.5 s, 1 s ... 256 s, then 300 s (the cap): 13 tries
	// in an hour, not 3,600.
	if n := len(f.rec.Calls()); n != failures+1 {
		t.Fatalf("handler called %d times in an hour, want %d (one per backoff step)", n, failures+1)
	}
}

// TestRetryingShowsReasonAndNextTry: a file waiting for a retry is not
// reported as settling (Pending) but as retrying, with the last failure and
// when the next try is.
func TestRetryingShowsReasonAndNextTry(t *testing.T) {
	f := newFixture(t, func(w *inbox.Watcher) { w.RetryBackoff = time.Second })
	f.rec.answer("orders.txt", diskFull, diskFull, inbox.Result{})
	writeFile(t, filepath.Join(f.dir, "orders.txt"), "rows")
	f.scan(t, 0)
	f.scan(t, settle) // fails: next try 1 s later
	f.scan(t, 500*time.Millisecond)
	if n := len(f.rec.Calls()); n != 1 {
		t.Fatalf("tried again %d times before the backoff ended", n-1)
	}
	f.scan(t, 500*time.Millisecond) // second failure: next try 2 s later
	got := f.w.Retrying()
	want := inbox.Retry{Name: "orders.txt", Reason: diskFull.Reason, Failures: 2, Next: start.Add(settle + 3*time.Second)}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("Retrying = %+v, want [%+v]", got, want)
	}
	if p := f.w.Pending(); len(p) != 0 {
		t.Fatalf("Pending = %v: a retrying file is not waiting to settle", p)
	}
	f.scan(t, 2*time.Second)
	if r := f.w.Retrying(); len(r) != 0 {
		t.Fatalf("Retrying after success = %+v", r)
	}
	assertContents(t, f.processed, map[string]string{"orders.txt": "rows"})
}

// TestSkippedEntries: links, pipes and folders in the inbox are listed with
// why they are never read; regular files and names ignored on purpose are not.
func TestSkippedEntries(t *testing.T) {
	f := newFixture(t)
	writeFile(t, filepath.Join(f.dir, "orders.txt"), "rows")
	writeFile(t, filepath.Join(f.dir, "upload.txt.part"), "half")
	target := filepath.Join(t.TempDir(), "real.txt")
	writeFile(t, target, "rows")
	if err := os.Symlink(target, filepath.Join(f.dir, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(f.dir, "pipe.txt"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(f.dir, "2026-11"), 0o750); err != nil {
		t.Fatal(err)
	}
	got, err := inbox.Skipped(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"2026-11": "a folder", "link.txt": "a symbolic link", "pipe.txt": "a named pipe"}
	if len(got) != len(want) {
		t.Fatalf("Skipped = %+v, want %v", got, want)
	}
	for _, s := range got {
		if w, ok := want[s.Name]; !ok || !strings.HasPrefix(s.Reason, w) {
			t.Errorf("skipped %q: %q, want a reason starting %q", s.Name, s.Reason, w)
		}
	}
	// A scan never opens them (a FIFO would block it) and files the report.
	if n := f.scan(t, settle); n != 0 {
		t.Fatalf("first scan filed %d", n)
	}
	if n := f.scan(t, settle); n != 1 {
		t.Fatalf("scan filed %d, want the one report", n)
	}
	if _, err := inbox.Skipped(filepath.Join(f.dir, "missing")); err != nil {
		t.Fatalf("Skipped of a missing folder: %v", err)
	}
}

// TestStageLeavesTheCallersFile: a report imported from a caller's open
// file is filed as a copy; the caller's file stays where it was, whole.
func TestStageLeavesTheCallersFile(t *testing.T) {
	f := newFixture(t)
	src := filepath.Join(t.TempDir(), "orders.txt")
	writeFile(t, src, "rows")
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	path, cleanup, err := f.w.Stage(context.Background(), in, "../../etc/orders.txt")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != "orders.txt" || !strings.HasPrefix(path, f.dir+string(filepath.Separator)) {
		t.Fatalf("staged at %s, want a private folder in the inbox", path)
	}
	oc, err := f.w.Process(context.Background(), path)
	cleanup()
	if err != nil || oc.Path != filepath.Join(f.processed, "orders.txt") {
		t.Fatalf("Process = %+v, %v", oc, err)
	}
	assertContents(t, f.processed, map[string]string{"orders.txt": "rows"})
	if b, err := os.ReadFile(src); err != nil || string(b) != "rows" {
		t.Fatalf("the caller's file: %q, %v", b, err)
	}
	if ents, _ := os.ReadDir(f.dir); len(ents) != 0 {
		t.Fatalf("the staging folder is left in the inbox: %v", ents)
	}
	if n := f.scan(t, settle); n != 0 || len(f.rec.Calls()) != 1 {
		t.Fatalf("a scan handled the staged copy again")
	}
}
