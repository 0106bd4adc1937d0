package inbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"campaignd/internal/inbox"
)

func TestScanIgnoresUntilRenamed(t *testing.T) {
	tests := []struct {
		name    string
		make    func(t *testing.T, path string) // creates the ignored entry
		renamed string                          // name it is renamed to afterwards, "" if never
	}{
		{"part file", func(t *testing.T, p string) { writeFile(t, p, "data") }, "orders.txt"},
		{"tmp file", func(t *testing.T, p string) { writeFile(t, p, "data") }, "orders.txt"},
		{"dotfile", func(t *testing.T, p string) { writeFile(t, p, "data") }, "orders.txt"},
		{"upper-case part", func(t *testing.T, p string) { writeFile(t, p, "data") }, "orders.txt"},
		{"our report", func(t *testing.T, p string) { writeFile(t, p, "data") }, ""},
		{"our error", func(t *testing.T, p string) { writeFile(t, p, "data") }, ""},
		{"directory", func(t *testing.T, p string) {
			if err := os.Mkdir(p, 0o750); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"symlink", func(t *testing.T, p string) {
			target := filepath.Join(t.TempDir(), "target.txt")
			writeFile(t, target, "data")
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
		}, ""},
	}
	files := map[string]string{
		"part file":       "orders.txt.part",
		"tmp file":        "orders.txt.tmp",
		"dotfile":         ".orders.txt",
		"upper-case part": "orders.txt.PART",
		"our report":      "orders.txt.report.txt",
		"our error":       "orders.txt.error.txt",
		"directory":       "subdir",
		"symlink":         "link.txt",
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			path := filepath.Join(f.dir, files[tt.name])
			tt.make(t, path)

			for range 3 {
				if n := f.scan(t, settle); n != 0 {
					t.Fatalf("Scan filed %d, want 0", n)
				}
			}
			if calls := f.rec.Calls(); len(calls) != 0 {
				t.Fatalf("handler called for an ignored entry: %v", calls)
			}
			if p := f.w.Pending(); len(p) != 0 {
				t.Fatalf("Pending = %v, want none", p)
			}
			if tt.renamed == "" {
				if _, err := os.Lstat(path); err != nil {
					t.Fatalf("ignored entry touched: %v", err)
				}
				return
			}

			if err := os.Rename(path, filepath.Join(f.dir, tt.renamed)); err != nil {
				t.Fatal(err)
			}
			if n := f.scan(t, 0); n != 0 {
				t.Fatalf("first Scan after rename filed %d, want 0", n)
			}
			if n := f.scan(t, settle); n != 1 {
				t.Fatalf("Scan after settling filed %d, want 1", n)
			}
			assertContents(t, f.processed, map[string]string{tt.renamed: "data"})
		})
	}
}

func TestScanWaitsForStableFile(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, path string) // between the first two observations
		want   string                          // content the handler must see
	}{
		{"unchanged", func(t *testing.T, path string) {}, "abc"},
		{"grows", func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString("def"); err != nil {
				t.Fatal(err)
			}
		}, "abcdef"},
		{"rewritten, same size", func(t *testing.T, path string) {
			writeFile(t, path, "xyz")
			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(path, later, later); err != nil {
				t.Fatal(err)
			}
		}, "xyz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			path := filepath.Join(f.dir, "orders.txt")
			writeFile(t, path, "abc")

			if n := f.scan(t, 0); n != 0 {
				t.Fatalf("first sight filed %d", n)
			}
			if got, want := f.w.Pending(), []string{path}; !slices.Equal(got, want) {
				t.Fatalf("Pending = %v, want %v", got, want)
			}
			if n := f.scan(t, settle-time.Millisecond); n != 0 {
				t.Fatalf("Scan before Settle filed %d", n)
			}
			tt.change(t, path)
			n := f.scan(t, time.Millisecond)
			changed := tt.name != "unchanged"
			if changed {
				if n != 0 {
					t.Fatalf("Scan of a changing file filed %d", n)
				}
				if len(f.rec.Calls()) != 0 {
					t.Fatal("handler called on a changing file")
				}
				if n := f.scan(t, settle-time.Millisecond); n != 0 {
					t.Fatalf("Scan before the new Settle filed %d", n)
				}
				n = f.scan(t, time.Millisecond)
			}
			if n != 1 {
				t.Fatalf("Scan of a stable file filed %d, want 1", n)
			}
			calls := f.rec.Calls()
			if len(calls) != 1 || calls[0].path != path || calls[0].content != tt.want {
				t.Fatalf("calls = %+v, want one of %s with %q", calls, path, tt.want)
			}
			if p := f.w.Pending(); len(p) != 0 {
				t.Fatalf("Pending after filing = %v", p)
			}
		})
	}
}

