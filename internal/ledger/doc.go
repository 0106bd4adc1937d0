// Package ledger is campaignd's memory: a bbolt file that holds every order
// it has heard of, the state each one is in, every transition as an audit
// event, the files it has ingested, and the indexes the scheduler reads.
//
// The ledger is the source of truth that makes a second review request for
// an order impossible (POLICY.md S1). An order moves through these states:
//
//	waiting    not yet eligible (not shipped or delivered yet)
//	scheduled  has a send time; listed in the due index
//	claimed    a send is in flight; committed (fsynced) before the channel is called
//	sent       the request went; final
//	in_doubt   a send may have gone; waits for an operator; never sent again
//	failed     a permanent error; final
//	excluded   ruled out, with a reason (may be reconsidered after new facts or config)
//	expired    the deadline passed; final
//
// Only a scheduled order can be claimed, and no code path leads from sent
// or in_doubt to claimed: in_doubt leaves only by an operator's Resolve.
// Claim re-checks the deadline (S2) against the clock it is given.
//
// Facts from order reports are folded in with orders.Merge, which keeps
// exclusions sticky, so a cancellation or return that arrives before the
// send stops it. What state facts lead to is decided outside the ledger by
// a Decider; the ledger applies the decision to orders that are not yet in
// flight or final, and refuses to schedule an order whose facts exclude it.
// A back-off set by Retry or Refuse (Record.NotBefore) holds the send time
// against later decisions, so re-ingesting a file does not undo it.
//
// Layout. Every order key is account + 0x00 + order id, so several seller
// accounts share one file. Time-ordered index keys start with the 8-byte
// big-endian UnixNano of their time. Records and events are JSON.
//
//	meta           "schema" -> version; "problems" -> entries in problems
//	orders         orderKey -> Record (JSON)
//	due            sendAt(8) + orderKey -> ""     every scheduled order, once
//	deadlines      deadline(8) + orderKey -> ""   waiting/scheduled orders with a deadline
//	states         state + 0x00 + orderKey -> ""  every order, once
//	counts         state -> uint64                kept current in the same transactions
//	events         seq(8) -> Event (JSON)         the audit log
//	order_events   orderKey + 0x00 + seq(8) -> "" each order's history
//	problems       seq(8) -> ""                   the newest failures, refusals and retries
//	files          sha256 -> FileRecord (JSON)
//	files_by_time  ingestedAt(8) + sha256 -> ""
//
// Each write method is one bbolt transaction stamped with one time, the now
// it is given. bbolt allows one process at a time to open the file for
// writing; Open fails with ErrLocked after Options.Timeout instead of
// waiting for ever.
package ledger
