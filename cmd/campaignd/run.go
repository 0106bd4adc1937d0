package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"campaignd/internal/config"
	"campaignd/internal/control"
	"campaignd/internal/inbox"
	"campaignd/internal/ledger"
	"campaignd/internal/scheduler"
	"campaignd/internal/sdnotify"
)

// The stop sequence keeps well inside the unit's TimeoutStopSec (30 s):
// a send whose message is already out gets sendGrace to receive its answer
// before it is cancelled (any other send is cancelled at once), and the
// pass gets shutdownGrace in all to record its outcome and end before the
// ledger is closed.
const (
	sendGrace     = 10 * time.Second
	shutdownGrace = 20 * time.Second
)

// daemon is the running `campaignd run`: it owns the ledger, and answers
// the other commands on the control socket.
type daemon struct {
	cfgPath    string
	started    time.Time
	sendGrace  time.Duration // see sendGrace
	inboxRetry time.Duration // inbox.Watcher.RetryBackoff (0: its default)
	fetchPoll  time.Duration // fetch.Config.PollFirst (0: its default)
	now        func() time.Time
	logger     *slog.Logger
	level      *slog.LevelVar

	ledger  *ledger.Ledger
	engine  *scheduler.Engine
	watcher *inbox.Watcher
	inbox   *inboxFolder
	tokens  *tokenCache // the account's LWA token source, shared by the spapi channel and the fetcher
	fetch   *fetchLoop

	// clockSet is true when --at set the clock; forceClock when
	// --force-clock allowed it on any ledger. wall is the machine's clock.
	clockSet, forceClock bool
	wall                 func() time.Time
	metrics              *metrics

	reloadMu sync.Mutex // one reload at a time (SIGHUP and `campaignd reload` may race)
	mu       sync.Mutex // guards cfg and runner across reloads
	cfg      *config.Config
	runner   *scheduler.Runner
	ctx      context.Context
	notify   *sdnotify.Notifier
}

func cmdRun(ctx context.Context, a *app, args []string) error {
	fs := newFlags("run", "", runAbout, a)
	cfgPath := a.configFlag(fs)
	once := fs.Bool("once", false, "do one pass and exit")
	at := fs.String("at", "", "set the clock to `TIME` (RFC 3339), for tests and demos on a ledger of their own; NOT a dry run: what it sends and expires stays so")
	force := fs.Bool("force-clock", false, "allow --at more than a day from this machine's clock, or on a ledger a daemon has run on")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("run takes no arguments")
	}
	if a.daemon != nil {
		return usagef("run cannot be sent to a running daemon")
	}
	now, err := a.runClock(*at, *once, *force)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	d := &daemon{cfgPath: *cfgPath, started: now(), now: now, level: new(slog.LevelVar), cfg: cfg, notify: sdnotify.New(),
		sendGrace: cmp.Or(a.waits.sendGrace, sendGrace), inboxRetry: a.waits.inboxRetry, fetchPoll: a.waits.fetchPoll, tokens: &tokenCache{},
		clockSet: *at != "", forceClock: *force, wall: a.clock}
	d.logger = newLogger(cfg, a.stderr, d.level)
	return d.run(ctx, *once)
}

const runAbout = `Run the daemon: watch the inbox, and on every tick of schedule.tick send the
review requests that are due. With --once, do one full pass (scan the inbox,
ingest, send what is due) and exit.

run always acts for good, --at or not: what it sends is sent, and what it
expires or ingests stays in the ledger. The dry runs are "campaignd plan
[--at TIME]" and "campaignd preview ORDER", which send and change nothing.
--at is for tests and demos: it is refused more than a day from this
machine's clock, and on a ledger a daemon has run on, unless --force-clock
is given.`

// maxClockSkew is how far --at may set the clock from the machine's without
// --force-clock.
const maxClockSkew = 24 * time.Hour

// runClock is the daemon's clock: the real one, or with --at one that
// starts at TIME and runs on (stands still at TIME for --once). Without
// force, a TIME more than maxClockSkew from the machine's clock is refused.
func (a *app) runClock(at string, once, force bool) (func() time.Time, error) {
	start, err := a.parseAt(at)
	switch {
	case err != nil:
		return nil, err
	case at == "" && force:
		return nil, usagef("--force-clock goes with --at")
	case at == "":
		return a.clock, nil
	case !force && absDuration(start.Sub(a.clock())) > maxClockSkew:
		return nil, usagef("--at %s is %s from this machine's clock (%s): run --at is not a dry run, what it sends and expires stays so; "+
			"look with `campaignd plan --at %s` instead, or add --force-clock on a ledger of your own",
			stamp(start), roughly(absDuration(start.Sub(a.clock()))), stamp(a.clock()), stamp(start))
	case once:
		return func() time.Time { return start }, nil // one pass at exactly TIME
	}
	offset := start.Sub(a.clock())
	return func() time.Time { return a.clock().Add(offset) }, nil
}

