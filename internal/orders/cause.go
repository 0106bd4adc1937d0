package orders

import (
	"fmt"
	"regexp"
	"strings"
)

// Cause classifies why a row was rejected, so that many rows rejected for
// one reason can be told in one line, with a hint at what happened to the
// file.
type Cause string

// The causes of rejected rows.
const (
	CauseSpreadsheetID   Cause = "spreadsheet-id"      // an order id a spreadsheet turned into a number (5.8E+13)
	CauseInvalidID       Cause = "invalid-id"          // any other value that is not an Amazon order id
	CauseEmptyID         Cause = "empty-id"            // no order id (and no continuation line)
	CauseSpreadsheetDate Cause = "spreadsheet-date"    // a date a spreadsheet rewrote (11/15/2026 10:00, 15.11.2026)
	CauseInvalidDate     Cause = "invalid-date"        // any other date that cannot be read
	CauseNoPurchaseDate  Cause = "empty-purchase-date" // the purchase date is empty
	CauseFewerFields     Cause = "fewer-fields"        // fewer fields than the header: cut off or cells lost
	CauseMoreFields      Cause = "more-fields"         // more fields than the header
	CauseUnbalancedQuote Cause = "unbalanced-quote"    // a quoted cell runs past its line (CSV)
	CauseInvalidUTF8     Cause = "invalid-utf8"        // bytes that are not UTF-8 in a UTF-8 file
	CauseNUL             Cause = "nul"                 // a NUL byte
	CauseTooLong         Cause = "too-long"            // a row over 1 MiB
)

// RejectCause counts the rejected rows of one cause in one column.
type RejectCause struct {
	Cause               Cause
	Column              string // header name, or "" for the whole row
	Count               int
	FirstLine, LastLine int
	// Example is the value of the first such row, when the cause shows one:
	// an order id, a date, or a field count; never buyer data.
	Example string
}

// describe tells the group in one line for a report of kind k.
func (c RejectCause) describe(k Kind) string {
	rows, lines := "rows", fmt.Sprintf("lines %d–%d", c.FirstLine, c.LastLine)
	if c.Count == 1 {
		rows = "row"
	}
	if c.FirstLine == c.LastLine {
		lines = fmt.Sprintf("line %d", c.FirstLine)
	}
	return fmt.Sprintf("%d %s: %s (%s)", c.Count, rows, c.what(k), lines)
}

// what says what the rows have in common, and what it hints at.
func (c RejectCause) what(k Kind) string {
	ex, col := quote(c.Example), c.Column
	switch c.Cause {
	case CauseSpreadsheetID:
		return "order ids like " + c.Example + " in " + col + " were turned into numbers by a spreadsheet — was the report opened in Excel and saved? Drop the report as Amazon sent it"
	case CauseInvalidID:
		return "values like " + ex + " in " + col + " are not Amazon order ids (123-1234567-1234567)"
	case CauseEmptyID:
		return "no order id in " + col
	case CauseSpreadsheetDate:
		if k == KindGeneric {
			return "dates like " + ex + " in " + col + " are not ISO 8601 — add their layout to date_layouts in [generic]"
		}
		return "dates like " + ex + " in " + col + " are not ISO 8601 — was the report re-saved in Excel?"
	case CauseInvalidDate:
		return "dates like " + ex + " in " + col + " cannot be read"
	case CauseNoPurchaseDate:
		return col + " is empty; the purchase date is required"
	case CauseFewerFields:
		return "fewer fields than the header's " + c.Example + " — was the file cut off (copied while it was still downloading?) or were cells deleted?"
	case CauseMoreFields:
		return "more fields than the header's " + c.Example + " — a separator inside a cell that is not quoted?"
	case CauseUnbalancedQuote:
		return "a quoted cell in " + col + ` runs past the end of its line — a stray " in the cell?`
	case CauseInvalidUTF8:
		return "bytes that are not UTF-8 in " + col + ", in a file that is otherwise UTF-8 — were rows pasted from a file in another encoding?"
	case CauseNUL:
		return "NUL bytes in the row"
	case CauseTooLong:
		return "rows longer than 1 MiB"
	}
	return strings.TrimSpace(string(c.Cause) + " " + col)
}

// spreadsheetNumber matches an order id a spreadsheet read as a number:
// 5.8E+13, 1.11111E+15, 11111111111111111, 1,11111E+15.
var spreadsheetNumber = regexp.MustCompile(`^[0-9]+([.,][0-9]+)?([Ee][+-]?[0-9]+)?$`)

// idCause tells a spreadsheet-damaged id from any other bad one.
func idCause(id string) Cause {
	if spreadsheetNumber.MatchString(id) {
		return CauseSpreadsheetID
	}
	return CauseInvalidID
}

// spreadsheetDate matches the date forms spreadsheets write when they
// re-save a report in a local format: 11/15/2026 10:00, 15.11.2026,
// 2026/11/15 10:00:00, 15-Nov-2026, 2026-11-15 10:00 (a space, no zone),
// 11/15/2026 10:00 AM.
var spreadsheetDate = regexp.MustCompile(`^[0-9]{1,4}[./-]([0-9]{1,2}|[A-Za-z]{3})[./-][0-9]{1,4}( +[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?( ?[AaPp][Mm])?)?$`)

// dateCause tells a date a spreadsheet rewrote from any other bad one.
func dateCause(s string) Cause {
	if spreadsheetDate.MatchString(s) {
		return CauseSpreadsheetDate
	}
	return CauseInvalidDate
}
