package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// run --at is not a dry run: a clock far from the machine's is refused
// unless --force-clock, and the refusal changes nothing in the ledger.
func TestRunAtFarClockRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	ingestReport(t, cfg, dir, ordersReport("111-0000001-0000001", "111-0000002-0000002"))
	before := cli(t, "ledger", "export", "--config", cfg).stdout

	// The test clock is 2026-11-20T12:00Z: the 31st of December is 40 days on,
	// past both orders' deadlines (2026-12-01).
	r := cli(t, "run", "--once", "--config", cfg, "--at", "2026-12-31T00:00:00Z")
	if r.code != exitUsage || !strings.Contains(r.stderr, "plan --at") || !strings.Contains(r.stderr, "--force-clock") {
		t.Fatalf("run --at 40 days on: exit %d, want %d with a pointer to plan and --force-clock\n%s", r.code, exitUsage, r.stderr)
	}
	if after := cli(t, "ledger", "export", "--config", cfg).stdout; after != before {
		t.Fatalf("a refused run --at changed the ledger:\nbefore %s\nafter  %s", before, after)
	}
	if st := status(t, cfg); st.Orders["expired"] != 0 || st.Orders["scheduled"] != 2 {
		t.Fatalf("orders after the refusal: %v", st.Orders)
	}
	if r := cli(t, "run", "--once", "--config", cfg, "--force-clock"); r.code != exitUsage || !strings.Contains(r.stderr, "--at") {
		t.Fatalf("--force-clock without --at: exit %d\n%s", r.code, r.stderr)
	}

	// On purpose, on a ledger no daemon ran on: it does what it says.
	if r := cli(t, "run", "--once", "--config", cfg, "--at", "2026-12-31T00:00:00Z", "--force-clock"); r.code != 0 {
		t.Fatalf("run --at --force-clock: exit %d\n%s", r.code, r.stderr)
	}
	if st := status(t, cfg); st.Orders["expired"] != 2 {
		t.Fatalf("orders after a forced run at 2026-12-31: %v", st.Orders)
	}
}

// A ledger a daemon has run on (on the real clock) is marked: run --at,
// even an hour from now, refuses it unless --force-clock, and changes
// nothing in it.
func TestRunAtRefusesADaemonsLedger(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	// A fresh ledger: an --at within a day is fine.
	if r := cli(t, "run", "--once", "--config", cfg, "--at", "2026-11-20T13:00:00Z"); r.code != 0 {
		t.Fatalf("run --at an hour on, fresh ledger: exit %d\n%s", r.code, r.stderr)
	}
	// The daemon's way: the real clock.
	if r := cli(t, "run", "--once", "--config", cfg); r.code != 0 {
		t.Fatalf("run --once: exit %d\n%s", r.code, r.stderr)
	}
	ingestReport(t, cfg, dir, ordersReport("111-0000001-0000001"))
	before := cli(t, "ledger", "export", "--config", cfg).stdout

	r := cli(t, "run", "--once", "--config", cfg, "--at", "2026-11-20T13:00:00Z")
	if r.code != exitUsage || !strings.Contains(r.stderr, "is a daemon's") || !strings.Contains(r.stderr, filepath.Join("var", "campaignd.db")) {
		t.Fatalf("run --at on a daemon's ledger: exit %d, want %d naming the ledger\n%s", r.code, exitUsage, r.stderr)
	}
	if after := cli(t, "ledger", "export", "--config", cfg).stdout; after != before {
		t.Fatalf("a refused run --at changed the ledger:\nbefore %s\nafter  %s", before, after)
	}
	if got := outbox(t, dir); len(got) != 0 {
		t.Fatalf("a refused run --at sent %v", got)
	}
	if r := cli(t, "run", "--once", "--config", cfg, "--at", "2026-11-20T13:00:00Z", "--force-clock"); r.code != 0 {
		t.Fatalf("run --at --force-clock on a daemon's ledger: exit %d\n%s", r.code, r.stderr)
	}
	if got := outbox(t, dir); len(got) != 1 {
		t.Fatalf("outbox after the forced run = %v", got)
	}
}

// The help says which commands are the dry runs.
func TestHelpNamesTheDryRuns(t *testing.T) {
	t.Parallel()
	for cmd, want := range map[string]string{
		"run": "The dry runs are", "plan": "A dry run", "preview": "A dry run",
	} {
		r := cli(t, cmd, "-h")
		if r.code != 0 || !strings.Contains(r.stderr+r.stdout, want) {
			t.Errorf("%s -h: exit %d, does not say %q:\n%s%s", cmd, r.code, want, r.stdout, r.stderr)
		}
	}
}

// ingestReport ingests report (the text of a report file) through the
// ingest command.
func ingestReport(t *testing.T, cfg, dir, report string) {
	t.Helper()
	f := writeFile(t, filepath.Join(t.TempDir(), "orders.txt"), report)
	if r := cli(t, "ingest", "--config", cfg, f); r.code != 0 {
		t.Fatalf("ingest: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
