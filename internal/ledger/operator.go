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

// OperatorExclude excludes the order k by hand: its facts carry
// orders.ExcludedOperator (sticky, so no later report schedules it) and it
// becomes excluded. An unknown order is created. It returns ErrWrongState
// for an order that is claimed, sent or in doubt. who names the operator in
// the audit event ("" when unknown).
func (l *Ledger) OperatorExclude(k Key, now time.Time, who, note string) error {
	err := l.update(now, func(t *txn) error {
		reason := operatorReason("excluded by operator", note)
		old, err := t.mustGet(k)
		if errors.Is(err, ErrNotFound) {
			rec := Record{Key: k, Order: orders.Order{ID: k.OrderID}, State: Excluded, Reason: reason, Class: string(orders.ExcludedOperator)}
			rec.Order.Exclude(orders.ExcludedOperator, note)
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
		rec.Order.Exclude(orders.ExcludedOperator, note)
		rec.State, rec.Reason, rec.SendAt, rec.Class = Excluded, reason, time.Time{}, string(rec.Order.Excluded)
		return t.transition(&old, &rec, reason, operatorActor(who), false)
	})
	if err != nil {
		return fmt.Errorf("exclude order %s: %w", k, err)
	}
	return nil
}
