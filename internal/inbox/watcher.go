package inbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults applied by Open to zero fields.
const (
	DefaultSettle       = 2 * time.Second
	DefaultRescan       = time.Minute
	DefaultMaxAttempts  = 5
	DefaultRetryBackoff = 250 * time.Millisecond
	DefaultMaxBackoff   = 5 * time.Minute
)

// Suffixes of the files written next to a filed file. Files with these
// names are never candidates, in case they end up in the inbox.
const (
	ReportSuffix = ".report.txt"
	ErrorSuffix  = ".error.txt"
)

// Log attribute keys.
const (
	keyFile     = "file"
	keyDest     = "dest"
	keyAttempt  = "attempt"
	keyError    = "err"
	keyRejected = "rejected"
	keyReason   = "reason"
	keyRetryAt  = "retry_at"
)

// Result is what a Handler decided about one file.
type Result struct {
	Rejected bool   // reject the whole file
	Reason   string // why rejected (or why retry)
	Report   string // rejected-row report text (file:line:column: reason lines), may be empty
	// Retry means the file could not be handled now for a reason that is
	// not the file's (a full disk, an I/O error, a busy ledger): it stays in
	// the inbox and is tried again with backoff, and is never rejected for
	// it. Retry wins over Rejected.
	Retry bool
	// Detail is the handler's own account of the file (campaignd's ingest
	// report): the watcher does not look at it, and Process hands it back
	// to its caller in Outcome.Result.
	Detail any
	// SHA256 (hex) and Size, when the handler sets them, are those of
	// exactly the bytes it read. Before the file is filed the watcher
	// checks that it still holds them, as well as the size and mtime it
	// settled at, and reads it again whole when it does not.
	SHA256 string
	Size   int64
}

// Handler reads the file at path and records what it holds. It must not
// move or delete the file, and should close it before returning. A Watcher
// never calls its Handler concurrently.
type Handler func(ctx context.Context, path string) Result

// Outcome is what Process did with one file.
type Outcome struct {
	Path     string // where the file went (processed/... or rejected/...); "" if it stayed (Retry)
	Rejected bool
	Retried  bool
	Result   Result
}

// Watcher watches Dir and files what it handles into ProcessedDir or
// RejectedDir. Set the exported fields, then call Open. A Watcher must not
// be copied after Open.
type Watcher struct {
	Dir, ProcessedDir, RejectedDir string

	Settle       time.Duration // how long size and mtime must hold still; default 2s
	Rescan       time.Duration // periodic rescan in Run; default 1m
	MaxAttempts  int           // handler crashes on the same content before the file is rejected; default 5
	RetryBackoff time.Duration // wait after a first failure, doubled after each further one; default 250ms
	MaxBackoff   time.Duration // longest wait between two tries; default 5m

	Handle Handler
	Logger *slog.Logger     // may be nil -> discard; logs file names, never contents
	Now    func() time.Time // default time.Now

	// OnScan, if set, is called after each scan finishes with the number
	// of files filed by that scan (tests follow the watcher with it).
	OnScan func(handled int)
	// OnFiled, if set, is called with each file filed (by Scan, Drain or
	// Process) and its Handler's Result (the daemon's metrics). It must
	// not block. Set it before Run.
	OnFiled func(name string, res Result)

	// rename moves a file; nil means os.Rename. Tests replace it.
	rename func(oldpath, newpath string) error

	opened  bool
	runMu   sync.Mutex // serializes handling: one file at a time
	mu      sync.Mutex // guards seen and skipped
	seen    map[string]*entry
	skipped map[string]bool // entries already logged as skipped
	filed   []*filedFile    // files filed lately, newest last; guarded by runMu
}

// entry is what the watcher remembers about a candidate in Dir.
type entry struct {
	size      int64
	mtime     time.Time
	firstSeen time.Time // first observation of this size and mtime
	crashes   int       // handler panics on this size and mtime
	failures  int       // tries that failed, in a row (crashes included)
	retryAt   time.Time // not tried again before
	reason    string    // why the last try failed
	done      *Result   // handled, but filing it failed: only the move is left
}