// run opens the setup and the ledger, settles the orders a crash left
// claimed, opens the inbox, then does one pass (once) or serves until ctx
// ends. It closes the ledger last.
func (d *daemon) run(ctx context.Context, once bool) error {
	setup, err := d.prepare(d.cfg)
	if err != nil {
		return err
	}
	defer setup.Close()
	if err := d.cfg.PrepareFolders(!once); err != nil {
		return invalid(err) // the unit must not restart into it
	}
	l, err := openLedger(d.cfg)
	if err != nil {
		return err
	}
	defer l.Close()
	d.ledger = l
	if err := d.checkClock(l); err != nil {
		return err
	}
	d.engine = scheduler.NewEngine(l, setup, d.logger.With(keyComponent, "scheduler"))
	d.engine.Now = d.now
	d.metrics = newMetrics(d)
	d.metrics.initSeries(d.cfg)
	d.engine.Observe = d.metrics.observeSend
	if st, err := d.engine.Reconcile(ctx, d.now().UTC()); err != nil {
		return fmt.Errorf("reconcile claimed orders: %w", err)
	} else if st.Sent+st.Retried+st.InDoubt > 0 {
		d.logger.Warn("reconciled orders a crash left claimed", slog.Any("", st))
	}
	if r, err := d.engine.Resume(d.now().UTC()); err != nil {
		return fmt.Errorf("start-up: %w", err)
	} else if r.Redecided && (r.Recorded || r.Changed > 0) {
		d.logger.Info("the configuration's rules differ from those the ledger's orders were decided with: open orders re-decided, as on reload",
			"config", d.cfg.Path, "changed", r.Changed)
	}
	in, err := newInbox(d.cfg, d.engine, d.logger.With(keyComponent, "inbox"), d.now, d.inboxRetry)
	if err != nil {
		return invalid(err)
	}
	d.inbox, d.watcher = in, in.watcher
	in.watcher.OnFiled = d.metrics.observeFile
	if once {
		return d.once(ctx)
	}
	if err := d.openFetch(ctx); err != nil {
		return invalid(err)
	}
	return d.serve(ctx)
}

// checkClock keeps a moved clock (--at) off a ledger a daemon has run on,
// unless --force-clock, before anything in it changes; a daemon on the real
// clock marks the ledger as its own.
func (d *daemon) checkClock(l *ledger.Ledger) error {
	if !d.clockSet {
		if err := l.MarkDaemon(d.wall()); err != nil {
			return err
		}
		return nil
	}
	mark, err := l.DaemonMark()
	switch {
	case err != nil:
		return err
	case !mark.IsZero() && !d.forceClock:
		return usagef("ledger %s is a daemon's (it last started %s): run --at would send and expire its orders at a clock of its own, for good; "+
			"look with `campaignd plan --at %s` instead, or add --force-clock if that is what you mean", l.Path(), stamp(mark), stamp(d.now()))
	}
	d.logger.Warn("the clock is set by --at; what this run sends and expires stays so", "at", stamp(d.now()), "force_clock", d.forceClock)
	return nil
}

// absDuration is |x|.
func absDuration(x time.Duration) time.Duration {
	if x < 0 {
		return -x
	}
	return x
}

// roughly writes a duration for people: whole days, or hours under two days.
func roughly(x time.Duration) string {
	if x >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(x.Hours()/24))
	}
	return fmt.Sprintf("%d hours", int(x.Hours()))
}

// prepare builds the setup the daemon starts with; templates that fail the
// policy checks are logged one by one, and refused.
func (d *daemon) prepare(cfg *config.Config) (*scheduler.Setup, error) {
	setup, err := prepareWith(cfg, d.now, d.tokens)
	var te *scheduler.TemplateError
	switch {
	case errors.As(err, &te):
		for _, e := range te.Errs {
			d.logger.Error("template does not parse", keyErr, e.Error())
		}
		for _, v := range te.Violations {
			d.logger.Error("template breaks a policy rule", "violation", v.String())
		}
		return nil, invalid(fmt.Errorf("%s: refusing to start: the configured templates fail the policy checks (run `campaignd lint`)", cfg.Path))
	case err != nil:
		return nil, invalid(fmt.Errorf("%s: %w", cfg.Path, err))
	}
	return setup, nil
}