func TestScanFiles(t *testing.T) {
	tests := []struct {
		name          string
		result        inbox.Result
		wantProcessed map[string]string
		wantRejected  map[string]string
	}{
		{
			name:          "accepted",
			result:        inbox.Result{},
			wantProcessed: map[string]string{"orders.txt": "rows"},
			wantRejected:  map[string]string{},
		},
		{
			name:   "accepted with rejected rows",
			result: inbox.Result{Report: "orders.txt:3:1: bad order id"},
			wantProcessed: map[string]string{
				"orders.txt":            "rows",
				"orders.txt.report.txt": "orders.txt:3:1: bad order id\n",
			},
			wantRejected: map[string]string{},
		},
		{
			name:          "rejected",
			result:        inbox.Result{Rejected: true, Reason: "unknown header"},
			wantProcessed: map[string]string{},
			wantRejected: map[string]string{
				"orders.txt":           "rows",
				"orders.txt.error.txt": "reason: unknown header\n",
			},
		},
		{
			name: "rejected with report",
			result: inbox.Result{Rejected: true, Reason: "no valid rows",
				Report: "orders.txt:2:1: bad date\norders.txt:3:1: bad date\n"},
			wantProcessed: map[string]string{},
			wantRejected: map[string]string{
				"orders.txt": "rows",
				"orders.txt.error.txt": "reason: no valid rows\n\nrejected rows:\n" +
					"orders.txt:2:1: bad date\norders.txt:3:1: bad date\n",
			},
		},
		{
			name:          "rejected without reason",
			result:        inbox.Result{Rejected: true},
			wantProcessed: map[string]string{},
			wantRejected: map[string]string{
				"orders.txt":           "rows",
				"orders.txt.error.txt": "reason: rejected (no reason given)\n",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.rec.answer("orders.txt", tt.result)
			writeFile(t, filepath.Join(f.dir, "orders.txt"), "rows")
			f.scan(t, 0)
			if n := f.scan(t, settle); n != 1 {
				t.Fatalf("Scan filed %d, want 1", n)
			}
			assertContents(t, f.dir, map[string]string{})
			assertContents(t, f.processed, tt.wantProcessed)
			assertContents(t, f.rejected, tt.wantRejected)
			if n := len(f.rec.Calls()); n != 1 {
				t.Fatalf("handler called %d times, want 1", n)
			}
		})
	}
}

func TestScanSameNameTwice(t *testing.T) {
	tests := []struct {
		name   string
		result inbox.Result
		dir    func(f *fixture) string
		suffix string
	}{
		{"processed with report", inbox.Result{Report: "r"}, func(f *fixture) string { return f.processed }, ".report.txt"},
		{"rejected", inbox.Result{Rejected: true, Reason: "r"}, func(f *fixture) string { return f.rejected }, ".error.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.rec.answer("orders.txt", tt.result)
			for i, content := range []string{"first", "second", "third"} {
				writeFile(t, filepath.Join(f.dir, "orders.txt"), content)
				f.scan(t, 0)
				if n := f.scan(t, settle); n != 1 {
					t.Fatalf("drop %d: Scan filed %d, want 1", i+1, n)
				}
			}
			// The clock stood at start+2s, +4s, +6s when the files were filed.
			got := contents(t, tt.dir(f))
			want := map[string]string{
				"orders.txt":                  "first",
				"orders.20261126T101504Z.txt": "second",
				"orders.20261126T101506Z.txt": "third",
			}
			for name, content := range want {
				if got[name] != content {
					t.Errorf("%s = %q, want %q (have %v)", name, got[name], content, keys(got))
				}
				if _, ok := got[name+tt.suffix]; !ok {
					t.Errorf("missing %s%s (have %v)", name, tt.suffix, keys(got))
				}
			}
			if len(got) != 2*len(want) {
				t.Errorf("files = %v, want %d", keys(got), 2*len(want))
			}
		})
	}
}

