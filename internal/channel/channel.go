package channel

import (
	"context"
	"time"
)

// Message is one review request ready to go. For channels that send no text
// (spapi), Subject and Body are empty.
type Message struct {
	Account       string
	OrderID       string
	Marketplace   string // "Amazon.de"
	MarketplaceID string // "A1PA6795UKMFR9"
	To            string // buyer relay address (smtp only; may be empty for outbox)
	Subject, Body string // plain text, already policy-checked by the caller
	Language      string
	Date          time.Time // the send instant (the caller's clock; used for the Date header)

	// PointOfNoReturn, if set, is called by a channel that cannot ask its
	// peer afterwards whether a request went (smtp) at the last moment the
	// send can still be abandoned without a trace: the server accepted the
	// recipient and holds the message, but for the "." that ends it. The
	// caller records it durably. If it returns an error the send is
	// abandoned, and certainly did not go.
	PointOfNoReturn func() error
	// BeforePointOfNoReturn is set by a caller of Reconcile that recorded
	// that the interrupted send never reached PointOfNoReturn: a channel
	// that calls PointOfNoReturn then knows the request did not go.
	BeforePointOfNoReturn bool
}

// Sender sends review requests over one channel.
type Sender interface {
	// Name is "outbox", "smtp" or "spapi".
	Name() string
	// NeedsTemplate is false for spapi (Amazon writes the email).
	NeedsTemplate() bool
	// NeedsBuyerEmail is true for smtp.
	NeedsBuyerEmail() bool
	// Send delivers m. Every error wraps exactly one of the package's
	// sentinels; classify it with errors.Is.
	Send(ctx context.Context, m Message) error
	// Reconcile says, after a crash left the order claimed, whether m was sent.
	Reconcile(ctx context.Context, m Message) (Verdict, error)
	// Close releases the sender's connections.
	Close() error
}

// Verdict is Reconcile's answer.
type Verdict int

// The verdicts of Reconcile.
const (
	// Unknown: the channel cannot tell; the order becomes in_doubt.
	Unknown Verdict = iota
	// WasSent: the request went; record the order as sent.
	WasSent
	// NotSent: the request certainly did not go; it may be sent again.
	NotSent
)

// String returns "unknown", "was_sent" or "not_sent".
func (v Verdict) String() string {
	switch v {
	case WasSent:
		return "was_sent"
	case NotSent:
		return "not_sent"
	default:
		return "unknown"
	}
}

var (
	_ Sender = (*Outbox)(nil)
	_ Sender = (*SPAPI)(nil)
	_ Sender = (*SMTP)(nil)
)
