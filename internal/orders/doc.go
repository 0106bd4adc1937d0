// Package orders reads the order and return exports a seller drops into the
// inbox and turns them into Orders: the facts about one order, merged over
// every row and file that mentioned it.
//
// It is pure: it reads from an io.Reader and returns values. It knows nothing
// of the ledger, the network or the clock.
package orders
