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
		return ingestFiles(ctx, a.stdout, a.daemon.engine, a.daemon.watcherFor, files, a.daemon.now)
	}
	setup, done, err := a.prepare(cfg)
	if err != nil {
		return err
	}
	defer done()
	return a.withLedger(cfg, false, func(l *ledger.Ledger) error {
		eng := scheduler.NewEngine(l, setup, nil)
		return ingestFiles(ctx, a.stdout, eng, func(h inbox.Handler) (*inbox.Watcher, error) {
			return newWatcher(cfg, h, nil, a.clock)
		}, files, a.clock)
	})
}

// newWatcher builds the inbox watcher for a config.
func newWatcher(cfg *config.Config, h inbox.Handler, log *slog.Logger, now func() time.Time) (*inbox.Watcher, error) {
	w := &inbox.Watcher{
		Dir: cfg.Inbox.Dir, ProcessedDir: cfg.Inbox.ProcessedDir, RejectedDir: cfg.Inbox.RejectedDir,
		Settle: cfg.Inbox.Settle.Duration, Rescan: cfg.Inbox.Rescan.Duration, Handle: h, Now: now, Logger: log,
	}
	if err := w.Open(); err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	return w, nil
}

// ingestFiles ingests each file through a watcher whose handler records the
// report, and prints what happened.
func ingestFiles(ctx context.Context, out io.Writer, eng *scheduler.Engine, watcher func(inbox.Handler) (*inbox.Watcher, error), files []string, now func() time.Time) error {
	var rep scheduler.IngestReport
	var repErr error
	w, err := watcher(func(ctx context.Context, path string) inbox.Result {
		rep, repErr = eng.Ingest(ctx, path, now().UTC())
		return rep.Result(repErr)
	})
	if err != nil {
		return err
	}
	problem := false
	for _, f := range files {
		rep, repErr = scheduler.IngestReport{}, nil
		oc, err := w.Process(ctx, f)
		if err != nil {
			fmt.Fprintf(out, "%s: %v\n", f, err)
			problem = true
			continue
		}
		printIngest(out, f, rep, repErr, oc)
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
