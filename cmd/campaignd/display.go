package main

import (
	"slices"
	"time"

	"campaignd/internal/inbox"
	"campaignd/internal/ledger"
)

// orderCounts is the `orders` member of `status --json`: every order counted
// by state (a contract: scripts read these names).
type orderCounts struct {
	Total     int `json:"total"`
	Waiting   int `json:"waiting"`
	Scheduled int `json:"scheduled"`
	Claimed   int `json:"claimed"`
	Sent      int `json:"sent"`
	InDoubt   int `json:"in_doubt"`
	Failed    int `json:"failed"`
	Excluded  int `json:"excluded"`
	Expired   int `json:"expired"`
}

// daemonView describes the running daemon; absent when the CLI read the ledger itself.
type daemonView struct {
	PID      int       `json:"pid"`
	Version  string    `json:"version"`
	Config   string    `json:"config"`
	Started  time.Time `json:"started"`
	LastPass time.Time `json:"last_pass,omitzero"`
	NextPass time.Time `json:"next_pass,omitzero"`
	Pending  []string  `json:"inbox_pending,omitempty"`
	// Retrying lists inbox files whose last try failed for a reason that is
	// not theirs (a full disk...): they stay and are tried again.
	Retrying []inbox.Retry `json:"inbox_retrying,omitempty"`
}

// sendLine is one upcoming send.
type sendLine struct {
	OrderID     string    `json:"order_id"`
	Marketplace string    `json:"marketplace"`
	SendAt      time.Time `json:"send_at"`
	Deadline    time.Time `json:"deadline"`
	Campaign    string    `json:"campaign,omitempty"`
	Channel     string    `json:"channel,omitempty"`
	Refusal     string    `json:"refusal,omitempty"`
}

// fileLine is one ingested file.
type fileLine struct {
	Name       string    `json:"name"`
	SHA256     string    `json:"sha256"`
	Kind       string    `json:"kind,omitempty"`
	IngestedAt time.Time `json:"ingested_at"`
	Outcome    string    `json:"outcome"`
	Rows       int       `json:"rows"`
	Orders     int       `json:"orders"`
	Rejected   int       `json:"rejected_rows"`
	Error      string    `json:"error,omitempty"`
	Causes     []string  `json:"causes,omitempty"`
	RowErrors  []string  `json:"row_errors,omitempty"`
}

// eventLine is one audit event, or (in recent problems) a rejected file:
// File names it, and Reason says why.
type eventLine struct {
	Time    time.Time `json:"time"`
	OrderID string    `json:"order_id,omitempty"`
	File    string    `json:"file,omitempty"`
	From    string    `json:"from,omitempty"`
	To      string    `json:"to"`
	Reason  string    `json:"reason,omitempty"`
	Actor   string    `json:"actor,omitempty"`
}

// holdLine is an order that is not sent, and why.
type holdLine struct {
	OrderID string `json:"order_id"`
	State   string `json:"state"`
	Reason  string `json:"reason"`
	Class   string `json:"class,omitempty"`
}

// statusView is what `campaignd status` shows (`status --json` prints it).
type statusView struct {
	Orders  orderCounts `json:"orders"`
	Reasons reasonsView `json:"reasons"`
	// At is when the status was taken; PerDay what went out on each of
	// the statusDays days up to it, by marketplace (days and marketplaces
	// with nothing left out).
	At          time.Time         `json:"at"`
	PerDay      []ledger.DayCount `json:"requests_per_day"`
	Daemon      *daemonView       `json:"daemon,omitempty"`
	Ledger      string            `json:"ledger"`
	NextSends   []sendLine        `json:"next_sends"`
	RecentFiles []fileLine        `json:"recent_files"`
	Problems    []eventLine       `json:"recent_problems"`
	InDoubt     []holdLine        `json:"in_doubt"`
	// InboxSkipped lists the inbox entries that are never read (links,
	// pipes, folders) and why.
	InboxSkipped []inbox.Skip `json:"inbox_skipped,omitempty"`
	// Fetch is the report fetcher's schedule and streams (fetchstatus.go).
	Fetch *fetchView `json:"fetch,omitempty"`
}

// statusRows is how many lines each list of status holds.
const statusRows = 10

// statusDays is how many days, today included, status shows what went out.
const statusDays = 14

