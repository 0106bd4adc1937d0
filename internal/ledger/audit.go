package ledger

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"
)

// Event is one audited transition of an order. From is "" when the order
// was created; From equals To when only the send time or the refusal moved,
// or when an operator re-confirmed a state.
type Event struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Key    Key       `json:"key"`
	From   State     `json:"from,omitempty"`
	To     State     `json:"to"`
	Reason string    `json:"reason,omitempty"`
	Actor  string    `json:"actor"` // "ingest", "scheduler" or "operator"
}

func (t *txn) eventAt(seq uint64) (Event, uint64, error) {
	raw := t.events.Get(u64(seq))
	if raw == nil {
		return Event{}, 0, fmt.Errorf("no event %d", seq)
	}
	ev, prev, err := decodeEvent(seq, raw)
	if err != nil {
		return Event{}, 0, fmt.Errorf("decode event %d: %w", seq, err)
	}
	return ev, prev, nil
}

// history returns rec's events, oldest first: the creation kept in the
// record, then the log's events, followed back from the newest.
func (t *txn) history(rec *Record) ([]Event, error) {
	var out []Event
	for seq := rec.lastEvent; seq != 0; {
		ev, prev, err := t.eventAt(seq)
		if err != nil {
			return nil, err
		}
		if ev.Key != rec.Key {
			return nil, fmt.Errorf("event %d of order %s is about order %s", seq, rec.Key, ev.Key)
		}
		if prev >= seq {
			return nil, fmt.Errorf("event %d of order %s points forward to %d", seq, rec.Key, prev)
		}
		out = append(out, ev)
		seq = prev
	}
	if rec.first != nil {
		out = append(out, Event{Time: rec.CreatedAt, Key: rec.Key, To: rec.first.state, Reason: rec.first.reason, Actor: "ingest"})
	}
	slices.Reverse(out)
	return out, nil
}

