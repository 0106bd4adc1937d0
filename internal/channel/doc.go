// Package channel holds the senders that deliver one review request for one
// order: outbox (an RFC 5322 file per order in a folder), smtp (a custom
// template mailed to the buyer's anonymised Amazon relay address) and spapi
// (Amazon's Solicitations API, where Amazon writes the email itself).
//
// Every Sender delivers a Message and classifies each failure by wrapping
// exactly one of the sentinel errors in errors.go, so the scheduler decides
// with errors.Is whether to retry, give up or record the order as sent. After
// a crash left an order claimed, Reconcile says whether the request went.
//
// The package keeps no package-level mutable state, takes the clock as a
// parameter and never logs or returns buyer addresses, names or secrets in
// its error messages beyond what the caller handed in as the order id.
package channel