func TestScanSameNameSameSecond(t *testing.T) {
	f := newFixture(t)
	// Occupy the plain and stamped names, the stamped one only by a report.
	writeFile(t, filepath.Join(f.processed, "orders.txt"), "old")
	writeFile(t, filepath.Join(f.processed, "orders.20261126T101502Z.txt.report.txt"), "orphan")
	writeFile(t, filepath.Join(f.dir, "orders.txt"), "new")
	f.scan(t, 0)
	if n := f.scan(t, settle); n != 1 {
		t.Fatalf("Scan filed %d, want 1", n)
	}
	assertContents(t, f.processed, map[string]string{
		"orders.txt":                             "old",
		"orders.20261126T101502Z.txt.report.txt": "orphan",
		"orders.20261126T101502Z-2.txt":          "new",
	})
}

func TestScanNoExtension(t *testing.T) {
	f := newFixture(t)
	writeFile(t, filepath.Join(f.processed, "orders"), "old")
	writeFile(t, filepath.Join(f.dir, "orders"), "new")
	f.scan(t, 0)
	f.scan(t, settle)
	assertContents(t, f.processed, map[string]string{
		"orders":                  "old",
		"orders.20261126T101502Z": "new",
	})
}

func TestScanRetry(t *testing.T) {
	retry := inbox.Result{Retry: true, Reason: "permission denied"}
	tests := []struct {
		name          string
		script        []inbox.Result
		wantCalls     int
		wantProcessed map[string]string
		wantRejected  map[string]string
	}{
		{
			name:          "succeeds on the second attempt",
			script:        []inbox.Result{retry, {}},
			wantCalls:     2,
			wantProcessed: map[string]string{"orders.txt": "rows"},
			wantRejected:  map[string]string{},
		},
		{
			name:          "retry wins over rejected",
			script:        []inbox.Result{{Retry: true, Rejected: true, Reason: "busy"}, {}},
			wantCalls:     2,
			wantProcessed: map[string]string{"orders.txt": "rows"},
			wantRejected:  map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(w *inbox.Watcher) { w.MaxAttempts = 3 })
			f.rec.answer("orders.txt", tt.script...)
			path := filepath.Join(f.dir, "orders.txt")
			writeFile(t, path, "rows")
			f.scan(t, 0)
			for i := range 5 {
				f.scan(t, settle)
				if i+1 < tt.wantCalls {
					if _, err := os.Stat(path); err != nil {
						t.Fatalf("after attempt %d the file left the inbox: %v", i+1, err)
					}
				}
			}
			if n := len(f.rec.Calls()); n != tt.wantCalls {
				t.Fatalf("handler called %d times, want %d", n, tt.wantCalls)
			}
			assertContents(t, f.dir, map[string]string{})
			assertContents(t, f.processed, tt.wantProcessed)
			assertContents(t, f.rejected, tt.wantRejected)
		})
	}
}

func TestScanCrashCountResetsWhenFileChanges(t *testing.T) {
	calls := 0
	f := newFixture(t, func(w *inbox.Watcher) {
		w.MaxAttempts = 2
		w.Handle = func(context.Context, string) inbox.Result { calls++; panic("parser bug") }
	})
	path := filepath.Join(f.dir, "orders.txt")
	writeFile(t, path, "v1")
	f.scan(t, 0)
	f.scan(t, settle) // crash 1 of v1
	writeFile(t, path, "v2 longer")
	f.scan(t, settle) // new content: observed only
	f.scan(t, settle) // crash 1 of v2
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("file rejected before MaxAttempts crashes on its new content: %v", err)
	}
	f.scan(t, settle) // crash 2 of v2: rejected
	assertContents(t, f.rejected, map[string]string{
		"orders.txt":           "v2 longer",
		"orders.txt.error.txt": "reason: gave up after 2 attempts: handler panicked: parser bug\n",
	})
	if calls != 3 {
		t.Fatalf("handler called %d times, want 3", calls)
	}
}

