package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDamagedLedgerRefused: a ledger file that was emptied or cut short is
// never replaced by a fresh one (which would forget every request already
// sent); every command refuses it with one line naming the file and the way
// back, exit 2 (which the unit does not restart into), and never panics.
func TestDamagedLedgerRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	now := testNow().UTC().Truncate(time.Second)
	at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	report := allOrdersHeader +
		line("111-0000001-0000001", at(-10*24*time.Hour), at(-6*24*time.Hour), "Shipped - Delivered to Buyer", "Amazon.com", "Water Bottle", "Shipped")
	inbox := filepath.Join(dir, "var", "inbox")
	writeFile(t, filepath.Join(inbox, "orders.txt"), report)
	if r := cli(t, "run", "--once", "--config", cfg); r.code != 0 {
		t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
	}
	if got := outbox(t, dir); len(got) != 1 {
		t.Fatalf("outbox after the first run = %v, want one request", got)
	}
	db := filepath.Join(dir, "var", "campaignd.db")
	full, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"emptied", nil},
		{"cut in half", full[:len(full)/2]},
		{"cut after its meta pages", full[:3*4096]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(db, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			// the same report again: with a fresh ledger it would be sent twice
			writeFile(t, filepath.Join(inbox, "orders-again.txt"), report)
			for _, args := range [][]string{
				{"run", "--once"}, {"status"}, {"status", "--json"}, {"plan"},
				{"ledger", "export"}, {"ledger", "show", "111-0000001-0000001"}, {"preview", "111-0000001-0000001"},
			} {
				r := cli(t, append(args, "--config", cfg)...)
				if r.code != 2 {
					t.Errorf("%v: exit %d, want 2\n%s%s", args, r.code, r.stdout, r.stderr)
				}
				msg := strings.TrimSpace(r.stderr)
				if strings.Contains(msg, "\n") || !strings.Contains(msg, db) || !strings.Contains(msg, "ledger backup") {
					t.Errorf("%v: want one line naming %s and how to recover, got:\n%s", args, db, r.stderr)
				}
				if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine") {
					t.Errorf("%v: crashed:\n%s", args, r.stderr)
				}
			}
			if got := outbox(t, dir); len(got) != 1 {
				t.Errorf("outbox = %v: a damaged ledger led to a second request", got)
			}
			if b, err := os.ReadFile(db); err != nil || len(b) != len(tc.data) {
				t.Errorf("the damaged ledger was replaced or changed (%d bytes, was %d): %v", len(b), len(tc.data), err)
			}
		})
	}
}
