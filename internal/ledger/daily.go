package ledger

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"
)

// What went out, per day: the daily bucket counts, per UTC day and
// marketplace, the requests sent and those refused, failed, retried or put
// in doubt, in the transactions that record them, so `campaignd status`
// shows the last weeks without scanning anything. Keys are
// "YYYY-MM-DD" 0x00 marketplace 0x00 outcome; values uint64. Days older than
// dailyKeep are dropped as new days come. Unlike the state counters, these
// are a history: nothing rebuilds them from the orders.
const (
	bucketDaily = "daily"
	dailyKeep   = 400 * 24 * time.Hour
)

// The outcomes counted per day.
const (
	OutcomeSent    = "sent"     // a request went (MarkSent, Resolve as sent)
	OutcomeRefused = "refused"  // the rendered message failed the policy checks (Refuse)
	OutcomeFailed  = "failed"   // a permanent failure (MarkFailed)
	OutcomeRetried = "retried"  // a transient failure, tried again later (Retry)
	OutcomeInDoubt = "in_doubt" // the request may have gone (MarkInDoubt)
)

// dayKey is one daily counter.
type dayKey struct{ day, marketplace, outcome string }

func (k dayKey) bytes() []byte {
	b := append([]byte(k.day), 0)
	b = append(b, k.marketplace...)
	return append(append(b, 0), k.outcome...)
}

// countDay counts outcome for rec's marketplace on the transaction's day.
func (t *txn) countDay(rec *Record, outcome string) {
	if t.days == nil {
		t.days = map[dayKey]int64{}
	}
	m := rec.Order.Marketplace
	if m == "" {
		m = "-"
	}
	t.days[dayKey{t.now.Format(time.DateOnly), m, outcome}]++
}

// finishDays writes the daily counters changed in the transaction, and
// drops days past dailyKeep when a new day starts.
func (t *txn) finishDays() error {
	if len(t.days) == 0 {
		return nil
	}
	b, err := t.tx.CreateBucketIfNotExists([]byte(bucketDaily))
	if err != nil {
		return err
	}
	newDay := false
	for k, d := range t.days {
		key := k.bytes()
		var n uint64
		if v := b.Get(key); len(v) == 8 {
			n = binary.BigEndian.Uint64(v)
		} else if c := b.Cursor(); !hasPrefix(c, []byte(k.day)) {
			newDay = true
		}
		if err := b.Put(key, u64(n+uint64(d))); err != nil {
			return err
		}
	}
	clear(t.days)
	if !newDay {
		return nil
	}
	cutoff := []byte(t.now.Add(-dailyKeep).Format(time.DateOnly))
	var old [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k[:min(len(k), len(cutoff))], cutoff) < 0; k, _ = c.Next() {
		old = append(old, bytes.Clone(k))
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func hasPrefix(c interface{ Seek([]byte) ([]byte, []byte) }, p []byte) bool {
	k, _ := c.Seek(p)
	return k != nil && bytes.HasPrefix(k, p)
}

// DayCount is what went out on one UTC day for one marketplace.
type DayCount struct {
	Day         string `json:"day"` // YYYY-MM-DD
	Marketplace string `json:"marketplace"`
	Sent        int    `json:"sent"`
	Refused     int    `json:"refused"`
	Failed      int    `json:"failed"`
	Retried     int    `json:"retried"`
	InDoubt     int    `json:"in_doubt"`
}

// Daily returns the counts of the UTC days from `from` to `to` (both
// included), by day (oldest first) and marketplace, from counters; days
// and marketplaces with nothing counted are left out.
func (l *Ledger) Daily(from, to time.Time) ([]DayCount, error) {
	var out []DayCount
	first, last := from.UTC().Format(time.DateOnly), to.UTC().Format(time.DateOnly)
	err := l.view(func(t *txn) error {
		b := t.tx.Bucket([]byte(bucketDaily))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek([]byte(first)); k != nil && string(k[:min(len(k), len(last))]) <= last; k, v = c.Next() {
			parts := bytes.SplitN(k, []byte{0}, 3)
			if len(parts) != 3 || len(v) != 8 {
				return fmt.Errorf("daily counter %q is malformed", k)
			}
			day, m := string(parts[0]), string(parts[1])
			if len(out) == 0 || out[len(out)-1].Day != day || out[len(out)-1].Marketplace != m {
				out = append(out, DayCount{Day: day, Marketplace: m})
			}
			out[len(out)-1].add(string(parts[2]), int(binary.BigEndian.Uint64(v)))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("requests per day: %w", err)
	}
	return out, nil
}

func (d *DayCount) add(outcome string, n int) {
	switch outcome {
	case OutcomeSent:
		d.Sent += n
	case OutcomeRefused:
		d.Refused += n
	case OutcomeFailed:
		d.Failed += n
	case OutcomeRetried:
		d.Retried += n
	case OutcomeInDoubt:
		d.InDoubt += n
	}
}
