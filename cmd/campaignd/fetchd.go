package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"campaignd/internal/config"
	"campaignd/internal/fetch"
	"campaignd/internal/lwa"
	"campaignd/internal/scheduler"
)

// errFetchOff is returned when a fetch is asked of a daemon whose [fetch]
// is off.
var errFetchOff = errors.New("[fetch] is off: list the marketplaces to fetch in fetch.marketplace_ids")

// fetchLoop runs the daemon's report fetches: on every tick of fetch.tick
// (robfig/cron, UTC), at start-up or reload when a tick was missed, and
// when `campaignd fetch --once` asks over the socket. One fetch runs at a
// time, in its own goroutine, never inside a send pass: a tick that comes
// while one runs is skipped, and a request joins the one running. Waits
// and pacing are on the real clock; the run's time (the end of the
// requested ranges, the stamps in the state) is the daemon's clock.
type fetchLoop struct {
	log *slog.Logger
	now func() time.Time
	// ctx ends when the daemon stops: a fetch in progress is cancelled,
	// saves its pending report and returns.
	ctx context.Context
	wg  sync.WaitGroup // the fetch in progress

	mu      sync.Mutex
	run     *fetchRun  // nil while [fetch] is off
	built   fetchBuild // what run was built from
	spec    string
	cron    *cron.Cron
	flight  *fetchFlight // the fetch in progress, if any
	stopped bool
}

// fetchBuild is what a fetchRun depends on: a reload that changes any of it
// builds a new one.
type fetchBuild struct {
	fetch  config.FetchConfig
	spapi  config.SPAPIConfig
	tokens *lwa.Source
}

// fetchFlight is one fetch; whoever asked for it waits on done.
type fetchFlight struct {
	trigger string // "start-up", "tick", "reload" or "request"
	started time.Time
	done    chan struct{}
	res     fetchResult
}

// openFetch builds the daemon's fetch loop from its config; ctx ends when
// the daemon stops. The schedule starts with startFetch; a request on the
// socket may start a fetch before.
func (d *daemon) openFetch(ctx context.Context) error {
	d.fetch = &fetchLoop{log: d.logger.With(keyComponent, "fetch"), now: d.now, ctx: ctx}
	b, err := d.buildFetch(d.cfg)
	if err != nil {
		return err
	}
	d.fetch.install(b, d.cfg)
	return nil
}

// pendingFetch is a fetch configuration built by a reload, installed only
// once the whole reload succeeded.
type pendingFetch struct {
	run   *fetchRun // nil: [fetch] is off, or nothing it depends on changed
	build fetchBuild
}

// buildFetch builds the fetchRun of cfg when [fetch] is on and something
// it depends on changed since the one running (if any).
func (d *daemon) buildFetch(cfg *config.Config) (pendingFetch, error) {
	if !cfg.Fetch.Enabled() {
		return pendingFetch{}, nil
	}
	src, err := d.tokens.source(cfg.Channel.SPAPI)
	if err != nil {
		return pendingFetch{}, err
	}
	b := fetchBuild{fetch: cfg.Fetch, spapi: cfg.Channel.SPAPI, tokens: src}
	if d.fetch.unchanged(b) {
		return pendingFetch{build: b}, nil
	}
	// the fetch package names itself component=fetch in its lines
	r, err := newFetchRun(cfg, d.tokens, d.ledger.FetchState(), d.inbox, d.logger, d.fetchPoll)
	if err != nil {
		return pendingFetch{}, fmt.Errorf("fetch: %w", err)
	}
	return pendingFetch{run: r, build: b}, nil
}

// unchanged reports whether the fetchRun in use was built from b.
func (l *fetchLoop) unchanged(b fetchBuild) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.run != nil && reflect.DeepEqual(l.built, b)
}

// install puts p in place with cfg's tick: a new fetchRun replaces the
// old one (a fetch in progress finishes on the old one), a changed tick
// restarts the schedule, and [fetch] turned off stops it.
func (l *fetchLoop) install(p pendingFetch, cfg *config.Config) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case !cfg.Fetch.Enabled():
		if l.run != nil {
			l.run.close()
			l.log.Info("fetching turned off")
		}
		l.run, l.built = nil, fetchBuild{}
	case p.run != nil:
		if l.run != nil {
			l.run.close()
			l.log.Info("fetch configuration changed", "fetch", cfg.Fetch.String())
		}
		l.run, l.built = p.run, p.build
	}
	if l.cron != nil && (l.run == nil || l.spec != cfg.Fetch.Tick) {
		l.cron.Stop()
		l.cron = nil
	}
	l.spec = cfg.Fetch.Tick
}

// startFetch starts the schedule (serve calls it once the daemon runs) and
// a fetch now when a tick was missed.
func (d *daemon) startFetch() { d.fetch.schedule("start-up") }

// reloadFetch installs what buildFetch made of a reloaded config.
func (d *daemon) reloadFetch(p pendingFetch, cfg *config.Config) {
	d.fetch.install(p, cfg)
	d.fetch.schedule("reload")
}

