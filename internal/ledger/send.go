package ledger

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"campaignd/internal/orders"

	bolt "go.etcd.io/bbolt"
)

// update runs fn in one write transaction stamped with now, under the
// writer lock.
func (l *Ledger) update(now time.Time, fn func(t *txn) error) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	return l.updateLocked(now, fn)
}

// updateLocked is update for a caller that holds the writer lock.
func (l *Ledger) updateLocked(now time.Time, fn func(t *txn) error) error {
	return l.guard(func() error {
		return l.db.Update(func(tx *bolt.Tx) error {
			t := newTxn(tx, now)
			if err := fn(t); err != nil {
				return err
			}
			return t.finish()
		})
	})
}

// view runs fn in one read transaction.
func (l *Ledger) view(fn func(t *txn) error) error {
	return l.guard(func() error {
		return l.db.View(func(tx *bolt.Tx) error { return fn(newTxn(tx, time.Time{})) })
	})
}

// timeIndexUpTo returns, in index order, the records of a time index
// whose time is at or before until (all when until is nil) and whose
// record agrees with the entry (want says whether it does), up to limit
// (all when limit <= 0). An entry a bulk write has not yet replaced is
// skipped, so a reader never acts on a stale one.
func (t *txn) timeIndexUpTo(b *bolt.Bucket, until []byte, limit int, want func(r *Record, at []byte) bool) ([]Record, error) {
	var out []Record
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if until != nil && bytes.Compare(k[:8], until) > 0 {
			break
		}
		if limit > 0 && len(out) >= limit {
			break
		}
		rec, ok, err := t.byOID(binary.BigEndian.Uint64(k[8:]))
		if err != nil {
			return nil, err
		}
		if ok && want(&rec, k[:8]) {
			out = append(out, rec)
		}
	}
	return out, nil
}

// dueNow says whether a due index entry at stands for rec.
func dueNow(rec *Record, at []byte) bool {
	return inDue(rec) && bytes.Equal(timeBytes(rec.SendAt), at)
}

func deadlineNow(rec *Record, at []byte) bool {
	return inDeadlines(rec) && bytes.Equal(timeBytes(rec.Deadline), at)
}

