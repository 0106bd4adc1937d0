package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"campaignd/internal/ledger"
	"campaignd/internal/scheduler"
)

const ledgerAbout = `Inspect and correct the ledger by hand. Every correction leaves an audit event.

	show ORDER                    the order's record and its whole history
	export [--csv]                every order as JSON lines, or CSV
	resolve ORDER --sent|--retry  settle an in_doubt order: it went, or send it again
	mark-sent ORDER...            record a request made outside campaignd (never send one)
	exclude ORDER...              never send a request for these orders
	include ORDER...              undo exclude: the rules decide the orders again
	backup FILE                   write a consistent copy of the ledger to a new FILE
	                              (safe while the daemon runs; never overwrites)

Usage:
	campaignd ledger SUBCOMMAND [flags] [ORDER...|FILE]

Run "campaignd ledger SUBCOMMAND -h" for its flags.
`

// ledgerSubcommands are the ledger's subcommands; each parses its own flags.
var ledgerSubcommands = map[string]func(ctx context.Context, a *app, args []string) error{
	"show": ledgerShowCmd, "export": ledgerExportCmd, "resolve": ledgerResolveCmd,
	"mark-sent": ledgerMarkCmd("mark-sent"), "exclude": ledgerMarkCmd("exclude"), "backup": ledgerBackupCmd,
	"include": ledgerIncludeCmd,
}

// ledgerValueFlags are the subcommands' flags that take a value, so that a
// value given before the subcommand (`ledger --config FILE show ORDER`) is
// not taken for it.
var ledgerValueFlags = map[string]bool{"config": true, "note": true}

func cmdLedger(ctx context.Context, a *app, args []string) error {
	sub, rest := ledgerSubcommand(args)
	run, ok := ledgerSubcommands[sub]
	switch {
	case sub == "" && slices.ContainsFunc(args, isHelpFlag):
		fmt.Fprint(a.stdout, ledgerAbout)
		return flag.ErrHelp
	case sub == "":
		return usagef("ledger needs a subcommand: show, export, resolve, mark-sent, exclude, include or backup")
	case !ok:
		return usagef("unknown ledger subcommand %q (want show, export, resolve, mark-sent, exclude, include or backup)", sub)
	}
	return run(ctx, a, rest)
}

// ledgerSubcommand finds the subcommand, the first positional argument
// (flags may come before it, as older clients send them to the daemon), and
// returns it with the other arguments.
func ledgerSubcommand(args []string) (string, []string) {
	for i := 0; i < len(args); i++ {
		name := strings.TrimLeft(args[i], "-")
		switch {
		case args[i] == "--" && i+1 < len(args):
			return args[i+1], append(slices.Clone(args[:i+1]), args[i+2:]...)
		case args[i] == "--":
			return "", args
		case !strings.HasPrefix(args[i], "-"):
			return args[i], append(slices.Clone(args[:i]), args[i+1:]...)
		case ledgerValueFlags[name]:
			i++ // its value follows
		}
	}
	return "", args
}

func isHelpFlag(arg string) bool {
	return slices.Contains([]string{"-h", "--h", "-help", "--help"}, arg)
}

// ledgerFlags returns a subcommand's flag set, with --config.
func ledgerFlags(a *app, sub, synopsis, about string) (*flag.FlagSet, *string) {
	fs := newFlags("ledger "+sub, synopsis, about, a)
	return fs, a.configFlag(fs)
}

// orderIDs returns the positional arguments, each an order id.
func orderIDs(fs *flag.FlagSet) ([]string, error) {
	for _, id := range fs.Args() {
		if !validOrderID(id) {
			return nil, usagef("%q is not an Amazon order id (want 123-1234567-1234567)", id)
		}
	}
	return fs.Args(), nil
}

// onLedger loads the config (inside the daemon, its own), hands the command
// parsed into fs to the daemon when one runs, and otherwise runs fn on the
// ledger file (read-only when it only looks).
func (a *app) onLedger(ctx context.Context, fs *flag.FlagSet, cfgPath string, readOnly bool, fn func(*ledger.Ledger) error) error {
	cfg, err := a.config(cfgPath)
	if err != nil {
		return err
	}
	if done, err := a.forward(ctx, cfg, fs); done {
		return err
	}
	return a.withLedger(cfg, readOnly, fn)
}

