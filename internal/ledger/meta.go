package ledger

import (
	"fmt"
	"time"
)

// Marks in the meta bucket about how the ledger has been used.
const (
	// keyDaemon holds when a daemon last started on the ledger with the
	// real clock (RFC 3339): `run --at`, which moves the clock, refuses
	// such a ledger unless told to.
	keyDaemon = "daemon"
	// keyConfigHash holds the hash of the configuration the open orders
	// were last decided with (see scheduler.Rules.Hash).
	keyConfigHash = "config_hash"
)

// metaGet returns the value of a meta key, "" when it is not set.
func (l *Ledger) metaGet(key string) (string, error) {
	var v string
	err := l.view(func(t *txn) error {
		v = string(t.meta.Get([]byte(key)))
		return nil
	})
	return v, err
}

// metaPut sets a meta key in one transaction.
func (l *Ledger) metaPut(key, value string, now time.Time) error {
	return l.update(now, func(t *txn) error { return t.meta.Put([]byte(key), []byte(value)) })
}

// MarkDaemon records that a daemon started on the ledger at now, on the
// real clock.
func (l *Ledger) MarkDaemon(now time.Time) error {
	if err := l.metaPut(keyDaemon, now.UTC().Format(time.RFC3339), now); err != nil {
		return fmt.Errorf("mark the ledger as the daemon's: %w", err)
	}
	return nil
}

// DaemonMark returns when a daemon last started on the ledger on the real
// clock (MarkDaemon), or the zero time when none ever did.
func (l *Ledger) DaemonMark() (time.Time, error) {
	v, err := l.metaGet(keyDaemon)
	if err != nil || v == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: meta %q holds %q", ErrDamaged, keyDaemon, v)
	}
	return t, nil
}

// ConfigHash returns the hash recorded by SetConfigHash, "" when none was.
func (l *Ledger) ConfigHash() (string, error) {
	v, err := l.metaGet(keyConfigHash)
	if err != nil {
		return "", fmt.Errorf("read the configuration hash: %w", err)
	}
	return v, nil
}

// SetConfigHash records the hash of the configuration the open orders were
// decided with.
func (l *Ledger) SetConfigHash(h string, now time.Time) error {
	if err := l.metaPut(keyConfigHash, h, now); err != nil {
		return fmt.Errorf("record the configuration hash: %w", err)
	}
	return nil
}
