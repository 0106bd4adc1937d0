package orders_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"campaignd/internal/orders"
)

// csvHeader is a short All Orders header, as a spreadsheet re-saves it.
var csvHeader = []string{"amazon-order-id", "purchase-date", "order-status", "item-status", "sku", "product-name", "quantity"}

// csvRow writes one comma or semicolon row of csvHeader's columns; the
// product name is written as given (quoted or not by the caller).
func csvRow(sep string, i int, product string) string {
	return strings.Join([]string{fmt.Sprintf("111-%07d-1111111", i), "2026-05-01T10:00:00Z", "Shipped", "Shipped",
		fmt.Sprintf("SKU-%d", i), product, "1"}, sep)
}

// TestUnbalancedQuoteIsOneRow: one stray opening quote in 20,000 rows costs
// that row only, listed with its line and column; every other row is read.
func TestUnbalancedQuoteIsOneRow(t *testing.T) {
	for _, sep := range []string{",", ";"} {
		t.Run(sep, func(t *testing.T) {
			var b strings.Builder
			b.WriteString(strings.Join(csvHeader, sep) + "\r\n")
			for i := 1; i <= 20000; i++ {
				product := fmt.Sprintf(`"Mug %d, ""large"""`, i)
				if i == 100 {
					product = `"Mug 12 oz` // the closing quote was lost
				}
				b.WriteString(csvRow(sep, i, product) + "\r\n")
			}
			res := parseString(t, b.String(), orders.Options{})
			if res.err != nil {
				t.Fatal(res.err)
			}
			wantRejected(t, res.sum, orders.RowError{Line: 101, Column: "product-name", Reason: "unbalanced quote"})
			if len(res.orders) != 19999 || res.sum.Rows != 20000 {
				t.Fatalf("%d orders from %d rows, want 19999 from 20000", len(res.orders), res.sum.Rows)
			}
			if got := res.orders[99].Items[0].Title; got != `Mug 101, "large"` {
				t.Errorf("the row after the broken one: title %q", got)
			}
		})
	}
}

// TestMultiLineCells: quoted cells holding line breaks, as Excel writes
// them (LF inside a cell, CRLF between rows) and as LibreOffice and Google
// Sheets do (LF throughout), are read whole.
func TestMultiLineCells(t *testing.T) {
	for name, eol := range map[string]string{"excel": "\r\n", "lf": "\n"} {
		t.Run(name, func(t *testing.T) {
			data := strings.Join(csvHeader, ",") + eol +
				csvRow(",", 1, "\"Becher\n350 ml, \"\"weiß\"\"\"") + eol +
				csvRow(",", 2, "\"Set of 3:\n- mug\n- saucer, blue\n- spoon\"") + eol +
				csvRow(",", 3, "\"Plate\n\"") + eol +
				csvRow(",", 4, "Bowl") + eol
			res := parseString(t, data, orders.Options{})
			if res.err != nil {
				t.Fatal(res.err)
			}
			wantRejected(t, res.sum)
			var titles []string
			for _, o := range res.orders {
				titles = append(titles, o.Items[0].Title)
			}
			want := []string{"Becher\n350 ml, \"weiß\"", "Set of 3:\n- mug\n- saucer, blue\n- spoon", "Plate", "Bowl"}
			if !reflect.DeepEqual(titles, want) {
				t.Errorf("titles %q, want %q", titles, want)
			}
		})
	}
}

