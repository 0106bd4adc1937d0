package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// mixedReport is an All Orders report with n orders from each named
// marketplace (delivered), ids numbered from first.
func mixedReport(first int, counts map[string]int) string {
	var b strings.Builder
	b.WriteString(allOrdersHeader)
	i := first
	for _, m := range []string{"Amazon.com", "Amazon.nl", "Amazon.se"} {
		for range counts[m] {
			b.WriteString(line(fmt.Sprintf("111-%07d-%07d", i/1e7, i%1e7), "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z",
				"Shipped - Delivered to Buyer", m, "Water Bottle", "Shipped"))
			i++
		}
	}
	return b.String()
}

// Orders no campaign covers are not silent: the ingest summary and the log
// name them once per file and marketplace, and status breaks the excluded
// and waiting orders down by reason, from the ledger's counters.
func TestOrdersNoCampaignCoversAreNamed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "") // campaigns for .com, .co.uk, .de, .fr, .es, .it, .co.jp: not .nl or .se
	report := mixedReport(0, map[string]int{"Amazon.com": 2, "Amazon.nl": 1200}) +
		line("111-0009999-0009999", "2026-11-01T10:00:00Z", "2026-11-02T10:00:00Z", "Cancelled", "Amazon.com", "Mug", "Cancelled") +
		line("111-0009998-0009998", "2026-11-18T10:00:00Z", "2026-11-18T10:00:00Z", "Pending", "Amazon.com", "Mug", "Unshipped")
	f := writeFile(t, filepath.Join(dir, "drop", "nl.txt"), report)
	r := cli(t, "ingest", "--config", cfg, f)
	if r.code != 0 {
		t.Fatalf("ingest: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	const warning = "1,200 orders from Amazon.nl: no campaign covers this marketplace"
	if n := strings.Count(r.stdout, "no campaign covers"); n != 1 || !strings.Contains(r.stdout, warning) {
		t.Fatalf("ingest summary names the Amazon.nl orders %d times, want once as %q:\n%s", n, warning, r.stdout)
	}

	// The daemon's log: one warning per file and marketplace.
	writeFile(t, filepath.Join(dir, "var", "inbox", "more.txt"), mixedReport(20000, map[string]int{"Amazon.nl": 3, "Amazon.se": 2}))
	r = cli(t, "run", "--once", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	var warns []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.Contains(l, "no campaign covers") {
			warns = append(warns, l)
		}
	}
	if len(warns) != 2 || !strings.Contains(strings.Join(warns, "\n"), "marketplace=Amazon.nl orders=3") ||
		!strings.Contains(strings.Join(warns, "\n"), "marketplace=Amazon.se orders=2") || !strings.Contains(warns[0], "level=WARN") {
		t.Fatalf("log lines about uncovered marketplaces: %q\n%s", warns, r.stderr)
	}

	// status: the excluded and waiting orders by reason.
	st := cli(t, "status", "--config", cfg)
	for _, want := range []string{"1,203 no campaign for Amazon.nl", "2 no campaign for Amazon.se", "1 cancelled", "waiting:  1 not shipped yet"} {
		if !strings.Contains(st.stdout, want) {
			t.Errorf("status does not say %q:\n%s", want, st.stdout)
		}
	}
	var js struct {
		Reasons reasonsView `json:"reasons"`
	}
	if err := json.Unmarshal([]byte(cli(t, "status", "--json", "--config", cfg).stdout), &js); err != nil {
		t.Fatal(err)
	}
	if !js.Reasons.Counted || len(js.Reasons.Excluded) != 3 || js.Reasons.Excluded[0] != (reasonLine{"no_campaign:Amazon.nl", 1203, "no campaign for Amazon.nl"}) {
		t.Fatalf("status --json reasons = %+v", js.Reasons)
	}
}