func TestScanHandlerPanic(t *testing.T) {
	f := newFixture(t, func(w *inbox.Watcher) {
		w.MaxAttempts = 2
		w.Handle = func(context.Context, string) inbox.Result { panic("parser bug") }
	})
	writeFile(t, filepath.Join(f.dir, "orders.txt"), "rows")
	f.scan(t, 0)
	f.scan(t, settle)
	f.scan(t, settle)
	assertContents(t, f.rejected, map[string]string{
		"orders.txt":           "rows",
		"orders.txt.error.txt": "reason: gave up after 2 attempts: handler panicked: parser bug\n",
	})
}

func TestScanForgetsRemovedFile(t *testing.T) {
	tests := []struct {
		name  string
		scans int // scans before the removal; 1 = seen once, pending
	}{
		{"pending", 1},
		{"retrying", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.rec.answer("orders.txt", inbox.Result{Retry: true})
			path := filepath.Join(f.dir, "orders.txt")
			writeFile(t, path, "rows")
			for range tt.scans {
				f.scan(t, settle)
			}
			calls := len(f.rec.Calls())
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if n := f.scan(t, settle); n != 0 {
				t.Fatalf("Scan filed %d, want 0", n)
			}
			if p := f.w.Pending(); len(p) != 0 {
				t.Fatalf("Pending = %v, want none", p)
			}
			if got := len(f.rec.Calls()); got != calls {
				t.Fatalf("handler called after removal")
			}
			assertContents(t, f.processed, map[string]string{})
			assertContents(t, f.rejected, map[string]string{})

			// The same name again is a new file: observed first, not handled.
			f.rec.answer("orders.txt", inbox.Result{})
			writeFile(t, path, "again")
			if n := f.scan(t, settle); n != 0 {
				t.Fatalf("re-created file filed on first sight")
			}
			if n := f.scan(t, settle); n != 1 {
				t.Fatalf("re-created file: Scan filed %d, want 1", n)
			}
			assertContents(t, f.processed, map[string]string{"orders.txt": "again"})
		})
	}
}

