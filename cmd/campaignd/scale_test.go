package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"campaignd/internal/ledger"
)

// scaleReport is an All Orders report of n orders of every kind: due,
// not shipped, cancelled, from a marketplace no campaign covers, and
// delivered late (due later).
func scaleReport(first, n int) string {
	var b strings.Builder
	b.WriteString(allOrdersHeader)
	for i := first; i < first+n; i++ {
		id := fmt.Sprintf("111-%07d-%07d", i, i)
		switch i % 5 {
		case 0:
			b.WriteString(line(id, "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Mug", "Shipped"))
		case 1:
			b.WriteString(line(id, "2026-11-18T10:00:00Z", "2026-11-18T10:00:00Z", "Pending", "Amazon.com", "Mug", "Unshipped"))
		case 2:
			b.WriteString(line(id, "2026-11-01T10:00:00Z", "2026-11-02T10:00:00Z", "Cancelled", "Amazon.com", "Mug", "Cancelled"))
		case 3:
			b.WriteString(line(id, "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.nl", "Mug", "Shipped"))
		default:
			b.WriteString(line(id, "2026-11-15T10:00:00Z", "2026-11-19T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Mug", "Shipped"))
		}
	}
	return b.String()
}

func lines(s string) int { return len(strings.Split(strings.TrimRight(s, "\n"), "\n")) }

// plan prints a summary by reason and the next sends, as long for 3,000
// orders as for 300; --limit and --all list more; --json keeps every order.
func TestPlanSummary(t *testing.T) {
	t.Parallel()
	var outputs []string
	for _, n := range []int{300, 3000} {
		dir := t.TempDir()
		cfg := testConfig(t, dir, "")
		ingestReport(t, cfg, dir, scaleReport(0, n))
		r := cli(t, "plan", "--config", cfg, "--at", "2026-11-20T12:00:00Z")
		if r.code != 0 {
			t.Fatalf("plan: exit %d\n%s", r.code, r.stderr)
		}
		outputs = append(outputs, r.stdout)
		for _, want := range []string{
			fmt.Sprintf("plan at 2026-11-20T12:00:00Z: %s to send, %s held", thousands(n/5), thousands(n-n/5)),
			thousands(n/5) + "  send now", thousands(n/5) + "  scheduled, not due yet", thousands(n/5) + "  waiting: not shipped yet",
			thousands(n/5) + "  excluded: cancelled", thousands(n/5) + "  excluded: no campaign for Amazon.nl",
			fmt.Sprintf("next sends (10 of %s; --limit N or --all for more)", thousands(n/5)),
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("plan of %d orders does not say %q:\n%s", n, want, r.stdout)
			}
		}
		if n == 3000 {
			r := cli(t, "plan", "--config", cfg, "--limit", "3")
			if got := strings.Count(r.stdout, "  send  "); r.code != 0 || got != 3 || strings.Count(r.stdout, "  hold  ") != 3 {
				t.Errorf("plan --limit 3: exit %d, %d sends\n%s", r.code, got, r.stdout)
			}
			if r := cli(t, "plan", "--config", cfg, "--all"); r.code != 0 || strings.Count(r.stdout, "  send  ")+strings.Count(r.stdout, "  hold  ") != n {
				t.Errorf("plan --all does not list the %d orders: exit %d, %d lines", n, r.code, lines(r.stdout))
			}
			var p planView
			r = cli(t, "plan", "--config", cfg, "--json")
			if err := json.Unmarshal([]byte(r.stdout), &p); err != nil || len(p.Send)+len(p.Hold) != n || len(p.Summary) != 5 {
				t.Errorf("plan --json: %v, %d sends + %d held of %d, %d groups", err, len(p.Send), len(p.Hold), n, len(p.Summary))
			}
		}
	}
	if a, b := lines(outputs[0]), lines(outputs[1]); a != b || b > 25 {
		t.Errorf("plan prints %d lines for 300 orders, %d for 3,000; want the same, at most 25:\n%s", a, b, outputs[1])
	}
}

// status fits one screen however much the ledger holds: many files with
// rejected rows, many orders in doubt, many problems.
func TestStatusOneScreen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	for i := range 12 {
		ingestReport(t, cfg, dir, scaleReport(i*1000, 200)+excelReport(60)[len(allOrdersHeader):])
	}
	l, err := ledger.Open(filepath.Join(dir, "var", "campaignd.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 12*1000 && i < 30*5; i += 5 {
		k := ledger.Key{OrderID: fmt.Sprintf("111-%07d-%07d", i, i)}
		if _, err := l.Claim(k, "outbox", now); err != nil {
			t.Fatal(err)
		}
		if err := l.MarkInDoubt(k, now, "test: the server did not answer"); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	r := cli(t, "status", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("status: exit %d\n%s", r.code, r.stderr)
	}
	if n := lines(r.stdout); n > 60 {
		t.Errorf("status prints %d lines, want one screen (at most 60):\n%s", n, r.stdout)
	}
	for _, want := range []string{"… 25 more in doubt", "more scheduled", "60 rows: dates like"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status does not say %q:\n%s", want, r.stdout)
		}
	}
}
