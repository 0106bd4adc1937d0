package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"campaignd/internal/config"
	"campaignd/internal/control"
	"campaignd/internal/fetch"
	"campaignd/internal/ledger"
	"campaignd/internal/scheduler"
)

const fetchAbout = `Fetch the reports listed in [fetch] from Amazon's Reports API: request each
report type for each marketplace (or pick up the report an earlier fetch left
pending), wait until Amazon has made it, download it into the inbox and
ingest it through the same code as the watched folder. Prints one line per
report: what it covers and what became of it.

With --once, fetch once and exit: 0 when every report was ingested or had no
data, 1 when any failed or was not ready yet (the next fetch picks it up), 2
for an invalid config or when [fetch] is off. When the daemon runs, it does
the fetch (or finishes the one it is doing) and this command prints the
outcome. Without --once, fetch now and then on every fetch.tick, until
interrupted.`

func cmdFetch(ctx context.Context, a *app, args []string) error {
	fs := newFlags("fetch", "", fetchAbout, a)
	cfgPath := a.configFlag(fs)
	once := fs.Bool("once", false, "fetch once and exit")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("fetch takes no arguments")
	}
	if a.daemon != nil {
		if !*once {
			return usagef("the daemon fetches on its own fetch.tick; ask it for one fetch now with fetch --once")
		}
		return a.daemon.fetchNow(ctx, a.stdout)
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if !cfg.Fetch.Enabled() {
		return usagef("%s: [fetch] is off: list the marketplaces to fetch in fetch.marketplace_ids", cfg.Path)
	}
	tokens := &tokenCache{}
	if *once {
		return a.fetchOnce(ctx, cfg, tokens)
	}
	return a.fetchEvery(ctx, cfg, tokens)
}

// fetchOnce has the daemon fetch, when one answers, or fetches itself.
func (a *app) fetchOnce(ctx context.Context, cfg *config.Config, tokens *tokenCache) error {
	resp, err := client(cfg).Call(ctx, []string{"fetch", "--once", "--"})
	switch {
	case errors.Is(err, control.ErrNoDaemon):
		return a.fetchLocal(ctx, cfg, tokens)
	case err != nil:
		return err
	}
	fmt.Fprint(a.stdout, resp.Stdout)
	fmt.Fprint(a.stderr, resp.Stderr)
	if resp.Code != exitOK {
		return silent(resp.Code)
	}
	return nil
}

// fetchEvery fetches now, then on every fetch.tick until ctx ends. Between
// fetches it holds neither the ledger nor the daemon. A fetch that failed
// is printed and tried again on the next tick; a usage or config error
// ends the loop.
func (a *app) fetchEvery(ctx context.Context, cfg *config.Config, tokens *tokenCache) error {
	sched, err := scheduler.ParseSpec(cfg.Fetch.Tick)
	if err != nil {
		return invalid(fmt.Errorf("fetch.tick: %w", err))
	}
	for {
		err := a.fetchOnce(ctx, cfg, tokens)
		var ee *exitError
		if errors.As(err, &ee) && ee.code == exitUsage || errors.Is(err, ledger.ErrDamaged) || errors.Is(err, ledger.ErrSchema) {
			return err
		}
		if err != nil && ee == nil && ctx.Err() == nil {
			fmt.Fprintf(a.stderr, "campaignd: %v\n", err)
		}
		next := sched.Next(time.Now().UTC())
		fmt.Fprintf(a.stdout, "next fetch %s\n", stamp(next))
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			fmt.Fprintln(a.stdout, "stopped")
			return nil
		case <-t.C:
		}
	}
}

// fetchLocal fetches in this process, with the ledger open: no daemon runs.
func (a *app) fetchLocal(ctx context.Context, cfg *config.Config, tokens *tokenCache) error {
	setup, err := prepareWith(cfg, a.clock, tokens)
	if errors.Is(err, scheduler.ErrTemplates) {
		fmt.Fprintln(a.stderr, err)
		return invalid(fmt.Errorf("%s: the configured templates fail the policy checks", cfg.Path))
	} else if err != nil {
		return invalid(fmt.Errorf("%s: %w", cfg.Path, err))
	}
	defer setup.Close()
	log := newLogger(cfg, a.stderr, new(slog.LevelVar))
	var res fetchResult
	err = a.withLedger(cfg, false, func(l *ledger.Ledger) error {
		in, err := newInbox(cfg, scheduler.NewEngine(l, setup, nil), nil, a.clock, 0)
		if err != nil {
			return invalid(err)
		}
		r, err := newFetchRun(cfg, tokens, l.FetchState(), in, log, a.waits.fetchPoll)
		if err != nil {
			return invalid(err)
		}
		defer r.close()
		res = r.run(ctx, a.clock())
		return nil
	})
	if err != nil {
		return err
	}
	return res.print(a.stdout)
}

// fetchRun is the account's fetcher with the inbox it ingests into. The
// daemon keeps one (rebuilt when a reload changes [fetch] or
// [channel.spapi]); `campaignd fetch` builds one when no daemon runs.
type fetchRun struct {
	fetcher *fetch.Fetcher
	in      *inboxFolder

	mu    sync.Mutex
	notes map[string]fetchNote // by report id: what the inbox made of each document of the run
}

