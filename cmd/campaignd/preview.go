package main

import (
	"context"
	"fmt"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"
	"campaignd/internal/scheduler"
)

func cmdPreview(ctx context.Context, a *app, args []string) error {
	fs := newFlags("preview", "ORDER-ID", "Render the message one order would get, exactly as the buyer would see it,\nwith the policy checker's verdict. A dry run: it sends nothing and changes\nnothing. Exit 1 when the message would be refused.", a)
	cfgPath := a.configFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("preview takes one ORDER-ID")
	}
	id := fs.Arg(0)
	if !validOrderID(id) {
		return usagef("%q is not an Amazon order id (want 123-1234567-1234567)", id)
	}
	cfg, err := a.config(*cfgPath)
	if err != nil {
		return err
	}
	if done, err := a.forward(ctx, cfg, fs); done {
		return err
	}
	setup, done, err := a.prepare(cfg)
	if err != nil {
		return err
	}
	defer done()
	var rec ledger.Record
	err = a.withLedger(cfg, true, func(l *ledger.Ledger) error {
		r, ok, err := l.Get(ledger.Key{OrderID: id})
		if err == nil && !ok {
			err = fmt.Errorf("order %s is not in the ledger", id)
		}
		rec = r
		return err
	})
	if err != nil {
		return err
	}
	return a.preview(setup, rec)
}

// preview prints the order's state and the message it would get now, with
// the policy's verdict; a refused message is exit 1.
func (a *app) preview(setup *scheduler.Setup, rec ledger.Record) error {
	w := a.stdout
	fmt.Fprintf(w, "order %s: %s", rec.Key.OrderID, rec.State)
	if rec.Reason != "" {
		fmt.Fprintf(w, " (%s)", clean(rec.Reason))
	}
	fmt.Fprintf(w, "\ncampaign %s, channel %s, send at %s, deadline %s\n\n", clean(orDash(rec.Campaign)), clean(orDash(rec.Channel)), stamp(rec.SendAt), stamp(rec.Deadline))
	if rec.Campaign == "" {
		fmt.Fprintln(w, "no campaign applies to this order, so there is no message to preview")
		return nil
	}
	r, err := setup.Render(rec, a.clock())
	if err != nil {
		return err
	}
	if r.Amazon {
		fmt.Fprintf(w, "channel %s: Amazon writes this message itself (Request a Review); nothing to render\n", clean(rec.Channel))
		return nil
	}
	fmt.Fprintf(w, "Subject: %s\nLanguage: %s\n\n%s\n", clean(r.Message.Subject), clean(r.Message.Language), cleanText(r.Message.Body))
	if len(r.Violations) == 0 {
		fmt.Fprintln(w, "\nverdict: passes every policy check")
		return nil
	}
	fmt.Fprintln(w, "\nverdict: REFUSED, this message would not be sent:")
	for _, v := range r.Violations {
		fmt.Fprintf(w, "  %s\n", clean(v.String()))
	}
	return silent(exitProblem)
}

// validOrderID reports whether id is an Amazon order id, or a
// Multi-Channel Fulfilment one (which campaignd records, never sends to).
func validOrderID(id string) bool { return orders.ValidID(id) || orders.IsNonAmazonID(id) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
