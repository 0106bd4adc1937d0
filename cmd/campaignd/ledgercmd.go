package main

import (
	"context"
	"fmt"
	"io"
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
	cfgPath := configFlag(fs)
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
		return ledgerBackup(ctx, a, *cfgPath, ids[0])
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
	if done, err := a.forward(ctx, cfg, append([]string{"ledger"}, args...)); done {
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
			if err := l.Resolve(ledger.Key{OrderID: ids[0]}, *sent, setup.Decide, now, "", *note); err != nil {
				return fmt.Errorf("resolve %s: %w", ids[0], err)
			}
			r, _, err := l.Get(ledger.Key{OrderID: ids[0]})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s: %s (%s)\n", ids[0], r.State, r.Reason)
			return nil
		}
		for _, id := range ids {
			k := ledger.Key{OrderID: id}
			var err error
			if sub == "mark-sent" {
				err = l.OperatorMarkSent(k, now, "", *note)
			} else {
				err = l.OperatorExclude(k, now, "", *note)
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
			Record  ledger.Record         `json:"record"`
			History []scheduler.EventLine `json:"history"`
		}{r, scheduler.EventLines(evs)})
	}
	o := r.Order
	fmt.Fprintf(w, "order %s (%s)\nstate %s: %s\n", id, orDash(o.Marketplace), r.State, orDash(r.Reason))
	fmt.Fprintf(w, "campaign %s, channel %s\nsend at %s, deadline %s, attempts %d\n", orDash(r.Campaign), orDash(r.Channel), stamp(r.SendAt), stamp(r.Deadline), r.Attempts)
	if r.LastError != "" {
		fmt.Fprintf(w, "last error: %s\n", r.LastError)
	}
	if r.Refusal != "" {
		fmt.Fprintf(w, "refused: %s\n", r.Refusal)
	}
	fmt.Fprintf(w, "purchased %s, status %q, shipped %s, delivered %s, estimated arrival %s\n",
		stamp(o.PurchaseDate), o.Status, stamp(o.ShippedAt), stamp(o.DeliveredAt), stamp(o.EstimatedArrival))
	for _, it := range o.Items {
		c := ""
		if it.Cancelled {
			c = " (cancelled)"
		}
		fmt.Fprintf(w, "  item %s %s %q%s\n", orDash(it.SKU), orDash(it.ASIN), it.Title, c)
	}
	fmt.Fprintln(w, "history:")
	for _, e := range evs {
		fmt.Fprintf(w, "  %s  %-9s %s -> %s  %s\n", stamp(e.Time), e.Actor, orDash(string(e.From)), e.To, e.Reason)
	}
	return nil
}

// ledgerBackup copies the ledger to file, through the daemon when it runs.
func ledgerBackup(ctx context.Context, a *app, cfgPath, file string) error {
	cfg, err := a.config(cfgPath)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return usagef("%v", err)
	}
	if done, err := a.forward(ctx, cfg, []string{"ledger", "backup", "--", abs}); done {
		return err
	}
	return a.withLedger(cfg, true, func(l *ledger.Ledger) error {
		n, err := l.Backup(abs)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "ledger copied to %s (%d bytes)\n", abs, n)
		return nil
	})
}
