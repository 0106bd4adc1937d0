package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"campaignd/internal/ledger"
	"campaignd/internal/scheduler"
)

func cmdStatus(ctx context.Context, a *app, args []string) error {
	fs := newFlags("status", "", "Show the ledger: orders by state, next sends, recent files, recent problems and\norders in doubt. Works while the daemon runs (it answers on the control socket).", a)
	cfgPath := configFlag(fs)
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("status takes no arguments")
	}
	cfg, err := a.config(*cfgPath)
	if err != nil {
		return err
	}
	if done, err := a.forward(ctx, cfg, append([]string{"status"}, args...)); done {
		return err
	}
	var st scheduler.Status
	err = a.withLedger(cfg, true, func(l *ledger.Ledger) error {
		var err error
		st, err = scheduler.BuildStatus(l)
		return err
	})
	if err != nil {
		return err
	}
	if a.daemon != nil {
		st.Daemon = a.daemon.info()
	}
	if *asJSON {
		return writeJSON(a.stdout, st)
	}
	printStatus(a.stdout, st)
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printStatus(w io.Writer, st scheduler.Status) {
	if d := st.Daemon; d != nil {
		fmt.Fprintf(w, "daemon:    running, pid %d, version %s, since %s\n", d.PID, d.Version, stamp(d.Started))
		fmt.Fprintf(w, "passes:    last %s, next %s\n", stamp(d.LastPass), stamp(d.NextPass))
		if len(d.Pending) > 0 {
			fmt.Fprintf(w, "inbox:     %d file(s) waiting to settle: %v\n", len(d.Pending), d.Pending)
		}
	} else {
		fmt.Fprintln(w, "daemon:    not running (read the ledger file directly)")
	}
	fmt.Fprintf(w, "ledger:    %s\n", st.Ledger)
	o := st.Orders
	fmt.Fprintf(w, "orders:    %d total\n", o.Total)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  waiting\tscheduled\tclaimed\tsent\tin_doubt\tfailed\texcluded\texpired\n")
	fmt.Fprintf(tw, "  %d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", o.Waiting, o.Scheduled, o.Claimed, o.Sent, o.InDoubt, o.Failed, o.Excluded, o.Expired)
	tw.Flush()

	fmt.Fprintln(w, "\nnext sends:")
	if len(st.NextSends) == 0 {
		fmt.Fprintln(w, "  none scheduled")
	}
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range st.NextSends {
		line := fmt.Sprintf("  %s\t%s\t%s\tdeadline %s\t%s", s.OrderID, s.Marketplace, stamp(s.SendAt), stamp(s.Deadline), s.Channel)
		if s.Refusal != "" {
			line += "\tREFUSED: " + s.Refusal
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()

	fmt.Fprintln(w, "\nrecent files:")
	if len(st.RecentFiles) == 0 {
		fmt.Fprintln(w, "  none ingested yet")
	}
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range st.RecentFiles {
		line := fmt.Sprintf("  %s\t%s\t%s\t%s\t%s\t%s\t%s rejected", stamp(f.IngestedAt), f.Name, f.Outcome, f.Kind, count(f.Rows, "row"), count(f.Orders, "order"), count(f.Rejected, "row"))
		if f.Error != "" {
			line += "\t" + f.Error
		}
		fmt.Fprintln(tw, line)
		for _, re := range f.RowErrors {
			fmt.Fprintf(tw, "    %s\n", re)
		}
	}
	tw.Flush()

	fmt.Fprintln(w, "\nrecent problems:")
	if len(st.Problems) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, e := range st.Problems {
		fmt.Fprintf(w, "  %s  %s  %s -> %s  %s\n", stamp(e.Time), e.OrderID, e.From, e.To, e.Reason)
	}

	fmt.Fprintln(w, "\nin doubt (resolve with `campaignd ledger resolve ORDER --sent|--retry`):")
	if len(st.InDoubt) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, h := range st.InDoubt {
		fmt.Fprintf(w, "  %s  %s\n", h.OrderID, h.Reason)
	}
}
