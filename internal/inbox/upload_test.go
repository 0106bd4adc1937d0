package inbox_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"campaignd/internal/inbox"
)

// report is a tab-separated report of header and rows from..to-1, as the
// tests' uploads write it.
func report(header bool, from, to int) string {
	var b strings.Builder
	if header {
		b.WriteString("amazon-order-id\tpurchase-date\n")
	}
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "111-0000000-%07d\t2026-11-01T10:00:00Z\n", i)
	}
	return b.String()
}

// hashingHandler reads the file whole, as campaignd's ingest does, and
// says which bytes it read.
func hashingHandler(seen *[]string) inbox.Handler {
	return func(ctx context.Context, path string) inbox.Result {
		b, err := os.ReadFile(path)
		if err != nil {
			return inbox.Result{Retry: true, Reason: err.Error()}
		}
		*seen = append(*seen, string(b))
		sum := sha256.Sum256(b)
		return inbox.Result{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(b))}
	}
}

// withLog sends the watcher's log to buf.
func withLog(buf *bytes.Buffer) func(*inbox.Watcher) {
	return func(w *inbox.Watcher) { w.Logger = slog.New(slog.NewTextHandler(buf, nil)) }
}

// TestUploadNamesIgnored: the names uploaders, browsers, sync tools and
// editors give a file while they write it are never read, never pending,
// and never listed as skipped entries; nor are Windows' and Office's own
// files.
func TestUploadNamesIgnored(t *testing.T) {
	names := []string{
		"report.txt.filepart", "report.txt.FILEPART", "report.txt.crdownload", "report.txt.part", "report.txt.partial",
		"report.txt.opdownload", "report.txt.incomplete", "report.txt.crswap", "report.txt.tmp", "report.txt.temp",
		"report.txt.!sync", "report.txt.ffs_tmp", ".report.txt.swp", ".report.txt.XyZ123", "~$report.xlsx",
		"report.txt~", "#report.txt#", "Thumbs.db", "desktop.ini",
	}
	f := newFixture(t)
	for _, n := range names {
		writeFile(t, filepath.Join(f.dir, n), report(true, 0, 4))
	}
	if err := os.Mkdir(filepath.Join(f.dir, "report.txt.download"), 0o750); err != nil { // Safari
		t.Fatal(err)
	}
	for range 3 {
		if n := f.scan(t, settle); n != 0 {
			t.Fatalf("Scan filed %d, want 0", n)
		}
	}
	if calls := f.rec.Calls(); len(calls) != 0 {
		t.Fatalf("handler called for %v", calls)
	}
	if p := f.w.Pending(); len(p) != 0 {
		t.Fatalf("Pending = %v", p)
	}
	if s, err := inbox.Skipped(f.dir); err != nil || len(s) != 0 {
		t.Fatalf("Skipped = %v, %v; want none", s, err)
	}
	for _, n := range append(names, "report.txt") {
		if want := n != "report.txt"; inbox.Ignored(n) != want {
			t.Errorf("Ignored(%q) = %v, want %v", n, !want, want)
		}
	}
}