// failing reports whether the file waits for a retry.
func (e *entry) failing() bool { return e.failures > 0 || e.done != nil }

// Open validates the fields, applies defaults and creates the three
// directories (0750) if they are missing.
func (w *Watcher) Open() error {
	if err := w.validate(); err != nil {
		return err
	}
	w.setDefaults()
	for _, d := range w.dirs() {
		if err := os.MkdirAll(d.path, 0o750); err != nil {
			return fmt.Errorf("create %s: %w", d.name, err)
		}
		fi, err := os.Stat(d.path)
		if err != nil {
			return fmt.Errorf("stat %s: %w", d.name, err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("%w: %s %q is not a directory", ErrInvalidConfig, d.name, d.path)
		}
	}
	removeStaleStaging(w.Dir)
	w.mu.Lock()
	if w.seen == nil {
		w.seen = make(map[string]*entry)
		w.skipped = make(map[string]bool)
	}
	w.mu.Unlock()
	w.opened = true
	return nil
}

// namedDir is one of the watcher's directories, named for errors.
type namedDir struct{ name, path string }

func (w *Watcher) dirs() []namedDir {
	return []namedDir{{"dir", w.Dir}, {"processed dir", w.ProcessedDir}, {"rejected dir", w.RejectedDir}}
}

// validate returns every problem with the fields, each wrapping
// ErrInvalidConfig.
func (w *Watcher) validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	abs := map[string]string{}
	for _, d := range w.dirs() {
		if d.path == "" {
			bad("%s is empty", d.name)
			continue
		}
		p, err := filepath.Abs(d.path)
		if err != nil {
			bad("%s %q: %v", d.name, d.path, err)
			continue
		}
		if other, ok := abs[p]; ok {
			bad("%s %q is also the %s", d.name, d.path, other)
			continue
		}
		abs[p] = d.name
	}
	if w.Handle == nil {
		bad("handler is nil")
	}
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"settle", w.Settle}, {"rescan", w.Rescan}, {"retry backoff", w.RetryBackoff}, {"max backoff", w.MaxBackoff}} {
		if f.v < 0 {
			bad("%s %s is negative", f.name, f.v)
		}
	}
	if w.MaxAttempts < 0 {
		bad("max attempts %d is negative", w.MaxAttempts)
	}
	return errors.Join(errs...)
}

// setDefaults fills the zero fields.
func (w *Watcher) setDefaults() {
	w.Settle = cmp.Or(w.Settle, DefaultSettle)
	w.Rescan = cmp.Or(w.Rescan, DefaultRescan)
	w.MaxAttempts = cmp.Or(w.MaxAttempts, DefaultMaxAttempts)
	w.RetryBackoff = cmp.Or(w.RetryBackoff, DefaultRetryBackoff)
	w.MaxBackoff = cmp.Or(w.MaxBackoff, DefaultMaxBackoff)
	if w.Logger == nil {
		w.Logger = slog.New(slog.DiscardHandler)
	}
	if w.Now == nil {
		w.Now = time.Now
	}
}

func (w *Watcher) ready() error {
	if !w.opened {
		return ErrNotOpen
	}
	return nil
}

// Ignored reports whether a file named name in the inbox is never a
// candidate: the names uploaders, browsers and editors give a file while
// they write it (see uploadSuffixes), dot-files, Microsoft Office's owner
// files (~$report.xlsx), editors' backups (report.txt~, #report.txt#),
// Windows' Thumbs.db and desktop.ini, and the report and error files this
// package writes.
func Ignored(name string) bool {
	lower := strings.ToLower(name)
	switch {
	case strings.HasPrefix(name, "."), strings.HasPrefix(name, "~$"), strings.HasSuffix(name, "~"),
		len(name) > 1 && strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#"),
		lower == "thumbs.db", lower == "desktop.ini",
		strings.HasSuffix(lower, ReportSuffix), strings.HasSuffix(lower, ErrorSuffix):
		return true
	}
	for _, suffix := range uploadSuffixes {
		if strings.HasSuffix(lower, suffix) {
			return true
		}
	}
	return false
}

