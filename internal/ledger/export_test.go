package ledger

import "time"

// SmallBulks makes bulk writes spill and commit in small pieces, so tests
// exercise many runs and transactions with few orders.
func SmallBulks() {
	factsRunBytes, opsRunBytes, txFactsBytes, txMaxOrders, txMaxOps = 128<<10, 64<<10, 128<<10, 3000, 5000
}

// SmallRedecide makes Redecide work in transactions of n orders.
func SmallRedecide(n int) { redecideChunk = n }

// DropReasonCounts removes the reason counters and their mark, as a ledger
// last written by a build without them has none.
func DropReasonCounts(l *Ledger) error {
	return l.update(time.Time{}, func(t *txn) error {
		if err := t.tx.DeleteBucket([]byte(bucketReasons)); err != nil {
			return err
		}
		return t.meta.Delete([]byte(keyReasons))
	})
}
