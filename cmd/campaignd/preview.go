package main

import (
	"context"
	"fmt"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"
)

func cmdPreview(ctx context.Context, a *app, args []string) error {
	fs := newFlags("preview", "ORDER-ID", "Render the message one order would get, exactly as the buyer would see it,\nwith the policy checker's verdict. Exit 1 when the message would be refused.", a)
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
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("order %s is not in the ledger", id)
		}
		rec = r
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "order %s: %s", id, rec.State)
	if rec.Reason != "" {
		fmt.Fprintf(a.stdout, " (%s)", clean(rec.Reason))
	}
	fmt.Fprintf(a.stdout, "\ncampaign %s, channel %s, send at %s, deadline %s\n\n", clean(orDash(rec.Campaign)), clean(orDash(rec.Channel)), stamp(rec.SendAt), stamp(rec.Deadline))
	if rec.Campaign == "" {
		fmt.Fprintln(a.stdout, "no campaign applies to this order, so there is no message to preview")
		return nil
	}
	r, err := setup.Render(rec, a.clock())
	if err != nil {
		return err
	}
	if r.Amazon {
		fmt.Fprintf(a.stdout, "channel %s: Amazon writes this message itself (Request a Review); nothing to render\n", clean(rec.Channel))
		return nil
	}
	fmt.Fprintf(a.stdout, "Subject: %s\nLanguage: %s\n\n%s\n", clean(r.Message.Subject), clean(r.Message.Language), cleanText(r.Message.Body))
	if len(r.Violations) == 0 {
		fmt.Fprintln(a.stdout, "\nverdict: passes every policy check")
		return nil
	}
	fmt.Fprintln(a.stdout, "\nverdict: REFUSED, this message would not be sent:")
	for _, v := range r.Violations {
		fmt.Fprintf(a.stdout, "  %s\n", clean(v.String()))
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
