package inbox

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Retry is a file in the inbox that waits to be tried again, and why.
type Retry struct {
	Name     string    `json:"name"`
	Reason   string    `json:"reason"`
	Failures int       `json:"failures"`
	Next     time.Time `json:"next_try"`
}

// Retrying returns the files in Dir whose last try failed, by name.
func (w *Watcher) Retrying() []Retry {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []Retry
	for name, e := range w.seen {
		if e.failing() {
			out = append(out, Retry{Name: name, Reason: e.reason, Failures: e.failures, Next: e.retryAt})
		}
	}
	slices.SortFunc(out, func(a, b Retry) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// failed records a Retry result for the file name. A temporary failure
// (a full disk, an I/O error, a busy ledger) is retried with backoff for as
// long as it lasts: the file is not at fault. A crash of the handler counts
// against the file, which is rejected after MaxAttempts crashes on the same
// content. retry reports whether the file waits for another try; if not, r
// is the rejection to file.
func (w *Watcher) failed(e *entry, name string, r Result, crashed bool, now time.Time) (Result, bool) {
	reason := r.Reason
	if reason == "" {
		reason = "the handler asked to retry"
	}
	w.mu.Lock()
	if crashed {
		e.crashes++
	}
	crashes := e.crashes
	if crashes < w.MaxAttempts || !crashed {
		w.backoff(e, reason, now)
	}
	retryAt, failures := e.retryAt, e.failures
	w.mu.Unlock()
	if crashed && crashes >= w.MaxAttempts {
		return giveUp(r, crashes), false
	}
	w.Logger.Warn("inbox file not handled now, will retry", keyFile, name, keyAttempt, failures,
		keyRetryAt, retryAt.UTC().Format(time.RFC3339), keyReason, reason)
	return r, true
}

// backoff counts a failure of e and sets when to try again: RetryBackoff
// after the first, doubling up to MaxBackoff. The caller holds w.mu.
func (w *Watcher) backoff(e *entry, reason string, now time.Time) {
	e.failures++
	e.reason = reason
	d := w.RetryBackoff
	for i := 1; i < e.failures && d < w.MaxBackoff; i++ {
		d *= 2
	}
	e.retryAt = now.Add(min(d, w.MaxBackoff))
}

// giveUp turns the last crash into a rejection.
func giveUp(r Result, attempts int) Result {
	reason := r.Reason
	if reason == "" {
		reason = "handler asked to retry"
	}
	return Result{
		Rejected: true,
		Reason:   fmt.Sprintf("gave up after %d attempts: %s", attempts, reason),
		Report:   r.Report,
	}
}

func errString(err error) string {
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}
