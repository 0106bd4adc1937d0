// Package scheduler decides what happens to each order and carries it out:
// Rules.Decide turns an order's facts into a state, a send time and a hard
// deadline; Rules.Verdict says what a pass at an instant does with an order
// (send it now, hold it and why, or let it expire), for the send pass and for
// `campaignd plan` alike; Engine.Ingest streams a report into the ledger
// through the rules; Engine.Pass sends what is due (claim, send, record);
// Engine.Reconcile settles orders a crash left claimed; Engine.Resume
// re-decides the open orders at start-up when the rules differ from those
// they were decided with (Rules.Hash); Engine.StopSends cuts the send in
// flight short when the daemon stops. The cron tick that calls Pass lives in
// Runner. Decide gives every waiting or excluded order a reason class
// (ClassNotShipped, ClassNoCampaign("Amazon.nl"), ...) that the ledger
// counts and the commands show (ClassText).
//
// A Setup holds what one configuration needs: the rules, the checked
// templates, and the senders, which the caller (cmd/campaignd) opens with
// their secrets. What the commands print of the ledger is theirs too.
//
// Every function takes the time it works at as a parameter, so windows and
// deadlines are tested at exact instants.
package scheduler
