package ledger

import "errors"

var (
	// ErrLocked is returned when Open cannot lock the ledger file within
	// Options.Timeout because another process (usually the daemon) holds it.
	ErrLocked = errors.New("ledger is locked by another process (is the daemon running?)")

	// ErrSchema is returned when Open finds a ledger written with a schema
	// version this build does not know, or a file that is not a ledger.
	ErrSchema = errors.New("ledger schema version mismatch")

	// ErrDamaged is returned when the ledger file exists but cannot be read
	// as a ledger: it is empty, shorter than its own header says (cut off by
	// a copy or a full disk), or its pages are not bbolt's. campaignd never
	// creates a new ledger in its place, which would forget every request
	// already sent; the error says how to recover.
	ErrDamaged = errors.New("ledger file is damaged")

	// ErrNotFound is returned when an operation names an order the ledger
	// does not hold.
	ErrNotFound = errors.New("order not in ledger")

	// ErrNotClaimable is returned when Claim is called for an order that is
	// not scheduled.
	ErrNotClaimable = errors.New("order is not scheduled and cannot be claimed")

	// ErrExpired is returned when Claim finds the order's deadline has
	// passed; the order has been moved to expired.
	ErrExpired = errors.New("order's deadline has passed")

	// ErrWrongState is returned when a transition is asked of an order whose
	// state does not allow it (MarkSent of an order that is not claimed, say).
	ErrWrongState = errors.New("order is in the wrong state for this operation")
)