// Events returns the history of order k, oldest first. An order first seen
// in a report starts with that sighting (Seq 0: it is kept with the order,
// not in the log).
func (l *Ledger) Events(k Key) ([]Event, error) {
	kb, err := orderKey(k)
	if err != nil {
		return nil, fmt.Errorf("events of order: %w", err)
	}
	var out []Event
	err = l.view(func(t *txn) error {
		rec, ok, err := t.get(kb)
		if err != nil || !ok {
			return err
		}
		out, err = t.history(&rec)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("events of order %s: %w", k, err)
	}
	return out, nil
}

// RecentEvents returns up to n events of the log, newest first. Sightings
// of new orders in a report are kept with the orders, not in the log.
func (l *Ledger) RecentEvents(n int) ([]Event, error) {
	var out []Event
	err := l.view(func(t *txn) error {
		c := t.events.Cursor()
		for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
			ev, _, err := decodeEvent(binary.BigEndian.Uint64(k), v)
			if err != nil {
				return fmt.Errorf("decode event %x: %w", k, err)
			}
			out = append(out, ev)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recent events: %w", err)
	}
	return out, nil
}

// RecentProblems returns up to n events, newest first, that are problems:
// transitions to failed or in_doubt, policy refusals and retries after
// errors. The ledger keeps the newest 1000.
func (l *Ledger) RecentProblems(n int) ([]Event, error) {
	var out []Event
	err := l.view(func(t *txn) error {
		c := t.problems.Cursor()
		for k, _ := c.Last(); k != nil && len(out) < n; k, _ = c.Prev() {
			ev, _, err := t.eventAt(binary.BigEndian.Uint64(k))
			if err != nil {
				return err
			}
			out = append(out, ev)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recent problems: %w", err)
	}
	return out, nil
}

// Counts is how many orders the ledger holds, in total and per state.
type Counts struct {
	Total   int
	ByState map[State]int // every state in States, zero included
}

// Counts returns the order counts from counters kept current by every
// write; it does not scan the orders.
func (l *Ledger) Counts() (Counts, error) {
	out := Counts{ByState: make(map[State]int, len(States))}
	err := l.view(func(t *txn) error {
		for _, s := range States {
			var n int
			if v := t.counts.Get([]byte(s)); len(v) == 8 {
				n = int(binary.BigEndian.Uint64(v))
			}
			out.ByState[s] = n
			out.Total += n
		}
		return nil
	})
	if err != nil {
		return Counts{}, fmt.Errorf("count orders: %w", err)
	}
	return out, nil
}

// forEachChunk is how many records ForEach reads per read transaction.
const forEachChunk = 512

// ForEach calls fn for every order in the order the ledger first saw them. It reads in chunks, each
// in its own read transaction, and calls fn outside of them, so fn may use
// the ledger; it is not a snapshot of one instant. An error from fn stops
// the walk and is returned as is.
func (l *Ledger) ForEach(fn func(Record) error) error {
	var after []byte
	for {
		var chunk []Record
		err := l.view(func(t *txn) error {
			c := t.orders.Cursor()
			k, v := c.First()
			if after != nil {
				k, v = c.Seek(after)
				if k != nil && bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for ; k != nil && len(chunk) < forEachChunk; k, v = c.Next() {
				rec, err := decodeRecord(v)
				if err != nil {
					return fmt.Errorf("decode order #%d: %w", binary.BigEndian.Uint64(k), err)
				}
				rec.oid = binary.BigEndian.Uint64(k)
				chunk = append(chunk, rec)
				after = bytes.Clone(k)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("walk orders: %w", err)
		}
		for _, rec := range chunk {
			if err := fn(rec); err != nil {
				return err
			}
		}
		if len(chunk) < forEachChunk {
			return nil
		}
	}
}

// ExportOptions choose what Export writes.
type ExportOptions struct {
	// Personal keeps the buyer's relay address and name in the export;
	// without it they are left out.
	Personal bool
}

// Export writes every order as JSON lines, one Record per line, in the
// order the ledger first saw them, without buyer data.
func (l *Ledger) Export(w io.Writer) error { return l.ExportWith(w, ExportOptions{}) }

// ExportWith is Export with options.
func (l *Ledger) ExportWith(w io.Writer, opt ExportOptions) error {
	enc := json.NewEncoder(w)
	err := l.ForEach(func(rec Record) error {
		if !opt.Personal {
			rec.Order.ForgetBuyer()
		}
		return enc.Encode(rec)
	})
	if err != nil {
		return fmt.Errorf("export ledger: %w", err)
	}
	return nil
}

// PurgePersonal drops the buyer data (email, name) of every order that is
// not being sent (claimed) and was delivered more than after before now.
// Delivery is DeliveredAt, else EstimatedArrival, else PurchaseDate, else
// when the ledger first saw the order. It returns how many it purged.
func (l *Ledger) PurgePersonal(now time.Time, after time.Duration) (int, error) {
	n := 0
	err := l.update(now, func(t *txn) error {
		n = 0
		var due []Record
		c := t.orders.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			rec, err := decodeRecord(v)
			if err != nil {
				return fmt.Errorf("decode order #%d: %w", binary.BigEndian.Uint64(k), err)
			}
			rec.oid = binary.BigEndian.Uint64(k)
			if rec.State == Claimed || (rec.Order.BuyerEmail == "" && rec.Order.BuyerName == "") {
				continue
			}
			if deliveredAt(rec).Add(after).Before(t.now) {
				due = append(due, rec)
			}
		}
		for _, old := range due {
			rec := old
			rec.Order.ForgetBuyer()
			if err := t.put(&old, &rec); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge personal data: %w", err)
	}
	return n, nil
}

func deliveredAt(rec Record) time.Time {
	for _, t := range []time.Time{rec.Order.DeliveredAt, rec.Order.EstimatedArrival, rec.Order.PurchaseDate} {
		if !t.IsZero() {
			return t
		}
	}
	return rec.CreatedAt
}
