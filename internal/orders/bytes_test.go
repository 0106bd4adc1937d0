package orders_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"

	"campaignd/internal/orders"
)

// baseAllOrders is a small All Orders file with a rejected row on line 4.
func baseAllOrders() string {
	return tsv(allOrdersHeader,
		map[string]string{"amazon-order-id": "111-1111111-1111111", "purchase-date": "2026-05-01T10:00:00-07:00",
			"order-status": "Shipped", "last-updated-date": "2026-05-02T10:00:00-07:00", "sku": "A", "product-name": "Café Crème", "quantity": "1"},
		map[string]string{"amazon-order-id": "111-1111111-1111111", "purchase-date": "2026-05-01T10:00:00-07:00",
			"order-status": "Shipped", "last-updated-date": "2026-05-02T10:00:00-07:00", "sku": "B", "product-name": "Müller Größe Straße", "quantity": "1"},
		map[string]string{"amazon-order-id": "5.8E+13", "purchase-date": "2026-05-01T10:00:00-07:00"},
		map[string]string{"amazon-order-id": "222-2222222-2222222", "purchase-date": "2026-05-01T10:00:00+09:00",
			"order-status": "Pending", "sku": "C", "product-name": "日本語の商品", "quantity": "2"},
	)
}

// TestLineEndingsAndBOM: the same report with every line ending, with and
// without a final newline and a BOM, gives the same orders and line numbers.
func TestLineEndingsAndBOM(t *testing.T) {
	base := parseString(t, baseAllOrders(), orders.Options{})
	if base.err != nil || len(base.orders) != 2 {
		t.Fatalf("base: %v, %d orders", base.err, len(base.orders))
	}
	wantRejected(t, base.sum, orders.RowError{Line: 4, Column: "amazon-order-id", Reason: "invalid order id"})
	variants := map[string]string{
		"CRLF":                  strings.ReplaceAll(baseAllOrders(), "\n", "\r\n"),
		"CR only":               strings.ReplaceAll(baseAllOrders(), "\n", "\r"),
		"no final newline":      strings.TrimSuffix(baseAllOrders(), "\n"),
		"CRLF no final newline": strings.TrimSuffix(strings.ReplaceAll(baseAllOrders(), "\n", "\r\n"), "\r\n"),
		"BOM":                   "\ufeff" + baseAllOrders(),
		"BOM CRLF":              "\ufeff" + strings.ReplaceAll(baseAllOrders(), "\n", "\r\n"),
	}
	for name, data := range variants {
		t.Run(name, func(t *testing.T) {
			res := parseString(t, data, orders.Options{})
			if res.err != nil {
				t.Fatal(res.err)
			}
			if res.info.Encoding != "utf-8" || res.sum.Kind != orders.KindAllOrders {
				t.Errorf("encoding %q kind %q", res.info.Encoding, res.sum.Kind)
			}
			if !reflect.DeepEqual(res.orders, base.orders) {
				t.Errorf("\n got %+v\nwant %+v", res.orders, base.orders)
			}
			wantRejected(t, res.sum, orders.RowError{Line: 4, Column: "amazon-order-id", Reason: "invalid order id"})
		})
	}
}

// TestLegacyEncodings: Windows-1252 and Shift_JIS files are recognised by
// Inspect and their text reaches the orders intact.
func TestLegacyEncodings(t *testing.T) {
	western := tsv(allOrdersHeader, map[string]string{"amazon-order-id": "302-1111111-1111111",
		"purchase-date": "2026-05-01T10:00:00+02:00", "order-status": "Shipped", "sales-channel": "Amazon.de",
		"sku": "A", "product-name": "Café Crème – Müller Größe Straße, 20 € „Geschenk“", "quantity": "1"})
	japan := tsv(firstLine(t, "fba-fulfilled-shipments-headers__airbytehq-airbyte.txt"), map[string]string{
		"amazon-order-id": "503-1111111-1111111", "shipment-id": "D1", "purchase-date": "2017-06-01T10:00:00+09:00",
		"shipment-date": "2017-06-02T10:00:00+09:00", "sku": "J-1", "product-name": "日本語の商品名　湯呑み（青）ｶﾀｶﾅ",
		"quantity-shipped": "1", "ship-city": "--", "sales-channel": "Amazon.co.jp"})
	cp, err := charmap.Windows1252.NewEncoder().String(western)
	if err != nil {
		t.Fatal(err)
	}
	sj, err := japanese.ShiftJIS.NewEncoder().String(japan)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, data, encoding, title string
	}{
		{"utf-8", western, "utf-8", "Café Crème – Müller Größe Straße, 20 € „Geschenk“"},
		{"windows-1252", cp, "windows-1252", "Café Crème – Müller Größe Straße, 20 € „Geschenk“"},
		{"windows-1252 CRLF", strings.ReplaceAll(cp, "\n", "\r\n"), "windows-1252", "Café Crème – Müller Größe Straße, 20 € „Geschenk“"},
		{"shift_jis", sj, "shift_jis", "日本語の商品名　湯呑み（青）ｶﾀｶﾅ"},
		{"utf-8 japanese", japan, "utf-8", "日本語の商品名　湯呑み（青）ｶﾀｶﾅ"},
		// a BOM in front of Windows-1252 text (an editor's doing) is still dropped
		{"windows-1252 after a BOM", "\xef\xbb\xbf" + cp, "windows-1252", "Café Crème – Müller Größe Straße, 20 € „Geschenk“"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := parseString(t, tt.data, orders.Options{})
			if res.err != nil {
				t.Fatal(res.err)
			}
			if res.info.Encoding != tt.encoding || res.sum.Encoding != tt.encoding {
				t.Errorf("Inspect encoding %q, Summary %q, want %q", res.info.Encoding, res.sum.Encoding, tt.encoding)
			}
			if len(res.orders) != 1 || len(res.orders[0].Items) != 1 || res.orders[0].Items[0].Title != tt.title {
				t.Errorf("orders %+v, want title %q", res.orders, tt.title)
			}
		})
	}
}