func TestScanOrderAndOneAtATime(t *testing.T) {
	f := newFixture(t)
	names := []string{"c.txt", "a.txt", "b.txt"}
	for i, name := range names {
		path := filepath.Join(f.dir, name)
		writeFile(t, path, name)
		mt := start.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(path, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	f.scan(t, 0)
	if n := f.scan(t, settle); n != 3 {
		t.Fatalf("Scan filed %d, want 3", n)
	}
	var got []string
	for _, c := range f.rec.Calls() {
		got = append(got, filepath.Base(c.path))
	}
	if !slices.Equal(got, names) {
		t.Fatalf("handled in order %v, want oldest first %v", got, names)
	}
	if f.rec.overlaps != 0 {
		t.Fatalf("%d overlapping handler calls", f.rec.overlaps)
	}
}

// TestDrain: a one-off run handles every file in the inbox at once, oldest
// first, without waiting for it to settle, and files it as a scan does;
// names the watcher ignores stay, and a second Drain finds nothing.
func TestDrain(t *testing.T) {
	f := newFixture(t)
	names := []string{"c.txt", "a.txt", "b.txt"}
	for i, name := range names {
		path := filepath.Join(f.dir, name)
		writeFile(t, path, name)
		mt := start.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(path, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(f.dir, "d.txt.part"), "still being written")
	f.rec.answer("b.txt", inbox.Result{Rejected: true, Reason: "not an order report"})
	n, err := f.w.Drain(context.Background()) // the clock does not move: nothing has settled
	if err != nil || n != 3 {
		t.Fatalf("Drain = %d, %v; want 3 filed", n, err)
	}
	var got []string
	for _, c := range f.rec.Calls() {
		got = append(got, filepath.Base(c.path))
	}
	if !slices.Equal(got, names) {
		t.Fatalf("handled in order %v, want oldest first %v", got, names)
	}
	assertContents(t, f.dir, map[string]string{"d.txt.part": "still being written"})
	assertContents(t, f.processed, map[string]string{"c.txt": "c.txt", "a.txt": "a.txt"})
	assertContents(t, f.rejected, map[string]string{"b.txt": "b.txt", "b.txt.error.txt": "reason: not an order report\n"})
	if n, err := f.w.Drain(context.Background()); err != nil || n != 0 {
		t.Fatalf("second Drain = %d, %v; want nothing", n, err)
	}
}

func TestScanMoveFailureRetriesOnlyTheMove(t *testing.T) {
	f := newFixture(t)
	f.rec.answer("orders.txt", inbox.Result{Report: "orders.txt:2:1: bad date"})
	fail := true
	inbox.SetRename(f.w, func(oldpath, newpath string) error {
		if fail {
			fail = false
			return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: syscall.EACCES}
		}
		return os.Rename(oldpath, newpath)
	})
	writeFile(t, filepath.Join(f.dir, "orders.txt"), "rows")
	f.scan(t, 0)
	f.clock.Advance(settle)
	n, err := f.w.Scan(context.Background())
	if n != 0 || !errors.Is(err, syscall.EACCES) {
		t.Fatalf("Scan = %d, %v; want 0 and the rename error", n, err)
	}
	assertContents(t, f.processed, map[string]string{}) // no orphan report
	if n := f.scan(t, settle); n != 1 {
		t.Fatalf("second Scan filed %d, want 1", n)
	}
	if n := len(f.rec.Calls()); n != 1 {
		t.Fatalf("handler called %d times, want 1", n)
	}
	assertContents(t, f.processed, map[string]string{
		"orders.txt":            "rows",
		"orders.txt.report.txt": "orders.txt:2:1: bad date\n",
	})
}

func TestScanCrossDeviceMove(t *testing.T) {
	f := newFixture(t)
	inbox.SetRename(f.w, func(oldpath, newpath string) error {
		if filepath.Dir(oldpath) == f.dir {
			return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: syscall.EXDEV}
		}
		return os.Rename(oldpath, newpath)
	})
	path := filepath.Join(f.dir, "orders.txt")
	writeFile(t, path, "rows")
	mt := start.Add(-time.Hour)
	if err := os.Chtimes(path, mt, mt); err != nil {
		t.Fatal(err)
	}
	f.scan(t, 0)
	if n := f.scan(t, settle); n != 1 {
		t.Fatalf("Scan filed %d, want 1", n)
	}
	assertContents(t, f.dir, map[string]string{})
	assertContents(t, f.processed, map[string]string{"orders.txt": "rows"})
	fi, err := os.Stat(filepath.Join(f.processed, "orders.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !fi.ModTime().Equal(mt) || fi.Mode().Perm() != 0o640 {
		t.Fatalf("copy has mtime %v mode %v, want %v and 0640", fi.ModTime(), fi.Mode(), mt)
	}
}

func TestScanCancelled(t *testing.T) {
	f := newFixture(t)
	writeFile(t, filepath.Join(f.dir, "orders.txt"), "rows")
	f.scan(t, 0)
	f.clock.Advance(settle)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err := f.w.Scan(ctx)
	if n != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("Scan = %d, %v; want 0, context.Canceled", n, err)
	}
	if len(f.rec.Calls()) != 0 {
		t.Fatal("handler called after cancel")
	}
	assertContents(t, f.dir, map[string]string{"orders.txt": "rows"})
}

func TestScanOnScan(t *testing.T) {
	var got []int
	f := newFixture(t, func(w *inbox.Watcher) { w.OnScan = func(n int) { got = append(got, n) } })
	writeFile(t, filepath.Join(f.dir, "a.txt"), "a")
	writeFile(t, filepath.Join(f.dir, "b.txt"), "b")
	f.scan(t, 0)
	f.scan(t, settle)
	if !slices.Equal(got, []int{0, 2}) {
		t.Fatalf("OnScan got %v, want [0 2]", got)
	}
}

func TestOpen(t *testing.T) {
	handle := func(context.Context, string) inbox.Result { return inbox.Result{} }
	tests := []struct {
		name    string
		edit    func(w *inbox.Watcher)
		wantErr string // "" = valid
	}{
		{"valid", func(w *inbox.Watcher) {}, ""},
		{"no dir", func(w *inbox.Watcher) { w.Dir = "" }, "dir is empty"},
		{"no processed dir", func(w *inbox.Watcher) { w.ProcessedDir = "" }, "processed dir is empty"},
		{"no rejected dir", func(w *inbox.Watcher) { w.RejectedDir = "" }, "rejected dir is empty"},
		{"processed is inbox", func(w *inbox.Watcher) { w.ProcessedDir = w.Dir + "/." }, "is also the dir"},
		{"no handler", func(w *inbox.Watcher) { w.Handle = nil }, "handler is nil"},
		{"negative settle", func(w *inbox.Watcher) { w.Settle = -1 }, "settle"},
		{"negative rescan", func(w *inbox.Watcher) { w.Rescan = -1 }, "rescan"},
		{"negative attempts", func(w *inbox.Watcher) { w.MaxAttempts = -1 }, "max attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			w := &inbox.Watcher{
				Dir:          filepath.Join(root, "var", "inbox"),
				ProcessedDir: filepath.Join(root, "var", "processed"),
				RejectedDir:  filepath.Join(root, "var", "rejected"),
				Handle:       handle,
			}
			tt.edit(w)
			err := w.Open()
			if tt.wantErr != "" {
				if !errors.Is(err, inbox.ErrInvalidConfig) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Open = %v, want ErrInvalidConfig mentioning %q", err, tt.wantErr)
				}
				if _, err := os.Stat(filepath.Join(root, "var")); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("invalid config created directories: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			for _, d := range []string{w.Dir, w.ProcessedDir, w.RejectedDir} {
				fi, err := os.Stat(d)
				if err != nil || !fi.IsDir() {
					t.Fatalf("%s not created: %v", d, err)
				}
			}
			if w.Settle != inbox.DefaultSettle || w.Rescan != inbox.DefaultRescan ||
				w.MaxAttempts != inbox.DefaultMaxAttempts || w.Now == nil || w.Logger == nil {
				t.Fatalf("defaults not applied: settle %v rescan %v attempts %d", w.Settle, w.Rescan, w.MaxAttempts)
			}
		})
	}
}