// openLedger opens the daemon's ledger, the one writer of the file.
func openLedger(cfg *config.Config) (*ledger.Ledger, error) {
	if err := os.MkdirAll(filepath.Dir(cfg.Ledger.Path), 0o750); err != nil {
		return nil, fmt.Errorf("create ledger folder: %w", err)
	}
	l, err := ledger.Open(cfg.Ledger.Path, ledger.Options{Timeout: cfg.Ledger.LockTimeout.Duration})
	if errors.Is(err, ledger.ErrLocked) {
		return nil, fmt.Errorf("ledger %s is locked by another process: is campaignd already running?", cfg.Ledger.Path)
	}
	if err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	return l, nil
}

// once ingests every file in the inbox as it is (Drain: no settling, as
// nothing is expected to be writing) and runs one pass. A signal stops it as it stops
// the daemon: no new work, the send in flight cancelled (see StopSends).
func (d *daemon) once(ctx context.Context) error {
	defer context.AfterFunc(ctx, func() {
		d.logger.Info("stopping: no new work; cancelling the send in flight")
		d.engine.StopSends(d.sendGrace)
	})()
	if _, err := d.watcher.Drain(ctx); err != nil {
		d.logger.Error("cannot file every inbox file", keyErr, err.Error())
	}
	st, err := d.engine.Pass(ctx, d.now().UTC())
	if err != nil {
		return err
	}
	d.logger.Info("send pass", "at", stamp(d.now()), slog.Any("", st))
	return nil
}

// serve runs the daemon until ctx ends: the control socket, the metrics,
// the inbox watcher and the schedule, then the stop sequence.
func (d *daemon) serve(ctx context.Context) error {
	d.ctx = ctx
	srv, err := d.listen()
	if err != nil {
		return err
	}
	go srv.Serve()
	defer srv.Close()
	if d.cfg.Metrics.Listen != "" {
		m, err := startMetrics(d)
		if err != nil {
			return err
		}
		defer m.Close()
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	watchDone := make(chan error, 1)
	go func() { watchDone <- d.watcher.Run(watchCtx) }()
	if err := d.startRunner(d.cfg); err != nil {
		stopWatch()
		return invalid(err)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP) // before "started": a SIGHUP from then on reloads
	defer signal.Stop(hup)
	stopDog := d.watchdog(ctx)
	defer stopDog()
	d.notify.Send(sdnotify.Ready + "\nSTATUS=watching " + d.cfg.Inbox.Dir)
	d.logger.Info("campaignd started", startAttrs(d.cfg)...)
	d.startFetch()
	d.stop(stopWatch, d.loop(ctx, hup, watchDone))
	return nil
}

// listen opens the control socket.
func (d *daemon) listen() (*control.Server, error) {
	srv := &control.Server{Path: d.cfg.Control.Socket, Logger: d.logger.With(keyComponent, "control"), Handler: d.serveRequest}
	if err := os.MkdirAll(filepath.Dir(d.cfg.Control.Socket), 0o750); err != nil {
		return nil, fmt.Errorf("create control socket folder: %w", err)
	}
	if err := srv.Listen(); errors.Is(err, control.ErrNotSocket) {
		return nil, invalid(err) // a config problem: systemd must not restart into it
	} else if err != nil {
		return nil, err
	}
	return srv, nil
}

// loop reloads on SIGHUP and logs a watcher that stopped, until ctx ends.
// It returns watchDone, or nil when the watcher has stopped already.
func (d *daemon) loop(ctx context.Context, hup <-chan os.Signal, watchDone <-chan error) <-chan error {
	for {
		select {
		case <-hup:
			d.reloadBy(ctx, "SIGHUP")
		case err := <-watchDone:
			if err != nil && ctx.Err() == nil {
				d.logger.Error("inbox watcher stopped", keyErr, err.Error())
			}
			watchDone = nil
		case <-ctx.Done():
			return watchDone
		}
	}
}

// stop is the daemon's stop sequence: take no new work (the inbox watcher
// and the schedule stop, the pass takes no further order), cancel the send
// in flight (see StopSends), wait for the pass to record its outcome, and
// return; the caller then closes the ledger.
func (d *daemon) stop(stopWatch func(), watchDone <-chan error) {
	d.notify.Send(sdnotify.Stopping)
	d.logger.Info("stopping: no new work; cancelling the send in flight")
	stopWatch()
	d.engine.StopSends(d.sendGrace)
	grace, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	d.mu.Lock()
	r := d.runner
	d.mu.Unlock()
	if err := r.Stop(grace); err != nil {
		d.logger.Error("the send pass did not end in time; an order it left claimed is reconciled at the next start",
			"waited", shutdownGrace.String())
	}
	if err := d.fetch.stop(grace); err != nil {
		d.logger.Error("the fetch did not end in time; the next start polls its report again", "waited", shutdownGrace.String())
	}
	if watchDone != nil {
		<-watchDone
	}
	d.logger.Info("stopped")
}

func (d *daemon) startRunner(cfg *config.Config) error {
	var r *scheduler.Runner
	r = &scheduler.Runner{Engine: d.engine, Spec: cfg.Schedule.Tick, Now: func() time.Time { return d.now() },
		Logger: d.logger.With(keyComponent, "scheduler"),
		AfterPass: func(_ scheduler.PassStats, err error) {
			d.metrics.observePass(d.now().Sub(r.LastPass()), err)
			if sdnotify.WatchdogInterval() > 0 {
				d.notify.Send(sdnotify.Watchdog)
			}
		}}
	if err := r.Start(d.ctx); err != nil {
		return err
	}
	d.mu.Lock()
	d.runner = r
	d.mu.Unlock()
	return nil
}

// watchdog pings systemd at half the watchdog interval while the daemon's
// loop is alive; the passes ping too.
func (d *daemon) watchdog(ctx context.Context) func() {
	every := sdnotify.WatchdogInterval() / 2
	if every <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				d.notify.Send(sdnotify.Watchdog)
			}
		}
	}()
	return cancel
}

