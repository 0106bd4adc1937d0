package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"campaignd/internal/config"
	"campaignd/internal/control"
	"campaignd/internal/inbox"
	"campaignd/internal/ledger"
	"campaignd/internal/orders"
	"campaignd/internal/scheduler"
)

const ingestAbout = `Ingest order or return reports now, through the same code as the watched
folder. campaignd reads each FILE (opened by this command, with your rights,
so it may be anywhere) and keeps its own copy: in processed/ (with a
.report.txt when rows were rejected) or rejected/ (with a .error.txt). Your
FILE stays where it is, unless --move is given: then it is removed once it
was ingested. Prints a summary per file and every rejected row with its
line number. Exit 0 when every file was taken (even with rejected rows), 1
when any file was rejected whole or could not be read.`

func cmdIngest(ctx context.Context, a *app, args []string) error {
	fs := newFlags("ingest", "FILE...", ingestAbout, a)
	cfgPath := a.configFlag(fs)
	move := fs.Bool("move", false, "remove each FILE once it was ingested (campaignd keeps its own copy in processed/)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("ingest needs at least one FILE")
	}
	if a.daemon != nil {
		return a.ingestForClient(ctx, fs.Args())
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	reports, err := openReports(fs.Args())
	defer closeReports(reports)
	if err != nil {
		return err
	}
	return a.ingestReports(ctx, cfg, reports, *move)
}

// ingestReports hands each report to the daemon as an open descriptor, or
// ingests what is left itself when no daemon answers.
func (a *app) ingestReports(ctx context.Context, cfg *config.Config, reports []report, move bool) error {
	problem := false
	for i, r := range reports {
		resp, err := client(cfg).Call(ctx, []string{"ingest", "--", r.name}, r.f)
		if errors.Is(err, control.ErrNoDaemon) {
			return a.ingestLocal(ctx, cfg, reports[i:], move, problem)
		}
		if err != nil {
			return err
		}
		fmt.Fprint(a.stdout, resp.Stdout)
		fmt.Fprint(a.stderr, resp.Stderr)
		problem = problem || resp.Code != exitOK
		if resp.Code == exitOK && move {
			problem = !a.removeIngested(r) || problem
		}
	}
	if problem {
		return silent(exitProblem)
	}
	return nil
}

// report is a FILE argument of ingest, opened with the caller's rights.
type report struct {
	name string      // as given
	f    *os.File    // open for reading
	info os.FileInfo // when it was opened
}

// openReports opens every FILE, or returns a usage error naming the first
// that is missing or not a regular file.
func openReports(names []string) ([]report, error) {
	var out []report
	for _, n := range names {
		if fi, err := os.Stat(n); err != nil {
			return out, usagef("%v", err)
		} else if !fi.Mode().IsRegular() {
			return out, usagef("%s is not a regular file", n)
		}
		// O_NONBLOCK: a name swapped for a pipe since must not hang the open.
		f, err := os.OpenFile(n, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			return out, usagef("%v", err)
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return out, usagef("%v", err)
		}
		out = append(out, report{name: n, f: f, info: fi})
		if !fi.Mode().IsRegular() {
			return out, usagef("%s is not a regular file", n)
		}
	}
	return out, nil
}

func closeReports(rs []report) {
	for _, r := range rs {
		r.f.Close()
	}
}

// removeIngested removes a FILE given with --move, once it was ingested:
// only when the name still holds the very file that was read, unchanged
// since (a file still being written, or replaced since, is kept). It says
// why when it keeps the file.
func (a *app) removeIngested(r report) bool {
	now, err := os.Lstat(r.name)
	switch {
	case err != nil:
		fmt.Fprintf(a.stdout, "%s: not removed: %v\n", clean(r.name), err)
	case !now.Mode().IsRegular():
		fmt.Fprintf(a.stdout, "%s: not removed: it is not a regular file (a link?); campaignd keeps its copy in processed/\n", clean(r.name))
	case !os.SameFile(now, r.info) || now.Size() != r.info.Size() || !now.ModTime().Equal(r.info.ModTime()):
		fmt.Fprintf(a.stdout, "%s: not removed: it changed after it was read; ingest it again\n", clean(r.name))
	default:
		if err := os.Remove(r.name); err != nil {
			fmt.Fprintf(a.stdout, "%s: not removed: %v\n", clean(r.name), err)
			return false
		}
		return true
	}
	return false
}

// ingestLocal ingests the reports without a daemon: this process opens the
// ledger and files its copies in processed/ or rejected/ itself.
func (a *app) ingestLocal(ctx context.Context, cfg *config.Config, reports []report, move, problem bool) error {
	setup, done, err := a.prepare(cfg)
	if err != nil {
		return err
	}
	defer done()
	err = a.withLedger(cfg, false, func(l *ledger.Ledger) error {
		in, err := newInbox(cfg, scheduler.NewEngine(l, setup, nil), nil, a.clock, 0)
		if err != nil {
			return err
		}
		for _, r := range reports {
			taken := ingestOne(ctx, a.stdout, in, r.f, r.name)
			if taken && move {
				taken = a.removeIngested(r)
			}
			problem = problem || !taken
		}
		return nil
	})
	if err != nil {
		return err
	}
	if problem {
		return silent(exitProblem)
	}
	return nil
}

// ingestForClient ingests, inside the daemon, the files a client passed as
// descriptors; names are only their labels. The daemon never opens a path
// for a client.
func (a *app) ingestForClient(ctx context.Context, names []string) error {
	if len(a.files) != len(names) {
		return usagef("ingest on the control socket takes each FILE as an open descriptor (%d names, %d descriptors): the daemon never opens a path for a client", len(names), len(a.files))
	}
	problem := false
	for i, f := range a.files {
		if !ingestOne(ctx, a.stdout, a.daemon.inbox, f, names[i]) {
			problem = true
		}
	}
	if problem {
		return silent(exitProblem)
	}
	return nil
}

// ingestOne ingests one report from f, filing a copy under name, and
// prints what happened. It reports whether the file was taken.
func ingestOne(ctx context.Context, out io.Writer, in *inboxFolder, f *os.File, name string) bool {
	r, oc, err := in.importFile(ctx, f, name)
	if err != nil {
		fmt.Fprintf(out, "%s: not ingested, your file is unchanged: %s\n", clean(filepath.Base(name)), clean(err.Error()))
		return false
	}
	printIngest(out, name, r.rep, r.err, oc)
	return !oc.Rejected && !oc.Retried
}

// inboxFolder is the watched folder with its handler: every file, whether
// the watcher found it or `campaignd ingest` named it, goes through the same
// watcher (whose lock keeps the two apart), and the handler's ingest report
// comes back with the outcome (inbox.Result.Detail).
type inboxFolder struct {
	watcher *inbox.Watcher
	engine  *scheduler.Engine
	now     func() time.Time
	log     *slog.Logger
}

// ingested is what the handler learned of one file: its ingest report, or
// why it could not be read now.
type ingested struct {
	rep scheduler.IngestReport
	err error
}

// newInbox opens the watched folder of cfg with its handler. retry is the
// first wait before a file that could not be read now is tried again (zero:
// the inbox's default).
func newInbox(cfg *config.Config, eng *scheduler.Engine, log *slog.Logger, now func() time.Time, retry time.Duration) (*inboxFolder, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	in := &inboxFolder{engine: eng, now: now, log: log}
	w := &inbox.Watcher{
		Dir: cfg.Inbox.Dir, ProcessedDir: cfg.Inbox.ProcessedDir, RejectedDir: cfg.Inbox.RejectedDir,
		Settle: cfg.Inbox.Settle.Duration, Rescan: cfg.Inbox.Rescan.Duration, RetryBackoff: retry,
		Handle: in.handle, Now: now, Logger: log,
	}
	if err := w.Open(); err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	in.watcher = w
	return in, nil
}

// handle is the watcher's handler: ingest at the clock, log, and tell the
// watcher what to do with the file, the report attached.
func (in *inboxFolder) handle(ctx context.Context, path string) inbox.Result {
	rep, err := in.engine.Ingest(ctx, path, in.now().UTC())
	name := filepath.Base(path)
	switch {
	case err != nil:
		in.log.Warn("cannot ingest file now; will retry", "file", name, keyErr, err.Error())
	case rep.Rejected:
		// logged where it is filed (inbox file rejected), as a warning
	default:
		in.log.Info("file ingested", "file", name, "kind", string(rep.Summary.Kind),
			"rows", rep.Summary.Rows, "new", rep.Stats.New, "updated", rep.Stats.Updated,
			"rejected_rows", rep.Summary.RejectedCount, "duplicate", rep.Duplicate)
		logHeldWarnings(in.log, name, rep.Held)
	}
	res := inboxResult(rep, err)
	res.Detail = ingested{rep, err}
	res.SHA256, res.Size = rep.Info.SHA256, rep.Info.Size // what was read: the watcher checks the file still holds it
	return res
}

// inboxResult turns an ingest report into what the inbox does with the file.
func inboxResult(r scheduler.IngestReport, err error) inbox.Result {
	switch {
	case err != nil:
		return inbox.Result{Retry: true, Reason: err.Error()}
	case r.Rejected:
		return inbox.Result{Rejected: true, Reason: r.Reason, Report: r.RowReport()}
	case r.Duplicate:
		return inbox.Result{Report: fmt.Sprintf("%s: the same bytes were ingested on %s; nothing changed\n", filepath.Base(r.Path), stamp(r.Previous))}
	default:
		return inbox.Result{Report: r.RowReport()}
	}
}

// importFile copies the report read from f into the inbox's private
// staging area and ingests the copy now; the copy, never f's file, is what
// goes to processed/ or rejected/.
func (in *inboxFolder) importFile(ctx context.Context, f *os.File, name string) (ingested, inbox.Outcome, error) {
	fi, err := f.Stat()
	if err != nil {
		return ingested{}, inbox.Outcome{}, err
	}
	if !fi.Mode().IsRegular() {
		return ingested{}, inbox.Outcome{}, errors.New("not a regular file")
	}
	// Read from the start with pread: the descriptor's offset is the
	// client's, whatever it is.
	path, cleanup, err := in.watcher.Stage(ctx, io.NewSectionReader(f, 0, math.MaxInt64), name)
	if err != nil {
		return ingested{}, inbox.Outcome{}, err
	}
	defer cleanup()
	oc, err := in.watcher.Process(ctx, path)
	got, _ := oc.Result.Detail.(ingested) // none when the handler crashed
	return got, oc, err
}

// printIngest prints one file's outcome; everything that comes from data
// (names, reasons, rows) is escaped for the terminal.
func printIngest(w io.Writer, f string, rep scheduler.IngestReport, repErr error, oc inbox.Outcome) {
	name := clean(filepath.Base(f))
	switch {
	case oc.Retried:
		fmt.Fprintf(w, "%s: could not be ingested now, your file is unchanged (try again): %s\n", name, clean(errOr(repErr, oc.Result.Reason)))
		return
	case rep.Duplicate && !rep.Rejected:
		fmt.Fprintf(w, "%s: the same bytes were ingested on %s; nothing changed -> %s\n", name, stamp(rep.Previous), clean(oc.Path))
		return
	case oc.Rejected:
		fmt.Fprintf(w, "%s: rejected: %s -> %s\n", name, clean(oc.Result.Reason), clean(oc.Path))
		if causes := rep.Summary.RejectedSummary(); len(causes) > 0 {
			for _, c := range causes {
				fmt.Fprintf(w, "  %s\n", clean(c))
			}
			fmt.Fprintf(w, "  every rejected row is listed in %s\n", clean(oc.Path+inbox.ErrorSuffix))
		}
		return
	}
	s := rep.Summary
	fmt.Fprintf(w, "%s: %s, %s, %s-separated; %s, %s (%d new, %d updated, %d unchanged, %d already final); %s rejected -> %s\n",
		name, orders.Describe(s.Kind), s.Encoding, s.Delimiter, count(s.Rows, "row"), count(s.Groups, "order"),
		rep.Stats.New, rep.Stats.Updated, rep.Stats.Unchanged, rep.Stats.Frozen, count(s.RejectedCount, "row"), clean(oc.Path))
	for _, line := range strings.Split(strings.TrimRight(rep.RowReport(), "\n"), "\n") {
		if line != "" {
			fmt.Fprintf(w, "  %s\n", clean(line))
		}
	}
	for _, hw := range heldWarnings(rep.Held) {
		fmt.Fprintf(w, "  %s\n", clean(hw.Text))
	}
}

func errOr(err error, s string) string {
	if err != nil && !errors.Is(err, context.Canceled) {
		return err.Error()
	}
	return s
}

// count writes "1 row", "2 rows".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
