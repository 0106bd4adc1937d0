package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"campaignd/internal/channel"
	"campaignd/internal/ledger"
	"campaignd/internal/marketplace"
	"campaignd/internal/policy"
)

// Engine runs passes over the ledger with the current Setup. Passes never
// overlap; a reload swaps the Setup between passes.
type Engine struct {
	Ledger  *ledger.Ledger
	Logger  *slog.Logger
	Account string // ledger account of this daemon's orders ("" = default)
	// Now, if set, is read before each claim, so a long pass (rate limits,
	// slow peers) never checks a deadline against the instant it started.
	// Unset, every send in a pass happens at the pass's now.
	Now func() time.Time
	// Observe, if set, hears what became of each send (the daemon's
	// metrics), by the order's marketplace and channel. It must not block.
	Observe func(marketplace, channel string, o Outcome)

	setup     atomic.Pointer[Setup]
	passMu    sync.Mutex
	lastPurge time.Time // guarded by passMu

	stopMu   sync.Mutex
	stopping bool      // StopSends was called
	inflight *inflight // the send under way, if any
}

// inflight is one send under way.
type inflight struct {
	cancel context.CancelCauseFunc
	// past is set when the channel reaches its point of no return: from
	// then on the message may be out, and stopping gives the send a grace
	// period to get its answer instead of cutting it at once.
	past bool
}

// Outcome is what became of one send, as Engine.Observe hears it.
type Outcome string

// The outcomes Observe hears. A send put off because Amazon offers no
// request yet, or because campaignd is stopping, is none of them.
const (
	OutcomeSent    Outcome = "sent"     // the request went
	OutcomeRefused Outcome = "refused"  // the policy checks refused the rendered message
	OutcomeRetried Outcome = "retried"  // it failed for now and goes again later
	OutcomeFailed  Outcome = "failed"   // it failed for good
	OutcomeInDoubt Outcome = "in_doubt" // it may have gone; an operator settles it
)

func (e *Engine) observe(marketplace, channel string, o Outcome) {
	if e.Observe != nil {
		e.Observe(marketplace, channel, o)
	}
}

// ErrStopping is the cause of a send cancelled because campaignd is
// stopping (Engine.StopSends).
var ErrStopping = errors.New("campaignd is stopping")

// purgeEvery is how often a pass sweeps the whole ledger for personal data
// past its time. Sends, exclusions and expiry purge as they happen; the
// sweep catches the rest (orders in doubt, orders that never got a date), so
// once a day is enough and passes stay cheap.
const purgeEvery = 24 * time.Hour

// instant is the time a send in a pass started at now happens at.
func (e *Engine) instant(now time.Time) time.Time {
	if e.Now == nil {
		return now
	}
	if t := e.Now().UTC(); t.After(now) {
		return t
	}
	return now
}

// NewEngine returns an engine over l with the first setup s.
func NewEngine(l *ledger.Ledger, s *Setup, logger *slog.Logger) *Engine {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{Ledger: l, Logger: logger}
	e.setup.Store(s)
	return e
}

// Setup returns the setup in force.
func (e *Engine) Setup() *Setup { return e.setup.Load() }

// Swap puts s in force, re-decides every order that has not been sent
// under the new rules, records the rules' hash (see Resume), and returns
// the old setup for the caller to close.
func (e *Engine) Swap(s *Setup, now time.Time) (*Setup, error) {
	e.passMu.Lock()
	defer e.passMu.Unlock()
	old := e.setup.Swap(s)
	if _, err := e.Ledger.Redecide(s.Decide, now); err != nil {
		return old, fmt.Errorf("re-decide orders: %w", err)
	}
	return old, e.Ledger.SetConfigHash(s.Rules.Hash(), now)
}

// PassStats counts what one pass did.
type PassStats struct {
	Expired, Purged, Due, Sent, Retried, Failed, InDoubt, Refused, Quiet int
}

