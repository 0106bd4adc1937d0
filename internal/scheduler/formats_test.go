package scheduler_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"

	"campaignd/internal/ledger"
)

// allLanguages configures a campaign per shipped template.
func allLanguages(t *testing.T, extra string) string {
	t.Helper()
	dir, err := filepath.Abs("../../templates")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(extra)
	for _, c := range []struct{ lang, market string }{{"en", "Amazon.com"}, {"de", "Amazon.de"}, {"ja", "Amazon.co.jp"}} {
		fmt.Fprintf(&b, "[[campaign]]\nname = %q\nsales_channels = [%q]\ntemplate = %q\nchannel = \"outbox\"\n", c.lang, c.market, filepath.Join(dir, "review-request."+c.lang+".tmpl"))
	}
	b.WriteString("[channel.outbox]\ndir = \"outbox\"\n")
	return b.String()
}

// TestLegacyEncodingsReachTheMessage: product names from Windows-1252 and
// Shift_JIS reports arrive in the sent message exactly as written.
func TestLegacyEncodingsReachTheMessage(t *testing.T) {
	e := openEnv(t, allLanguages(t, ""))
	de, err := charmap.Windows1252.NewEncoder().String(header +
		row("302-0000001-0000001", "2026-11-01T10:00:00+01:00", "2026-11-04T10:00:00+01:00", "Shipped - Delivered to Buyer", "Amazon.de", "Trinkflasche für Grüntee – 0,75 l", "Shipped"))
	if err != nil {
		t.Fatal(err)
	}
	ja, err := japanese.ShiftJIS.NewEncoder().String(header +
		row("503-0000002-0000002", "2026-11-01T10:00:00+09:00", "2026-11-04T10:00:00+09:00", "Shipped - Delivered to Buyer", "Amazon.co.jp", "ステンレス水筒　７５０ｍｌ", "Shipped"))
	if err != nil {
		t.Fatal(err)
	}
	if rep := e.ingest("de.txt", de, at("2026-11-05T00:00:00Z")); rep.Info.Encoding != "windows-1252" {
		t.Fatalf("de.txt read as %s", rep.Info.Encoding)
	}
	if rep := e.ingest("ja.txt", ja, at("2026-11-05T00:00:00Z")); rep.Info.Encoding != "shift_jis" {
		t.Fatalf("ja.txt read as %s", rep.Info.Encoding)
	}
	for _, id := range []string{"302-0000001-0000001", "503-0000002-0000002"} {
		r, err := e.engine.Setup().Render(e.state(id), at("2026-11-10T00:00:00Z"))
		if err != nil || len(r.Violations) > 0 {
			t.Fatalf("%s: %v %v", id, err, r.Violations)
		}
		want := map[string]string{"302-0000001-0000001": "Trinkflasche für Grüntee – 0,75 l", "503-0000002-0000002": "ステンレス水筒　７５０ｍｌ"}[id]
		if !strings.Contains(r.Message.Body, want) {
			t.Errorf("%s: message does not carry %q:\n%s", id, want, r.Message.Body)
		}
	}
	if st := e.pass(at("2026-11-10T00:00:00Z")); st.Sent != 2 {
		t.Fatalf("pass = %+v", st)
	}
}

// TestGenericCSV: a seller's own export, mapped in [generic.columns].
func TestGenericCSV(t *testing.T) {
	e := openEnv(t, allLanguages(t, `[generic.columns]
order_id = "Order Number"
purchase_date = "Ordered"
marketplace = "Store"
product_name = "Item"
delivery_date = "Delivered"
cancelled = "Cancelled?"
[generic]
date_layouts = ["2006-01-02 15:04"]
`))
	csv := "Order Number;Ordered;Store;Item;Delivered;Cancelled?\n" +
		"111-0000001-0000001;2026-11-01 10:00;Amazon.com;\"Bottle; 750 ml\";2026-11-04 10:00;\n" +
		"111-0000002-0000002;2026-11-01 10:00;Amazon.com;Bottle;;yes\n" +
		"#1001;2026-11-01 10:00;Amazon.com;Bottle;2026-11-04 10:00;\n"
	rep := e.ingest("export.csv", csv, at("2026-11-05T00:00:00Z"))
	if rep.Summary.Kind != "generic" || rep.Summary.RejectedCount != 1 || rep.Stats.New != 2 {
		t.Fatalf("report %+v", rep)
	}
	if r := e.state("111-0000001-0000001"); r.State != ledger.Scheduled || !r.SendAt.Equal(at("2026-11-09T10:00:00Z")) || r.Order.FirstItem().Title != "Bottle; 750 ml" {
		t.Fatalf("delivered order: %s at %v, item %q", r.State, r.SendAt, r.Order.FirstItem().Title)
	}
	if r := e.state("111-0000002-0000002"); r.State != ledger.Excluded {
		t.Fatalf("cancelled order: %s", r.State)
	}
}
