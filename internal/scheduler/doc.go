// Package scheduler decides what happens to each order and carries it out:
// Rules.Decide turns an order's facts into a state, a send time and a hard
// deadline; Engine.Ingest streams a report into the ledger through those
// rules; Engine.Pass sends what is due (claim, send, record); Engine.Reconcile
// settles orders a crash left claimed; Engine.StopSends cuts the send in
// flight short when the daemon stops. The cron tick that calls Pass lives in
// Runner.
//
// Every function takes the time it works at as a parameter, so windows and
// deadlines are tested at exact instants.
package scheduler