func TestNotOpen(t *testing.T) {
	w := &inbox.Watcher{}
	if _, err := w.Scan(context.Background()); !errors.Is(err, inbox.ErrNotOpen) {
		t.Errorf("Scan = %v, want ErrNotOpen", err)
	}
	if _, err := w.Process(context.Background(), "x"); !errors.Is(err, inbox.ErrNotOpen) {
		t.Errorf("Process = %v, want ErrNotOpen", err)
	}
	if _, err := w.Drain(context.Background()); !errors.Is(err, inbox.ErrNotOpen) {
		t.Errorf("Drain = %v, want ErrNotOpen", err)
	}
	if err := w.Run(context.Background()); !errors.Is(err, inbox.ErrNotOpen) {
		t.Errorf("Run = %v, want ErrNotOpen", err)
	}
}

func TestScanFileChangedWhileHandled(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(f.dir, "orders.txt")
	var seen []string
	f.w.Handle = func(ctx context.Context, p string) inbox.Result {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("read: %v", err)
		}
		seen = append(seen, string(b))
		if len(seen) == 1 { // the writer resumes while we read
			fh, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			if _, err := fh.WriteString(" and the rest"); err != nil {
				t.Fatal(err)
			}
		}
		return inbox.Result{Rejected: true, Reason: "truncated row"}
	}
	writeFile(t, path, "first half")
	f.scan(t, 0)
	if n := f.scan(t, settle); n != 0 {
		t.Fatalf("Scan filed a file that changed while handled")
	}
	assertContents(t, f.dir, map[string]string{"orders.txt": "first half and the rest"})
	if n := f.scan(t, time.Millisecond); n != 0 {
		t.Fatalf("Scan filed the changed file before it settled again")
	}
	if n := f.scan(t, settle); n != 1 {
		t.Fatalf("Scan filed %d, want 1", n)
	}
	if !slices.Equal(seen, []string{"first half", "first half and the rest"}) {
		t.Fatalf("handler saw %q", seen)
	}
	assertContents(t, f.rejected, map[string]string{
		"orders.txt":           "first half and the rest",
		"orders.txt.error.txt": "reason: truncated row\n",
	})
}