// buildStatus reads the status at now from the ledger without scanning
// every order.
func buildStatus(l *ledger.Ledger, now time.Time) (statusView, error) {
	st := statusView{Ledger: l.Path(), NextSends: []sendLine{}, RecentFiles: []fileLine{}, Problems: []eventLine{}, InDoubt: []holdLine{}}
	st.At = now.UTC()
	if err := readCounters(l, &st); err != nil {
		return st, err
	}
	next, err := l.Upcoming(statusRows)
	if err != nil {
		return st, err
	}
	for _, r := range next {
		st.NextSends = append(st.NextSends, newSendLine(r))
	}
	files, err := l.RecentFiles(statusRows)
	if err != nil {
		return st, err
	}
	for _, f := range files {
		st.RecentFiles = append(st.RecentFiles, fileLine{
			Name: f.Name, SHA256: f.SHA256, Kind: f.Kind, IngestedAt: f.IngestedAt, Outcome: f.Outcome,
			Rows: f.Rows, Orders: f.Orders, Rejected: f.Rejected, Error: f.Error, Causes: f.Causes, RowErrors: f.RowErrors,
		})
	}
	if st.Problems, err = recentProblems(l); err != nil {
		return st, err
	}
	doubt, err := l.List(ledger.InDoubt, 0)
	if err != nil {
		return st, err
	}
	for _, r := range doubt {
		st.InDoubt = append(st.InDoubt, holdLine{OrderID: r.Key.OrderID, State: string(r.State), Reason: r.Reason})
	}
	return st, nil
}

// readCounters reads the status's counts: by state, by reason, and what
// went out on each of the last statusDays days.
func readCounters(l *ledger.Ledger, st *statusView) error {
	c, err := l.Counts()
	if err != nil {
		return err
	}
	st.Orders = countsOf(c)
	if st.Reasons, err = readReasons(l); err != nil {
		return err
	}
	if st.PerDay, err = l.Daily(st.At.AddDate(0, 0, 1-statusDays), st.At); err != nil {
		return err
	}
	if st.PerDay == nil {
		st.PerDay = []ledger.DayCount{}
	}
	return nil
}

// filesScanned is how many of the newest files status looks through for
// rejected ones.
const filesScanned = 100

// recentProblems merges the newest problem events of the orders and the
// newest rejected files, newest first, statusRows of them.
func recentProblems(l *ledger.Ledger) ([]eventLine, error) {
	probs, err := l.RecentProblems(statusRows)
	if err != nil {
		return nil, err
	}
	out := eventLines(probs)
	files, err := l.RecentFiles(filesScanned)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if f.Outcome == "rejected" {
			out = append(out, eventLine{Time: f.IngestedAt.UTC(), File: f.Name, To: "rejected", Reason: f.Error})
		}
	}
	slices.SortStableFunc(out, func(a, b eventLine) int { return b.Time.Compare(a.Time) })
	return out[:min(len(out), statusRows)], nil
}

func countsOf(c ledger.Counts) orderCounts {
	b := c.ByState
	return orderCounts{
		Total: c.Total, Waiting: b[ledger.Waiting], Scheduled: b[ledger.Scheduled], Claimed: b[ledger.Claimed],
		Sent: b[ledger.Sent], InDoubt: b[ledger.InDoubt], Failed: b[ledger.Failed], Excluded: b[ledger.Excluded], Expired: b[ledger.Expired],
	}
}

func newSendLine(r ledger.Record) sendLine {
	return sendLine{OrderID: r.Key.OrderID, Marketplace: r.Order.Marketplace, SendAt: r.SendAt.UTC(), Deadline: r.Deadline.UTC(),
		Campaign: r.Campaign, Channel: r.Channel, Refusal: r.Refusal}
}

func newEventLine(ev ledger.Event) eventLine {
	return eventLine{Time: ev.Time.UTC(), OrderID: ev.Key.OrderID, From: string(ev.From), To: string(ev.To), Reason: ev.Reason, Actor: ev.Actor}
}

// eventLines converts audit events for display.
func eventLines(evs []ledger.Event) []eventLine {
	out := make([]eventLine, len(evs))
	for i, ev := range evs {
		out[i] = newEventLine(ev)
	}
	return out
}