func ledgerShowCmd(ctx context.Context, a *app, args []string) error {
	fs, cfgPath := ledgerFlags(a, "show", "ORDER", "Print the order's record and its whole history. The buyer's relay address and\nname, while the ledger still holds them, are left out unless --personal.")
	asJSON := fs.Bool("json", false, "print JSON")
	personal := fs.Bool("personal", false, "include the buyer's relay address and name (--json)")
	if err := parse(fs, args); err != nil {
		return err
	}
	ids, err := orderIDs(fs)
	if err != nil {
		return err
	}
	if len(ids) != 1 {
		return usagef("ledger show takes one ORDER")
	}
	return a.onLedger(ctx, fs, *cfgPath, true, func(l *ledger.Ledger) error {
		return ledgerShow(a.stdout, l, ids[0], *asJSON, *personal)
	})
}

const exportAbout = `Print every order, in the order the ledger first saw it: one JSON object a
line, or with --csv one CSV row (a header row first; a cell a spreadsheet
would take for a formula starts with an apostrophe). Keys and columns are
snake_case. The buyer's relay address and name, while the ledger still holds
them, are left out unless --personal.`

func ledgerExportCmd(ctx context.Context, a *app, args []string) error {
	fs, cfgPath := ledgerFlags(a, "export", "", exportAbout)
	asCSV := fs.Bool("csv", false, "print CSV instead of JSON lines")
	personal := fs.Bool("personal", false, "include the buyer's relay address and name")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("ledger export takes no ORDER")
	}
	opt := ledger.ExportOptions{Personal: *personal}
	return a.onLedger(ctx, fs, *cfgPath, true, func(l *ledger.Ledger) error {
		if *asCSV {
			return l.ExportCSV(a.stdout, opt)
		}
		return l.ExportWith(a.stdout, opt)
	})
}

func ledgerResolveCmd(ctx context.Context, a *app, args []string) error {
	fs, cfgPath := ledgerFlags(a, "resolve", "ORDER --sent|--retry",
		"Settle an in_doubt order: the request went out (--sent), or it did not and is\nto be sent again (--retry).")
	sent := fs.Bool("sent", false, "the request did go out")
	retry := fs.Bool("retry", false, "the request did not go out; schedule it again")
	note := fs.String("note", "", "a note for the audit event")
	if err := parse(fs, args); err != nil {
		return err
	}
	ids, err := orderIDs(fs)
	if err != nil {
		return err
	}
	if len(ids) != 1 || *sent == *retry {
		return usagef("ledger resolve takes one ORDER and exactly one of --sent or --retry")
	}
	cfg, err := a.config(*cfgPath)
	if err != nil {
		return err
	}
	if done, err := a.forward(ctx, cfg, fs); done {
		return err
	}
	setup, done, err := a.prepare(cfg) // the rules re-decide an order sent again
	if err != nil {
		return err
	}
	defer done()
	return a.withLedger(cfg, false, func(l *ledger.Ledger) error {
		return a.resolve(l, setup, ledger.Key{OrderID: ids[0]}, *sent, *note)
	})
}

// resolve settles the in_doubt order k, re-deciding it with the setup's
// rules when it is to be sent again, and prints its new state.
func (a *app) resolve(l *ledger.Ledger, setup *scheduler.Setup, k ledger.Key, sent bool, note string) error {
	if err := l.Resolve(k, sent, setup.Decide, a.clock().UTC(), a.operator(), note); err != nil {
		return fmt.Errorf("resolve %s: %w", k.OrderID, err)
	}
	r, _, err := l.Get(k)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s: %s (%s)\n", k.OrderID, r.State, clean(r.Reason))
	return nil
}

const includeAbout = `Undo "ledger exclude" for each ORDER: the rules decide it again, as they would
had it never been excluded (it stays excluded if a report cancelled or returned
it meanwhile, or the config's exclude lists name it). Audited with your name.
Only an order excluded by hand can be included; a sent order stays sent.`