// LogValue is how every log line shows a pass: its counts as a group, which
// a line logs under the empty key (slog.Any("", st)) to have them inline:
// due=3 sent=2 ...
func (p PassStats) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("due", p.Due), slog.Int("sent", p.Sent), slog.Int("retried", p.Retried),
		slog.Int("failed", p.Failed), slog.Int("in_doubt", p.InDoubt), slog.Int("refused", p.Refused),
		slog.Int("quiet", p.Quiet), slog.Int("expired", p.Expired), slog.Int("purged", p.Purged))
}

// refusalRetry is how long a refused message waits before it is rendered
// again (a reload re-decides it sooner).
const refusalRetry = 24 * time.Hour

// notOfferedRetry is how long to wait when Amazon offers no solicitation yet.
const notOfferedRetry = 24 * time.Hour

// Pass does one send pass at now: expire what passed its deadline, purge
// personal data past its time, then send what is due. Each send is claim
// (committed to disk) → send → record, so a crash at any point leaves the
// order claimed, never unclaimed-but-sent, and a claimed order is never
// sent again without reconciliation.
func (e *Engine) Pass(ctx context.Context, now time.Time) (PassStats, error) {
	e.passMu.Lock()
	defer e.passMu.Unlock()
	s := e.Setup()
	var st PassStats
	var err error
	if st.Expired, err = e.Ledger.ExpireOverdue(now); err != nil {
		return st, fmt.Errorf("expire overdue: %w", err)
	}
	if e.lastPurge.IsZero() || now.Sub(e.lastPurge) >= purgeEvery || now.Before(e.lastPurge) {
		if st.Purged, err = e.Ledger.PurgePersonal(now, s.Config.PurgeAfter()); err != nil {
			return st, fmt.Errorf("purge personal data: %w", err)
		}
		e.lastPurge = now
	}
	due, err := e.Ledger.Due(now, s.Config.Schedule.BatchSize)
	if err != nil {
		return st, fmt.Errorf("read due orders: %w", err)
	}
	st.Due = len(due)
	for _, rec := range due {
		if ctx.Err() != nil {
			break
		}
		if err := e.sendOne(ctx, s, rec, now, &st); err != nil {
			return st, err
		}
	}
	return st, nil
}

// sendOne handles one due order, as its Verdict at the clock of the moment
// says. Only ledger errors, and a channel that cannot send at all
// (channel.ErrUnavailable), are returned: anything that goes wrong with the
// order itself is recorded on it.
func (e *Engine) sendOne(ctx context.Context, s *Setup, rec ledger.Record, passStart time.Time, st *PassStats) error {
	now := e.instant(passStart)
	switch v := s.Rules.Verdict(rec, now); v.Action {
	case Expire:
		// Held until its deadline, the order expires with the reason.
		st.Expired++
		return e.hold(rec.Key, rec.Deadline, now, v.Reason)
	case Hold:
		if v.Until.IsZero() {
			return nil // not a due order any more; new facts will move it
		}
		st.Quiet++ // a due order waits only for the end of quiet hours
		return e.hold(rec.Key, v.Until, now, v.Reason)
	}
	log := e.Logger.With("order", rec.Key.OrderID, "channel", rec.Channel)
	snd, ok := s.Senders[rec.Channel]
	if !ok {
		// The campaign's channel left the config: re-deciding on reload moved the
		// order already; an order scheduled for a channel that is gone waits.
		log.Warn("order scheduled for a channel that is not configured; skipped")
		return nil
	}
	r, err := s.message(snd, rec, now)
	if err != nil {
		st.Refused++
		e.observe(rec.Order.Marketplace, rec.Channel, OutcomeRefused)
		log.Warn("message refused; order stays scheduled", "reason", err.Error())
		if rerr := e.Ledger.Refuse(rec.Key, now.Add(refusalRetry), now, err.Error()); rerr != nil && !errors.Is(rerr, ledger.ErrExpired) {
			return fmt.Errorf("record refusal of %s: %w", rec.Key.OrderID, rerr)
		}
		return nil
	}
	kept, src := r.Kept(rec.Channel)
	if _, err := e.Ledger.ClaimWith(rec.Key, rec.Channel, now, kept, src); err != nil {
		if errors.Is(err, ledger.ErrExpired) || errors.Is(err, ledger.ErrNotClaimable) {
			log.Info("not sent", "reason", err.Error())
			return nil
		}
		return fmt.Errorf("claim %s: %w", rec.Key.OrderID, err)
	}
	return e.send(ctx, snd, rec, r.Message, now, st, log)
}

