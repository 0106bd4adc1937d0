package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"campaignd/internal/inbox"
	"campaignd/internal/ledger"
)

func cmdStatus(ctx context.Context, a *app, args []string) error {
	fs := newFlags("status", "", "Show the ledger: orders by state, next sends, recent files, report fetches,\nrecent problems and orders in doubt. Works while the daemon runs (it answers on\nthe control socket).", a)
	cfgPath := a.configFlag(fs)
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
	if done, err := a.forward(ctx, cfg, fs); done {
		return err
	}
	var st statusView
	err = a.withLedger(cfg, true, func(l *ledger.Ledger) error {
		var err error
		if st, err = buildStatus(l, a.clock()); err == nil {
			st.Fetch, err = a.fetchStatus(ctx, cfg, l)
		}
		return err
	})
	if err != nil {
		return err
	}
	st.Ledger = cfg.Ledger.Path // the configured file, even when there is none yet
	if a.daemon != nil {
		st.Daemon = a.daemon.info()
	}
	if st.InboxSkipped, err = inbox.Skipped(cfg.Inbox.Dir); err != nil {
		return fmt.Errorf("read the inbox: %w", err)
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

// printStatus prints the status for people. Everything that comes from data
// (file names, marketplaces, reasons) is escaped for the terminal.
func printStatus(w io.Writer, st statusView) {
	if d := st.Daemon; d != nil {
		fmt.Fprintf(w, "daemon:    running, pid %d, version %s, since %s\n", d.PID, clean(d.Version), stamp(d.Started))
		fmt.Fprintf(w, "passes:    last %s, next %s\n", stamp(d.LastPass), stamp(d.NextPass))
	} else {
		fmt.Fprintln(w, "daemon:    not running (read the ledger file directly)")
	}
	printInbox(w, st)
	fmt.Fprintf(w, "ledger:    %s\n", clean(st.Ledger))
	o := st.Orders
	fmt.Fprintf(w, "orders:    %s total\n", thousands(o.Total))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  waiting\tscheduled\tclaimed\tsent\tin_doubt\tfailed\texcluded\texpired\n")
	fmt.Fprintf(tw, "  %d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", o.Waiting, o.Scheduled, o.Claimed, o.Sent, o.InDoubt, o.Failed, o.Excluded, o.Expired)
	tw.Flush()
	printReasons(w, st.Reasons, o)
	printDaily(w, st.PerDay, st.At)

	printNextSends(w, st.NextSends, o.Scheduled)
	printRecentFiles(w, st.RecentFiles)
	printFetch(w, st.Fetch)
	printProblems(w, st)
}

// statusShown is how many lines each list of status prints for people
// (`status --json` lists statusRows), so that status fits one screen
// whatever the ledger holds.
const statusShown = 5

// shown is how many of a list of n items status prints.
func shown(n int) int { return min(n, statusShown) }

// more prints how many of a list's n items were not shown, and where to
// see them.
func more(w io.Writer, n int, noun, where string) {
	if n > statusShown {
		fmt.Fprintf(w, "  … %s more %s (%s)\n", thousands(n-statusShown), noun, where)
	}
}

// reasonsShown is how many reason classes status names per state.
const reasonsShown = 4

// printReasons prints the waiting and excluded orders by reason class, a
// line each, most orders first.
func printReasons(w io.Writer, r reasonsView, o orderCounts) {
	if !r.Counted {
		if o.Waiting+o.Excluded > 0 {
			fmt.Fprintln(w, "  by reason: not counted yet (the daemon counts them when it next starts)")
		}
		return
	}
	for _, s := range []struct {
		name  string
		lines []reasonLine
	}{{"waiting", r.Waiting}, {"excluded", r.Excluded}} {
		if len(s.lines) == 0 {
			continue
		}
		var parts []string
		for i, l := range s.lines {
			if i == reasonsShown {
				parts = append(parts, fmt.Sprintf("%d more reasons (status --json lists them)", len(s.lines)-i))
				break
			}
			parts = append(parts, thousands(l.Orders)+" "+clean(l.Text))
		}
		fmt.Fprintf(w, "  %-9s %s\n", s.name+":", strings.Join(parts, "; "))
	}
}

// printNextSends prints the next scheduled sends, with a refusal if the
// message was refused.
func printNextSends(w io.Writer, sends []sendLine, scheduled int) {
	fmt.Fprintln(w, "\nnext sends:")
	if len(sends) == 0 {
		fmt.Fprintln(w, "  none scheduled")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range sends[:shown(len(sends))] {
		line := fmt.Sprintf("  %s\t%s\t%s\tdeadline %s\t%s", clean(s.OrderID), clean(s.Marketplace), stamp(s.SendAt), stamp(s.Deadline), clean(s.Channel))
		if s.Refusal != "" {
			line += "\tREFUSED: " + clean(s.Refusal)
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	more(w, max(scheduled, len(sends)), "scheduled", "campaignd plan --limit N")
}

// printProblems prints the recent problems and the orders in doubt.
func printProblems(w io.Writer, st statusView) {
	fmt.Fprintln(w, "\nrecent problems:")
	if len(st.Problems) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, e := range st.Problems[:shown(len(st.Problems))] {
		if e.File != "" {
			fmt.Fprintf(w, "  %s  file %s rejected: %s\n", stamp(e.Time), clean(e.File), clean(e.Reason))
			continue
		}
		fmt.Fprintf(w, "  %s  %s  %s -> %s  %s\n", stamp(e.Time), clean(e.OrderID), e.From, e.To, clean(e.Reason))
	}

	fmt.Fprintln(w, "\nin doubt (resolve with `campaignd ledger resolve ORDER --sent|--retry`):")
	if len(st.InDoubt) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, h := range st.InDoubt[:shown(len(st.InDoubt))] {
		fmt.Fprintf(w, "  %s  %s\n", clean(h.OrderID), clean(h.Reason))
	}
	more(w, len(st.InDoubt), "in doubt", "campaignd status --json lists them all")
}

// printInbox prints the inbox files that wait (to settle, or for a retry)
// and the entries that are never read, each with why.
func printInbox(w io.Writer, st statusView) {
	if d := st.Daemon; d != nil {
		if len(d.Pending) > 0 {
			names := make([]string, len(d.Pending))
			for i, p := range d.Pending {
				names[i] = clean(filepath.Base(p))
			}
			fmt.Fprintf(w, "inbox:     %d file(s) waiting to settle: %s\n", len(d.Pending), strings.Join(names, ", "))
		}
		for _, r := range d.Retrying {
			fmt.Fprintf(w, "inbox:     %s not ingested yet (%s), next try %s: %s\n", clean(r.Name), count(r.Failures, "failed try"), stamp(r.Next), clean(r.Reason))
		}
	}
	for _, s := range st.InboxSkipped {
		fmt.Fprintf(w, "inbox:     %s skipped: %s\n", clean(s.Name), clean(s.Reason))
	}
}

func printRecentFiles(w io.Writer, files []fileLine) {
	fmt.Fprintln(w, "\nrecent files:")
	if len(files) == 0 {
		fmt.Fprintln(w, "  none ingested yet")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range files[:shown(len(files))] {
		line := fmt.Sprintf("  %s\t%s\t%s\t%s\t%s\t%s\t%s rejected", stamp(f.IngestedAt), clean(f.Name), clean(f.Outcome), clean(f.Kind), count(f.Rows, "row"), count(f.Orders, "order"), count(f.Rejected, "row"))
		switch {
		case f.Error != "":
			line += "\t" + clean(f.Error)
		case len(f.Causes) > 0:
			line += "\t" + clean(f.Causes[0])
			if len(f.Causes) > 1 {
				line += fmt.Sprintf(" (and %d other causes)", len(f.Causes)-1)
			}
		case len(f.RowErrors) > 0:
			line += "\t" + clean(f.RowErrors[0])
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
}
