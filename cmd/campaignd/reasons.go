package main

import (
	"cmp"
	"fmt"
	"log/slog"
	"slices"
	"strconv"

	"campaignd/internal/ledger"
	"campaignd/internal/scheduler"
)

// heldWarning is a kind of order of one file that the configuration, not
// the order, keeps from a request: a marketplace no campaign covers, a sales
// channel campaignd does not know, or an smtp campaign's order without a
// relay address. The ingest summary and the log name each once per file.
type heldWarning struct {
	Class       string `json:"class"`
	Marketplace string `json:"marketplace,omitempty"`
	Orders      int    `json:"orders"`
	Text        string `json:"text"`
}

// heldWarnings picks the warnings out of an ingest's counts by reason
// class, most orders first.
func heldWarnings(held map[string]int) []heldWarning {
	var out []heldWarning
	for class, n := range held {
		w := heldWarning{Class: class, Orders: n}
		if m, ok := scheduler.NoCampaignMarketplace(class); ok {
			w.Marketplace = m
			w.Text = fmt.Sprintf("%s from %s: no campaign covers this marketplace; excluded (add it to a campaign's sales_channels, then reload)", orderCount(n), m)
		} else {
			switch class {
			case scheduler.ClassUnknownMarketplace:
				w.Text = fmt.Sprintf("%s from sales channels campaignd does not know: excluded", orderCount(n))
			case scheduler.ClassNoRelay:
				w.Text = fmt.Sprintf("%s held: no buyer relay address, which the smtp channel needs (%s)", orderCount(n), scheduler.RelayReportsNote)
			default:
				continue
			}
		}
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b heldWarning) int { return cmp.Or(b.Orders-a.Orders, cmp.Compare(a.Class, b.Class)) })
	return out
}

// logHeldWarnings logs each warning of one file at WARN.
func logHeldWarnings(log *slog.Logger, file string, held map[string]int) {
	for _, w := range heldWarnings(held) {
		switch {
		case w.Marketplace != "":
			log.Warn("ingested orders no campaign covers", "file", file, "marketplace", w.Marketplace, "orders", w.Orders)
		case w.Class == scheduler.ClassNoRelay:
			log.Warn("ingested orders held: no buyer relay address", "file", file, "orders", w.Orders, "hint", scheduler.RelayReportsNote)
		default:
			log.Warn("ingested orders from unknown sales channels", "file", file, "orders", w.Orders)
		}
	}
}

// orderCount writes "1 order", "60,000 orders".
func orderCount(n int) string {
	if n == 1 {
		return "1 order"
	}
	return thousands(n) + " orders"
}

// thousands writes n with a comma between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

// reasonLine is one count of waiting or excluded orders by reason class.
type reasonLine struct {
	Class  string `json:"class"`
	Orders int    `json:"orders"`
	Text   string `json:"text"`
}

// reasonLines lists counts by class, most orders first.
func reasonLines(by map[string]int) []reasonLine {
	out := make([]reasonLine, 0, len(by))
	for class, n := range by {
		out = append(out, reasonLine{Class: class, Orders: n, Text: scheduler.ClassText(class)})
	}
	slices.SortFunc(out, func(a, b reasonLine) int { return cmp.Or(b.Orders-a.Orders, cmp.Compare(a.Class, b.Class)) })
	return out
}

// reasonsView is the `reasons` member of `status --json`: waiting and
// excluded orders by reason class, from the ledger's counters. Counted is
// false for a ledger no daemon of this version has opened yet.
type reasonsView struct {
	Counted  bool         `json:"counted"`
	Waiting  []reasonLine `json:"waiting"`
	Excluded []reasonLine `json:"excluded"`
}

func readReasons(l *ledger.Ledger) (reasonsView, error) {
	by, ok, err := l.ReasonCounts()
	if err != nil || !ok {
		return reasonsView{Waiting: []reasonLine{}, Excluded: []reasonLine{}}, err
	}
	return reasonsView{Counted: true, Waiting: reasonLines(by[ledger.Waiting]), Excluded: reasonLines(by[ledger.Excluded])}, nil
}
