package scheduler

import (
	"fmt"
	"time"

	"campaignd/internal/inbox"
	"campaignd/internal/ledger"
)

// OrderCounts is the `orders` member of `status --json`: every order counted
// by state (a contract: scripts read these names).
type OrderCounts struct {
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

// Daemon describes the running daemon; absent when the CLI read the ledger itself.
type Daemon struct {
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

// SendLine is one upcoming send.
type SendLine struct {
	OrderID     string    `json:"order_id"`
	Marketplace string    `json:"marketplace"`
	SendAt      time.Time `json:"send_at"`
	Deadline    time.Time `json:"deadline"`
	Campaign    string    `json:"campaign,omitempty"`
	Channel     string    `json:"channel,omitempty"`
	Refusal     string    `json:"refusal,omitempty"`
}

// FileLine is one ingested file.
type FileLine struct {
	Name       string    `json:"name"`
	SHA256     string    `json:"sha256"`
	Kind       string    `json:"kind,omitempty"`
	IngestedAt time.Time `json:"ingested_at"`
	Outcome    string    `json:"outcome"`
	Rows       int       `json:"rows"`
	Orders     int       `json:"orders"`
	Rejected   int       `json:"rejected_rows"`
	Error      string    `json:"error,omitempty"`
	RowErrors  []string  `json:"row_errors,omitempty"`
}

// EventLine is one audit event.
type EventLine struct {
	Time    time.Time `json:"time"`
	OrderID string    `json:"order_id"`
	From    string    `json:"from,omitempty"`
	To      string    `json:"to"`
	Reason  string    `json:"reason,omitempty"`
	Actor   string    `json:"actor,omitempty"`
}

// HoldLine is an order that is not sent, and why.
type HoldLine struct {
	OrderID string `json:"order_id"`
	State   string `json:"state"`
	Reason  string `json:"reason"`
}

// Status is what `campaignd status` shows.
type Status struct {
	Orders      OrderCounts `json:"orders"`
	Daemon      *Daemon     `json:"daemon,omitempty"`
	Ledger      string      `json:"ledger"`
	NextSends   []SendLine  `json:"next_sends"`
	RecentFiles []FileLine  `json:"recent_files"`
	Problems    []EventLine `json:"recent_problems"`
	InDoubt     []HoldLine  `json:"in_doubt"`
	// InboxSkipped lists the inbox entries that are never read (links,
	// pipes, folders) and why.
	InboxSkipped []inbox.Skip `json:"inbox_skipped,omitempty"`
}

// statusRows is how many lines each list of status holds.
const statusRows = 10

// BuildStatus reads the status from the ledger without scanning every order.
func BuildStatus(l *ledger.Ledger) (Status, error) {
	st := Status{Ledger: l.Path(), NextSends: []SendLine{}, RecentFiles: []FileLine{}, Problems: []EventLine{}, InDoubt: []HoldLine{}}
	c, err := l.Counts()
	if err != nil {
		return st, err
	}
	st.Orders = countsOf(c)
	next, err := l.Upcoming(statusRows)
	if err != nil {
		return st, err
	}
	for _, r := range next {
		st.NextSends = append(st.NextSends, sendLine(r))
	}
	files, err := l.RecentFiles(statusRows)
	if err != nil {
		return st, err
	}
	for _, f := range files {
		st.RecentFiles = append(st.RecentFiles, FileLine{
			Name: f.Name, SHA256: f.SHA256, Kind: f.Kind, IngestedAt: f.IngestedAt, Outcome: f.Outcome,
			Rows: f.Rows, Orders: f.Orders, Rejected: f.Rejected, Error: f.Error, RowErrors: f.RowErrors,
		})
	}
	probs, err := l.RecentProblems(statusRows)
	if err != nil {
		return st, err
	}
	for _, ev := range probs {
		st.Problems = append(st.Problems, eventLine(ev))
	}
	doubt, err := l.List(ledger.InDoubt, 0)
	if err != nil {
		return st, err
	}
	for _, r := range doubt {
		st.InDoubt = append(st.InDoubt, HoldLine{OrderID: r.Key.OrderID, State: string(r.State), Reason: r.Reason})
	}
	return st, nil
}

func countsOf(c ledger.Counts) OrderCounts {
	b := c.ByState
	return OrderCounts{
		Total: c.Total, Waiting: b[ledger.Waiting], Scheduled: b[ledger.Scheduled], Claimed: b[ledger.Claimed],
		Sent: b[ledger.Sent], InDoubt: b[ledger.InDoubt], Failed: b[ledger.Failed], Excluded: b[ledger.Excluded], Expired: b[ledger.Expired],
	}
}

func sendLine(r ledger.Record) SendLine {
	return SendLine{OrderID: r.Key.OrderID, Marketplace: r.Order.Marketplace, SendAt: r.SendAt.UTC(), Deadline: r.Deadline.UTC(),
		Campaign: r.Campaign, Channel: r.Channel, Refusal: r.Refusal}
}

func eventLine(ev ledger.Event) EventLine {
	return EventLine{Time: ev.Time.UTC(), OrderID: ev.Key.OrderID, From: string(ev.From), To: string(ev.To), Reason: ev.Reason, Actor: ev.Actor}
}

// EventLines converts audit events for display.
func EventLines(evs []ledger.Event) []EventLine {
	out := make([]EventLine, len(evs))
	for i, ev := range evs {
		out[i] = eventLine(ev)
	}
	return out
}

// Plan is what `campaignd plan` shows: what a pass at At would send, and why
// every other order would not be sent.
type Plan struct {
	At   time.Time  `json:"at"`
	Send []SendLine `json:"send"`
	Hold []HoldLine `json:"hold"`
}

// BuildPlan says what a pass at `at` would do, without sending or writing.
// It reads every order (a plan is a look at the whole ledger).
func BuildPlan(l *ledger.Ledger, r Rules, at time.Time) (Plan, error) {
	at = at.UTC()
	p := Plan{At: at, Send: []SendLine{}, Hold: []HoldLine{}}
	err := l.ForEach(func(rec ledger.Record) error {
		hold := func(state, reason string) {
			p.Hold = append(p.Hold, HoldLine{OrderID: rec.Key.OrderID, State: state, Reason: reason})
		}
		deadlinePassed := !rec.Deadline.IsZero() && !at.Before(rec.Deadline)
		switch rec.State {
		case ledger.Scheduled:
			switch {
			case deadlinePassed:
				hold(string(ledger.Expired), fmt.Sprintf("deadline %s has passed", stamp(rec.Deadline)))
			case !rec.Deadline.IsZero() && !at.Add(SendMargin).Before(rec.Deadline):
				hold(string(ledger.Expired), fmt.Sprintf("too close to the deadline %s for a send to finish before it", stamp(rec.Deadline)))
			case rec.SendAt.After(at):
				hold(string(rec.State), fmt.Sprintf("not due until %s (%s)", stamp(rec.SendAt), rec.Reason))
			default:
				if quiet, end := r.InQuietHours(at, rec.Order.Marketplace); quiet {
					hold(string(rec.State), fmt.Sprintf("quiet hours in %s until %s", rec.Order.Marketplace, stamp(end)))
					return nil
				}
				p.Send = append(p.Send, sendLine(rec))
			}
		case ledger.Waiting:
			if deadlinePassed {
				hold(string(ledger.Expired), fmt.Sprintf("deadline %s has passed", stamp(rec.Deadline)))
				return nil
			}
			hold(string(rec.State), rec.Reason)
		case ledger.Sent:
			hold(string(rec.State), fmt.Sprintf("already sent %s", stamp(rec.SentAt)))
		default:
			hold(string(rec.State), rec.Reason)
		}
		return nil
	})
	return p, err
}
