package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"campaignd/internal/ledger"
	"campaignd/internal/scheduler"
)

const planAbout = `Show what a send pass at TIME would send, and why every other order would not
be sent. A dry run: it sends nothing and changes nothing in the ledger (unlike
run --at, which acts for good).

By default it prints how many orders fall under each verdict and reason, then
the next sends; --limit N lists N sends and N held orders, --all every order.
--json prints every order (with --limit, N of each), and the summary.`

// planNext is how many sends plan lists by default.
const planNext = 10

func cmdPlan(ctx context.Context, a *app, args []string) error {
	fs := newFlags("plan", "", planAbout, a)
	cfgPath := a.configFlag(fs)
	at := fs.String("at", "", "the `TIME` to plan for (RFC 3339; default now)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	all := fs.Bool("all", false, "list every order")
	limit := fs.Int("limit", 0, "list the next `N` sends and N held orders")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usagef("plan takes no arguments")
	case *limit < 0 || *all && *limit > 0:
		return usagef("plan takes --all or --limit N (N > 0), not both")
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
		p, err = buildPlan(l, setup.Rules, when, limitsOf(*all, *asJSON, *limit))
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

// planView is what `campaignd plan` shows (`plan --json` prints it): what a
// pass at At would send, and why every other order would not be sent. Send
// and Hold list every order unless a limit asked for fewer (Sends and Holds
// count them all); Summary counts them by verdict and reason.
type planView struct {
	At      time.Time   `json:"at"`
	Send    []sendLine  `json:"send"`
	Hold    []holdLine  `json:"hold"`
	Sends   int         `json:"sends"`
	Holds   int         `json:"holds"`
	Summary []planGroup `json:"summary"`
}

// planGroup counts the orders a plan treats alike: sent now, held for one
// reason, expired, or left in a final state.
type planGroup struct {
	Verdict string `json:"verdict"` // send, hold or expire
	State   string `json:"state"`
	Class   string `json:"class,omitempty"`
	Orders  int    `json:"orders"`
	Text    string `json:"text"`
}

// planLimits bound what a plan lists: how many sends (the earliest) and
// held orders (the first not in a final state); -1 lists all.
type planLimits struct{ sends, holds int }

// limitsOf are the limits plan's flags ask for: every order with --all,
// and by default in JSON; N of each with --limit N; otherwise the next
// planNext sends.
func limitsOf(all, asJSON bool, limit int) planLimits {
	switch {
	case all || asJSON && limit == 0:
		return planLimits{sends: -1, holds: -1}
	case limit > 0:
		return planLimits{sends: limit, holds: limit}
	}
	return planLimits{sends: planNext}
}

// buildPlan asks the rules' Verdict, as a pass at `at` would, about every
// order, without sending or writing. It reads every order (a plan is a look
// at the whole ledger) and keeps only what lim lists, so memory does not
// grow with the ledger unless every order is to be listed.
func buildPlan(l *ledger.Ledger, r scheduler.Rules, at time.Time, lim planLimits) (planView, error) {
	at = at.UTC()
	p := planView{At: at, Send: []sendLine{}, Hold: []holdLine{}}
	groups := map[planGroup]int{}
	err := l.ForEach(func(rec ledger.Record) error {
		v := r.Verdict(rec, at)
		groups[groupOf(rec, v)]++
		if v.Action == scheduler.Send {
			p.Sends++
			p.Send = keepEarliest(p.Send, newSendLine(rec), lim.sends)
			return nil
		}
		p.Holds++
		if lim.holds < 0 || len(p.Hold) < lim.holds && !final(v.State) {
			p.Hold = append(p.Hold, holdLine{OrderID: rec.Key.OrderID, State: string(v.State), Reason: v.Reason, Class: v.Class})
		}
		return nil
	})
	for g, n := range groups {
		g.Orders, g.Text = n, groupText(g)
		p.Summary = append(p.Summary, g)
	}
	slices.SortFunc(p.Summary, func(a, b planGroup) int {
		return cmp.Or(cmp.Compare(groupRank(a), groupRank(b)), b.Orders-a.Orders, cmp.Compare(a.Class, b.Class))
	})
	return p, err
}

// keepEarliest adds s to sends, which it keeps ordered by send time and at
// most n long (all when n < 0).
func keepEarliest(sends []sendLine, s sendLine, n int) []sendLine {
	if n < 0 {
		return append(sends, s) // every send, in the ledger's order
	}
	i, _ := slices.BinarySearchFunc(sends, s, func(a, b sendLine) int { return a.SendAt.Compare(b.SendAt) })
	for i < len(sends) && sends[i].SendAt.Equal(s.SendAt) {
		i++ // after equal times: the ledger's order among them
	}
	if i >= n {
		return sends
	}
	sends = slices.Insert(sends, i, s)
	return sends[:min(len(sends), n)]
}

// final reports whether an order in s is past any send.
func final(s ledger.State) bool {
	return s == ledger.Sent || s == ledger.Expired || s == ledger.Failed
}

// groupOf is the summary group of an order's verdict.
func groupOf(rec ledger.Record, v scheduler.Verdict) planGroup {
	g := planGroup{State: string(v.State), Class: v.Class}
	switch v.Action {
	case scheduler.Send:
		g.Verdict, g.State = "send", string(rec.State)
	case scheduler.Expire:
		g.Verdict = "expire"
	default:
		g.Verdict = "hold"
	}
	return g
}

// groupRank orders the summary: sends, the pass's own holds and expiries,
// waiting, excluded, then the other states.
func groupRank(g planGroup) int {
	switch {
	case g.Verdict == "send":
		return 0
	case g.Class == scheduler.VerdictNotDue || g.Class == scheduler.VerdictQuiet:
		return 1
	case g.Verdict == "expire":
		return 2
	case g.State == string(ledger.Waiting):
		return 3
	case g.State == string(ledger.Excluded):
		return 4
	case g.State == string(ledger.InDoubt) || g.State == string(ledger.Claimed):
		return 5
	}
	return 6
}

// groupText describes a summary group for people.
func groupText(g planGroup) string {
	switch {
	case g.Verdict == "send":
		return "send now"
	case g.Class == scheduler.VerdictNotDue:
		return "scheduled, not due yet"
	case g.Class == scheduler.VerdictQuiet:
		return "due, held for quiet hours"
	case g.Verdict == "expire":
		return "expire: the deadline leaves no room for a send"
	case g.State == string(ledger.Waiting) || g.State == string(ledger.Excluded):
		return g.State + ": " + scheduler.ClassText(g.Class)
	case g.State == string(ledger.Sent):
		return "already sent"
	}
	return g.State
}

// printPlan prints the plan for people, data escaped for the terminal: the
// summary, then the orders listed.
func printPlan(w io.Writer, p planView) error {
	fmt.Fprintf(w, "plan at %s: %s to send, %s held\n", stamp(p.At), thousands(p.Sends), thousands(p.Holds))
	width := 0
	for _, g := range p.Summary {
		width = max(width, len(thousands(g.Orders)))
	}
	for _, g := range p.Summary {
		fmt.Fprintf(w, "  %*s  %s\n", width, thousands(g.Orders), clean(g.Text))
	}
	if p.Sends > 0 {
		fmt.Fprintf(w, "\nnext sends (%d of %s; --limit N or --all for more):\n", len(p.Send), thousands(p.Sends))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range p.Send {
		fmt.Fprintf(tw, "  send\t%s\t%s\tdue %s\tdeadline %s\n", clean(s.OrderID), clean(s.Marketplace), stamp(s.SendAt), stamp(s.Deadline))
	}
	tw.Flush()
	if len(p.Hold) > 0 {
		fmt.Fprintf(w, "\nheld (%d of %s):\n", len(p.Hold), thousands(p.Holds))
	}
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, h := range p.Hold {
		fmt.Fprintf(tw, "  hold\t%s\t%s\t%s\n", clean(h.OrderID), h.State, clean(h.Reason))
	}
	return tw.Flush()
}