// TestInspect checks hash, size and the encoding decision, also when the
// reader hands out one byte at a time (multi-byte sequences cut across reads).
func TestInspect(t *testing.T) {
	sjis, _ := japanese.ShiftJIS.NewEncoder().String("注文番号\t商品名\nテスト商品です\t数量\n")
	cp, _ := charmap.Windows1252.NewEncoder().String("Größe\tCafé\nMüller\tß\n")
	cpKanjiLike, _ := charmap.Windows1252.NewEncoder().String("Crème brûlée\n")
	big := strings.Repeat("é日本", 40000) // crosses the 64 KiB buffer
	tests := []struct {
		name, data, want string
	}{
		{"empty", "", "utf-8"},
		{"ascii", "amazon-order-id\tsku\n", "utf-8"},
		{"utf-8 bom", "\ufeffa\tb\n", "utf-8"},
		{"utf-8 long", big, "utf-8"},
		{"utf-8 cut at the end", "abc\xe6\x97", "windows-1252"},
		{"utf-8 with a few bad bytes", big[:1000] + "\xfc" + big[1000:4000] + "\xe6\x97" + big[4000:], "utf-8"},
		{"utf-8 with a few bad bytes, cut at the end", big[:1000] + "\xc3" + big[1000:] + "\xe6\x97", "utf-8"},
		{"windows-1252", cp, "windows-1252"},
		{"windows-1252 that also decodes as cp932", cpKanjiLike, "windows-1252"},
		{"shift_jis", sjis, "shift_jis"},
		{"latin-1 bytes", "caf\xe9 \xfc\n", "windows-1252"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum := sha256.Sum256([]byte(tt.data))
			for _, r := range []io.Reader{strings.NewReader(tt.data), iotest.OneByteReader(strings.NewReader(tt.data)), iotest.HalfReader(strings.NewReader(tt.data))} {
				fi, err := orders.Inspect(r)
				if err != nil {
					t.Fatal(err)
				}
				if fi.SHA256 != hex.EncodeToString(sum[:]) || fi.Size != int64(len(tt.data)) || fi.Encoding != tt.want {
					t.Errorf("Inspect = %+v, want size %d encoding %q", fi, len(tt.data), tt.want)
				}
			}
		})
	}
	if _, err := orders.Inspect(iotest.ErrReader(io.ErrUnexpectedEOF)); err == nil {
		t.Error("Inspect hid a read error")
	}
}

