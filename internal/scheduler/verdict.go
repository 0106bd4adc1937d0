package scheduler

import (
	"fmt"
	"time"

	"campaignd/internal/ledger"
)

// SendMargin bounds one send, and an order is claimed only while the whole
// of it fits before the deadline: a send that takes all its time still ends
// before purchase + 30 days. The send runs on a context of its own: the
// pass's context ending stops the pass from taking new work, and only
// StopSends cuts the send in flight short.
const SendMargin = 2 * time.Minute

// pastDeadline reports whether t is at or after the deadline, when no
// request may go any more. A zero deadline (no purchase date yet) is never
// past.
func pastDeadline(deadline, t time.Time) bool {
	return !deadline.IsZero() && !t.Before(deadline)
}

// leavesRoom reports whether a send started at t, taking all of
// SendMargin, still ends before the deadline.
func leavesRoom(deadline, t time.Time) bool {
	return !pastDeadline(deadline, t.Add(SendMargin))
}

// Action is what a pass does with an order at an instant.
type Action int

// The actions. The zero Action holds: nothing is sent by default.
const (
	Hold   Action = iota // not now: the order keeps its state
	Send                 // claim it and send it now
	Expire               // its deadline leaves no room for a send: it expires
)

// Verdict is what a pass at an instant does with one order, and why.
type Verdict struct {
	Action Action
	// State is the order's state after the verdict: its own, or Expired.
	State ledger.State
	// Reason says why the order is not sent now ("" for Send).
	Reason string
	// Until is when a held order may go (the end of quiet hours, its send
	// time); zero when only new facts can move it.
	Until time.Time
	// Class groups verdicts for a summary (`campaignd plan`): the order's
	// reason class (ledger.Record.Class) when it waits or is excluded,
	// VerdictNotDue, VerdictQuiet or VerdictDeadline when the pass itself
	// holds or expires it, "" when it is sent or in a final state.
	Class string
}

// The classes a verdict gives beside the orders' own (Verdict.Class).
const (
	VerdictNotDue   = "not_due"     // scheduled, not due yet
	VerdictQuiet    = "quiet_hours" // due, inside quiet hours
	VerdictDeadline = "deadline"    // its deadline leaves no room for a send: it expires
)

// Verdict says whether a pass at the instant at sends the order rec now,
// holds it (and why), or lets it expire. It is pure, and both the send
// pass and `campaignd plan` ask it, so a plan shows what a pass does. The
// ledger checks the deadline once more when the order is claimed.
func (r Rules) Verdict(rec ledger.Record, at time.Time) Verdict {
	switch rec.State {
	case ledger.Waiting, ledger.Scheduled:
	case ledger.Sent:
		return Verdict{State: rec.State, Reason: "already sent " + stamp(rec.SentAt)}
	default:
		return Verdict{State: rec.State, Reason: rec.Reason, Class: rec.Class}
	}
	switch {
	case pastDeadline(rec.Deadline, at):
		return Verdict{Action: Expire, State: ledger.Expired, Reason: fmt.Sprintf("deadline %s has passed", stamp(rec.Deadline)), Class: VerdictDeadline}
	case rec.State == ledger.Waiting:
		return Verdict{State: rec.State, Reason: rec.Reason, Class: rec.Class}
	case !leavesRoom(rec.Deadline, at):
		return Verdict{Action: Expire, State: ledger.Expired, Reason: fmt.Sprintf("too close to the deadline %s for a send to finish before it (%s left)",
			stamp(rec.Deadline), rec.Deadline.Sub(at).Round(time.Second)), Class: VerdictDeadline}
	case rec.SendAt.After(at):
		return Verdict{State: rec.State, Reason: fmt.Sprintf("not due until %s (%s)", stamp(rec.SendAt), rec.Reason), Until: rec.SendAt, Class: VerdictNotDue}
	}
	if quiet, end := r.InQuietHours(at, rec.Order.Marketplace); quiet {
		return Verdict{State: rec.State, Reason: fmt.Sprintf("quiet hours in %s until %s", rec.Order.Marketplace, stamp(end)), Until: end, Class: VerdictQuiet}
	}
	return Verdict{Action: Send, State: rec.State}
}
