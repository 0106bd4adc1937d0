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
	var events <-chan fsnotify.Event
	var watchErrs <-chan error
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		w.Logger.Warn("inbox events unavailable, rescanning periodically only", keyError, err)
	} else {
		defer fsw.Close()
		if err := fsw.Add(w.Dir); err != nil {
			w.Logger.Warn("inbox events unavailable, rescanning periodically only", keyError, err)
		} else {
			events, watchErrs = fsw.Events, fsw.Errors
		}
	}
	dir := filepath.Clean(w.Dir)

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	var due time.Time
	// arm schedules a scan after d unless one is already due sooner.
	arm := func(d time.Duration) {
		d = max(d, minDelay)
		at := time.Now().Add(d)
		if armed && !at.Before(due) {
			return
		}
		timer.Reset(d)
		armed, due = true, at
	}
	scan := func() {
		if _, err := w.Scan(ctx); err != nil && ctx.Err() == nil {
			w.Logger.Error("inbox scan", keyError, err)
		}
		if d, ok := w.nextSettle(); ok {
			arm(d)
		}
	}

	scan()
	ticker := time.NewTicker(w.Rescan)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case ev, ok := <-events:
			if !ok {
				w.Logger.Warn("inbox events stopped, rescanning periodically only")
				events = nil
				continue
			}
			if relevant(dir, ev) {
				arm(debounce)
			}
		case err, ok := <-watchErrs:
			if !ok {
				watchErrs = nil
				continue
			}
			// Most likely a queue overflow: events were lost, so look.
			w.Logger.Warn("inbox events", keyError, err)
			arm(debounce)
		case <-ticker.C:
			scan()
		case <-timer.C:
			armed = false
			scan()
		}
	}
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
