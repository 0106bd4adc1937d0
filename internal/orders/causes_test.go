package orders_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"campaignd/internal/orders"
)

// TestRejectedByCause: an Excel re-save with US dates rejects every row
// for one reason; the Summary says so in one line, with a hint.
func TestRejectedByCause(t *testing.T) {
	var rows []map[string]string
	for i := 0; i < 40; i++ {
		rows = append(rows, map[string]string{"amazon-order-id": fmt.Sprintf("111-%07d-1111111", i),
			"purchase-date": fmt.Sprintf("11/%d/2026 10:00", 1+i%28), "last-updated-date": "11/15/2026 12:00",
			"order-status": "Shipped", "sku": "A", "item-status": "Shipped", "quantity": "1"})
	}
	res := parseString(t, tsv(allOrdersHeader, rows...), orders.Options{})
	if res.err != nil || len(res.orders) != 0 || res.sum.RejectedCount != 40 {
		t.Fatalf("err %v, %d orders, %d rejected", res.err, len(res.orders), res.sum.RejectedCount)
	}
	want := []orders.RejectCause{{Cause: orders.CauseSpreadsheetDate, Column: "purchase-date", Count: 40, FirstLine: 2, LastLine: 41, Example: "11/1/2026 10:00"}}
	if !reflect.DeepEqual(res.sum.Causes, want) {
		t.Errorf("Causes = %+v\nwant %+v", res.sum.Causes, want)
	}
	if got := res.sum.RejectedSummary(); !reflect.DeepEqual(got, []string{
		`40 rows: dates like "11/1/2026 10:00" in purchase-date are not ISO 8601 — was the report re-saved in Excel? (lines 2–41)`,
	}) {
		t.Errorf("RejectedSummary() = %q", got)
	}
	if res.sum.Rejected[0].Cause != orders.CauseSpreadsheetDate {
		t.Errorf("Rejected[0] = %+v", res.sum.Rejected[0])
	}
}

// TestRejectedByCauseMixed: several causes, biggest first, each with its
// own hint; every rejected row is counted, not only the 1000 listed.
func TestRejectedByCauseMixed(t *testing.T) {
	var b strings.Builder
	b.WriteString(allOrdersHeader + "\n")
	for i := 0; i < 1200; i++ { // lines 2-1201: ids turned into numbers
		b.WriteString(allOrdersLine("5.8E+13", "", "2026-05-01T10:00:00Z"))
	}
	b.WriteString(allOrdersLine("#1001", "", "2026-05-01T10:00:00Z"))                                                         // 1202
	b.WriteString(allOrdersLine("111-1111111-1111111", "", "yesterday"))                                                      // 1203
	b.WriteString("111-1111111-1111112\t\t2026-05-01T10:00:00Z\n")                                                            // 1204: cut off
	b.WriteString(allOrdersLine("111-1111111-1111113", "", "2026-05-01T10:00:00Z", "", "Shipped", "", "", "", "", "Mug\xff")) // 1205
	b.WriteString(allOrdersLine("111-1111111-1111114", "", ""))                                                               // 1206
	b.WriteString(allOrdersLine("111-1111111-1111115", "", "2026-05-01T10:00:00Z", "", "Shipped", "", "", "", "", "Krug Größe 2, Müller"))
	res := parseString(t, b.String(), orders.Options{})
	if res.err != nil || len(res.orders) != 1 {
		t.Fatalf("err %v, %d orders", res.err, len(res.orders))
	}
	got := res.sum.RejectedSummary()
	want := []string{
		"1200 rows: order ids like 5.8E+13 in amazon-order-id were turned into numbers by a spreadsheet — was the report opened in Excel and saved? Drop the report as Amazon sent it (lines 2–1201)",
		`1 row: values like "#1001" in amazon-order-id are not Amazon order ids (123-1234567-1234567) (line 1202)`,
		`1 row: dates like "yesterday" in purchase-date cannot be read (line 1203)`,
		"1 row: fewer fields than the header's 31 — was the file cut off (copied while it was still downloading?) or were cells deleted? (line 1204)",
		"1 row: bytes that are not UTF-8 in product-name, in a file that is otherwise UTF-8 — were rows pasted from a file in another encoding? (line 1205)",
		"1 row: purchase-date is empty; the purchase date is required (line 1206)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RejectedSummary():\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if res.sum.RejectedCount != 1205 || len(res.sum.Rejected) != 1000 {
		t.Errorf("RejectedCount %d, listed %d", res.sum.RejectedCount, len(res.sum.Rejected))
	}
}

// TestRejectedByCauseCSV: the causes only comma/semicolon files have, and
// generic CSV's hint about date_layouts.
func TestRejectedByCauseCSV(t *testing.T) {
	data := strings.Join(csvHeader, ",") + "\n" +
		csvRow(",", 1, `"Mug`) + "\n" +
		csvRow(",", 2, "Mug, large") + "\n" +
		csvRow(",", 3, "Bowl") + "\n"
	res := parseString(t, data, orders.Options{})
	want := []string{
		`1 row: a quoted cell in product-name runs past the end of its line — a stray " in the cell? (line 2)`,
		"1 row: more fields than the header's 7 — a separator inside a cell that is not quoted? (line 3)",
	}
	if got := res.sum.RejectedSummary(); res.err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("err %v, RejectedSummary():\n%s", res.err, strings.Join(got, "\n"))
	}
	cols := map[string]string{"order_id": "Order", "purchase_date": "Date"}
	res = parseString(t, "Order;Date\n302-1111111-1111111;15.11.2026 10:00\n302-1111111-1111112;2026-11-15\n", orders.Options{Columns: cols})
	want = []string{`1 row: dates like "15.11.2026 10:00" in Date are not ISO 8601 — add their layout to date_layouts in [generic] (line 2)`}
	if got := res.sum.RejectedSummary(); res.err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("generic: err %v, RejectedSummary() = %q", res.err, got)
	}
}
