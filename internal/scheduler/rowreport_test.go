package scheduler_test

import (
	"strings"
	"testing"
)

// TestRowReportSummarisesCauses: rows rejected for one reason (a report
// re-saved by Excel with US dates) are told in one line first, then listed
// one by one as before.
func TestRowReportSummarisesCauses(t *testing.T) {
	e := openEnv(t, allLanguages(t, ""))
	data := header +
		row("111-0000001-0000001", "11/1/2026 10:00", "", "Shipped", "Amazon.com", "Bottle", "Shipped") +
		row("111-0000002-0000002", "11/2/2026 10:00", "", "Shipped", "Amazon.com", "Bottle", "Shipped") +
		row("111-0000003-0000003", "11/3/2026 10:00", "", "Shipped", "Amazon.com", "Bottle", "Shipped") +
		row("111-0000004-0000004", "2026-11-01T10:00:00Z", "", "Shipped", "Amazon.com", "Bottle", "Shipped")
	rep := e.ingest("excel.txt", data, at("2026-11-05T00:00:00Z"))
	lines := strings.Split(strings.TrimSpace(rep.RowReport()), "\n")
	want := `excel.txt: 3 rows: dates like "11/1/2026 10:00" in purchase-date are not ISO 8601 — was the report re-saved in Excel? (lines 2–4)`
	if len(lines) != 4 || lines[0] != want || !strings.HasPrefix(lines[1], "excel.txt:2: purchase-date: cannot parse") {
		t.Errorf("RowReport:\n%s\nwant first %s", strings.Join(lines, "\n"), want)
	}
	// One rejected row is listed alone, without a summary line.
	rep = e.ingest("one.txt", header+row("5.8E+13", "2026-11-01T10:00:00Z", "", "Shipped", "Amazon.com", "Bottle", "Shipped"), at("2026-11-05T00:00:00Z"))
	if got := strings.TrimSpace(rep.RowReport()); strings.Count(got, "\n") != 0 || !strings.HasPrefix(got, "one.txt:2: amazon-order-id: invalid order id") {
		t.Errorf("RowReport for one row: %q", got)
	}
}