// hold moves the due order k's send time to until, with the reason; at or
// after its deadline the ledger expires it.
func (e *Engine) hold(k ledger.Key, until, now time.Time, reason string) error {
	if err := e.Ledger.Hold(k, until, now, reason); err != nil {
		return fmt.Errorf("hold %s: %w", k.OrderID, err)
	}
	return nil
}

// send hands the claimed order's message to its channel and records the
// outcome.
func (e *Engine) send(ctx context.Context, snd channel.Sender, rec ledger.Record, msg channel.Message, now time.Time, st *PassStats, log *slog.Logger) error {
	sendCtx, f, done := e.startSend(ctx)
	defer done()
	msg.PointOfNoReturn = func() error {
		if err := e.passNoReturn(f); err != nil {
			return err
		}
		// Durable before the channel goes on: a crash before this commit
		// leaves the order claimed without it, which reconciliation retries.
		return e.Ledger.MarkDelivering(rec.Key, e.instant(now))
	}
	sendErr := snd.Send(sendCtx, msg)
	if sendErr != nil && errors.Is(context.Cause(sendCtx), ErrStopping) && !errors.Is(sendErr, ErrStopping) {
		sendErr = fmt.Errorf("%w (%w)", sendErr, ErrStopping)
	}
	return e.record(sendCtx, snd, rec, msg, sendErr, e.instant(now), st, log)
}

// startSend registers a send under way and returns its context, bounded by
// SendMargin and cancelled by StopSends (at once when stopping already),
// and the function that ends it.
func (e *Engine) startSend(ctx context.Context) (context.Context, *inflight, func()) {
	bounded, cancelTimeout := context.WithTimeout(context.WithoutCancel(ctx), SendMargin)
	sendCtx, cancel := context.WithCancelCause(bounded)
	f := &inflight{cancel: cancel}
	e.stopMu.Lock()
	e.inflight = f
	if e.stopping {
		cancel(ErrStopping)
	}
	e.stopMu.Unlock()
	return sendCtx, f, func() {
		e.stopMu.Lock()
		e.inflight = nil
		e.stopMu.Unlock()
		cancel(nil)
		cancelTimeout()
	}
}

// passNoReturn lets send f pass its point of no return, unless campaignd is
// stopping: then the send is abandoned while that is still safe.
func (e *Engine) passNoReturn(f *inflight) error {
	e.stopMu.Lock()
	defer e.stopMu.Unlock()
	if e.stopping {
		return ErrStopping
	}
	f.past = true
	return nil
}

// StopSends is for shutdown: it cancels the send in flight at once if it
// has not reached its point of no return (it is then a safe retry), and
// after grace if it has, so that a message already out gets its answer if
// one comes (otherwise the order is in doubt). Later sends are cancelled as
// they start, and none passes its point of no return. The outcome of the
// cancelled send is recorded as usual; wait for the pass to end before
// closing the ledger.
func (e *Engine) StopSends(grace time.Duration) {
	e.stopMu.Lock()
	defer e.stopMu.Unlock()
	if e.stopping {
		return
	}
	e.stopping = true
	f := e.inflight
	switch {
	case f == nil:
	case !f.past:
		f.cancel(ErrStopping)
	default:
		time.AfterFunc(grace, func() { f.cancel(ErrStopping) })
		e.Logger.Info("stopping: the send in flight has its message out; waiting for the server's answer", "grace", grace.String())
	}
}