// TestUnbalancedQuoteNextLineDamaged: when the lines after a stray quote
// are no clean rows either, each is read on its own and listed; none is
// swallowed unseen.
func TestUnbalancedQuoteNextLineDamaged(t *testing.T) {
	data := strings.Join(csvHeader, ",") + "\n" +
		csvRow(",", 1, `"Mug`) + "\n" + // line 2: the quote never closes
		"5.8E+13,2026-05-01T10:00:00Z,Shipped,Shipped,SKU-2,Plate,1\n" + // line 3: spreadsheet damage
		"111-0000003-1111111,2026-05-01T10:00:00Z,Shipped,Shipped,SKU-3,\"Cup\n" + // line 4: its cell goes on...
		"with a handle\",1\n" + // line 5: ...and closes here: a real two-line cell
		csvRow(",", 6, "Bowl") + "\n" // line 6
	res := parseString(t, data, orders.Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	wantRejected(t, res.sum,
		orders.RowError{Line: 2, Column: "product-name", Reason: "unbalanced quote"},
		orders.RowError{Line: 3, Column: "amazon-order-id", Reason: `invalid order id "5.8E+13"`},
	)
	var titles []string
	for _, o := range res.orders {
		titles = append(titles, o.Items[0].Title)
	}
	if want := []string{"Cup\nwith a handle", "Bowl"}; !reflect.DeepEqual(titles, want) {
		t.Errorf("titles %q, want %q", titles, want)
	}
}

// TestUnbalancedQuoteAtEnd: a quote still open at the end of the file costs
// its row; the lines it ran over are read on their own.
func TestUnbalancedQuoteAtEnd(t *testing.T) {
	data := strings.Join(csvHeader, ",") + "\n" +
		csvRow(",", 1, "Bowl") + "\n" +
		csvRow(",", 2, `"Mug`) + "\n" + // line 3
		"large\n" + // line 4
		"blue" // line 5, no final newline
	res := parseString(t, data, orders.Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	wantRejected(t, res.sum,
		orders.RowError{Line: 3, Column: "product-name", Reason: "unbalanced quote"},
		orders.RowError{Line: 4, Reason: "wrong field count: 1 fields"},
		orders.RowError{Line: 5, Reason: "wrong field count: 1 fields"},
	)
	if len(res.orders) != 1 || res.orders[0].Items[0].Title != "Bowl" {
		t.Errorf("orders %+v", res.orders)
	}
}

// TestUnbalancedQuoteClosedLater: a stray quote that a later quote would
// close swallows no row in between.
func TestUnbalancedQuoteClosedLater(t *testing.T) {
	var b strings.Builder
	b.WriteString(strings.Join(csvHeader, ";") + "\n")
	b.WriteString(csvRow(";", 1, `"12 inch pan`) + "\n") // line 2
	for i := 2; i <= 5; i++ {
		b.WriteString(csvRow(";", i, fmt.Sprintf("Pan %d", i)) + "\n")
	}
	b.WriteString(csvRow(";", 6, `Tray 9"`) + "\n") // a quote inside a cell, which would close line 2's
	b.WriteString(csvRow(";", 7, "Lid") + "\n")
	res := parseString(t, b.String(), orders.Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	wantRejected(t, res.sum, orders.RowError{Line: 2, Column: "product-name", Reason: "unbalanced quote"})
	if len(res.orders) != 6 || res.orders[4].Items[0].Title != `Tray 9"` {
		t.Errorf("%d orders: %+v", len(res.orders), res.orders)
	}
}

// TestQuotedCellTooManyLines: a quoted cell may run over at most 100
// lines; past that its row is broken and the lines are read on their own.
func TestQuotedCellTooManyLines(t *testing.T) {
	notes := strings.Repeat("note\n", 150)
	data := strings.Join(csvHeader, ",") + "\n" + csvRow(",", 1, "\"Mug\n"+notes+"end\"") + "\n" + csvRow(",", 2, "Bowl") + "\n"
	res := parseString(t, data, orders.Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.sum.RejectedCount != 152 || len(res.sum.Rejected) == 0 || res.sum.Rejected[0].Line != 2 || !strings.Contains(res.sum.Rejected[0].Reason, "unbalanced quote") {
		t.Fatalf("rejected %d rows: %v", res.sum.RejectedCount, res.sum.Rejected)
	}
	if len(res.orders) != 1 || res.orders[0].Items[0].Title != "Bowl" {
		t.Errorf("orders %+v", res.orders)
	}
	// 100 lines are fine
	notes = strings.Repeat("note\n", 98)
	data = strings.Join(csvHeader, ",") + "\n" + csvRow(",", 1, "\"Mug\n"+notes+"end\"") + "\n" + csvRow(",", 2, "Bowl") + "\n"
	res = parseString(t, data, orders.Options{})
	if res.err != nil || res.sum.RejectedCount != 0 || len(res.orders) != 2 || strings.Count(res.orders[0].Items[0].Title, "\n") != 99 {
		t.Errorf("100 lines: err %v, rejected %v, %d orders", res.err, res.sum.Rejected, len(res.orders))
	}
}

// TestUnbalancedQuoteThenLongLine: a line over 1 MiB met while a quote is
// open is reported as such, and the rows after it are read.
func TestUnbalancedQuoteThenLongLine(t *testing.T) {
	data := strings.Join(csvHeader, ",") + "\n" +
		csvRow(",", 1, `"Mug`) + "\n" +
		strings.Repeat("x", 2<<20) + "\n" +
		csvRow(",", 3, "Bowl") + "\n"
	res := parseString(t, data, orders.Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	wantRejected(t, res.sum,
		orders.RowError{Line: 2, Column: "product-name", Reason: "unbalanced quote"},
		orders.RowError{Line: 3, Reason: "longer than 1 MiB"},
	)
	if len(res.orders) != 1 || res.orders[0].Items[0].Title != "Bowl" {
		t.Errorf("orders %+v", res.orders)
	}
}
