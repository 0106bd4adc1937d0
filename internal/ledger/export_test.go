package ledger

// SmallBulks makes bulk writes spill and commit in small pieces, so tests
// exercise many runs and transactions with few orders.
func SmallBulks() {
	factsRunBytes, opsRunBytes, txFactsBytes, txMaxOrders, txMaxOps = 128<<10, 64<<10, 128<<10, 3000, 5000
}

// SmallRedecide makes Redecide work in transactions of n orders.
func SmallRedecide(n int) { redecideChunk = n }