// uploadSuffixes end the names files have while they are written, until
// their writer renames them into place.
var uploadSuffixes = []string{
	".part",       // Firefox, curl -C and many others
	".partial",    // Internet Explorer and the old Edge; rclone
	".filepart",   // WinSCP (SFTP, FTP, SCP)
	".crdownload", // Chrome, Edge, Brave, Vivaldi
	".opdownload", // Opera
	".download",   // Safari (a folder)
	".crswap",     // Chromium browsers saving through the File System Access API
	".incomplete", // SFTPPlus and other transfer servers
	".tmp", ".temp",
	".!sync",   // Resilio Sync
	".ffs_tmp", // FreeFileSync
}

// Scan makes one pass over Dir: it observes every candidate, then handles and
// files, one at a time and oldest first, those whose size and mtime have not
// changed since an observation at least Settle before Now. It returns the
// number of files filed (moved to ProcessedDir or RejectedDir). Given the
// same directory and Now, it does the same thing.
//
// Errors about single files do not stop the pass; they are joined into the
// returned error. If ctx is cancelled, Scan stops before the next file.
func (w *Watcher) Scan(ctx context.Context) (handled int, err error) {
	return w.scanOnce(ctx, false)
}

// Drain is Scan without the wait for files to settle: it handles and files
// every candidate in Dir now, oldest first (a file waiting for a retry
// still waits). It is for a one-off run (`campaignd run --once`), when
// nothing is expected to be writing into the folder.
func (w *Watcher) Drain(ctx context.Context) (handled int, err error) {
	return w.scanOnce(ctx, true)
}

func (w *Watcher) scanOnce(ctx context.Context, all bool) (handled int, err error) {
	if err := w.ready(); err != nil {
		return 0, err
	}
	w.runMu.Lock()
	handled, err = w.scan(ctx, all)
	w.runMu.Unlock()
	if w.OnScan != nil {
		w.OnScan(handled)
	}
	return handled, err
}

// scan observes Dir and handles what is due: stable files, or, with all,
// every candidate.
func (w *Watcher) scan(ctx context.Context, all bool) (int, error) {
	now := w.Now()
	refiled := w.recheckFiled(now)
	ents, err := os.ReadDir(w.Dir)
	if err != nil {
		return 0, fmt.Errorf("read inbox: %w", err)
	}
	stable, errs := w.observe(ents, now, all)
	errs = append(refiled, errs...)
	slices.SortFunc(stable, func(a, b stableFile) int {
		if c := a.mtime.Compare(b.mtime); c != 0 {
			return c
		}
		return cmp.Compare(a.name, b.name)
	})
	handled := 0
	for _, s := range stable {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		filed, err := w.handleInbox(ctx, s.name, now)
		if filed {
			handled++
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return handled, errors.Join(errs...)
}

type stableFile struct {
	name  string
	mtime time.Time
}

// observe records every candidate among ents at now and returns those due
// to be handled: stable for Settle (any, with all), or past their retry
// time. Entries that are not regular files are logged once as skipped.
func (w *Watcher) observe(ents []fs.DirEntry, now time.Time, all bool) ([]stableFile, []error) {
	var errs []error
	var stable []stableFile
	present := make(map[string]bool, len(ents))
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, de := range ents {
		name := de.Name()
		if Ignored(name) {
			continue
		}
		if !de.Type().IsRegular() {
			w.noteSkipped(name, de.Type(), present)
			continue
		}
		fi, err := de.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("stat %s: %w", name, err))
			continue
		}
		present[name] = true
		e := w.seen[name]
		switch {
		case e == nil || e.size != fi.Size() || !e.mtime.Equal(fi.ModTime()):
			w.seen[name] = &entry{size: fi.Size(), mtime: fi.ModTime(), firstSeen: now}
			if all {
				stable = append(stable, stableFile{name, fi.ModTime()})
			}
		case e.failing() && now.Before(e.retryAt):
		case all || e.failing() || now.Sub(e.firstSeen) >= w.Settle:
			stable = append(stable, stableFile{name, fi.ModTime()})
		}
	}
	w.forgetAbsent(present)
	return stable, errs
}

