package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"campaignd/internal/ledger"
)

// TestCrashMidIngest kills `campaignd ingest` with SIGKILL while it writes
// a large report (more orders than one ledger transaction takes), then
// checks the ledger with Ledger.Check: nothing half-indexed, no order of
// the report scheduled with only part of its rows (its cancellation is the
// report's last row), the report still where it was. Ingesting the report
// again completes it, and a pass would send every order and never the
// cancelled one.
func TestCrashMidIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests 40,000 orders twice")
	}
	dir := t.TempDir()
	cfg := testConfig(t, dir, "[schedule]\nbatch_size = 100000\n")
	const n = 40_000
	const cancelled = "111-9999999-9999999"
	// `ingest` decides at the real clock: dates relative to it keep every
	// order inside its window whenever the test runs
	now := time.Now().UTC()
	stamp := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	purchase, delivered, cancelledAt := stamp(-72*time.Hour), stamp(-24*time.Hour), stamp(-12*time.Hour)
	var b strings.Builder
	b.WriteString(allOrdersHeader)
	b.WriteString(line(cancelled, purchase, delivered, "Shipped - Delivered to Buyer", "Amazon.com", "Water Bottle", "Shipped"))
	for i := range n {
		b.WriteString(line(fmt.Sprintf("111-%07d-%07d", (i*7919)%n, i), purchase, delivered, "Shipped - Delivered to Buyer", "Amazon.com", "Water Bottle", "Shipped"))
	}
	b.WriteString(line(cancelled, purchase, cancelledAt, "Cancelled", "Amazon.com", "Water Bottle", "Cancelled"))
	file := writeFile(t, filepath.Join(dir, "drop", "big.txt"), b.String())

	dbPath := filepath.Join(dir, "var", "campaignd.db")
	l, err := ledger.Open(dbPath, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	empty := fileSize(t, dbPath)

	cmd := exec.Command(campaigndBinary(t), "ingest", "--config", cfg, file)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	killed := waitGrowthAndKill(t, cmd, done, dbPath, empty)

	l, err = ledger.Open(dbPath, ledger.Options{}) // repairs what the kill left
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Check(); err != nil {
		t.Fatalf("ledger after the kill: %v", err)
	}
	c, err := l.Counts()
	if err != nil {
		t.Fatal(err)
	}
	if rec, ok, err := l.Get(ledger.Key{OrderID: cancelled}); err != nil || (ok && rec.State != ledger.Excluded) {
		t.Fatalf("the order cancelled on the report's last row is %s after the kill (%v)", rec.State, err)
	}
	l.Close()
	t.Logf("killed=%v with %d orders written", killed, c.Total)
	if killed {
		if _, err := os.Stat(file); err != nil {
			t.Fatalf("the report is gone after a kill mid-ingest: %v", err)
		}
		if r := cli(t, "ingest", "--config", cfg, file); r.code != 0 {
			t.Fatalf("ingest again: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	}
	if st := status(t, cfg); st.Orders["total"] != n+1 || st.Orders["scheduled"] != n || st.Orders["excluded"] != 1 {
		t.Fatalf("status after the second ingest = %v", st.Orders)
	}
	r := cli(t, "plan", "--json", "--config", cfg, "--at", stamp(10*24*time.Hour))
	var plan struct {
		Send []struct {
			OrderID string `json:"order_id"`
		} `json:"send"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &plan); r.code != 0 || err != nil {
		t.Fatalf("plan: exit %d, %v: %s", r.code, err, r.stderr)
	}
	if len(plan.Send) != n || slices.ContainsFunc(plan.Send, func(s struct {
		OrderID string `json:"order_id"`
	}) bool {
		return s.OrderID == cancelled
	}) {
		t.Fatalf("a pass would send %d orders (want %d) or the cancelled one", len(plan.Send), n)
	}
	l, err = ledger.Open(dbPath, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Check(); err != nil {
		t.Fatalf("ledger after the pass: %v", err)
	}
}

// waitGrowthAndKill kills the ingest once the ledger file grows past size
// (bbolt grows it while it commits the first transaction of orders) and
// reports whether it killed it, or returns false if the ingest ended first.
func waitGrowthAndKill(t *testing.T, cmd *exec.Cmd, done chan error, path string, size int64) bool {
	t.Helper()
	deadline := time.After(120 * time.Second)
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("ingest: %v", err)
			}
			return false
		case <-deadline:
			cmd.Process.Kill()
			t.Fatal("ingest did not write the ledger in 120s")
		case <-time.After(time.Millisecond):
		}
		if fileSize(t, path) > size {
			cmd.Process.Kill()
			<-done
			return true
		}
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