// refusal summarises the policy violations of a rendered message.
func refusal(vs []policy.Violation) error {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.Rule + ": " + v.Message
	}
	return errors.New("policy refused the rendered message: " + strings.Join(parts, "; "))
}

// record writes the outcome of a send attempt.
func (e *Engine) record(ctx context.Context, snd channel.Sender, rec ledger.Record, msg channel.Message, sendErr error, now time.Time, st *PassStats, log *slog.Logger) error {
	k := rec.Key
	var err error
	switch {
	case sendErr == nil:
		// Recorded before anything else: until this commit, a crash leaves
		// the order in doubt.
		st.Sent++
		e.observe(rec.Order.Marketplace, rec.Channel, OutcomeSent)
		if err = e.Ledger.MarkSent(k, now, "sent through "+snd.Name()); err == nil {
			log.Info("review request sent")
		}
	case errors.Is(sendErr, channel.ErrInDoubt):
		// The whole message was handed over but no answer came: it may have
		// gone. Never retried automatically; an operator resolves it.
		st.InDoubt++
		e.observe(rec.Order.Marketplace, rec.Channel, OutcomeInDoubt)
		log.Warn("send in doubt; resolve with `campaignd ledger resolve`", "reason", sendErr.Error())
		err = e.Ledger.MarkInDoubt(k, now, sendErr.Error())
	case errors.Is(sendErr, channel.ErrAlreadySent):
		st.Sent++
		log.Warn("channel reports the request already went; recorded as sent", "reason", sendErr.Error())
		err = e.Ledger.MarkSent(k, now, "channel reports it was already sent: "+sendErr.Error())
	case errors.Is(sendErr, channel.ErrUnavailable):
		// The channel cannot send anything (its folder is not writable): not
		// the order's fault. It is due again at once, and the pass stops
		// with this one error rather than a line per order.
		st.Retried++
		e.observe(rec.Order.Marketplace, rec.Channel, OutcomeRetried)
		if err = e.Ledger.Retry(k, now, now, sendErr.Error()); err == nil {
			return sendErr
		}
	default:
		err = e.recordFailure(ctx, snd, rec, msg, sendErr, now, st, log)
	}
	if err != nil && !errors.Is(err, ledger.ErrExpired) {
		return fmt.Errorf("record outcome for %s: %w", k.OrderID, err)
	}
	return nil
}

// recordFailure records a send that did not go: again at the next pass
// (campaignd stopped before anything went), later (not offered yet,
// transient trouble, with back-off), never (a permanent refusal), or as the
// channel's reconciliation says (anything it did not classify).
func (e *Engine) recordFailure(ctx context.Context, snd channel.Sender, rec ledger.Record, msg channel.Message, sendErr error, now time.Time, st *PassStats, log *slog.Logger) error {
	k := rec.Key
	switch {
	case errors.Is(sendErr, ErrStopping) && errors.Is(sendErr, channel.ErrTransient):
		// Cut short before anything went: not a problem, and no back-off.
		st.Retried++
		log.Info("send cancelled before the request went: campaignd is stopping; it goes at the next pass")
		return e.Ledger.Postpone(k, now, now, "campaignd stopped before the request went; it goes at the next pass")
	case errors.Is(sendErr, channel.ErrNotOffered):
		st.Retried++
		return e.Ledger.Postpone(k, now.Add(notOfferedRetry), now, "Amazon offers no review request for this order yet; looking again tomorrow")
	case errors.Is(sendErr, channel.ErrOutsideWindow):
		// Our deadline (purchase + 30 days) ends no later than Amazon's
		// (delivery + 30 days), so inside it "outside the window" means too early.
		st.Retried++
		return e.Ledger.Postpone(k, now.Add(notOfferedRetry), now, "Amazon says the order is outside its 5-30 day window; looking again tomorrow")
	case errors.Is(sendErr, channel.ErrTransient), errors.Is(sendErr, channel.ErrAuth):
		st.Retried++
		e.observe(rec.Order.Marketplace, rec.Channel, OutcomeRetried)
		wait := backoff(e.Setup().Config.Schedule.Retry.Duration, rec.Attempts+1)
		log.Warn("send failed; will retry", "reason", sendErr.Error(), "retry_in", wait.String())
		return e.Ledger.Retry(k, now.Add(wait), now, sendErr.Error())
	case errors.Is(sendErr, channel.ErrPermanent):
		st.Failed++
		e.observe(rec.Order.Marketplace, rec.Channel, OutcomeFailed)
		log.Error("send failed for good", "reason", sendErr.Error())
		return e.Ledger.MarkFailed(k, now, sendErr.Error())
	}
	// Unclassified (a cancelled context mid-send, say): ask the channel.
	return e.reconcileOne(ctx, snd, k, msg, now, "send interrupted: "+sendErr.Error(), st)
}

