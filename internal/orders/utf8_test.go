package orders_test

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"

	"campaignd/internal/orders"
)

// germanRows is an All Orders file of n orders with German product names.
func germanRows(n int, title func(i int) string) string {
	var b strings.Builder
	b.WriteString(allOrdersHeader + "\n")
	for i := 0; i < n; i++ {
		cells := make([]string, 31)
		cells[0], cells[2], cells[4], cells[6] = fmt.Sprintf("302-%07d-1111111", i), "2026-05-01T10:00:00+02:00", "Shipped", "Amazon.de"
		cells[9], cells[10], cells[12], cells[13], cells[23] = title(i), "SKU", "Shipped", "1", "München"
		b.WriteString(strings.Join(cells, "\t") + "\n")
	}
	return b.String()
}

// TestAlmostUTF8: a UTF-8 file with a few bad bytes stays UTF-8; the rows
// whose cells campaignd reads hold a bad byte are rejected with line and
// column, never read as mojibake; a bad byte in a cell campaignd does not
// read costs nothing.
func TestAlmostUTF8(t *testing.T) {
	data := germanRows(200, func(i int) string { return fmt.Sprintf("Bierkrug Größe %d, Müller & Söhne", i) })
	lines := strings.Split(data, "\n")
	lines[51] = strings.Replace(lines[51], "Größe", "Gr\xf6\xdfe", 1)        // line 52: Windows-1252 pasted into the title
	lines[101] = strings.Replace(lines[101], "Müller", "M\xc3", 1)           // line 102: a sequence cut short
	lines[151] = strings.Replace(lines[151], "\tMünchen", "\tM\xfcnchen", 1) // line 152: in ship-city, not read
	res := parseString(t, strings.Join(lines, "\n"), orders.Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.info.Encoding != "utf-8" || res.info.InvalidUTF8 != 4 {
		t.Errorf("Inspect: encoding %q with %d invalid bytes, want utf-8 with 4", res.info.Encoding, res.info.InvalidUTF8)
	}
	wantRejected(t, res.sum,
		orders.RowError{Line: 52, Column: "product-name", Reason: "invalid UTF-8"},
		orders.RowError{Line: 102, Column: "product-name", Reason: "invalid UTF-8"},
	)
	if len(res.orders) != 198 {
		t.Fatalf("%d orders, want 198", len(res.orders))
	}
	for _, o := range res.orders {
		if title := o.Items[0].Title; !strings.HasPrefix(title, "Bierkrug Größe ") || !strings.HasSuffix(title, ", Müller & Söhne") {
			t.Fatalf("order %s: title %q", o.ID, title)
		}
	}
}

// TestLegacyEncodingsStillDetected: whole files in Windows-1252 and
// Shift_JIS, with plenty of non-ASCII text, are still read as such, also
// when a few of their bytes happen to form UTF-8 ("Maße“" is DF 93, a valid
// UTF-8 sequence).
func TestLegacyEncodingsStillDetected(t *testing.T) {
	de := germanRows(100, func(i int) string { return fmt.Sprintf("Maße“ %d – Größe XL, Müller „Öl“ 20 €", i) })
	cp, err := charmap.Windows1252.NewEncoder().String(de)
	if err != nil {
		t.Fatal(err)
	}
	res := parseString(t, cp, orders.Options{})
	if res.err != nil || res.info.Encoding != "windows-1252" || len(res.orders) != 100 || res.orders[7].Items[0].Title != "Maße“ 7 – Größe XL, Müller „Öl“ 20 €" {
		t.Errorf("windows-1252: err %v, encoding %q, %d orders", res.err, res.info.Encoding, len(res.orders))
	}
	ja := strings.NewReplacer("Amazon.de", "Amazon.co.jp", "München", "東京都").Replace(
		germanRows(100, func(i int) string {
			return fmt.Sprintf("日本語の商品名　湯呑み（青）%d 急須・茶碗・醤油皿セット", i)
		}))
	sj, err := japanese.ShiftJIS.NewEncoder().String(ja)
	if err != nil {
		t.Fatal(err)
	}
	res = parseString(t, sj, orders.Options{})
	if res.err != nil || res.info.Encoding != "shift_jis" || len(res.orders) != 100 || res.orders[3].Items[0].Title != "日本語の商品名　湯呑み（青）3 急須・茶碗・醤油皿セット" {
		t.Errorf("shift_jis: err %v, encoding %q, %d orders", res.err, res.info.Encoding, len(res.orders))
	}
}

// TestMixedEncodings: a file glued from a UTF-8 and a Windows-1252 export
// is read as UTF-8, and every Windows-1252 row with non-ASCII text in a
// cell campaignd reads is listed, not turned into mojibake.
func TestMixedEncodings(t *testing.T) {
	utf := germanRows(60, func(i int) string { return "Größe" })
	cp, _ := charmap.Windows1252.NewEncoder().String(germanRows(40, func(i int) string { return "Größe" }))
	cp = strings.ReplaceAll(cp, "302-00000", "302-99999")
	res := parseString(t, utf+cp[strings.IndexByte(cp, '\n')+1:], orders.Options{})
	if res.err != nil || res.info.Encoding != "utf-8" || len(res.orders) != 60 || res.sum.RejectedCount != 40 {
		t.Errorf("err %v, encoding %q, %d orders, %d rejected", res.err, res.info.Encoding, len(res.orders), res.sum.RejectedCount)
	}
}
