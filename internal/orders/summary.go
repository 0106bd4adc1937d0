package orders

import (
	"fmt"
	"slices"
	"strconv"
)

// maxRejected is how many rejected rows a Summary lists.
const maxRejected = 1000

// RowError is one rejected row.
type RowError struct {
	Line   int    // 1-based physical line in the file where the row starts
	Column string // header name of the offending column ("" when the whole row is bad)
	Reason string
	Cause  Cause // the kind of fault, for counting rows alike

	example string // the value shown for its cause (an order id, a date, a field count), or ""
}

// Error formats the row error as "line 12: purchase-date: cannot parse ...".
func (e RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Column, e.Reason)
}

// Summary describes one parsed file.
type Summary struct {
	Kind          Kind
	Encoding      string
	Delimiter     string     // "tab", "comma", "semicolon"
	Rows          int        // data rows read (not counting the header, repeated headers or blank lines)
	Groups        int        // order groups emitted
	Rejected      []RowError // the first 1000 rejected rows
	RejectedCount int        // all rejected rows
	// Causes counts every rejected row by cause and column, in the order
	// each first appeared; RejectedSummary tells them in one line each.
	Causes []RejectCause
}

// reject counts a rejected row, lists the first maxRejected, and counts it
// under its cause.
func (s *Summary) reject(e RowError) {
	s.RejectedCount++
	if len(s.Rejected) < maxRejected {
		s.Rejected = append(s.Rejected, e)
	}
	for i := range s.Causes {
		if c := &s.Causes[i]; c.Cause == e.Cause && c.Column == e.Column {
			c.Count, c.LastLine = c.Count+1, e.Line
			return
		}
	}
	s.Causes = append(s.Causes, RejectCause{Cause: e.Cause, Column: e.Column, Count: 1,
		FirstLine: e.Line, LastLine: e.Line, Example: e.example})
}

// RejectedSummary tells the rejected rows in one line per cause and
// column, the most frequent first, with a hint where the cause is
// recognisable: `40 rows: dates like "11/15/2026 10:00" in purchase-date
// are not ISO 8601 — was the report re-saved in Excel? (lines 2–41)`.
func (s Summary) RejectedSummary() []string {
	causes := slices.Clone(s.Causes)
	slices.SortStableFunc(causes, func(a, b RejectCause) int { return b.Count - a.Count })
	lines := make([]string, len(causes))
	for i, c := range causes {
		lines[i] = c.describe(s.Kind)
	}
	return lines
}

// Describe gives a human name for a report kind, for summaries.
func Describe(k Kind) string {
	switch k {
	case KindAllOrders:
		return "All Orders report"
	case KindFBAShipments:
		return "FBA Amazon Fulfilled Shipments report"
	case KindMFNOrders:
		return "MFN Order Report"
	case KindUnshipped:
		return "Unshipped Orders report"
	case KindMFNReturns:
		return "seller-fulfilled returns report"
	case KindFBAReturns:
		return "FBA customer returns report"
	case KindGeneric:
		return "generic CSV (columns mapped in config)"
	case "":
		return "unknown file"
	}
	return "unknown report kind " + strconv.Quote(string(k))
}
