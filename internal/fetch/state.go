package fetch

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Key names one report stream: a report type in one marketplace.
type Key struct {
	ReportType    string `json:"report_type"`
	MarketplaceID string `json:"marketplace_id"`
}

// String returns "REPORT_TYPE/MARKETPLACE_ID", usable as a storage key.
func (k Key) String() string { return k.ReportType + "/" + k.MarketplaceID }

// Range is a data range [Start, End) of a report, in UTC.
type Range struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// IsZero reports whether the range is unset.
func (r Range) IsZero() bool { return r.Start.IsZero() && r.End.IsZero() }

// String writes the range as two RFC 3339 instants.
func (r Range) String() string {
	if r.IsZero() {
		return "none"
	}
	return r.Start.UTC().Format(time.RFC3339) + " to " + r.End.UTC().Format(time.RFC3339)
}

// Pending is a report campaignd asked Amazon for and has not finished with.
// It is saved before the first poll, so a fetcher that stops (a restart, a
// crash, a tick that ran out of time) polls the same report next time
// instead of asking for another.
type Pending struct {
	ReportID    string    `json:"report_id"`
	Range       Range     `json:"range"`
	RequestedAt time.Time `json:"requested_at"`
	// Status is the last processingStatus Amazon gave (IN_QUEUE,
	// IN_PROGRESS, DONE...); empty before the first poll.
	Status string `json:"status,omitempty"`
	// Attempts counts failed downloads or ingests of this report's
	// document; after three the report is given up and a new
	// one is requested for the same range.
	Attempts int `json:"attempts,omitempty"`
}

// Done is a report whose data campaignd has: ingested, or empty.
type Done struct {
	ReportID string    `json:"report_id"`
	Range    Range     `json:"range"`
	At       time.Time `json:"at"`
	// File is the name the document had in the inbox; empty when the
	// report held no data (CANCELLED, or nothing but a header).
	File string `json:"file,omitempty"`
}

// ReportState is everything campaignd remembers about one report stream.
// It is plain data and round-trips through encoding/json, which is how the
// ledger stores it.
type ReportState struct {
	Key
	// Fetched is the data range covered without a gap by the reports
	// ingested so far; zero before the first one.
	Fetched Range `json:"fetched"`
	// Pending is the report being worked on, if any.
	Pending *Pending `json:"pending,omitempty"`
	// Ingested lists the most recent reports done, oldest first (at most
	// KeepDone).
	Ingested []Done `json:"ingested,omitempty"`
	// LastAttempt is when a fetch last ran; LastSuccess when one last
	// ended with the data in the ledger.
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	// LastError is why the last fetch failed; empty after a success.
	LastError string `json:"last_error,omitempty"`
	// Failures counts fetches that failed in a row.
	Failures int `json:"failures,omitempty"`
}

// KeepDone is how many finished reports a ReportState lists.
const KeepDone = 20

// Clone returns a deep copy.
func (s ReportState) Clone() ReportState {
	if s.Pending != nil {
		p := *s.Pending
		s.Pending = &p
	}
	s.Ingested = slices.Clone(s.Ingested)
	return s
}

// State keeps a ReportState per Key across runs and restarts. Load returns
// the zero ReportState (with its Key set) and no error for a stream never
// fetched. Save replaces the stream's state durably before it returns.
// Implementations must be safe for concurrent use: a Fetcher works on its
// streams at the same time.
type State interface {
	Load(ctx context.Context, k Key) (ReportState, error)
	Save(ctx context.Context, s ReportState) error
}

// MemState is a State held in memory, for tests and dry runs. The zero
// value is ready to use.
type MemState struct {
	mu sync.Mutex
	m  map[Key]ReportState
}

// Load returns a copy of the stream's state.
func (m *MemState) Load(_ context.Context, k Key) (ReportState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.m[k]
	if !ok {
		return ReportState{Key: k}, nil
	}
	return s.Clone(), nil
}

// Save stores a copy of s.
func (m *MemState) Save(_ context.Context, s ReportState) error {
	if s.ReportType == "" || s.MarketplaceID == "" {
		return fmt.Errorf("save fetch state: incomplete key %q", s.Key)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[Key]ReportState{}
	}
	m.m[s.Key] = s.Clone()
	return nil
}

// All returns a copy of every stream's state, sorted by key.
func (m *MemState) All() []ReportState {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]ReportState, 0, len(m.m))
	for _, s := range m.m {
		out = append(out, s.Clone())
	}
	slices.SortFunc(out, func(a, b ReportState) int { return cmp.Compare(a.Key.String(), b.Key.String()) })
	return out
}

// Summary describes the stream's state in one line for status: how far it
// is fetched, the report pending, and the last error.
func (s ReportState) Summary() string {
	var b strings.Builder
	b.WriteString(s.Key.String() + ": ")
	if s.Fetched.IsZero() {
		b.WriteString("never fetched")
	} else {
		b.WriteString("fetched to " + s.Fetched.End.UTC().Format(time.RFC3339))
	}
	if !s.LastSuccess.IsZero() {
		b.WriteString(", last success " + s.LastSuccess.UTC().Format(time.RFC3339))
	}
	if p := s.Pending; p != nil {
		fmt.Fprintf(&b, "; report %s pending since %s", p.ReportID, p.RequestedAt.UTC().Format(time.RFC3339))
		if p.Status != "" {
			b.WriteString(" (" + p.Status + ")")
		}
	}
	if s.LastError != "" {
		fmt.Fprintf(&b, "; failed %d time(s) in a row: %s", s.Failures, s.LastError)
	}
	return b.String()
}
