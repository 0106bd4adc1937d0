package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"campaignd/internal/config"
	"campaignd/internal/inbox"
	"campaignd/internal/ledger"
	"campaignd/internal/orders"
	"campaignd/internal/scheduler"
)

func cmdIngest(ctx context.Context, a *app, args []string) error {
	fs := newFlags("ingest", "FILE...", "Ingest order or return reports now, through the same code as the watched\nfolder: each file is read into the ledger, then moved to processed/ (with a\n.report.txt when rows were rejected) or rejected/ (with a .error.txt).\nPrints a summary per file and every rejected row with its line number.\nExit 0 when every file was taken (even with rejected rows), 1 when any file\nwas rejected whole or could not be read.", a)
	cfgPath := configFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("ingest needs at least one FILE")
	}
	cfg, err := a.config(*cfgPath)
	if err != nil {
		return err
	}
	files := fs.Args()
	for _, f := range files {
		if st, err := os.Stat(f); err != nil {
			return usagef("%v", err)
		} else if !st.Mode().IsRegular() {
			return usagef("%s is not a regular file", f)
		}
	}
	if done, err := a.forward(ctx, cfg, append([]string{"ingest", "--"}, absArgs(files)...)); done {
		return err
	}
	if a.daemon != nil {
		return ingestFiles(ctx, a.stdout, a.daemon.inbox, files)
	}
	setup, done, err := a.prepare(cfg)
	if err != nil {
		return err
	}
	defer done()
	return a.withLedger(cfg, false, func(l *ledger.Ledger) error {
		in, err := newInbox(cfg, scheduler.NewEngine(l, setup, nil), nil, a.clock)
		if err != nil {
			return err
		}
		return ingestFiles(ctx, a.stdout, in, files)
	})
}

// inboxFolder is the watched folder with its handler: every file, whether the
// watcher found it or `campaignd ingest` named it, goes through the same
// watcher (whose lock keeps the two apart), and `ingest` gets the report of
// the files it asked for.
type inboxFolder struct {
	watcher *inbox.Watcher
	engine  *scheduler.Engine
	now     func() time.Time
	log     *slog.Logger

	mu      sync.Mutex
	wanted  map[string]bool           // paths an ingest command waits for
	reports map[string]ingestedReport // their reports
}

type ingestedReport struct {
	rep scheduler.IngestReport
	err error
}

func newInbox(cfg *config.Config, eng *scheduler.Engine, log *slog.Logger, now func() time.Time) (*inboxFolder, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	in := &inboxFolder{engine: eng, now: now, log: log, wanted: map[string]bool{}, reports: map[string]ingestedReport{}}
	w := &inbox.Watcher{
		Dir: cfg.Inbox.Dir, ProcessedDir: cfg.Inbox.ProcessedDir, RejectedDir: cfg.Inbox.RejectedDir,
		Settle: cfg.Inbox.Settle.Duration, Rescan: cfg.Inbox.Rescan.Duration, Handle: in.handle, Now: now, Logger: log,
	}
	if err := w.Open(); err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	in.watcher = w
	return in, nil
}

// handle is the watcher's handler: ingest at the clock, log, and keep the
// report when an ingest command waits for it.
func (in *inboxFolder) handle(ctx context.Context, path string) inbox.Result {
	rep, err := in.engine.Ingest(ctx, path, in.now().UTC())
	name := filepath.Base(path)
	if err != nil {
		in.log.Warn("cannot ingest file now; will retry", "file", name, keyErr, err.Error())
	} else {
		in.log.Info("file ingested", "file", name, "kind", string(rep.Summary.Kind),
			"rows", rep.Summary.Rows, "new", rep.Stats.New, "updated", rep.Stats.Updated,
			"rejected_rows", rep.Summary.RejectedCount, "duplicate", rep.Duplicate, "rejected", rep.Rejected)
	}
	in.mu.Lock()
	if in.wanted[path] {
		in.reports[path] = ingestedReport{rep, err}
	}
	in.mu.Unlock()
	return rep.Result(err)
}

// process ingests one named file now and returns its report and where it went.
func (in *inboxFolder) process(ctx context.Context, path string) (ingestedReport, inbox.Outcome, error) {
	in.mu.Lock()
	in.wanted[path] = true
	in.mu.Unlock()
	oc, err := in.watcher.Process(ctx, path)
	in.mu.Lock()
	r := in.reports[path]
	delete(in.wanted, path)
	delete(in.reports, path)
	in.mu.Unlock()
	return r, oc, err
}

// ingestFiles ingests each file through the inbox and prints what happened.
func ingestFiles(ctx context.Context, out io.Writer, in *inboxFolder, files []string) error {
	problem := false
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			return usagef("%v", err)
		}
		r, oc, err := in.process(ctx, abs)
		if err != nil {
			fmt.Fprintf(out, "%s: %v\n", f, err)
			problem = true
			continue
		}
		printIngest(out, f, r.rep, r.err, oc)
		if oc.Rejected || oc.Retried {
			problem = true
		}
	}
	if problem {
		return silent(exitProblem)
	}
	return nil
}

func printIngest(w io.Writer, f string, rep scheduler.IngestReport, repErr error, oc inbox.Outcome) {
	name := filepath.Base(f)
	switch {
	case oc.Retried:
		fmt.Fprintf(w, "%s: could not be read, left in place: %v\n", name, errOr(repErr, oc.Result.Reason))
		return
	case rep.Duplicate && !rep.Rejected:
		fmt.Fprintf(w, "%s: the same bytes were ingested on %s; nothing changed -> %s\n", name, stamp(rep.Previous), oc.Path)
		return
	case oc.Rejected:
		fmt.Fprintf(w, "%s: rejected: %s -> %s\n", name, oc.Result.Reason, oc.Path)
		return
	}
	s := rep.Summary
	fmt.Fprintf(w, "%s: %s, %s, %s-separated; %s, %s (%d new, %d updated, %d unchanged, %d already final); %s rejected -> %s\n",
		name, orders.Describe(s.Kind), s.Encoding, s.Delimiter, count(s.Rows, "row"), count(s.Groups, "order"),
		rep.Stats.New, rep.Stats.Updated, rep.Stats.Unchanged, rep.Stats.Frozen, count(s.RejectedCount, "row"), oc.Path)
	for _, line := range strings.Split(strings.TrimRight(rep.RowReport(), "\n"), "\n") {
		if line != "" {
			fmt.Fprintf(w, "  %s\n", line)
		}
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