func ledgerIncludeCmd(ctx context.Context, a *app, args []string) error {
	fs, cfgPath := ledgerFlags(a, "include", "ORDER...", includeAbout)
	note := fs.String("note", "", "a note for the audit event")
	if err := parse(fs, args); err != nil {
		return err
	}
	ids, err := orderIDs(fs)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return usagef("ledger include needs at least one ORDER")
	}
	cfg, err := a.config(*cfgPath)
	if err != nil {
		return err
	}
	if done, err := a.forward(ctx, cfg, fs); done {
		return err
	}
	setup, done, err := a.prepare(cfg) // the rules decide the order again
	if err != nil {
		return err
	}
	defer done()
	return a.withLedger(cfg, false, func(l *ledger.Ledger) error {
		for _, id := range ids {
			r, err := l.OperatorInclude(ledger.Key{OrderID: id}, setup.Decide, a.clock().UTC(), a.operator(), *note)
			if err != nil {
				return fmt.Errorf("include %s: %w", id, err)
			}
			fmt.Fprintf(a.stdout, "%s: %s (%s)\n", id, r.State, clean(r.Reason))
		}
		return nil
	})
}

// ledgerMarkCmd is mark-sent or exclude: a correction of each ORDER.
func ledgerMarkCmd(sub string) func(ctx context.Context, a *app, args []string) error {
	about := map[string]string{
		"mark-sent": "Record that a review request was made for each ORDER outside campaignd:\ncampaignd never sends one for it.",
		"exclude":   "Never send a review request for each ORDER (it need not be in the ledger yet).",
	}[sub]
	return func(ctx context.Context, a *app, args []string) error {
		fs, cfgPath := ledgerFlags(a, sub, "ORDER...", about)
		note := fs.String("note", "", "a note for the audit event")
		if err := parse(fs, args); err != nil {
			return err
		}
		ids, err := orderIDs(fs)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return usagef("ledger %s needs at least one ORDER", sub)
		}
		return a.onLedger(ctx, fs, *cfgPath, false, func(l *ledger.Ledger) error {
			return a.mark(l, sub, ids, *note)
		})
	}
}

// mark records mark-sent or exclude for each order and prints its state.
func (a *app) mark(l *ledger.Ledger, sub string, ids []string, note string) error {
	now := a.clock().UTC()
	for _, id := range ids {
		k := ledger.Key{OrderID: id}
		var err error
		if sub == "mark-sent" {
			err = l.OperatorMarkSent(k, now, a.operator(), note)
		} else {
			err = l.OperatorExclude(k, now, a.operator(), note)
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", sub, id, err)
		}
		r, _, err := l.Get(k)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s: %s\n", id, r.State)
	}
	return nil
}

func ledgerShow(w io.Writer, l *ledger.Ledger, id string, asJSON, personal bool) error {
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
	if !personal {
		r.Order.ForgetBuyer()
	}
	if asJSON {
		return writeJSON(w, struct {
			Record  ledger.Record `json:"record"`
			History []eventLine   `json:"history"`
		}{r, eventLines(evs)})
	}
	printRecord(w, r)
	fmt.Fprintln(w, "history:")
	for _, e := range evs {
		fmt.Fprintf(w, "  %s  %-9s %s -> %s  %s\n", stamp(e.Time), clean(e.Actor), orDash(string(e.From)), e.To, clean(e.Reason))
	}
	return nil
}

// printRecord prints what the ledger knows about an order, for people.
func printRecord(w io.Writer, r ledger.Record) {
	o := r.Order
	fmt.Fprintf(w, "order %s (%s)\nstate %s: %s\n", r.Key.OrderID, clean(orDash(o.Marketplace)), r.State, clean(orDash(r.Reason)))
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
}

func ledgerBackupCmd(ctx context.Context, a *app, args []string) error {
	fs, cfgPath := ledgerFlags(a, "backup", "FILE", "Write a consistent copy of the ledger to a new FILE, which this command creates\n(with your rights, never over an existing file, and in place only once\ncomplete). Safe while the daemon runs.")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("ledger backup takes one FILE")
	}
	return ledgerBackup(ctx, a, fs, *cfgPath, fs.Arg(0))
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
