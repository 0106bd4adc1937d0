package main

import (
	"context"
	"fmt"
	"io"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"
	"campaignd/internal/scheduler"
)

func cmdPreview(ctx context.Context, a *app, args []string) error {
	fs := newFlags("preview", "ORDER-ID", "Render the message one order would get, exactly as the buyer would see it,\nwith the policy checker's verdict; for an order whose request went (or may\nhave), the message as it was sent. A dry run: it sends nothing and changes\nnothing. Exit 1 when the message would be refused.", a)
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
	var sent keptMessage
	err = a.withLedger(cfg, true, func(l *ledger.Ledger) error {
		var err error
		rec, sent, err = previewed(l, id)
		return err
	})
	if err != nil {
		return err
	}
	if wentOut(rec.State) {
		return a.previewSent(rec, sent)
	}
	return a.preview(setup, rec)
}

// previewed reads the order id and, if its message went out, what the
// ledger kept of that message.
func previewed(l *ledger.Ledger, id string) (ledger.Record, keptMessage, error) {
	var sent keptMessage
	r, ok, err := l.Get(ledger.Key{OrderID: id})
	if err == nil && !ok {
		err = fmt.Errorf("order %s is not in the ledger", id)
	}
	if err == nil && wentOut(r.State) {
		sent.m, sent.source, sent.ok, err = l.SentMessageOf(r.Key)
	}
	return r, sent, err
}

// keptMessage is what the ledger kept of an order's message when it was
// claimed.
type keptMessage struct {
	m      ledger.SentMessage
	source []byte
	ok     bool
}

// wentOut reports whether an order in s had its message handed to a
// channel (or was recorded as sent): preview then shows that message, not
// today's.
func wentOut(s ledger.State) bool {
	return s == ledger.Claimed || s == ledger.Sent || s == ledger.InDoubt || s == ledger.Failed
}

// previewSent prints the message an order's send carried, rendered again
// from what the ledger kept of it; the buyer's name, which is not kept, is
// shown as a placeholder.
func (a *app) previewSent(rec ledger.Record, k keptMessage) error {
	w := a.stdout
	printPreviewHead(w, rec)
	switch {
	case !k.ok:
		fmt.Fprintln(w, "campaignd kept no copy of this order's message (its request went through an older campaignd, or was recorded by hand with `ledger mark-sent`)")
		return nil
	case k.m.Amazon:
		fmt.Fprintf(w, "sent through %s on %s: Amazon wrote this message itself (Request a Review); nothing to render\n", clean(k.m.Channel), stamp(k.m.At))
		return nil
	}
	msg, err := scheduler.RenderKept(rec.Key.OrderID, k.m, k.source)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "the message as it was handed to %s on %s (template %s, version %.12s):\n\n", clean(k.m.Channel), stamp(k.m.At), clean(k.m.Path), k.m.Template)
	fmt.Fprintf(w, "Subject: %s\nLanguage: %s\n\n%s\n", clean(msg.Subject), clean(msg.Language), cleanText(msg.Body))
	if k.m.HadBuyerName {
		fmt.Fprintf(w, "\n(the buyer's name is personal data and was not kept: it shows as %s)\n", scheduler.BuyerNameShown)
	}
	return nil
}

// printPreviewHead prints the order's state and schedule.
func printPreviewHead(w io.Writer, rec ledger.Record) {
	fmt.Fprintf(w, "order %s: %s", rec.Key.OrderID, rec.State)
	if rec.Reason != "" {
		fmt.Fprintf(w, " (%s)", clean(rec.Reason))
	}
	fmt.Fprintf(w, "\ncampaign %s, channel %s, send at %s, deadline %s\n\n", clean(orDash(rec.Campaign)), clean(orDash(rec.Channel)), stamp(rec.SendAt), stamp(rec.Deadline))
}

// preview prints the order's state and the message it would get now, with
// the policy's verdict; a refused message is exit 1.
func (a *app) preview(setup *scheduler.Setup, rec ledger.Record) error {
	w := a.stdout
	printPreviewHead(w, rec)
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
