package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"campaignd/internal/ledger"
	"campaignd/internal/scheduler"
)

func cmdPlan(ctx context.Context, a *app, args []string) error {
	fs := newFlags("plan", "", "Show what a send pass at TIME would send, and why every other order would not\nbe sent. Sends and changes nothing.", a)
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
	var p scheduler.Plan
	err = a.withLedger(cfg, true, func(l *ledger.Ledger) error {
		var err error
		p, err = scheduler.BuildPlan(l, setup.Rules, when)
		return err
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(a.stdout, p)
	}
	fmt.Fprintf(a.stdout, "plan at %s: %d to send, %d held\n", stamp(p.At), len(p.Send), len(p.Hold))
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	for _, s := range p.Send {
		fmt.Fprintf(tw, "send\t%s\t%s\tdue %s\tdeadline %s\n", clean(s.OrderID), clean(s.Marketplace), stamp(s.SendAt), stamp(s.Deadline))
	}
	for _, h := range p.Hold {
		fmt.Fprintf(tw, "hold\t%s\t%s\t%s\n", clean(h.OrderID), h.State, clean(h.Reason))
	}
	return tw.Flush()
}
