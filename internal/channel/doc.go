// Package channel holds the senders that deliver one review request for one
// order:
//
//   - outbox writes an RFC 5322 file per order into a folder, atomically and
//     never over an existing one;
//   - smtp mails the rendered template to the buyer's anonymised Amazon
//     relay address (…@marketplace.amazon.<tld>) over one reused connection;
//   - spapi calls Amazon's Solicitations API (getSolicitationActionsForOrder,
//     then createProductReviewAndSellerFeedbackSolicitation) with an access
//     token from the account's lwa.Source; Amazon writes the email itself.
//     Requests are paced by golang.org/x/time/rate on the monotonic clock,
//     a little below the usage plan (and below a lower
//     x-amzn-RateLimit-Limit), and a 429 empties the bucket.
//
// Every Sender error wraps exactly one sentinel of errors.go (ErrInDoubt is
// a refinement of ErrPermanent), so the scheduler decides with errors.Is
// whether to retry, give up, look again tomorrow or record the order as
// sent. After a crash left an order claimed, Reconcile says whether the
// request went: outbox looks for the file, spapi asks Amazon whether the
// action is still offered, smtp knows only that a send which never reached
// its point of no return (Message.PointOfNoReturn, just before the final
// "." of the message) did not go.
//
// Cancelling the context of a Send cuts it short at once; the error says
// whether anything may have gone (ErrInDoubt) or certainly not.
//
// The package keeps no package-level mutable state, takes the clock (Now,
// Sleep) as configuration, and keeps buyer addresses, passwords, client
// secrets and tokens out of every error it returns.
package channel
