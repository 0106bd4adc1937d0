package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"
	"campaignd/internal/scheduler"
)

const ledgerAbout = `Inspect and correct the ledger by hand. Every correction leaves an audit event.

	show ORDER                    the order's record and its whole history
	export                        every order as JSON lines
	resolve ORDER --sent|--retry  settle an in_doubt order: it went, or send it again
	mark-sent ORDER...            record a request made outside campaignd (never send one)
	exclude ORDER...              never send a request for these orders
	backup FILE                   write a consistent copy of the ledger to a new FILE
	                              (safe while the daemon runs; never overwrites)`

func cmdLedger(ctx context.Context, a *app, args []string) error {
	fs := newFlags("ledger", "show|export|resolve|mark-sent|exclude|backup [ORDER...|FILE]", ledgerAbout, a)
	cfgPath := a.configFlag(fs)
	sent := fs.Bool("sent", false, "resolve: the request did go out")
	retry := fs.Bool("retry", false, "resolve: the request did not go out; schedule it again")
	note := fs.String("note", "", "a note for the audit event")
	asJSON := fs.Bool("json", false, "show: print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	pos := fs.Args()
	if len(pos) == 0 {
		return usagef("ledger needs a subcommand: show, export, resolve, mark-sent, exclude or backup")
	}
	sub, ids := pos[0], pos[1:]
	if sub == "backup" {
		if len(ids) != 1 {
			return usagef("ledger backup takes one FILE")
		}
		return ledgerBackup(ctx, a, fs, *cfgPath, ids[0])
	}
	for _, id := range ids {
		if !orders.ValidID(id) && !orders.IsNonAmazonID(id) {
			return usagef("%q is not an Amazon order id (want 123-1234567-1234567)", id)
		}
	}
	readOnly := false
	switch sub {
	case "show":
		if len(ids) != 1 {
			return usagef("ledger show takes one ORDER")
		}
		readOnly = true
	case "export":
		if len(ids) != 0 {
			return usagef("ledger export takes no ORDER")
		}
		readOnly = true
	case "resolve":
		if len(ids) != 1 || *sent == *retry {
			return usagef("ledger resolve takes one ORDER and exactly one of --sent or --retry")
		}
	case "mark-sent", "exclude":
		if len(ids) == 0 {
			return usagef("ledger %s needs at least one ORDER", sub)
		}
	default:
		return usagef("unknown ledger subcommand %q (want show, export, resolve, mark-sent, exclude or backup)", sub)
	}
	cfg, err := a.config(*cfgPath)
	if err != nil {
		return err
	}
	if done, err := a.forward(ctx, cfg, fs); done {
		return err
	}
	var setup *scheduler.Setup
	if sub == "resolve" {
		s, done, err := a.prepare(cfg)
		if err != nil {
			return err
		}
		defer done()
		setup = s
	}
	now := a.clock().UTC()
	return a.withLedger(cfg, readOnly, func(l *ledger.Ledger) error {
		switch sub {
		case "show":
			return ledgerShow(a.stdout, l, ids[0], *asJSON)
		case "export":
			return l.Export(a.stdout)
		case "resolve":
			if err := l.Resolve(ledger.Key{OrderID: ids[0]}, *sent, setup.Decide, now, a.operator(), *note); err != nil {
				return fmt.Errorf("resolve %s: %w", ids[0], err)
			}
			r, _, err := l.Get(ledger.Key{OrderID: ids[0]})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s: %s (%s)\n", ids[0], r.State, clean(r.Reason))
			return nil
		}
		for _, id := range ids {
			k := ledger.Key{OrderID: id}
			var err error
			if sub == "mark-sent" {
				err = l.OperatorMarkSent(k, now, a.operator(), *note)
			} else {
				err = l.OperatorExclude(k, now, a.operator(), *note)
			}
			if err != nil {
				return fmt.Errorf("%s %s: %w", sub, id, err)
			}
			r, _, _ := l.Get(k)
			fmt.Fprintf(a.stdout, "%s: %s\n", id, r.State)
		}
		return nil
	})
}

func ledgerShow(w io.Writer, l *ledger.Ledger, id string, asJSON bool) error {
	k := ledger.Key{OrderID: id}
	r, ok, err := l.Get(k)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("order %s is not in the ledger", id)
	}
	evs, err := l.Events(k)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(w, struct {
			Record  ledger.Record `json:"record"`
			History []eventLine   `json:"history"`
		}{r, eventLines(evs)})
	}
	o := r.Order
	fmt.Fprintf(w, "order %s (%s)\nstate %s: %s\n", id, clean(orDash(o.Marketplace)), r.State, clean(orDash(r.Reason)))
	fmt.Fprintf(w, "campaign %s, channel %s\nsend at %s, deadline %s, attempts %d\n", clean(orDash(r.Campaign)), clean(orDash(r.Channel)), stamp(r.SendAt), stamp(r.Deadline), r.Attempts)
	if r.LastError != "" {
		fmt.Fprintf(w, "last error: %s\n", clean(r.LastError))
	}
	if r.Refusal != "" {
		fmt.Fprintf(w, "refused: %s\n", clean(r.Refusal))
	}
	fmt.Fprintf(w, "purchased %s, status %q, shipped %s, delivered %s, estimated arrival %s\n",
		stamp(o.PurchaseDate), o.Status, stamp(o.ShippedAt), stamp(o.DeliveredAt), stamp(o.EstimatedArrival))
	for _, it := range o.Items {
		c := ""
		if it.Cancelled {
			c = " (cancelled)"
		}
		fmt.Fprintf(w, "  item %s %s %q%s\n", clean(orDash(it.SKU)), clean(orDash(it.ASIN)), it.Title, c)
	}
	fmt.Fprintln(w, "history:")
	for _, e := range evs {
		fmt.Fprintf(w, "  %s  %-9s %s -> %s  %s\n", stamp(e.Time), clean(e.Actor), orDash(string(e.From)), e.To, clean(e.Reason))
	}
	return nil
}

