package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Runner calls Engine.Pass on a robfig/cron schedule evaluated in UTC.
// Passes never overlap (a tick that comes while a pass runs is skipped) and a
// panic in a pass is logged, not fatal.
type Runner struct {
	Engine *Engine
	Spec   string
	Now    func() time.Time
	Logger *slog.Logger
	// AfterPass, if set, is called after every pass (the watchdog ping, metrics).
	AfterPass func(PassStats, error)

	mu     sync.Mutex
	cron   *cron.Cron
	ctx    context.Context
	last   time.Time
	manual sync.WaitGroup // passes started outside the cron schedule
}

// cronLogger adapts slog to robfig/cron's logger.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug(msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error(msg, append(kv, "err", err.Error())...)
}

// ParseSpec parses a tick spec the way the runner will.
func ParseSpec(spec string) (cron.Schedule, error) {
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule.tick %q: %w", spec, err)
	}
	return s, nil
}

// Start starts the schedule and one pass now, in the background (a long
// first pass must not hold up start-up). Passes stop when ctx ends or Stop
// is called.
func (r *Runner) Start(ctx context.Context) error {
	sched, err := ParseSpec(r.Spec)
	if err != nil {
		return err
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	lg := cronLogger{r.Logger}
	c := cron.New(cron.WithLocation(time.UTC), cron.WithLogger(lg),
		cron.WithChain(cron.Recover(lg), cron.SkipIfStillRunning(lg)))
	c.Schedule(sched, cron.FuncJob(r.RunPass))
	r.mu.Lock()
	r.cron, r.ctx = c, ctx
	r.mu.Unlock()
	r.manual.Add(1)
	go func() {
		defer r.manual.Done()
		r.RunPass()
	}()
	c.Start()
	return nil
}

// RunPass runs one pass now (at start-up, on reload, on each tick). A pass
// that panics is logged and counted as failed; the daemon goes on.
func (r *Runner) RunPass() {
	defer func() {
		if v := recover(); v != nil {
			r.Logger.Error("send pass panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if r.AfterPass != nil {
				r.AfterPass(PassStats{}, fmt.Errorf("pass panicked: %v", v))
			}
		}
	}()
	r.mu.Lock()
	ctx := r.ctx
	r.mu.Unlock()
	if ctx == nil || ctx.Err() != nil {
		return
	}
	now := r.Now().UTC()
	st, err := r.Engine.Pass(ctx, now)
	r.mu.Lock()
	r.last = now
	r.mu.Unlock()
	if err != nil {
		r.Logger.Error("send pass failed", "err", err.Error())
	} else if st.Due > 0 || st.Expired > 0 {
		r.Logger.Info("send pass", slog.Any("", st))
	}
	if r.AfterPass != nil {
		r.AfterPass(st, err)
	}
}

// LastPass returns when the last pass started (zero before the first).
func (r *Runner) LastPass() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// NextPass returns when the next scheduled pass is due.
func (r *Runner) NextPass() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cron == nil {
		return time.Time{}
	}
	for _, e := range r.cron.Entries() {
		return e.Next
	}
	return time.Time{}
}

// Stop stops the schedule and waits for a running pass to finish or for
// ctx to end, whichever comes first. It returns ctx's error when it gave up
// on a pass that is still running.
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	c := r.cron
	r.mu.Unlock()
	if c == nil {
		return nil
	}
	done := make(chan struct{})
	go func() {
		<-c.Stop().Done()
		r.manual.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