// reload validates the config file and its templates, and swaps them in
// only when everything is valid; otherwise the old config stays.
func (d *daemon) reload(ctx context.Context) error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	d.notify.Send(sdnotify.Reloading)
	defer d.notify.Send(sdnotify.Ready)
	cfg, err := config.Load(d.cfgPath)
	if err != nil {
		return err
	}
	if err := cfg.PrepareFolders(true); err != nil {
		return err
	}
	setup, err := prepareWith(cfg, d.now, d.tokens)
	if err != nil {
		return err
	}
	pf, err := d.buildFetch(cfg)
	if err != nil {
		setup.Close()
		return err
	}
	d.mu.Lock()
	old := d.cfg
	d.mu.Unlock()
	d.warnRestartOnly(old, cfg)
	prev, err := d.engine.Swap(setup, d.now().UTC())
	if prev != nil {
		prev.Close()
	}
	if err != nil {
		pf.close()
		return err
	}
	d.level.Set(parseLevel(cfg.Log.Level))
	d.mu.Lock()
	d.cfg = cfg
	r := d.runner
	d.mu.Unlock()
	d.reloadFetch(pf, cfg)
	if cfg.Schedule.Tick != old.Schedule.Tick {
		r.Stop(ctx)
		if err := d.startRunner(cfg); err != nil {
			return err
		}
	} else {
		r.RunPass()
	}
	d.logger.Info("config reloaded", "config", cfg.Path)
	return nil
}

// warnRestartOnly warns of each setting a reload from old to cfg changes
// that takes effect only on restart.
func (d *daemon) warnRestartOnly(old, cfg *config.Config) {
	for key, pair := range map[string][2]string{
		"ledger.path": {old.Ledger.Path, cfg.Ledger.Path}, "inbox.dir": {old.Inbox.Dir, cfg.Inbox.Dir},
		"inbox.processed_dir": {old.Inbox.ProcessedDir, cfg.Inbox.ProcessedDir}, "inbox.rejected_dir": {old.Inbox.RejectedDir, cfg.Inbox.RejectedDir},
		"control.socket": {old.Control.Socket, cfg.Control.Socket}, "metrics.listen": {old.Metrics.Listen, cfg.Metrics.Listen},
	} {
		if pair[0] != pair[1] {
			d.logger.Warn("this setting changes only on restart", "key", key)
		}
	}
}

// info describes the daemon for status.
func (d *daemon) info() *daemonView {
	d.mu.Lock()
	r, cfg := d.runner, d.cfg
	d.mu.Unlock()
	info := &daemonView{PID: os.Getpid(), Version: version, Config: cfg.Path, Started: d.started.UTC()}
	if r != nil {
		info.LastPass, info.NextPass = r.LastPass(), r.NextPass()
	}
	if d.watcher != nil {
		info.Pending = d.watcher.Pending()
		info.Retrying = d.watcher.Retrying()
	}
	return info
}
