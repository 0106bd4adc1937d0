package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"campaignd/internal/config"
	"campaignd/internal/fetch"
	"campaignd/internal/ledger"
)

// fetchView is the `fetch` member of `status --json`: the report fetcher's
// schedule and, per report stream, what it fetched last and its last
// failure.
type fetchView struct {
	Enabled bool   `json:"enabled"`
	Tick    string `json:"tick"`
	// Next and RunningSince come from the running daemon; absent when the
	// CLI read the ledger itself.
	Next         time.Time    `json:"next,omitzero"`
	RunningSince time.Time    `json:"running_since,omitzero"`
	Reports      []fetchState `json:"reports"`
}

// fetchState is one report stream (a report type in one marketplace).
type fetchState struct {
	ReportType    string `json:"report_type"`
	MarketplaceID string `json:"marketplace_id"`
	// Fetched is the data range fetched without a gap; absent before the
	// first report.
	Fetched     *fetch.Range `json:"fetched,omitempty"`
	LastAttempt time.Time    `json:"last_attempt,omitzero"`
	LastSuccess time.Time    `json:"last_success,omitzero"`
	// LastReport is the last report whose data campaignd has.
	LastReport *fetch.Done    `json:"last_report,omitempty"`
	Pending    *fetch.Pending `json:"pending,omitempty"`
	LastError  string         `json:"last_error,omitempty"`
	Failures   int            `json:"failures,omitempty"`
}

// fetchStatus reads the state of every configured report stream from l,
// and the schedule from the daemon when the command runs inside it.
func (a *app) fetchStatus(ctx context.Context, cfg *config.Config, l *ledger.Ledger) (*fetchView, error) {
	v := &fetchView{Enabled: cfg.Fetch.Enabled(), Tick: cfg.Fetch.Tick, Reports: []fetchState{}}
	if !v.Enabled {
		return v, nil
	}
	if a.daemon != nil && a.daemon.fetch != nil {
		fd := a.daemon.fetch.view()
		v.Next, v.RunningSince = fd.Next.UTC(), fd.RunningSince
	}
	store := l.FetchState()
	for _, k := range fetchKeys(cfg) {
		st, err := store.Load(ctx, k)
		if err != nil {
			return nil, err
		}
		v.Reports = append(v.Reports, newFetchState(st))
	}
	return v, nil
}

// fetchKeys are the report streams of cfg, in the fetcher's order.
func fetchKeys(cfg *config.Config) []fetch.Key {
	var keys []fetch.Key
	for _, rt := range cfg.Fetch.Reports {
		for _, m := range cfg.Fetch.MarketplaceIDs {
			keys = append(keys, fetch.Key{ReportType: rt, MarketplaceID: m})
		}
	}
	return keys
}

func newFetchState(st fetch.ReportState) fetchState {
	fs := fetchState{ReportType: st.ReportType, MarketplaceID: st.MarketplaceID, LastAttempt: st.LastAttempt,
		LastSuccess: st.LastSuccess, Pending: st.Pending, LastError: st.LastError, Failures: st.Failures}
	if !st.Fetched.IsZero() {
		fs.Fetched = &st.Fetched
	}
	if n := len(st.Ingested); n > 0 {
		fs.LastReport = &st.Ingested[n-1]
	}
	return fs
}

// printFetch prints the fetch section of status: the schedule, then one
// line per report stream. Amazon's error texts are escaped for the terminal.
func printFetch(w io.Writer, v *fetchView) {
	if v == nil {
		return
	}
	fmt.Fprintln(w, "\nreport fetches:")
	if !v.Enabled {
		fmt.Fprintln(w, "  off (fetch.marketplace_ids is empty)")
		return
	}
	next := "next when the daemon runs"
	if !v.Next.IsZero() {
		next = "next " + stamp(v.Next)
	}
	if !v.RunningSince.IsZero() {
		next += ", fetching since " + stamp(v.RunningSince)
	}
	fmt.Fprintf(w, "  tick %q (UTC), %s\n", v.Tick, next)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range v.Reports {
		fmt.Fprintln(tw, s.line())
	}
	tw.Flush()
}

// line is one stream's status: when it was last fetched and how that
// went, the range fetched, a report pending.
func (s fetchState) line() string {
	parts := []string{"  " + s.ReportType, s.MarketplaceID}
	switch {
	case s.LastAttempt.IsZero():
		parts = append(parts, "never fetched")
	case s.LastError != "":
		parts = append(parts, "last "+stamp(s.LastAttempt)+" FAILED")
	default:
		parts = append(parts, "last "+stamp(s.LastAttempt)+" ok")
	}
	if s.Fetched != nil {
		parts = append(parts, "fetched "+s.Fetched.String())
	} else {
		parts = append(parts, "nothing fetched yet")
	}
	line := strings.Join(parts, "\t")
	if p := s.Pending; p != nil {
		line += fmt.Sprintf("\treport %s pending since %s", clean(p.ReportID), stamp(p.RequestedAt))
		if p.Status != "" {
			line += " (" + clean(p.Status) + ")"
		}
	}
	if s.LastError != "" {
		line += fmt.Sprintf("\t%s in a row: %s", count(s.Failures, "failure"), clean(s.LastError))
	}
	return line
}
