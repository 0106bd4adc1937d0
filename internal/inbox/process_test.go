package inbox_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"campaignd/internal/inbox"
)

func TestProcess(t *testing.T) {
	tests := []struct {
		name          string
		result        inbox.Result
		wantPath      func(f *fixture) string
		wantStays     bool
		wantProcessed map[string]string
		wantRejected  map[string]string
	}{
		{
			name:          "accepted with report",
			result:        inbox.Result{Report: "orders.txt:4:2: bad date", Detail: "the handler's own report"},
			wantPath:      func(f *fixture) string { return filepath.Join(f.processed, "orders.txt") },
			wantProcessed: map[string]string{"orders.txt": "rows", "orders.txt.report.txt": "orders.txt:4:2: bad date\n"},
			wantRejected:  map[string]string{},
		},
		{
			name:          "rejected",
			result:        inbox.Result{Rejected: true, Reason: "not an order report", Detail: "the handler's own report"},
			wantPath:      func(f *fixture) string { return filepath.Join(f.rejected, "orders.txt") },
			wantProcessed: map[string]string{},
			wantRejected:  map[string]string{"orders.txt": "rows", "orders.txt.error.txt": "reason: not an order report\n"},
		},
		{
			name:          "retry",
			result:        inbox.Result{Retry: true, Reason: "ledger busy", Detail: "the handler's own report"},
			wantPath:      func(f *fixture) string { return "" },
			wantStays:     true,
			wantProcessed: map[string]string{},
			wantRejected:  map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.rec.answer("orders.txt", tt.result)
			outside := t.TempDir()
			src := filepath.Join(outside, "orders.txt")
			writeFile(t, src, "rows")

			out, err := f.w.Process(context.Background(), src)
			if err != nil {
				t.Fatalf("Process: %v", err)
			}
			want := inbox.Outcome{
				Path:     tt.wantPath(f),
				Rejected: tt.result.Rejected && !tt.result.Retry,
				Retried:  tt.result.Retry,
				Result:   tt.result,
			}
			if out != want { // Result.Detail included: the caller gets its handler's own report back
				t.Fatalf("Outcome = %+v, want %+v", out, want)
			}
			calls := f.rec.Calls()
			if len(calls) != 1 || calls[0].path != src || calls[0].content != "rows" {
				t.Fatalf("calls = %+v, want one of %s", calls, src)
			}
			if tt.wantStays {
				assertContents(t, outside, map[string]string{"orders.txt": "rows"})
			} else {
				assertContents(t, outside, map[string]string{})
			}
			assertContents(t, f.processed, tt.wantProcessed)
			assertContents(t, f.rejected, tt.wantRejected)
		})
	}
}

func TestProcessSameNameAsEarlierFile(t *testing.T) {
	f := newFixture(t)
	outside := t.TempDir()
	src := filepath.Join(outside, "orders.txt")
	var got []string
	for _, content := range []string{"one", "two"} {
		writeFile(t, src, content)
		out, err := f.w.Process(context.Background(), src)
		if err != nil {
			t.Fatalf("Process: %v", err)
		}
		got = append(got, filepath.Base(out.Path))
	}
	if got[0] != "orders.txt" || got[1] != "orders.20261126T101500Z.txt" {
		t.Fatalf("filed as %v", got)
	}
	assertContents(t, f.processed, map[string]string{"orders.txt": "one", "orders.20261126T101500Z.txt": "two"})
}

func TestProcessBadPath(t *testing.T) {
	tests := []struct {
		name    string
		path    func(t *testing.T) string
		wantErr error
	}{
		{"missing", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope.txt") }, fs.ErrNotExist},
		{"directory", func(t *testing.T) string { return t.TempDir() }, inbox.ErrNotRegular},
		{"symlink", func(t *testing.T) string {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "target.txt"), "rows")
			link := filepath.Join(dir, "link.txt")
			if err := os.Symlink("target.txt", link); err != nil {
				t.Fatal(err)
			}
			return link
		}, inbox.ErrNotRegular},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			out, err := f.w.Process(context.Background(), tt.path(t))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Process error = %v, want %v", err, tt.wantErr)
			}
			if out != (inbox.Outcome{}) {
				t.Fatalf("Outcome = %+v, want zero", out)
			}
			if len(f.rec.Calls()) != 0 {
				t.Fatal("handler called")
			}
		})
	}
}

func TestProcessFileInInbox(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(f.dir, "orders.txt")
	writeFile(t, path, "rows")
	f.scan(t, 0) // seen, pending
	out, err := f.w.Process(context.Background(), path)
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	if want := filepath.Join(f.processed, "orders.txt"); out.Path != want {
		t.Fatalf("Path = %q, want %q", out.Path, want)
	}
	if p := f.w.Pending(); len(p) != 0 {
		t.Fatalf("Pending = %v after Process filed it", p)
	}
	if n := f.scan(t, settle); n != 0 {
		t.Fatalf("Scan filed %d after Process", n)
	}
	if n := len(f.rec.Calls()); n != 1 {
		t.Fatalf("handler called %d times, want 1", n)
	}
	assertContents(t, f.processed, map[string]string{"orders.txt": "rows"})
}
