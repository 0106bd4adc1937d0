package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"campaignd/internal/ledger"
	"campaignd/internal/scheduler"
)

func cmdPlan(ctx context.Context, a *app, args []string) error {
	fs := newFlags("plan", "", "Show what a send pass at TIME would send, and why every other order would not\nbe sent. A dry run: it sends nothing and changes nothing in the ledger (unlike\nrun --at, which acts for good).", a)
	cfgPath := a.configFlag(fs)
	at := fs.String("at", "", "the `TIME` to plan for (RFC 3339; default now)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("plan takes no arguments")
	}
	when, err := a.parseAt(*at)
	if err != nil {
		return err
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
	var p planView
	err = a.withLedger(cfg, true, func(l *ledger.Ledger) error {
		var err error
		p, err = buildPlan(l, setup.Rules, when)
		return err
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(a.stdout, p)
	}
	return printPlan(a.stdout, p)
}

// printPlan prints the plan for people, data escaped for the terminal.
func printPlan(w io.Writer, p planView) error {
	fmt.Fprintf(w, "plan at %s: %d to send, %d held\n", stamp(p.At), len(p.Send), len(p.Hold))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range p.Send {
		fmt.Fprintf(tw, "send\t%s\t%s\tdue %s\tdeadline %s\n", clean(s.OrderID), clean(s.Marketplace), stamp(s.SendAt), stamp(s.Deadline))
	}
	for _, h := range p.Hold {
		fmt.Fprintf(tw, "hold\t%s\t%s\t%s\n", clean(h.OrderID), h.State, clean(h.Reason))
	}
	return tw.Flush()
}

// planView is what `campaignd plan` shows (`plan --json` prints it): what a
// pass at At would send, and why every other order would not be sent.
type planView struct {
	At   time.Time  `json:"at"`
	Send []sendLine `json:"send"`
	Hold []holdLine `json:"hold"`
}

// buildPlan asks the rules' Verdict, as a pass at `at` would, about every
// order, without sending or writing. It reads every order (a plan is a look
// at the whole ledger).
func buildPlan(l *ledger.Ledger, r scheduler.Rules, at time.Time) (planView, error) {
	at = at.UTC()
	p := planView{At: at, Send: []sendLine{}, Hold: []holdLine{}}
	err := l.ForEach(func(rec ledger.Record) error {
		if v := r.Verdict(rec, at); v.Action == scheduler.Send {
			p.Send = append(p.Send, newSendLine(rec))
		} else {
			p.Hold = append(p.Hold, holdLine{OrderID: rec.Key.OrderID, State: string(v.State), Reason: v.Reason})
		}
		return nil
	})
	return p, err
}
