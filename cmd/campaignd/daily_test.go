package main

import (
	"encoding/json"
	"strings"
	"testing"

	"campaignd/internal/ledger"
)

// status shows the requests sent per day by marketplace over the last 14
// days, with those refused and failed, from the ledger's counters.
func TestStatusRequestsPerDay(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	report := ordersReport("111-0000001-0000001", "111-0000002-0000002") +
		line("302-0000003-0000003", "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.de", "Trinkflasche", "Shipped") +
		// a title with a phone number: the rendered message is refused
		line("111-0000004-0000004", "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Mug - call 1-800-555-0199", "Shipped")
	ingestReport(t, cfg, dir, report)
	if r := cli(t, "run", "--once", "--config", cfg); r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	r := cli(t, "status", "--config", cfg)
	var table []string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, "  2026-11-") && !strings.Contains(l, "  processed  ") && !strings.Contains(l, "->") {
			table = append(table, strings.Join(strings.Fields(l), " "))
		}
	}
	if len(table) != 14 || table[0] != "2026-11-20 2 1 1 - - -" || table[13] != "2026-11-07 - - - - - -" {
		t.Fatalf("requests per day: %q\n%s", table, r.stdout)
	}
	if !strings.Contains(r.stdout, "Amazon.com  Amazon.de  refused  failed  retried  in doubt") {
		t.Errorf("the table's header names the marketplaces and what did not go:\n%s", r.stdout)
	}
	var js struct {
		PerDay []ledger.DayCount `json:"requests_per_day"`
	}
	if err := json.Unmarshal([]byte(cli(t, "status", "--json", "--config", cfg).stdout), &js); err != nil {
		t.Fatal(err)
	}
	want := []ledger.DayCount{{Day: "2026-11-20", Marketplace: "Amazon.com", Sent: 2, Refused: 1}, {Day: "2026-11-20", Marketplace: "Amazon.de", Sent: 1}}
	if len(js.PerDay) != 2 || js.PerDay[0] != want[0] || js.PerDay[1] != want[1] {
		t.Fatalf("status --json requests_per_day = %+v, want %+v", js.PerDay, want)
	}
}