// backoff doubles base per attempt, capped at a day.
func backoff(base time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < 24*time.Hour; i++ {
		d *= 2
	}
	return min(d, 24*time.Hour)
}

// Reconcile settles orders a crash left claimed: the channel says whether
// the request went; when it cannot know, the order becomes in_doubt and
// waits for an operator. An order whose send never reached the channel's
// point of no return (no DeliveringAt) is one the smtp channel knows did
// not go: it is sent again. It runs once at start-up, before any pass.
func (e *Engine) Reconcile(ctx context.Context, now time.Time) (PassStats, error) {
	e.passMu.Lock()
	defer e.passMu.Unlock()
	s := e.Setup()
	var st PassStats
	claimed, err := e.Ledger.List(ledger.Claimed, 0)
	if err != nil {
		return st, fmt.Errorf("list claimed orders: %w", err)
	}
	for _, rec := range claimed {
		snd, ok := s.Senders[rec.Channel]
		if !ok {
			st.InDoubt++
			if err := e.Ledger.MarkInDoubt(rec.Key, now, fmt.Sprintf("claimed for channel %q, which is not configured now", rec.Channel)); err != nil {
				return st, err
			}
			continue
		}
		msg := channelMessage(rec, now)
		if err := e.reconcileOne(ctx, snd, rec.Key, msg, now, "found claimed at start-up", &st); err != nil {
			return st, err
		}
	}
	return st, nil
}

func channelMessage(rec ledger.Record, now time.Time) channel.Message {
	m := channel.Message{Account: rec.Key.Account, OrderID: rec.Key.OrderID, Marketplace: rec.Order.Marketplace, Date: now,
		BeforePointOfNoReturn: rec.DeliveringAt.IsZero()}
	if r, ok := marketplace.Lookup(rec.Order.Marketplace); ok {
		m.MarketplaceID = r.ID
	}
	return m
}

func (e *Engine) reconcileOne(ctx context.Context, snd channel.Sender, k ledger.Key, msg channel.Message, now time.Time, why string, st *PassStats) error {
	v, err := snd.Reconcile(ctx, msg)
	switch {
	case err == nil && v == channel.WasSent:
		st.Sent++
		return e.Ledger.MarkSent(k, now, why+"; "+snd.Name()+" shows it was sent")
	case err == nil && v == channel.NotSent:
		st.Retried++
		return e.Ledger.Retry(k, now, now, why+"; "+snd.Name()+" shows it was not sent")
	default:
		reason := why + "; " + snd.Name() + " cannot tell whether it was sent"
		if err != nil {
			reason += " (" + err.Error() + ")"
		}
		st.InDoubt++
		e.observe(msg.Marketplace, snd.Name(), OutcomeInDoubt)
		e.Logger.Warn("order in doubt; resolve with `campaignd ledger resolve`", "order", k.OrderID, "reason", reason)
		return e.Ledger.MarkInDoubt(k, now, reason)
	}
}
