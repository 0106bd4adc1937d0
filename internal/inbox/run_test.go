package inbox_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"campaignd/internal/inbox"
)

// timeout bounds every wait in the Run tests; they finish in well under a
// second normally.
const timeout = 10 * time.Second

// running is a Watcher whose Run goroutine is live.
type running struct {
	*fixture
	scans chan int // OnScan's argument for every scan
	stop  func()   // cancels Run and checks it returned nil
}

// startRun opens a fixture on the real clock with a tiny Settle and starts
// Run. It waits for the initial scan.
func startRun(t *testing.T, rescan time.Duration, before func(f *fixture)) *running {
	t.Helper()
	scans := make(chan int, 1000)
	f := newFixture(t, func(w *inbox.Watcher) {
		w.Now = time.Now
		w.Settle = time.Millisecond
		w.Rescan = rescan
		w.OnScan = func(n int) { scans <- n }
	})
	if before != nil {
		before(f)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.w.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v after cancel, want nil", err)
			}
		case <-time.After(timeout):
			t.Errorf("Run did not return within %v of cancel", timeout)
		}
	}
	t.Cleanup(stop)
	r := &running{fixture: f, scans: scans, stop: stop}
	r.waitScans(t, 1)
	return r
}

// waitScans waits for n more scans.
func (r *running) waitScans(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(timeout)
	for range n {
		select {
		case <-r.scans:
		case <-deadline:
			t.Fatalf("no scan within %v", timeout)
		}
	}
}

// waitFiled waits until scans have filed n files in total.
func (r *running) waitFiled(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(timeout)
	for filed := 0; filed < n; {
		select {
		case k := <-r.scans:
			filed += k
		case <-deadline:
			t.Fatalf("filed %d of %d files within %v", filed, n, timeout)
		}
	}
}

func TestRunInitialScan(t *testing.T) {
	r := startRun(t, time.Hour, func(f *fixture) {
		writeFile(t, filepath.Join(f.dir, "old.txt"), "was here before start")
	})
	r.waitFiled(t, 1)
	r.stop()
	assertContents(t, r.dir, map[string]string{})
	assertContents(t, r.processed, map[string]string{"old.txt": "was here before start"})
	if calls := r.rec.Calls(); len(calls) != 1 || calls[0].content != "was here before start" {
		t.Fatalf("calls = %+v", calls)
	}
}

func TestRunPicksUpNewFiles(t *testing.T) {
	tests := []struct {
		name string
		drop func(t *testing.T, dir string) // puts orders.txt into dir
	}{
		{"created", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "orders.txt"), "rows")
		}},
		{"renamed in from outside", func(t *testing.T, dir string) {
			src := filepath.Join(t.TempDir(), "orders.txt")
			writeFile(t, src, "rows")
			if err := os.Rename(src, filepath.Join(dir, "orders.txt")); err != nil {
				t.Fatal(err)
			}
		}},
		{"written as .part then renamed", func(t *testing.T, dir string) {
			part := filepath.Join(dir, "orders.txt.part")
			writeFile(t, part, "rows")
			if err := os.Rename(part, filepath.Join(dir, "orders.txt")); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startRun(t, time.Hour, nil)
			tt.drop(t, r.dir)
			r.waitFiled(t, 1)
			r.stop()
			assertContents(t, r.dir, map[string]string{})
			assertContents(t, r.processed, map[string]string{"orders.txt": "rows"})
			calls := r.rec.Calls()
			if len(calls) != 1 || calls[0].path != filepath.Join(r.dir, "orders.txt") || calls[0].content != "rows" {
				t.Fatalf("calls = %+v, want one of orders.txt", calls)
			}
		})
	}
}

func TestRunLeavesPartFiles(t *testing.T) {
	r := startRun(t, time.Hour, nil)
	writeFile(t, filepath.Join(r.dir, "big.txt.part"), "half")
	writeFile(t, filepath.Join(r.dir, "orders.txt"), "rows")
	r.waitFiled(t, 1)
	r.stop()
	assertContents(t, r.dir, map[string]string{"big.txt.part": "half"})
	assertContents(t, r.processed, map[string]string{"orders.txt": "rows"})
	if n := len(r.rec.Calls()); n != 1 {
		t.Fatalf("handler called %d times, want 1", n)
	}
}

// TestRunRetriesAfterBackoff: a failed file is tried again when its backoff
// ends, without waiting for an event or the periodic rescan.
func TestRunRetriesAfterBackoff(t *testing.T) {
	r := startRun(t, time.Hour, func(f *fixture) {
		f.w.RetryBackoff = 5 * time.Millisecond
		f.rec.answer("orders.txt", inbox.Result{Retry: true, Reason: "busy"}, inbox.Result{})
	})
	writeFile(t, filepath.Join(r.dir, "orders.txt"), "rows")
	r.waitFiled(t, 1)
	r.stop()
	assertContents(t, r.processed, map[string]string{"orders.txt": "rows"})
	if n := len(r.rec.Calls()); n != 2 {
		t.Fatalf("handler called %d times, want 2", n)
	}
}

func TestRunAndProcessNeverOverlap(t *testing.T) {
	r := startRun(t, time.Hour, nil)
	outside := t.TempDir()
	const n = 5
	for i := range n {
		name := string(rune('a'+i)) + ".txt"
		writeFile(t, filepath.Join(r.dir, name), name)
		writeFile(t, filepath.Join(outside, "x"+name), name)
	}
	for i := range n {
		name := "x" + string(rune('a'+i)) + ".txt"
		if _, err := r.w.Process(context.Background(), filepath.Join(outside, name)); err != nil {
			t.Fatalf("Process: %v", err)
		}
	}
	r.waitFiled(t, n)
	r.stop()
	if got := len(contents(t, r.processed)); got != 2*n {
		t.Fatalf("processed holds %d files, want %d", got, 2*n)
	}
	if r.rec.overlaps != 0 {
		t.Fatalf("%d overlapping handler calls", r.rec.overlaps)
	}
}

func TestRunReturnsOnCancel(t *testing.T) {
	block := make(chan struct{})
	r := startRun(t, time.Hour, func(f *fixture) {
		f.w.Handle = func(ctx context.Context, path string) inbox.Result {
			close(block)
			<-ctx.Done()
			return inbox.Result{Retry: true, Reason: "shutting down"}
		}
	})
	writeFile(t, filepath.Join(r.dir, "orders.txt"), "rows")
	select {
	case <-block:
	case <-time.After(timeout):
		t.Fatal("handler not called")
	}
	r.stop() // cancels while the handler runs; Run must return nil
	// A Retry caused by the shutdown leaves the file where it was.
	assertContents(t, r.dir, map[string]string{"orders.txt": "rows"})
	assertContents(t, r.processed, map[string]string{})
	assertContents(t, r.rejected, map[string]string{})
}
