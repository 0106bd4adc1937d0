package channel

import (
	"errors"
	"fmt"
)

// ErrTransient is returned when a send failed for a reason that may go away:
// an SMTP 4xx answer, HTTP 429 or 5xx, a network error or a timeout. The
// caller retries later with backoff, inside the order's window.
var ErrTransient = errors.New("transient failure")

// ErrPermanent is returned when a send can never work for this order: an
// SMTP 5xx answer, HTTP 400 or 404, an invalid or non-relay address, an
// order id that cannot be used.
var ErrPermanent = errors.New("permanent failure")

// ErrUnavailable is returned when the channel cannot send any message now
// for a reason an operator must fix, not the order's: the outbox folder is
// not writable by campaignd's user, or is on a read-only file system. The
// caller stops sending through the channel (one error, not one per order),
// and the order goes when the folder is fixed.
var ErrUnavailable = errors.New("channel unavailable")

// ErrAlreadySent is returned when the request for this order has already
// gone: the outbox file exists, or Amazon answers a solicitation with 403
// "not available for this amazonOrderId".
var ErrAlreadySent = errors.New("review request already sent")

// ErrOutsideWindow is returned when Amazon refuses a solicitation because the
// order is outside the 5-30 day range after delivery.
var ErrOutsideWindow = errors.New("outside the solicitation window")

// ErrNotOffered is returned when Amazon does not offer the
// productReviewAndSellerFeedback action for the order right now. The caller
// looks again later (next day), while the deadline allows.
var ErrNotOffered = errors.New("solicitation not offered now")

// ErrAuth is returned when the channel's credentials are wrong, expired or
// revoked: LWA invalid_grant or invalid_client, an SMTP authentication
// failure, or an SP-API 403 that is not about the order.
var ErrAuth = errors.New("authentication failed")

// ErrInDoubt is returned when a send may or may not have been delivered: the
// connection broke after the whole message was handed to the SMTP server but
// before it answered. It wraps ErrPermanent, so a caller that only knows the
// six sentinels above never sends the order again; a caller that knows
// ErrInDoubt records the order as in_doubt for an operator to resolve.
var ErrInDoubt = fmt.Errorf("delivery in doubt: %w", ErrPermanent)
