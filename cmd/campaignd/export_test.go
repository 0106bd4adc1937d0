package main

import (
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// snakeKeys fails the test for any JSON object key in v that is not
// snake_case.
func snakeKeys(t *testing.T, what string, v any) {
	t.Helper()
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if !snake.MatchString(k) {
				t.Errorf("%s: key %q is not snake_case", what, k)
			}
			snakeKeys(t, what, x)
		}
	case []any:
		for _, x := range v {
			snakeKeys(t, what, x)
		}
	}
}

// ledger export (JSON lines or --csv) and show --json name every key in
// snake_case and leave the buyer's data out unless --personal.
func TestExportKeysAndPersonalData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := smtpConfig(t, dir, 1, "")
	ship := writeFile(t, filepath.Join(dir, "drop", "ship.txt"),
		"amazon-order-id\tshipment-id\tpurchase-date\tshipment-date\tbuyer-email\tbuyer-name\tsku\tproduct-name\testimated-arrival-date\tsales-channel\n"+
			"111-0000001-0000001\tS1\t2026-11-01T10:00:00Z\t2026-11-02T10:00:00Z\tabc@marketplace.amazon.com\tJane Buyer\tSKU-1\t=HYPERLINK(\"x\")\t2026-11-10T10:00:00Z\tAmazon.com\n")
	if r := cli(t, "ingest", "--config", cfg, ship); r.code != 0 {
		t.Fatalf("ingest: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	for _, args := range [][]string{{"ledger", "export"}, {"ledger", "show", "111-0000001-0000001", "--json"}} {
		r := cli(t, append(args, "--config", cfg)...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
		var v any
		if err := json.NewDecoder(strings.NewReader(r.stdout)).Decode(&v); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, r.stdout)
		}
		snakeKeys(t, strings.Join(args, " "), v)
		if strings.Contains(r.stdout, "abc@marketplace") || strings.Contains(r.stdout, "Jane") {
			t.Errorf("%v prints buyer data without --personal:\n%s", args, r.stdout)
		}
		r = cli(t, append(args, "--personal", "--config", cfg)...)
		if r.code != 0 || !strings.Contains(r.stdout, `"buyer_email":"abc@marketplace.amazon.com"`) && !strings.Contains(r.stdout, `"buyer_email": "abc@marketplace.amazon.com"`) {
			t.Errorf("%v --personal: exit %d, no relay address\n%s", args, r.code, r.stdout)
		}
	}

	r := cli(t, "ledger", "export", "--csv", "--config", cfg)
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if r.code != 0 || err != nil || len(rows) != 2 {
		t.Fatalf("export --csv: exit %d, %v\n%s", r.code, err, r.stdout)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	if rows[1][col["order_id"]] != "111-0000001-0000001" || rows[1][col["state"]] != "scheduled" || rows[1][col["channel"]] != "smtp" ||
		rows[1][col["product"]] != `'=HYPERLINK("x")` || rows[1][col["send_at"]] != "2026-11-15T10:00:00Z" {
		t.Errorf("export --csv row: %q (columns %v)", rows[1], rows[0])
	}
	if _, ok := col["buyer_email"]; ok || strings.Contains(r.stdout, "abc@") {
		t.Errorf("export --csv has buyer data without --personal:\n%s", r.stdout)
	}
	r = cli(t, "ledger", "export", "--csv", "--personal", "--config", cfg)
	if rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll(); err != nil || len(rows) != 2 || rows[0][len(rows[0])-2] != "buyer_email" ||
		rows[1][len(rows[1])-2] != "abc@marketplace.amazon.com" {
		t.Errorf("export --csv --personal: %v\n%s", err, r.stdout)
	}
}
