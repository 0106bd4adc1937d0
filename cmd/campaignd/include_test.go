package main

import (
	"os"
	"strings"
	"testing"

	"campaignd/internal/control"
)

// ledger include undoes ledger exclude through the running daemon: the
// order is scheduled again and sent at the next pass, with an audit event
// naming the socket's caller; a sent order and an order the rules exclude
// are refused.
func TestLedgerIncludeUndoesExclude(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "[schedule]\ntick = \"@every 1h\"\n")
	report := ordersReport("111-0000001-0000001", "111-0000002-0000002") +
		line("111-0000003-0000003", "2026-11-01T10:00:00Z", "2026-11-02T10:00:00Z", "Cancelled", "Amazon.com", "Mug", "Cancelled")
	ingestReport(t, cfg, dir, report)
	for _, id := range []string{"111-0000001-0000001", "111-0000002-0000002"} {
		if r := cli(t, "ledger", "exclude", id, "--config", cfg); r.code != 0 {
			t.Fatalf("exclude: exit %d\n%s", r.code, r.stderr)
		}
	}
	d := startDaemon(t, cfg)
	if got := outbox(t, dir); len(got) != 0 {
		t.Fatalf("excluded orders sent: %v", got)
	}

	r := cli(t, "ledger", "include", "111-0000001-0000001", "--note", "excluded by mistake", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "111-0000001-0000001: scheduled") {
		t.Fatalf("include: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	who := control.Who(uint32(os.Getuid()))
	show := cli(t, "ledger", "show", "111-0000001-0000001", "--config", cfg)
	if !strings.Contains(show.stdout, "operator "+who) || !strings.Contains(show.stdout, "excluded -> scheduled  included by operator: excluded by mistake") {
		t.Fatalf("history does not name the operator (%s) of the include:\n%s", who, show.stdout)
	}
	if r := cli(t, "reload", "--config", cfg); r.code != 0 { // a reload runs a pass
		t.Fatalf("reload: exit %d\n%s", r.code, r.stderr)
	}
	d.waitLog(t, "review request sent")
	if got := outbox(t, dir); strings.Join(got, ",") != "111-0000001-0000001" {
		t.Fatalf("outbox after the include = %v, want only the included order", got)
	}

	for id, why := range map[string]string{"111-0000001-0000001": "sent, which is final", "111-0000003-0000003": "not by hand"} {
		if r := cli(t, "ledger", "include", id, "--config", cfg); r.code != exitProblem || !strings.Contains(r.stderr, why) {
			t.Errorf("include of %s: exit %d, want %d saying %q\n%s", id, r.code, exitProblem, why, r.stderr)
		}
	}
	if st := status(t, cfg); st.Orders["sent"] != 1 || st.Orders["excluded"] != 2 {
		t.Errorf("orders after the refused includes: %v", st.Orders)
	}
}
