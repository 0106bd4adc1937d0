package ledger

import (
	"errors"
	"fmt"
	"time"

	"campaignd/internal/orders"
)

// operatorActor is the audit event's actor for a correction by hand: who
// names the person (the control socket's peer, "uid 1000 (alice)"); empty
// when unknown.
func operatorActor(who string) string {
	if who == "" {
		return "operator"
	}
	return "operator " + who
}

func operatorReason(what, note string) string {
	if note == "" {
		return what
	}
	return what + ": " + note
}

// Resolve settles the in-doubt order k by hand: sent records that the
// request went; otherwise decide says what happens next (usually scheduled
// again). It returns ErrWrongState for an order that is not in doubt. who
// names the operator in the audit event ("" when unknown).
func (l *Ledger) Resolve(k Key, sent bool, decide Decider, now time.Time, who, note string) error {
	err := l.update(now, func(t *txn) error {
		old, err := t.mustGet(k)
		if err != nil {
			return err
		}
		if old.State != InDoubt {
			return fmt.Errorf("%w: it is %s, not in_doubt", ErrWrongState, old.State)
		}
		rec := old
		if sent {
			t.countDay(&rec, OutcomeSent)
			rec.State, rec.SentAt = Sent, t.now
			rec.Reason = operatorReason("resolved as sent", note)
			return t.transition(&old, &rec, rec.Reason, operatorActor(who), false)
		}
		if decide == nil {
			return errors.New("resolve as not sent needs a decider")
		}
		if err := applyDecision(&rec, decide(rec.Order, now), t.now); err != nil {
			return err
		}
		reason := operatorReason("resolved as not sent", note)
		if rec.Reason != "" {
			reason += "; " + rec.Reason
		}
		return t.transition(&old, &rec, reason, operatorActor(who), false)
	})
	if err != nil {
		return fmt.Errorf("resolve order %s: %w", k, err)
	}
	return nil
}

// OperatorMarkSent records a request made outside campaignd: the order k
// becomes sent from any state but claimed (ErrWrongState: a send is in
// flight). An unknown order is created, so that no later report can
// schedule it. An order already sent stays sent; the note is still audited.
// who names the operator in the audit event ("" when unknown).
func (l *Ledger) OperatorMarkSent(k Key, now time.Time, who, note string) error {
	err := l.update(now, func(t *txn) error {
		reason := operatorReason("requested outside campaignd", note)
		old, err := t.mustGet(k)
		if errors.Is(err, ErrNotFound) {
			rec := Record{Key: k, Order: orders.Order{ID: k.OrderID}, State: Sent, Reason: reason, SentAt: t.now}
			return t.transition(nil, &rec, reason, operatorActor(who), false)
		}
		if err != nil {
			return err
		}
		switch old.State {
		case Claimed:
			return fmt.Errorf("%w: a send is in flight (claimed)", ErrWrongState)
		case Sent:
			rec := old
			if err := t.event(&rec, Sent, Sent, reason, operatorActor(who), false); err != nil {
				return err
			}
			return t.put(&old, &rec)
		}
		rec := old
		rec.State, rec.Reason, rec.SentAt, rec.SendAt = Sent, reason, t.now, time.Time{}
		return t.transition(&old, &rec, reason, operatorActor(who), false)
	})
	if err != nil {
		return fmt.Errorf("mark order %s sent: %w", k, err)
	}
	return nil
}

// OperatorExclude excludes the order k by hand: the record keeps who did
// (Record.ExcludedBy), which every later decision honours, so no later
// report schedules it, and it becomes excluded. The order's facts are left
// as reports give them, so a cancellation or return reported meanwhile is
// still known if OperatorInclude undoes the exclusion. An unknown order is
// created. It returns ErrWrongState for an order that is claimed, sent or
// in doubt. who names the operator in the audit event ("" when unknown).
func (l *Ledger) OperatorExclude(k Key, now time.Time, who, note string) error {
	err := l.update(now, func(t *txn) error {
		reason := operatorReason("excluded by operator", note)
		old, err := t.mustGet(k)
		if errors.Is(err, ErrNotFound) {
			rec := Record{Key: k, Order: orders.Order{ID: k.OrderID}, State: Excluded, Reason: reason,
				Class: string(orders.ExcludedOperator), ExcludedBy: operatorActor(who)}
			return t.transition(nil, &rec, reason, operatorActor(who), false)
		}
		if err != nil {
			return err
		}
		switch old.State {
		case Claimed, Sent, InDoubt:
			return fmt.Errorf("%w: it is %s", ErrWrongState, old.State)
		}
		rec := old
		rec.ExcludedBy = operatorActor(who)
		rec.State, rec.Reason, rec.SendAt, rec.Class = Excluded, reason, time.Time{}, string(orders.ExcludedOperator)
		return t.transition(&old, &rec, reason, operatorActor(who), false)
	})
	if err != nil {
		return fmt.Errorf("exclude order %s: %w", k, err)
	}
	return nil
}

// excludedByHand reports whether rec is excluded by an operator: by
// OperatorExclude, or (written by an older build) by facts that carry
// orders.ExcludedOperator.
func excludedByHand(rec *Record) bool {
	return rec.ExcludedBy != "" || rec.Order.Excluded == orders.ExcludedOperator
}

// OperatorInclude undoes OperatorExclude: the order k is decided again by
// decide, as the rules say today (it may stay excluded, for a report's
// cancellation or the exclude lists of the configuration), with an audit
// event naming who. It returns ErrWrongState for an order that is not
// excluded by hand, and never touches one that is sent, in flight or in
// doubt.
func (l *Ledger) OperatorInclude(k Key, decide Decider, now time.Time, who, note string) (Record, error) {
	if decide == nil {
		return Record{}, errors.New("include order: no decider")
	}
	var out Record
	err := l.update(now, func(t *txn) error {
		old, err := t.mustGet(k)
		switch {
		case err != nil:
			return err
		case old.State == Sent:
			return fmt.Errorf("%w: it is sent, which is final", ErrWrongState)
		case old.State != Excluded:
			return fmt.Errorf("%w: it is %s, not excluded", ErrWrongState, old.State)
		case !excludedByHand(&old):
			return fmt.Errorf("%w: it is excluded by the rules (%s), not by hand; include undoes only `ledger exclude`", ErrWrongState, old.Reason)
		}
		rec := old
		rec.ExcludedBy = ""
		if rec.Order.Excluded == orders.ExcludedOperator {
			rec.Order.Excluded, rec.Order.Because = "", ""
		}
		if err := applyDecision(&rec, decide(rec.Order, now), t.now); err != nil {
			return err
		}
		reason := operatorReason("included by operator", note)
		if rec.Reason != "" {
			reason += "; " + rec.Reason
		}
		out = rec
		return t.transition(&old, &rec, reason, operatorActor(who), false)
	})
	if err != nil {
		return Record{}, fmt.Errorf("include order %s: %w", k, err)
	}
	return out, nil
}
