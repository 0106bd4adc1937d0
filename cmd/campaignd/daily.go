package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"campaignd/internal/ledger"
)

// dailyColumns is how many marketplaces the table of requests per day
// names; the others are summed as "other".
const dailyColumns = 4

// printDaily prints, for each of the statusDays days up to now (newest
// first), the requests sent per marketplace and those refused, failed,
// retried or put in doubt, all marketplaces together.
func printDaily(w io.Writer, days []ledger.DayCount, now time.Time) {
	fmt.Fprintf(w, "\nrequests per day (UTC, last %d days):\n", statusDays)
	if len(days) == 0 {
		fmt.Fprintln(w, "  none sent, refused or failed")
		return
	}
	markets := dailyMarkets(days)
	rows := dailyRows(days, markets)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-10s\t", "day") // as wide as a date: left-aligned in a right-aligned table, indented by its padding
	for _, m := range markets {
		fmt.Fprintf(tw, "%s\t", clean(m))
	}
	fmt.Fprint(tw, "refused\tfailed\tretried\tin doubt\t\n")
	for i := range statusDays {
		day := now.UTC().AddDate(0, 0, -i).Format(time.DateOnly)
		r := rows[day]
		if r == nil {
			r = &dayRow{}
		}
		fmt.Fprintf(tw, "%-10s\t", day)
		for _, m := range markets {
			fmt.Fprintf(tw, "%s\t", dash(r.sent[m]))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", dash(r.refused), dash(r.failed), dash(r.retried), dash(r.inDoubt))
	}
	tw.Flush()
}

// dayRow is one day of the table: the requests sent per column, and the
// others of all marketplaces together.
type dayRow struct {
	sent                              map[string]int
	refused, failed, retried, inDoubt int
}

// dailyRows sums the counts per day into the columns markets name.
func dailyRows(days []ledger.DayCount, markets []string) map[string]*dayRow {
	rows := map[string]*dayRow{}
	for _, d := range days {
		r := rows[d.Day]
		if r == nil {
			r = &dayRow{sent: map[string]int{}}
			rows[d.Day] = r
		}
		m := d.Marketplace
		if !slices.Contains(markets, m) {
			m = "other"
		}
		r.sent[m] += d.Sent
		r.refused, r.failed, r.retried, r.inDoubt = r.refused+d.Refused, r.failed+d.Failed, r.retried+d.Retried, r.inDoubt+d.InDoubt
	}
	return rows
}

// dailyMarkets names the table's columns: the marketplaces that sent most
// over the days, dailyColumns at most, then "other" for the rest.
func dailyMarkets(days []ledger.DayCount) []string {
	sent := map[string]int{}
	for _, d := range days {
		sent[d.Marketplace] += d.Sent
	}
	var ms []string
	for m := range sent {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b string) int { return cmp.Or(sent[b]-sent[a], cmp.Compare(a, b)) })
	if len(ms) > dailyColumns {
		ms = append(ms[:dailyColumns-1], "other")
	}
	return ms
}

// dash writes 0 as "-".
func dash(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}
