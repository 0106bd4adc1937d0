package ledger_test

import (
	"os"
	"testing"
	"time"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"
)

// fill upserts n orders, ids from first on, in batches of 1000, with
// purchase dates spread evenly over the spread before at.
func fill(tb testing.TB, l *ledger.Ledger, first, n int, at time.Time, spread time.Duration) {
	tb.Helper()
	batch := make([]orders.Order, 0, 1000)
	for i := first; i < first+n; i++ {
		o := order(orderID(i))
		o.PurchaseDate = at.Add(-time.Duration(int64(spread) * int64(i-first) / int64(n)))
		batch = append(batch, o)
		if len(batch) == cap(batch) || i == first+n-1 {
			if _, err := l.Upsert("", batch, decide, at); err != nil {
				tb.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

// BenchmarkUpsert upserts batches of 1000 orders into a ledger that already
// holds 100,000: new orders, and re-ingests of known orders whose facts
// changed (a newer estimated arrival, so a new send time and an event each).
func BenchmarkUpsert(b *testing.B) {
	l := MustOpen(b)
	now := t0.Add(20 * day)
	fill(b, l, 0, 100_000, now, 25*day)
	next := 100_000
	b.Run("new", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			batch := make([]orders.Order, 1000)
			for i := range batch {
				batch[i] = order(orderID(next))
				batch[i].PurchaseDate = now
				next++
			}
			st, err := l.Upsert("", batch, decide, now)
			if err != nil || st.New != 1000 {
				b.Fatalf("%+v %v", st, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/order")
	})
	b.Run("changed", func(b *testing.B) {
		b.ReportAllocs()
		round := 0
		for b.Loop() {
			round++
			batch := make([]orders.Order, 1000)
			for i := range batch {
				batch[i] = order(orderID((round*1000 + i) % 100_000))
				batch[i].PurchaseDate = time.Time{} // keep the stored one
				batch[i].EstimatedArrival = now.Add(time.Duration(round) * time.Minute)
			}
			if _, err := l.Upsert("", batch, decide, now); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/order")
	})
	b.Run("unchanged", func(b *testing.B) {
		b.ReportAllocs()
		batch := make([]orders.Order, 1000)
		for i := range batch {
			batch[i] = order(orderID(50_000 + i))
			batch[i].PurchaseDate = time.Time{}
		}
		for b.Loop() {
			if _, err := l.Upsert("", batch, decide, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDue reads the 100 due orders of a ledger holding 200,000 (and,
// for comparison, of one holding 1,000), and times the other calls a
// scheduler tick makes; none of them grows with the ledger.
func BenchmarkDue(b *testing.B) {
	now := t0.Add(10 * day)
	open := func(b *testing.B, size int) *ledger.Ledger {
		l := MustOpen(b)
		// 100 orders placed 5 days before now are due; the rest, placed later, are not.
		fill(b, l, 0, 100, now.Add(-5*day), time.Hour)
		fill(b, l, 100, size-100, now.Add(20*day), 15*day)
		return l
	}
	small := open(b, 1_000)
	b.Run("Due/orders=1000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if due, err := small.Due(now, 100); err != nil || len(due) != 100 {
				b.Fatalf("%d due, %v", len(due), err)
			}
		}
	})
	l := open(b, 200_000)
	b.Run("Due/orders=200000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if due, err := l.Due(now, 100); err != nil || len(due) != 100 {
				b.Fatalf("%d due, %v", len(due), err)
			}
		}
		if fi, err := os.Stat(l.Path()); err == nil {
			b.ReportMetric(float64(fi.Size())/(1<<20), "MB-file")
		}
	})
	b.Run("Counts", func(b *testing.B) {
		for b.Loop() {
			if c, err := l.Counts(); err != nil || c.Total != 200_000 {
				b.Fatalf("%+v %v", c, err)
			}
		}
	})
	b.Run("ExpireOverdue-none", func(b *testing.B) {
		for b.Loop() {
			if n, err := l.ExpireOverdue(now); err != nil || n != 0 {
				b.Fatalf("%d %v", n, err)
			}
		}
	})
	b.Run("Claim+MarkSent", func(b *testing.B) {
		due, err := l.Due(now, 0)
		if err != nil {
			b.Fatal(err)
		}
		i := 0
		for b.Loop() {
			if i >= len(due) {
				b.Skip("ran out of due orders")
			}
			k := due[i].Key
			i++
			if _, err := l.Claim(k, "outbox", now); err != nil {
				b.Fatal(err)
			}
			if err := l.MarkSent(k, now, "ok"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