// ledgerBackup copies the ledger into a new FILE. This command creates the
// file, with the caller's rights and never over an existing one; the
// daemon, when it runs, writes into the descriptor it is given; the copy is
// linked into place only once it is complete.
func ledgerBackup(ctx context.Context, a *app, fs *flag.FlagSet, cfgPath, file string) error {
	if a.daemon != nil {
		return a.backupForClient()
	}
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return usagef("%v", err)
	}
	out, err := newBackupFile(abs)
	if err != nil {
		return err
	}
	defer out.discard()
	done, err := a.forward(ctx, cfg, fs, out.f)
	if !done && err == nil {
		err = a.withLedger(cfg, true, func(l *ledger.Ledger) error {
			_, err := l.WriteTo(out.f)
			return err
		})
	}
	if err != nil {
		return err
	}
	n, err := out.commit()
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "ledger copied to %s (%d bytes)\n", clean(abs), n)
	return nil
}

// backupForClient writes the ledger, inside the daemon, into the new file
// a client passed as a descriptor.
func (a *app) backupForClient() error {
	if len(a.files) != 1 {
		return usagef("ledger backup on the control socket takes the new FILE as an open descriptor: the daemon never opens a path for a client")
	}
	f := a.files[0]
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if !fi.Mode().IsRegular() || fi.Size() != 0 {
		return usagef("ledger backup writes only into a new, empty regular file")
	}
	// The copy is taken into a private file first, so that the ledger's read
	// transaction never waits on the client's file (a slow or stuck
	// filesystem would hold back every write that needs the ledger to grow).
	tmp, err := os.CreateTemp(filepath.Dir(a.daemon.ledger.Path()), ".backup-*.tmp")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := a.daemon.ledger.WriteTo(tmp); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := io.Copy(f, tmp); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// backupFile is a backup being written: a temporary file beside path,
// linked to path once complete.
type backupFile struct {
	path string
	f    *os.File
	done bool
}

func newBackupFile(path string) (*backupFile, error) {
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("backup to %s: %w", path, ledger.ErrExists)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("backup to %s: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("backup to %s: %w", path, err)
	}
	return &backupFile{path: path, f: f}, nil
}

// commit makes the copy durable and links it into place, never over an
// existing file, and returns its size.
func (b *backupFile) commit() (int64, error) {
	err := b.f.Sync()
	fi, serr := b.f.Stat()
	if err == nil {
		err = serr
	}
	if cerr := b.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(b.f.Name(), b.path)
	}
	if errors.Is(err, os.ErrExist) {
		err = ledger.ErrExists
	}
	if err != nil {
		return 0, fmt.Errorf("backup to %s: %w", b.path, err)
	}
	b.done = true
	os.Remove(b.f.Name())
	if d, err := os.Open(filepath.Dir(b.path)); err == nil {
		d.Sync()
		d.Close()
	}
	return fi.Size(), nil
}

// discard removes the temporary file of a backup that was not committed.
func (b *backupFile) discard() {
	if !b.done {
		b.f.Close()
		os.Remove(b.f.Name())
	}
}