// schedule starts the cron schedule if it is not running, and a fetch now
// when a tick was missed (trigger names why).
func (l *fetchLoop) schedule(trigger string) {
	l.mu.Lock()
	if l.run == nil || l.stopped {
		l.mu.Unlock()
		return
	}
	sched, err := scheduler.ParseSpec(l.spec)
	if err != nil { // config validation parsed it already
		l.mu.Unlock()
		l.log.Error("fetch.tick", keyErr, err.Error())
		return
	}
	if l.cron == nil {
		c := cron.New(cron.WithLocation(time.UTC), cron.WithLogger(cron.DiscardLogger))
		c.Schedule(sched, cron.FuncJob(func() { l.start("tick") }))
		c.Start()
		l.cron = c
	}
	run, ctx := l.run, l.ctx
	l.mu.Unlock()
	if missed, why := missedTick(ctx, run, sched, l.now()); missed {
		l.log.Info("fetching now", "why", why)
		l.start(trigger)
	}
}

// missedTick reports whether a stream's last fetch is older than the tick
// before now (or it was never fetched, or a report is pending): the daemon
// was down, or fetching was just turned on.
func missedTick(ctx context.Context, r *fetchRun, sched cron.Schedule, now time.Time) (bool, string) {
	states, err := r.fetcher.States(ctx)
	if err != nil {
		return true, err.Error()
	}
	for _, st := range states {
		switch {
		case st.LastAttempt.IsZero():
			return true, st.Key.String() + " was never fetched"
		case st.Pending != nil:
			return true, st.Key.String() + " has report " + st.Pending.ReportID + " pending"
		case !sched.Next(st.LastAttempt.UTC()).After(now.UTC()):
			return true, st.Key.String() + " missed a tick since " + stamp(st.LastAttempt)
		}
	}
	return false, ""
}

// start starts a fetch unless one runs (then it returns that one) or
// fetching is off or stopped (nil).
func (l *fetchLoop) start(trigger string) *fetchFlight {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.flight != nil {
		if trigger == "tick" {
			l.log.Info("fetch tick skipped: the last fetch is still running", "since", stamp(l.flight.started))
		}
		return l.flight
	}
	if l.run == nil || l.stopped {
		return nil
	}
	fl := &fetchFlight{trigger: trigger, started: l.now().UTC(), done: make(chan struct{})}
	l.flight = fl
	run, ctx := l.run, l.ctx
	l.wg.Go(func() { l.fly(ctx, run, fl) })
	return fl
}

// fly runs one fetch and publishes its result.
func (l *fetchLoop) fly(ctx context.Context, run *fetchRun, fl *fetchFlight) {
	defer func() {
		if v := recover(); v != nil {
			fl.res = fetchResult{err: fmt.Errorf("internal error: the fetch panicked: %v", v)}
			l.log.Error("fetch panicked", "panic", fmt.Sprint(v))
		}
		l.mu.Lock()
		l.flight = nil
		l.mu.Unlock()
		close(fl.done)
	}()
	l.log.Info("fetch started", "trigger", fl.trigger)
	fl.res = run.run(ctx, fl.started)
	done := 0
	for _, rr := range fl.res.res.Reports {
		if rr.Outcome == fetch.Ingested || rr.Outcome == fetch.NoData {
			done++
		}
	}
	if fl.res.err != nil {
		l.log.Warn("fetch done", "trigger", fl.trigger, "reports", len(fl.res.res.Reports), "fetched", done, keyErr, fl.res.err.Error())
		return
	}
	l.log.Info("fetch done", "trigger", fl.trigger, "reports", len(fl.res.res.Reports), "fetched", done)
}

// stop stops the schedule, cancels the fetch in progress (the daemon's
// context has ended) and waits for it to save its state, or for grace.
func (l *fetchLoop) stop(grace context.Context) error {
	l.mu.Lock()
	l.stopped = true
	if l.cron != nil {
		l.cron.Stop()
		l.cron = nil
	}
	run := l.run
	l.mu.Unlock()
	done := make(chan struct{})
	go func() {
		l.wg.Wait()
		if run != nil {
			run.close()
		}
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-grace.Done():
		return grace.Err()
	}
}

// fetchNow serves `campaignd fetch --once` on the socket: it starts a
// fetch, or joins the one running, and prints its outcome. A client that
// goes away leaves the fetch running.
func (d *daemon) fetchNow(ctx context.Context, w io.Writer) error {
	fl := d.fetch.start("request")
	if fl == nil {
		d.mu.Lock()
		on := d.cfg.Fetch.Enabled()
		d.mu.Unlock()
		if !on {
			return invalid(errFetchOff)
		}
		return errors.New("the daemon is stopping")
	}
	select {
	case <-fl.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if fl.trigger != "request" {
		fmt.Fprintf(w, "a fetch (%s) was running since %s; its outcome:\n", fl.trigger, stamp(fl.started))
	}
	return fl.res.print(w)
}

// fetchDaemon is what the fetch loop tells status.
type fetchDaemon struct {
	Next         time.Time
	RunningSince time.Time
}

// view tells when the next tick is and since when a fetch runs.
func (l *fetchLoop) view() fetchDaemon {
	l.mu.Lock()
	defer l.mu.Unlock()
	var v fetchDaemon
	if l.cron != nil {
		for _, e := range l.cron.Entries() {
			v.Next = e.Next
		}
	}
	if l.flight != nil {
		v.RunningSince = l.flight.started
	}
	return v
}

// close releases a fetchRun a failed reload built.
func (p pendingFetch) close() {
	if p.run != nil {
		p.run.close()
	}
}
