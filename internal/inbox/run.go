package inbox

import (
	"context"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// debounce is how long Run waits after the first event of a burst before it
// scans, so a burst costs one scan.
const debounce = 100 * time.Millisecond

// minDelay is the shortest wait Run schedules, so a clock that does not
// advance cannot make it spin.
const minDelay = 10 * time.Millisecond

// Run scans Dir once, then watches it with fsnotify until ctx is done. It
// scans again debounce after the first event of a burst, when the earliest
// pending file is due to have settled, and every Rescan. Files whose handler
// asked to retry are tried again at the next scan. Run returns nil when ctx
// is cancelled. If fsnotify cannot watch Dir, Run logs a warning and relies
// on the periodic rescan.
//
// Run reads Now to decide when pending files settle but waits on the real
// clock.
func (w *Watcher) Run(ctx context.Context) error {
	if err := w.ready(); err != nil {
		return err
	}
	// Watch before the initial scan so nothing lands unseen in between.
	events, watchErrs, stop := w.watch()
	defer stop()
	dir := filepath.Clean(w.Dir)
	t := newScanTimer()
	defer t.timer.Stop()
	scan := func() { w.scanAndPlan(ctx, t) }
	scan()
	ticker := time.NewTicker(w.Rescan)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				w.Logger.Warn("inbox events stopped, rescanning periodically only")
				events = nil
			} else if relevant(dir, ev) {
				t.arm(debounce)
			}
		case err, ok := <-watchErrs:
			if !ok {
				watchErrs = nil
			} else {
				// Most likely a queue overflow: events were lost, so look.
				w.Logger.Warn("inbox events", keyError, err)
				t.arm(debounce)
			}
		case <-ticker.C:
			scan()
		case <-t.timer.C:
			t.armed = false
			scan()
		}
	}
}

// scanAndPlan scans, then plans the next scan for when the earliest file
// seen settles or is due for a retry.
func (w *Watcher) scanAndPlan(ctx context.Context, t *scanTimer) {
	if _, err := w.Scan(ctx); err != nil && ctx.Err() == nil {
		w.Logger.Error("inbox scan", keyError, err)
	}
	if d, ok := w.nextSettle(); ok {
		t.arm(d)
	}
}

// watch starts fsnotify on Dir. Without it (the channels are then nil),
// Run logs a warning and relies on the periodic rescan.
func (w *Watcher) watch() (<-chan fsnotify.Event, <-chan error, func()) {
	fsw, err := fsnotify.NewWatcher()
	if err == nil {
		if err = fsw.Add(w.Dir); err != nil {
			fsw.Close()
		}
	}
	if err != nil {
		w.Logger.Warn("inbox events unavailable, rescanning periodically only", keyError, err)
		return nil, nil, func() {}
	}
	return fsw.Events, fsw.Errors, func() { fsw.Close() }
}

// scanTimer is the next scan Run has planned, on the real clock.
type scanTimer struct {
	timer *time.Timer
	armed bool
	due   time.Time
}

func newScanTimer() *scanTimer {
	t := &scanTimer{timer: time.NewTimer(time.Hour)}
	t.timer.Stop()
	return t
}

// arm plans a scan after d (at least minDelay), unless one is planned sooner.
func (t *scanTimer) arm(d time.Duration) {
	d = max(d, minDelay)
	at := time.Now().Add(d)
	if t.armed && !at.Before(t.due) {
		return
	}
	t.timer.Reset(d)
	t.armed, t.due = true, at
}

// relevant reports whether ev may mean a candidate appeared or changed.
func relevant(dir string, ev fsnotify.Event) bool {
	if !ev.Has(fsnotify.Create) && !ev.Has(fsnotify.Write) &&
		!ev.Has(fsnotify.Rename) && !ev.Has(fsnotify.Chmod) {
		return false
	}
	if filepath.Dir(filepath.Clean(ev.Name)) != dir {
		return false
	}
	return !Ignored(filepath.Base(ev.Name))
}