// forgetAbsent forgets the entries no longer in Dir. The caller holds w.mu.
func (w *Watcher) forgetAbsent(present map[string]bool) {
	for name := range w.seen {
		if !present[name] {
			delete(w.seen, name)
		}
	}
	for name := range w.skipped {
		if !present[name] {
			delete(w.skipped, name)
		}
	}
}

// noteSkipped logs, once per entry, that name is not a file campaignd reads.
func (w *Watcher) noteSkipped(name string, mode fs.FileMode, present map[string]bool) {
	present[name] = true
	if w.skipped[name] {
		return
	}
	w.skipped[name] = true
	w.Logger.Warn("inbox entry skipped", keyFile, name, keyReason, SkipReason(mode))
}

// handleInbox handles the stable candidate name and files it. It reports
// whether the file left the inbox.
func (w *Watcher) handleInbox(ctx context.Context, name string, now time.Time) (bool, error) {
	path := filepath.Join(w.Dir, name)
	w.mu.Lock()
	e := w.seen[name]
	w.mu.Unlock()

	// The file may have changed while earlier files were handled.
	if changed, err := w.changedSince(path, e, now); err != nil || changed {
		return false, err
	}

	res := e.done
	if res == nil {
		if !e.failing() {
			w.noteLongerCopy(name, e.size)
		}
		r, ready, err := w.handleStable(ctx, path, e, now)
		if !ready {
			return false, err
		}
		res = &r
	}

	dest, err := w.file(path, name, *res, now)
	if dest == "" {
		w.mu.Lock()
		e.done = res
		w.backoff(e, "filing it failed: "+errString(err), now)
		w.mu.Unlock()
		return false, fmt.Errorf("file %s: %w", name, err)
	}
	w.forget(name)
	w.remember(name, dest, e, *res, now)
	w.logFiled(name, dest, *res)
	if err != nil {
		return true, fmt.Errorf("file %s: %w", name, err)
	}
	return true, nil
}

// logFiled logs where a file went (a rejection as a warning, with why)
// and tells OnFiled.
func (w *Watcher) logFiled(name, dest string, res Result) {
	if w.OnFiled != nil {
		w.OnFiled(name, res)
	}
	if res.Rejected {
		w.Logger.Warn("inbox file rejected", keyFile, name, keyDest, dest, keyReason, res.Reason)
		return
	}
	w.Logger.Info("inbox file filed", keyFile, name, keyDest, dest, keyRejected, false)
}

// handleStable runs the handler on the stable file at path. ready is false
// when the file stays in the inbox for now: it waits for a retry, campaignd
// is shutting down, or it changed while it was handled.
func (w *Watcher) handleStable(ctx context.Context, path string, e *entry, now time.Time) (res Result, ready bool, err error) {
	r, crashed := w.call(ctx, path)
	if r.Retry {
		if ctx.Err() != nil {
			// Shutting down: not the file's fault, not an attempt.
			return r, false, nil
		}
		r, retry := w.failed(e, filepath.Base(path), r, crashed, now)
		return r, !retry, nil
	}
	changed, err := w.changedSince(path, e, w.Now())
	if err == nil && !changed {
		changed, err = w.readOther(path, e, r)
	}
	if err != nil || changed {
		// The writer was not done after all: the handler saw part of the
		// file. Leave it, and handle it again once it is stable.
		w.Logger.Warn("inbox file changed while handled, will handle again", keyFile, filepath.Base(path))
		return r, false, err
	}
	return r, true, nil
}

// readOther reports whether the handler read other bytes than the file
// at path holds now (Result.SHA256 and Size), though its size and mtime
// are those it settled at: a rewrite within the file system's mtime
// granularity. A changed file is observed afresh.
func (w *Watcher) readOther(path string, e *entry, r Result) (bool, error) {
	if r.SHA256 == "" {
		return false, nil
	}
	same, err := holds(path, r.SHA256, r.Size, true)
	if err != nil {
		return false, err
	}
	if same && r.Size == e.size {
		return false, nil
	}
	w.mu.Lock()
	w.seen[filepath.Base(path)] = &entry{size: e.size, mtime: e.mtime, firstSeen: w.Now()}
	w.mu.Unlock()
	return true, nil
}

