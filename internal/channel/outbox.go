package channel

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"os"
	"path/filepath"
	"syscall"
)

// OutboxConfig configures the outbox channel.
type OutboxConfig struct {
	// Dir is the folder the messages are written to; it is created if missing.
	Dir string
	// From is the From header, e.g. "Example Brand <orders@example.com>";
	// empty means "campaignd@localhost".
	From string
}

// Outbox writes one RFC 5322 message per order into a folder, as
// <order-id>.eml (or <account>/<order-id>.eml when Message.Account is not
// empty; the default account "" stays flat). A file is written to a hidden
// temporary file in the same folder, fsynced, then hard-linked to its final
// name, which fails if that name exists: an existing message is never
// overwritten and a second Send for the order returns ErrAlreadySent.
// Temporary files are named ".<order-id>.*.tmp" and never end in ".eml".
type Outbox struct {
	dir  string
	from *mail.Address
}

// NewOutbox returns an outbox writing into cfg.Dir.
func NewOutbox(cfg OutboxConfig) (*Outbox, error) {
	if cfg.Dir == "" {
		return nil, errors.New("outbox: dir is empty")
	}
	from, err := parseFrom(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return &Outbox{dir: cfg.Dir, from: from}, nil
}

// Name returns "outbox".
func (o *Outbox) Name() string { return "outbox" }

// NeedsTemplate returns true: the outbox writes the rendered template.
func (o *Outbox) NeedsTemplate() bool { return true }

// NeedsBuyerEmail returns false: the To header is written only when known.
func (o *Outbox) NeedsBuyerEmail() bool { return false }

// Close does nothing.
func (o *Outbox) Close() error { return nil }

// Path returns the file the message for m is (or would be) written to.
func (o *Outbox) Path(m Message) (string, error) {
	if err := checkIDs(m); err != nil {
		return "", err
	}
	return filepath.Join(o.folder(m), m.OrderID+".eml"), nil
}

func (o *Outbox) folder(m Message) string {
	if m.Account == "" {
		return o.dir
	}
	return filepath.Join(o.dir, m.Account)
}

// Send writes the message for m atomically. It returns ErrAlreadySent when
// the order's file exists, ErrPermanent for a message that cannot be built
// (bad order id, invalid To, no date), ErrUnavailable when the folder is
// not writable (no permission, a read-only file system) and ErrTransient
// for other file-system errors.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("outbox: %w: %w", ErrTransient, err)
	}
	msg, err := buildMessage(m, o.from)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	data, err := render(msg)
	if err != nil {
		return fmt.Errorf("outbox: order %s: %w: %w", m.OrderID, ErrPermanent, err)
	}
	dir := o.folder(m)
	final := filepath.Join(dir, m.OrderID+".eml")
	if _, err := os.Lstat(final); err == nil {
		return fmt.Errorf("outbox: order %s: %s exists: %w", m.OrderID, final, ErrAlreadySent)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("outbox: %w: %w", fsClass(err), err)
	}
	if err := writeNew(dir, final, "."+m.OrderID+".*.tmp", data); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("outbox: order %s: %s exists: %w", m.OrderID, final, ErrAlreadySent)
		}
		if c := fsClass(err); c == ErrUnavailable {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the path names a temporary file; the folder is what matters
			}
			return fmt.Errorf("outbox: %s: campaignd cannot write in the folder (%w: %w); give it to campaignd's user, or name another channel.outbox.dir", dir, c, err)
		}
		return fmt.Errorf("outbox: order %s: %w: %w", m.OrderID, ErrTransient, err)
	}
	return nil
}

// fsClass tells a file-system error that no retry can fix without an
// operator (no permission, a read-only file system) from one that may pass
// (a full disk, an I/O error).
func fsClass(err error) error {
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return ErrUnavailable
	}
	return ErrTransient
}

// writeNew writes data to final through a temporary file in dir, never
// replacing an existing final. The error wraps fs.ErrExist when final exists.
func writeNew(dir, final, pattern string, data []byte) (err error) {
	tmp, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer func() {
		// The temporary name is always removed: after a successful link the
		// data lives on under final.
		if rerr := os.Remove(tmpName); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
			err = rerr
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o640); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmpName, final); err != nil {
		return err
	}
	if err := os.Remove(tmpName); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return d.Close()
}

// Reconcile returns WasSent when the order's file exists and NotSent when it
// does not.
func (o *Outbox) Reconcile(ctx context.Context, m Message) (Verdict, error) {
	p, err := o.Path(m)
	if err != nil {
		return Unknown, fmt.Errorf("outbox: %w", err)
	}
	_, err = os.Lstat(p)
	switch {
	case err == nil:
		return WasSent, nil
	case errors.Is(err, fs.ErrNotExist):
		return NotSent, nil
	default:
		return Unknown, fmt.Errorf("outbox: order %s: %w: %w", m.OrderID, ErrTransient, err)
	}
}