// TestQuotedCSV: RFC 4180 quoting in comma files, line numbers of records
// that span lines, and stray quotes in tab files kept as text.
func TestQuotedCSV(t *testing.T) {
	h := strings.Join([]string{"amazon-order-id", "purchase-date", "order-status", "item-status", "sku", "product-name", "quantity"}, ",")
	data := h + "\n" +
		`111-1111111-1111111,2026-05-01T10:00:00Z,Shipped,Shipped,A,"Mug, ""large""` + "\r\n" + `second line",1` + "\n" +
		`111-1111111-2222222,2026-05-01T10:00:00Z,Shipped,Shipped,B,"Plate "with" stray quotes",1` + "\n" +
		`"5.8E+13",2026-05-01T10:00:00Z,Shipped,Shipped,C,"multi` + "\n" + "line" + "\n" + `name",1` + "\n" +
		`111-1111111-3333333, "2026-05-01T10:00:00Z" ,Shipped,Shipped,D,Bowl,1` + "\n" +
		`111-1111111-4444444,2026-05-01T10:00:00Z,Shipped,Shipped,E,"unterminated` + "\n"
	res := parseString(t, data, orders.Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	wantRejected(t, res.sum,
		orders.RowError{Line: 5, Column: "amazon-order-id", Reason: `invalid order id "5.8E+13"`},
		// the quote never closes: that row is lost, not the file
		orders.RowError{Line: 9, Column: "product-name", Reason: "unbalanced quote"},
	)
	var titles []string
	for _, o := range res.orders {
		titles = append(titles, o.Items[0].Title)
	}
	want := []string{"Mug, \"large\"\nsecond line", `Plate "with" stray quotes`, "Bowl"}
	if !reflect.DeepEqual(titles, want) || res.sum.Delimiter != "comma" {
		t.Errorf("titles %q, want %q (delimiter %s)", titles, want, res.sum.Delimiter)
	}

	// Tab files are not quoted: quotes stay in the text as they are.
	tab := tsv(allOrdersHeader, map[string]string{"amazon-order-id": "111-1111111-1111111", "purchase-date": "2026-05-01T10:00:00Z",
		"sku": "A", "product-name": `"Quoted" name with "stray quote and, comma`, "quantity": "1"})
	res = parseString(t, tab, orders.Options{})
	if res.err != nil || len(res.orders) != 1 || res.orders[0].Items[0].Title != `"Quoted" name with "stray quote and, comma` {
		t.Errorf("tab: %v %+v", res.err, res.orders)
	}
}

// TestDelimiterSniffing: the most frequent of tab, comma and semicolon in
// the header wins, even when a cell holds another.
func TestDelimiterSniffing(t *testing.T) {
	rows := []map[string]string{{"amazon-order-id": "111-1111111-1111111", "purchase-date": "2026-05-01T10:00:00Z",
		"order-status": "Shipped", "item-status": "Shipped", "sku": "A", "product-name": "Tea", "quantity": "1"}}
	h := []string{"amazon-order-id", "purchase-date", "order-status", "item-status", "sku", "product-name", "quantity"}
	for name, sep := range map[string]string{"tab": "\t", "comma": ",", "semicolon": ";"} {
		t.Run(name, func(t *testing.T) {
			res := parseString(t, delimited(strings.Join(h, sep), sep, "\r\n", rows...), orders.Options{})
			if res.err != nil || res.sum.Delimiter != name || len(res.orders) != 1 || res.orders[0].Items[0].Title != "Tea" {
				t.Errorf("%v %+v %+v", res.err, res.sum, res.orders)
			}
		})
	}
}

// TestLongLines: a line over 1 MiB is one rejected row; the next is read.
func TestLongLines(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(allOrdersHeader + "\n")
	b.WriteString(allOrdersLine("111-1111111-1111111", "", "2026-05-01T10:00:00Z", "", "Shipped", "", "", "", "", strings.Repeat("x", 2<<20)))
	b.WriteString(allOrdersLine("111-1111111-2222222", "", "2026-05-01T10:00:00Z", "", "Shipped", "", "", "", "", "ok"))
	res := parseBytes(t, b.Bytes(), orders.Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	wantRejected(t, res.sum, orders.RowError{Line: 2, Reason: "longer than 1 MiB"})
	if len(res.orders) != 1 || res.orders[0].ID != "111-1111111-2222222" {
		t.Errorf("orders %+v", res.orders)
	}

	// A 100 KiB product name (longer than the read buffer) is fine.
	long := strings.Repeat("é", 50<<10)
	res = parseString(t, tsv(allOrdersHeader, map[string]string{"amazon-order-id": "111-1111111-1111111",
		"purchase-date": "2026-05-01T10:00:00Z", "sku": "A", "product-name": long}), orders.Options{})
	if res.err != nil || len(res.orders) != 1 || res.orders[0].Items[0].Title != long {
		t.Errorf("long title lost: %v", res.err)
	}
}

// TestNULInData: a NUL after the first 8 KiB rejects only its row.
func TestNULInData(t *testing.T) {
	var b strings.Builder
	b.WriteString(allOrdersHeader + "\n")
	for i := 0; i < 200; i++ {
		b.WriteString(allOrdersLine("111-1111111-1111111", "", "2026-05-01T10:00:00Z", "", "Shipped", "", "", "", "", "filler filler filler filler"))
	}
	b.WriteString(allOrdersLine("111-1111111-2222222", "", "2026-05-01T10:00:00Z", "", "Shipped", "", "", "", "", "bad\x00name"))
	res := parseString(t, b.String(), orders.Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	wantRejected(t, res.sum, orders.RowError{Line: 202, Reason: "NUL"})
	if len(res.orders) != 1 {
		t.Errorf("orders %d", len(res.orders))
	}
}