// path is the path of the entry name of Dir.
func (w *Watcher) path(name string) string { return filepath.Join(w.Dir, name) }

// changedSince reports whether the file at path is gone or no longer has the
// size and mtime recorded in e. A gone file is forgotten; a changed one is
// observed afresh at now.
func (w *Watcher) changedSince(path string, e *entry, now time.Time) (bool, error) {
	name := filepath.Base(path)
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		w.forget(name)
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("stat %s: %w", name, err)
	}
	if fi.Mode().IsRegular() && fi.Size() == e.size && fi.ModTime().Equal(e.mtime) {
		return false, nil
	}
	w.mu.Lock()
	w.seen[name] = &entry{size: fi.Size(), mtime: fi.ModTime(), firstSeen: now}
	w.mu.Unlock()
	return true, nil
}

func (w *Watcher) forget(name string) {
	w.mu.Lock()
	delete(w.seen, name)
	w.mu.Unlock()
}

// call runs the handler; a panic becomes a Retry with crashed set, so a file
// that crashes the parser is rejected after MaxAttempts instead of
// crash-looping the daemon.
func (w *Watcher) call(ctx context.Context, path string) (res Result, crashed bool) {
	defer func() {
		if v := recover(); v != nil {
			w.Logger.Error("inbox handler panicked", keyFile, filepath.Base(path), "stack", string(debug.Stack()))
			res, crashed = Result{Retry: true, Reason: fmt.Sprintf("handler panicked: %v", v)}, true
		}
	}()
	return w.Handle(ctx, path), false
}

// Process handles the file at path now, without waiting for it to settle,
// and files it exactly as the watcher does. The file may live outside Dir.
// On Retry the file stays where it is and Outcome.Retried is set; no attempt
// count is kept.
func (w *Watcher) Process(ctx context.Context, path string) (Outcome, error) {
	if err := w.ready(); err != nil {
		return Outcome{}, err
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return Outcome{}, fmt.Errorf("process: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return Outcome{}, fmt.Errorf("process %s: %w", path, ErrNotRegular)
	}

	w.runMu.Lock()
	defer w.runMu.Unlock()
	res, _ := w.call(ctx, path)
	if res.Retry {
		return Outcome{Retried: true, Result: res}, nil
	}
	name := filepath.Base(path)
	dest, err := w.file(path, name, res, w.Now())
	out := Outcome{Path: dest, Rejected: res.Rejected, Result: res}
	if dest != "" {
		w.logFiled(name, dest, res)
		if sameDir(filepath.Dir(path), w.Dir) {
			w.forget(name)
		}
	}
	if err != nil {
		return out, fmt.Errorf("file %s: %w", name, err)
	}
	return out, nil
}

func sameDir(a, b string) bool {
	a, errA := filepath.Abs(a)
	b, errB := filepath.Abs(b)
	return errA == nil && errB == nil && a == b
}

// Pending returns the paths of candidate files seen in Dir but not handled
// yet because they were not stable at the last scan, sorted.
func (w *Watcher) Pending() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for name, e := range w.seen {
		if !e.failing() {
			out = append(out, filepath.Join(w.Dir, name))
		}
	}
	slices.Sort(out)
	return out
}

// nextSettle returns how long until the earliest pending file can be
// stable, or the earliest failed one is due for its retry.
func (w *Watcher) nextSettle() (time.Duration, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var earliest time.Time
	found := false
	for _, e := range w.seen {
		due := e.firstSeen.Add(w.Settle)
		if e.failing() {
			due = e.retryAt
		}
		if !found || due.Before(earliest) {
			earliest, found = due, true
		}
	}
	if !found {
		return 0, false
	}
	return earliest.Sub(w.Now()), true
}