// Due returns up to limit scheduled orders whose send time is at or before
// now, earliest first (all of them when limit <= 0). It reads the due index,
// so its cost grows with what is due, not with the ledger.
func (l *Ledger) Due(now time.Time, limit int) ([]Record, error) {
	var out []Record
	err := l.view(func(t *txn) error {
		var err error
		out, err = t.timeIndexUpTo(t.due, timeBytes(now), limit, dueNow)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("due orders: %w", err)
	}
	return out, nil
}

// Upcoming returns the next n scheduled orders, earliest send time first,
// including any already due.
func (l *Ledger) Upcoming(n int) ([]Record, error) {
	if n <= 0 {
		return nil, nil
	}
	var out []Record
	err := l.view(func(t *txn) error {
		var err error
		out, err = t.timeIndexUpTo(t.due, nil, n, dueNow)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("upcoming orders: %w", err)
	}
	return out, nil
}

// ExpireOverdue moves every waiting or scheduled order whose deadline is at
// or before now to expired, and returns how many it moved. It reads the
// deadline index, so its cost grows with what expires.
func (l *Ledger) ExpireOverdue(now time.Time) (int, error) {
	n := 0
	err := l.update(now, func(t *txn) error {
		n = 0
		recs, err := t.timeIndexUpTo(t.deadlines, timeBytes(t.now), 0, deadlineNow)
		if err != nil {
			return err
		}
		for _, old := range recs {
			rec := old
			if err := t.expire(&old, &rec, "deadline "+old.Deadline.Format(time.RFC3339)+" has passed", "scheduler", false); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("expire overdue orders: %w", err)
	}
	return n, nil
}

// expire moves rec (a copy of old) to expired.
func (t *txn) expire(old, rec *Record, reason, actor string, problem bool) error {
	rec.State, rec.Reason, rec.SendAt = Expired, reason, time.Time{}
	return t.transition(old, rec, reason, actor, problem)
}

// Claim moves the scheduled order k to claimed for channel and commits
// (bbolt fsyncs on commit) before it returns: from then on no other path can
// send it. It re-checks the state (ErrNotClaimable unless scheduled) and
// the deadline: at or after it the order becomes expired and Claim returns
// ErrExpired. It counts the attempt.
func (l *Ledger) Claim(k Key, channel string, now time.Time) (Record, error) {
	return l.claim(k, channel, now, nil)
}

// claim is Claim; also, when the order is claimed, keep (if not nil) runs
// in the same transaction.
func (l *Ledger) claim(k Key, channel string, now time.Time, keep func(t *txn, rec *Record) error) (Record, error) {
	var out Record
	var refused error
	err := l.update(now, func(t *txn) error {
		refused = nil
		old, err := t.mustGet(k)
		if err != nil {
			return err
		}
		if old.State != Scheduled {
			return fmt.Errorf("%w: it is %s", ErrNotClaimable, old.State)
		}
		rec := old
		if !old.Deadline.IsZero() && !t.now.Before(old.Deadline) {
			refused = ErrExpired
			return t.expire(&old, &rec, "deadline "+old.Deadline.Format(time.RFC3339)+" had passed when the send was due", "scheduler", false)
		}
		if old.Order.Excluded != "" || old.ExcludedBy != "" { // applyDecision never schedules one; be sure
			refused = ErrNotClaimable
			rec.State, rec.SendAt, rec.Class = Excluded, time.Time{}, string(old.Order.Excluded)
			rec.Reason = "excluded: " + string(old.Order.Excluded)
			if old.Order.Excluded == "" {
				rec.Class, rec.Reason = string(orders.ExcludedOperator), "excluded by "+old.ExcludedBy
			}
			return t.transition(&old, &rec, rec.Reason, "scheduler", false)
		}
		rec.State, rec.Channel, rec.ClaimedAt, rec.SendAt, rec.NotBefore = Claimed, channel, t.now, time.Time{}, time.Time{}
		rec.DeliveringAt = time.Time{}
		rec.Reason = "sending through " + channel
		rec.Refusal = "" // the rendered message passed the policy checks
		rec.Attempts++
		if err := t.transition(&old, &rec, rec.Reason, "scheduler", false); err != nil {
			return err
		}
		if keep != nil {
			if err := keep(t, &rec); err != nil {
				return err
			}
		}
		out = rec
		return nil
	})
	if err == nil {
		err = refused
	}
	if err != nil {
		return Record{}, fmt.Errorf("claim order %s: %w", k, err)
	}
	return out, nil
}

// fromClaimed applies change to the claimed order k in one transaction.
// change sets the new state and returns the event's reason and whether it
// is a problem.
func (l *Ledger) fromClaimed(op string, k Key, now time.Time, change func(t *txn, rec *Record) (reason string, problem bool)) error {
	err := l.update(now, func(t *txn) error {
		old, err := t.mustGet(k)
		if err != nil {
			return err
		}
		if old.State != Claimed {
			return fmt.Errorf("%w: it is %s, not claimed", ErrWrongState, old.State)
		}
		rec := old
		reason, problem := change(t, &rec)
		return t.transition(&old, &rec, reason, "scheduler", problem)
	})
	if err != nil {
		return fmt.Errorf("%s order %s: %w", op, k, err)
	}
	return nil
}

// MarkDelivering records, durably (the commit is fsynced), that the send of
// the claimed order k passed its point of no return: from here a crash
// leaves the order in doubt, before it a retry is safe. It writes no audit
// event: the state does not change.
func (l *Ledger) MarkDelivering(k Key, now time.Time) error {
	err := l.update(now, func(t *txn) error {
		old, err := t.mustGet(k)
		if err != nil {
			return err
		}
		if old.State != Claimed {
			return fmt.Errorf("%w: it is %s, not claimed", ErrWrongState, old.State)
		}
		rec := old
		rec.DeliveringAt = t.now
		return t.put(&old, &rec)
	})
	if err != nil {
		return fmt.Errorf("mark delivering order %s: %w", k, err)
	}
	return nil
}

// MarkSent records that the claimed order k was sent (detail says how) and
// drops its buyer data.
func (l *Ledger) MarkSent(k Key, now time.Time, detail string) error {
	return l.fromClaimed("mark sent", k, now, func(t *txn, rec *Record) (string, bool) {
		t.countDay(rec, OutcomeSent)
		rec.State, rec.SentAt, rec.Reason = Sent, t.now, detail
		return detail, false
	})
}

// MarkInDoubt records that the claimed order k may or may not have been
// sent; it is never sent again unless an operator resolves it.
func (l *Ledger) MarkInDoubt(k Key, now time.Time, reason string) error {
	return l.fromClaimed("mark in doubt", k, now, func(t *txn, rec *Record) (string, bool) {
		t.countDay(rec, OutcomeInDoubt)
		rec.State, rec.Reason, rec.LastError = InDoubt, reason, reason
		return reason, true
	})
}

// MarkFailed records a permanent failure of the claimed order k and drops
// its buyer data.
func (l *Ledger) MarkFailed(k Key, now time.Time, reason string) error {
	return l.fromClaimed("mark failed", k, now, func(t *txn, rec *Record) (string, bool) {
		t.countDay(rec, OutcomeFailed)
		rec.State, rec.Reason, rec.LastError = Failed, reason, reason
		return reason, true
	})
}

// Retry puts the claimed order k back to scheduled at at, after a transient
// failure or when the request is not offered yet. If at is at or after the
// deadline the order becomes expired instead.
func (l *Ledger) Retry(k Key, at, now time.Time, reason string) error {
	return l.reschedule("retry", k, at, now, reason, true)
}

// Postpone puts the claimed order k back to scheduled at at because the
// channel says it is too early (Amazon offers no request yet), which is
// routine, not a problem: unlike Retry it leaves the problems list alone
// unless the order expires. If at is at or after the deadline the order
// becomes expired instead.
func (l *Ledger) Postpone(k Key, at, now time.Time, reason string) error {
	return l.reschedule("postpone", k, at, now, reason, false)
}

func (l *Ledger) reschedule(op string, k Key, at, now time.Time, reason string, problem bool) error {
	at = utc(at)
	return l.fromClaimed(op, k, now, func(t *txn, rec *Record) (string, bool) {
		if problem {
			rec.LastError = reason
			t.countDay(rec, OutcomeRetried)
		}
		if !rec.Deadline.IsZero() && !at.Before(rec.Deadline) {
			rec.State, rec.SendAt = Expired, time.Time{}
			rec.Reason = reason + "; no retry before the deadline " + rec.Deadline.Format(time.RFC3339)
			return rec.Reason, true
		}
		rec.State, rec.SendAt, rec.NotBefore, rec.Reason = Scheduled, at, at, op+": "+reason
		return rec.Reason, problem
	})
}

// Refuse records that the scheduled order k's rendered message failed the
// policy checks: it stays scheduled, its send time moves to retryAt, and
// refusal is kept on it. An audit event is written when the refusal text
// changes. If retryAt is at or after the deadline the order becomes expired.
func (l *Ledger) Refuse(k Key, retryAt, now time.Time, refusal string) error {
	return l.moveScheduled("refuse", k, retryAt, now, "refused: "+refusal, OutcomeRefused, func(old, rec *Record) bool {
		rec.Refusal = refusal
		return old.Refusal != refusal
	})
}

// moveScheduled moves the scheduled order k's send time to until (expiring
// it when until is at or after the deadline). set changes the record and
// says whether the move is worth an audit event. A move with an outcome (a
// refusal) is a problem, and counted for the day.
func (l *Ledger) moveScheduled(op string, k Key, until, now time.Time, reason, outcome string, set func(old, rec *Record) bool) error {
	problem := outcome != ""
	until = utc(until)
	err := l.update(now, func(t *txn) error {
		old, err := t.mustGet(k)
		if err != nil {
			return err
		}
		if old.State != Scheduled {
			return fmt.Errorf("%w: it is %s, not scheduled", ErrWrongState, old.State)
		}
		rec := old
		if outcome != "" {
			t.countDay(&rec, outcome)
		}
		emit := set(&old, &rec)
		if !old.Deadline.IsZero() && !until.Before(old.Deadline) {
			return t.expire(&old, &rec, reason+"; not before the deadline "+old.Deadline.Format(time.RFC3339), "scheduler", true)
		}
		rec.SendAt, rec.NotBefore = until, until
		if emit {
			if err := t.event(&rec, old.State, rec.State, reason, "scheduler", problem); err != nil {
				return err
			}
		}
		return t.put(&old, &rec)
	})
	if err != nil {
		return fmt.Errorf("%s order %s: %w", op, k, err)
	}
	return nil
}

// List returns up to n orders in state s (all when n <= 0), in the order
// the ledger first saw them.
func (l *Ledger) List(s State, n int) ([]Record, error) {
	var out []Record
	err := l.view(func(t *txn) error {
		var err error
		out, err = t.inState(s, n)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list %s orders: %w", s, err)
	}
	return out, nil
}

// inState returns up to n orders in state s (all when n <= 0), in the
// order the ledger numbered them. It reads the state index and skips an
// entry a bulk write has not yet replaced.
func (t *txn) inState(s State, n int) ([]Record, error) {
	var out []Record
	prefix := []byte{stateCode(s)}
	c := t.states.Cursor()
	for k, _ := c.Seek(prefix); k != nil && k[0] == prefix[0]; k, _ = c.Next() {
		if n > 0 && len(out) >= n {
			break
		}
		rec, ok, err := t.byOID(binary.BigEndian.Uint64(k[1:]))
		if err != nil {
			return nil, err
		}
		if ok && rec.State == s {
			out = append(out, rec)
		}
	}
	return out, nil
}

// Hold moves the scheduled order k's send time to until without a refusal
// and without a problem (quiet hours in the buyer's time zone), so it leaves
// the due window and later due orders are not held up behind it. The move is
// an audit event. If until is at or after the deadline the order expires.
func (l *Ledger) Hold(k Key, until, now time.Time, reason string) error {
	return l.moveScheduled("hold", k, until, now, "held: "+reason, "", func(_, _ *Record) bool { return true })
}

// boltView and boltUpdate are bbolt's View and Update under guard.
func (l *Ledger) boltView(fn func(tx *bolt.Tx) error) error {
	return l.guard(func() error { return l.db.View(fn) })
}

func (l *Ledger) boltUpdate(fn func(tx *bolt.Tx) error) error {
	return l.guard(func() error { return l.db.Update(fn) })
}
