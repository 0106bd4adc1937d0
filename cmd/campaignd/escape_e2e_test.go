package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDataIsEscapedOnTheTerminal: terminal control codes in a file name and
// in a product name (a fake status line, a screen clear, a window title)
// reach the terminal escaped from status, plan, preview, ledger show and
// ingest, never raw; the text stays readable.
func TestDataIsEscapedOnTheTerminal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	// (no \r: in a report it ends the line, so the row would be cut short)
	const evil = "Bottle\x1b[2J\x1b]0;pwned\x07\x08\x08orders:    0 total"
	name := "orders\x1b[31m\nFAKE.txt"
	rep := allOrdersHeader +
		line("111-0000001-0000001", "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", evil, "Shipped") +
		// a refused message quotes the product name in its reason
		line("111-0000002-0000002", "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "call 1-800-555-0199\x1b[8m", "Shipped") +
		"111-0000003-0000003\tbad\x1b[5mrow\n"
	path := writeFile(t, filepath.Join(dir, "drop", name), rep)
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	check := func(what string, r result) {
		t.Helper()
		out := r.stdout + r.stderr
		if i := strings.IndexAny(out, "\x1b\x07\x08\r"); i >= 0 {
			t.Errorf("%s prints a raw control code at %d:\n%q", what, i, out)
		}
		if strings.Contains(out, "\nFAKE.txt") {
			t.Errorf("%s lets a file name start a line of its own:\n%s", what, out)
		}
	}
	check("ingest", cli(t, "ingest", path, "--config", cfg))
	if err := os.WriteFile(filepath.Join(dir, "var", "inbox", "waiting\x1b[2J.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"status"},
		{"plan", "--at", "2026-11-20T00:00:00Z"},
		{"preview", "111-0000001-0000001"},
		{"preview", "111-0000002-0000002"},
		{"ledger", "show", "111-0000001-0000001"},
	} {
		r := cli(t, append(args, "--config", cfg)...)
		check(strings.Join(args, " "), r)
		if args[0] == "preview" && args[1] == "111-0000001-0000001" && !strings.Contains(r.stdout, `Bottle\x1b[2J`) {
			t.Errorf("preview hides the product name instead of escaping it:\n%s\nstderr:%s", r.stdout, r.stderr)
		}
	}
	st := cli(t, "status", "--config", cfg)
	if !strings.Contains(st.stdout, `orders\x1b[31m\nFAKE.txt`) {
		t.Errorf("status does not show the file name escaped:\n%s", st.stdout)
	}
	// While the daemon runs, the same commands come from it.
	startDaemon(t, cfg)
	for _, args := range [][]string{{"status"}, {"preview", "111-0000001-0000001"}} {
		check("daemon "+args[0], cli(t, append(args, "--config", cfg)...))
	}
}
