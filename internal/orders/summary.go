package orders

import (
	"fmt"
	"strconv"
)

// maxRejected is how many rejected rows a Summary lists.
const maxRejected = 1000

// RowError is one rejected row.
type RowError struct {
	Line   int    // 1-based physical line in the file where the row starts
	Column string // header name of the offending column ("" when the whole row is bad)
	Reason string
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
}

// reject counts a rejected row and lists the first maxRejected.
func (s *Summary) reject(e RowError) {
	s.RejectedCount++
	if len(s.Rejected) < maxRejected {
		s.Rejected = append(s.Rejected, e)
	}
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