// TestWinSCPFilepart: WinSCP uploads report.txt as report.txt.filepart and
// renames it when done; the part is never read, however long it holds
// still, and the whole file is read once renamed and settled.
func TestWinSCPFilepart(t *testing.T) {
	var seen []string
	f := newFixture(t, func(w *inbox.Watcher) { w.Handle = hashingHandler(&seen) })
	part := filepath.Join(f.dir, "report.txt.filepart")
	up, err := os.OpenFile(part, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	if _, err := up.WriteString(report(true, 0, 4)); err != nil { // 10:15:00
		t.Fatal(err)
	}
	for _, d := range []time.Duration{0, settle, time.Minute, time.Hour} { // 10:15:00 … 11:16:02: the upload stalls
		if n := f.scan(t, d); n != 0 || len(seen) != 0 {
			t.Fatalf("at %s: the part was read (%d filed, %d reads)", f.clock.Now().Format(time.TimeOnly), n, len(seen))
		}
	}
	if _, err := up.WriteString(report(false, 4, 40)); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(part, filepath.Join(f.dir, "report.txt")); err != nil {
		t.Fatal(err)
	}
	if n := f.scan(t, time.Second); n != 0 { // 11:16:03: first sight
		t.Fatalf("read at first sight")
	}
	if n := f.scan(t, settle); n != 1 { // 11:16:05: settled
		t.Fatalf("filed %d at 11:16:05, want 1", n)
	}
	whole := report(true, 0, 40)
	if !slices.Equal(seen, []string{whole}) {
		t.Fatalf("the handler read %d times, want once the whole file: %q", len(seen), seen)
	}
	assertContents(t, f.processed, map[string]string{"report.txt": whole})
}

// TestPausedUpload: an upload that pauses longer than Settle is read at 20
// rows of 40 and filed; when the uploader, still holding the file open,
// writes the rest into processed/, the file is moved back into the inbox,
// the log says so, and it is read again whole once it settles.
func TestPausedUpload(t *testing.T) {
	var seen []string
	var log bytes.Buffer
	f := newFixture(t, func(w *inbox.Watcher) { w.Handle = hashingHandler(&seen) }, withLog(&log))
	up, err := os.OpenFile(filepath.Join(f.dir, "report.txt"), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	half := report(true, 0, 20)
	if _, err := up.WriteString(half); err != nil { // 10:15:00, then the upload pauses
		t.Fatal(err)
	}
	if n := f.scan(t, 0); n != 0 {
		t.Fatal("read at first sight")
	}
	if n := f.scan(t, settle); n != 1 { // 10:15:02: it looks finished
		t.Fatalf("filed %d at 10:15:02, want 1", n)
	}
	assertContents(t, f.processed, map[string]string{"report.txt": half})

	if _, err := up.WriteString(report(false, 20, 40)); err != nil { // the upload resumes, into processed/
		t.Fatal(err)
	}
	if err := up.Close(); err != nil {
		t.Fatal(err)
	}
	whole := report(true, 0, 40)
	if n := f.scan(t, time.Second); n != 0 { // 10:15:03
		t.Fatalf("filed %d at 10:15:03, want 0: the file settles again first", n)
	}
	assertContents(t, f.dir, map[string]string{"report.txt": whole})
	assertContents(t, f.processed, map[string]string{})
	want := fmt.Sprintf(`level=WARN msg="inbox file changed after it was filed, reading it again whole" file=report.txt dest=%s read_bytes=%d bytes=%d filed_at=2026-11-26T10:15:02Z`,
		filepath.Join(f.processed, "report.txt"), len(half), len(whole))
	if !strings.Contains(log.String(), want) {
		t.Fatalf("the log does not say it:\n%s\nwant:\n%s", log.String(), want)
	}
	if n := f.scan(t, settle); n != 1 { // 10:15:05
		t.Fatalf("filed %d at 10:15:05, want 1", n)
	}
	if !slices.Equal(seen, []string{half, whole}) {
		t.Fatalf("the handler read %q, want the half, then the whole", seen)
	}
	assertContents(t, f.processed, map[string]string{"report.txt": whole})
	if n := f.scan(t, time.Hour); n != 0 || len(seen) != 2 {
		t.Fatalf("the whole file was read again (%d filed, %d reads)", n, len(seen))
	}
}

// TestChangedWithinMtimeGranularity: a file rewritten while it was read,
// to the same size and (on a file system with a coarse clock) the same
// mtime, is told apart by the hash of what the handler read, and read
// again whole.
func TestChangedWithinMtimeGranularity(t *testing.T) {
	var seen []string
	f := newFixture(t)
	path := filepath.Join(f.dir, "report.txt")
	read := hashingHandler(&seen)
	f.w.Handle = func(ctx context.Context, p string) inbox.Result {
		res := read(ctx, p)
		if len(seen) == 1 {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, p, strings.ToUpper(seen[0]))
			if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
				t.Fatal(err)
			}
		}
		return res
	}
	writeFile(t, path, "abcd")
	f.scan(t, 0)
	if n := f.scan(t, settle); n != 0 {
		t.Fatal("filed a file whose bytes changed while it was read")
	}
	if n := f.scan(t, settle); n != 1 {
		t.Fatalf("filed %d once settled again, want 1", n)
	}
	if !slices.Equal(seen, []string{"abcd", "ABCD"}) {
		t.Fatalf("the handler read %q", seen)
	}
	assertContents(t, f.processed, map[string]string{"report.txt": "ABCD"})
}

// TestLongerCopyReported: a file that comes again under a name filed
// before, longer and beginning with exactly the bytes read then (the whole
// report uploaded again), is read whole, and the log says the earlier one
// was cut short; a different file of the same name is not reported.
func TestLongerCopyReported(t *testing.T) {
	var seen []string
	var log bytes.Buffer
	f := newFixture(t, func(w *inbox.Watcher) { w.Handle = hashingHandler(&seen) }, withLog(&log))
	path := filepath.Join(f.dir, "report.txt")
	half, whole := report(true, 0, 20), report(true, 0, 40)
	writeFile(t, path, half)
	f.scan(t, 0)
	f.scan(t, settle)
	writeFile(t, path, whole)
	f.scan(t, time.Minute)
	if n := f.scan(t, settle); n != 1 {
		t.Fatalf("filed %d, want 1", n)
	}
	if !slices.Equal(seen, []string{half, whole}) {
		t.Fatalf("the handler read %q", seen)
	}
	want := fmt.Sprintf(`level=WARN msg="inbox file begins with a file of its name filed before, which was cut short; reading this one whole" file=report.txt earlier=%s earlier_bytes=%d bytes=%d`,
		filepath.Join(f.processed, "report.txt"), len(half), len(whole))
	if !strings.Contains(log.String(), want) {
		t.Fatalf("the log does not say it:\n%s\nwant:\n%s", log.String(), want)
	}
	assertContents(t, f.processed, map[string]string{"report.txt": half, "report.20261126T101604Z.txt": whole})

	log.Reset()
	writeFile(t, path, report(true, 100, 200)) // tomorrow's report, same name
	f.scan(t, time.Minute)
	if n := f.scan(t, settle); n != 1 || strings.Contains(log.String(), "cut short") {
		t.Fatalf("filed %d; a different file of the same name was reported:\n%s", n, log.String())
	}
}
