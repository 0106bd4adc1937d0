package main

import (
	"os"
	"strings"
	"testing"
)

// A campaign added while campaignd was stopped reaches the orders it
// covers at the next start, not only after a reload: start-up re-decides
// the open orders when the configuration's rules changed, and says so.
func TestRestartRedecidesAfterConfigChange(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	full := testConfig(t, dir, "")
	withJA, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(withJA), "[[campaign]]\nname = \"ja\"")
	if i < 0 {
		t.Fatal("the test config has no ja campaign")
	}
	writeFile(t, full, string(withJA[:i])) // no campaign for Amazon.co.jp yet

	jp := strings.ReplaceAll(ordersReport("503-0000001-0000001"), "Amazon.com", "Amazon.co.jp")
	ingestReport(t, full, dir, jp)
	if r := cli(t, "run", "--once", "--config", full); r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	if st := status(t, full); st.Orders["excluded"] != 1 {
		t.Fatalf("the Japanese order without a campaign: %v", st.Orders)
	}

	writeFile(t, full, string(withJA)) // the seller adds the campaign, then restarts
	r := cli(t, "run", "--once", "--config", full)
	if r.code != 0 {
		t.Fatalf("run after the change: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "open orders re-decided") || !strings.Contains(r.stderr, "changed=1") {
		t.Errorf("start-up does not log the re-decision:\n%s", r.stderr)
	}
	if got := outbox(t, dir); len(got) != 1 || got[0] != "503-0000001-0000001" {
		t.Fatalf("outbox after the restart = %v, want the Japanese order", got)
	}

	// Nothing changed since: the next start re-decides nothing.
	if r := cli(t, "run", "--once", "--config", full); r.code != 0 || strings.Contains(r.stderr, "re-decided") {
		t.Fatalf("a start with the same config: exit %d\n%s", r.code, r.stderr)
	}
}