// fetchNote is what the inbox made of a fetched document.
type fetchNote struct {
	rep  scheduler.IngestReport
	dest string // where the inbox filed it
}

// fetchResult is one fetch run's outcome, with the inbox's notes.
type fetchResult struct {
	res   fetch.Result
	err   error // fetch.Result.Err, or why the run could not start
	notes map[string]fetchNote
}

// newFetchRun builds the fetcher of cfg on the process's token source,
// with the state st and ingesting through in. poll, when not zero, is the
// first wait between two polls of a report (tests shorten it).
func newFetchRun(cfg *config.Config, tokens *tokenCache, st fetch.State, in *inboxFolder, log *slog.Logger, poll time.Duration) (*fetchRun, error) {
	src, err := tokens.source(cfg.Channel.SPAPI)
	if err != nil {
		return nil, err
	}
	r := &fetchRun{in: in, notes: map[string]fetchNote{}}
	r.fetcher, err = fetch.New(fetch.Config{
		Endpoint: cfg.Channel.SPAPI.Endpoint, Tokens: src, State: st, Ingest: r.ingest,
		InboxDir: in.watcher.Dir, Reports: cfg.Fetch.Reports, MarketplaceIDs: cfg.Fetch.MarketplaceIDs,
		UserAgent: "campaignd/" + version + " (Language=Go; Platform=Linux)", Logger: log, PollFirst: poll,
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (r *fetchRun) close() { r.fetcher.Close() }

// run fetches every report stream once, at now.
func (r *fetchRun) run(ctx context.Context, now time.Time) fetchResult {
	r.mu.Lock()
	r.notes = map[string]fetchNote{}
	r.mu.Unlock()
	res, err := r.fetcher.Run(ctx, now)
	r.mu.Lock()
	defer r.mu.Unlock()
	return fetchResult{res: res, err: err, notes: r.notes}
}

// ingest is the fetcher's Ingest hook: the document, already renamed into
// the inbox, goes through the watcher's handler now (Process), exactly as a
// file dropped there; the watcher's lock keeps it apart from a scan. A
// document the inbox rejects, or cannot read now, stays unfetched: the
// fetcher offers it again on a later run.
func (r *fetchRun) ingest(ctx context.Context, f fetch.File) error {
	oc, err := r.in.watcher.Process(ctx, f.Path)
	if err != nil {
		return err
	}
	got, _ := oc.Result.Detail.(ingested)
	switch {
	case oc.Retried:
		return fmt.Errorf("could not be ingested now: %s", errOr(got.err, oc.Result.Reason))
	case oc.Rejected:
		return fmt.Errorf("rejected by the inbox (filed as %s): %s", oc.Path, oc.Result.Reason)
	}
	r.mu.Lock()
	r.notes[f.ReportID] = fetchNote{rep: got.rep, dest: oc.Path}
	r.mu.Unlock()
	return nil
}

// print writes one line per report stream and returns the exit status:
// nil when every report was ingested or had no data.
func (fr fetchResult) print(w io.Writer) error {
	for _, rr := range fr.res.Reports {
		fmt.Fprintln(w, fr.line(rr))
	}
	if fr.err != nil && len(fr.res.Reports) == 0 {
		fmt.Fprintf(w, "fetch: %s\n", clean(fr.err.Error()))
	}
	if fr.err != nil {
		return silent(exitProblem)
	}
	return nil
}

// line tells what one report stream's run did; what comes from Amazon or
// the files is escaped for the terminal.
func (fr fetchResult) line(rr fetch.ReportResult) string {
	head := fmt.Sprintf("%s %s:", rr.ReportType, rr.MarketplaceID)
	if rr.ReportID != "" {
		head += fmt.Sprintf(" report %s (%s)", clean(rr.ReportID), rr.Range)
		if rr.Resumed {
			head += ", requested earlier,"
		}
	}
	switch rr.Outcome {
	case fetch.Ingested:
		return head + " ingested: " + fr.notes[rr.ReportID].describe(rr.File)
	case fetch.NoData:
		return head + " no data for the range"
	case fetch.Waiting:
		return head + " not done at Amazon yet; the next fetch picks it up: " + clean(errText(rr.Err))
	default:
		return head + " FAILED: " + clean(errText(rr.Err))
	}
}

// describe tells what the inbox made of a document.
func (n fetchNote) describe(file string) string {
	name := clean(filepath.Base(file))
	switch {
	case n.dest == "":
		return name
	case n.rep.Duplicate:
		return fmt.Sprintf("%s: the same bytes were ingested on %s -> %s", name, stamp(n.rep.Previous), clean(n.dest))
	}
	s, st := n.rep.Summary, n.rep.Stats
	return fmt.Sprintf("%s: %s (%d new, %d updated, %d unchanged, %d already final), %s rejected -> %s",
		name, count(s.Groups, "order"), st.New, st.Updated, st.Unchanged, st.Frozen, count(s.RejectedCount, "row"), clean(n.dest))
}

func errText(err error) string {
	if err == nil {
		return "no reason given"
	}
	return err.Error()
}
