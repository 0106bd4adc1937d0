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
// Layout (schema 2). Every order has a key, account + 0x00 + order id, so
// several seller accounts share one file, and a number the ledger gives it
// when it first sees it; records live under the number, so new orders are
// appended at the end of the orders bucket. Records and events are a
// compact, versioned binary encoding (codec.go); files stay JSON.
// Time-ordered index keys start with the 8-byte big-endian UnixNano of
// their time.
//
//	meta           "schema" -> "2"; "problems" -> entries in problems;
//	               "indexing" -> set while a bulk write's indexes are pending;
//	               "daemon" -> when a daemon last started on the real clock;
//	               "config_hash" -> the rules the open orders were decided with;
//	               "reasons" -> set once the reason counters are complete
//	ids            orderKey -> number(8)
//	orders         number(8) -> Record
//	due            sendAt(8) + number(8) -> ""      every scheduled order, once
//	deadlines      deadline(8) + number(8) -> ""    waiting/scheduled orders with a deadline
//	states         state code(1) + number(8) -> ""  every order, once
//	counts         state -> uint64                  changed once per transaction
//	events         seq(8) -> Event                  the audit log; each event names the
//	                                                order's previous one, and the record its
//	                                                newest, so a history is a walk back
//	problems       seq(8) -> ""                     the newest failures, refusals and retries
//	files          sha256 -> FileRecord (JSON)
//	files_by_time  ingestedAt(8) + sha256 -> ""
//	fetch          "REPORT_TYPE/MARKETPLACE_ID" -> fetch.ReportState (JSON): what the
//	               report fetcher fetched of each stream, and the report pending
//
// Buckets added to schema 2 later (fetch) are created by the first
// writable Open of a file that lacks them; a read-only Open reads a
// missing one as empty.
//
// Buckets newer than schema 2, which a writable Open (or the first write
// that needs one) creates, and readers do without:
//
//	reasons        state code(1) + class -> uint64  waiting and excluded orders
//	               by reason class (Record.Class), changed once per transaction
//	daily          day + 0 + marketplace + 0 + outcome -> uint64  requests sent,
//	               refused, failed, retried, put in doubt, per UTC day
//	messages       number(8) -> SentMessage (JSON)  what a claimed order's
//	               message was made of, kept with the claim
//	templates      sha256 -> template source        each template a message used
//
// An order first seen in a report keeps that sighting (its state and
// reason then) in its record rather than as an event: Events shows it
// first. Every later change of state is an event.
//
// Reports are written in bulk (bulk.go): sorted by order key through a
// bounded external sort, every row of an order merged before it is
// written, records in transactions of bounded size, then the index changes
// in key order, then the file's record. A crash in between leaves a mark
// that the next writable Open repairs. A schema-1 ledger (JSON records) is
// converted by the first writable Open into a new file beside it, renamed
// into place whole (migrate.go).
//
// Buyer data (relay address, name) is kept only while the order's channel
// is smtp or not yet decided, and never once it is sent, failed, excluded
// or expired; a kept message holds none (the buyer's name is not kept).
//
// An order excluded by hand (OperatorExclude) carries who did it in the
// record, not in its facts, so that reports keep telling what they tell
// (a return, a cancellation) while it is excluded, and OperatorInclude can
// hand it back to the rules.
//
// Each write method is one bbolt transaction stamped with one time, the now
// it is given, under the ledger's writer lock (a bulk write holds it for all
// its transactions). bbolt allows one process at a time to open the file for
// writing; Open fails with ErrLocked after Options.Timeout instead of
// waiting for ever. An existing file that is empty, cut short or not bbolt's
// is never replaced: Open fails with ErrDamaged, and a read that runs past
// the end of a file truncated under it returns ErrDamaged instead of
// crashing the process.
package ledger
