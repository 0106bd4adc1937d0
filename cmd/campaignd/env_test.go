package main

import (
	"io"
	"slices"
	"strings"
	"testing"
)

// TestForwardArgs: a command line goes to the daemon as its flags (never
// --config) and its positional arguments; the daemon logs what it changes.
func TestForwardArgs(t *testing.T) {
	a := &app{stdout: io.Discard, stderr: io.Discard}
	fs := newFlags("ledger resolve", "", "", a)
	a.configFlag(fs)
	fs.String("note", "", "")
	fs.Bool("sent", false, "")
	if err := parse(fs, []string{"111-1111111-1111111", "--config", "/etc/x.toml", "--sent", "--note", "it went"}); err != nil {
		t.Fatal(err)
	}
	got := forwardArgs(fs)
	want := []string{"ledger", "resolve", "--note=it went", "--sent=true", "--", "111-1111111-1111111"}
	if !slices.Equal(got, want) {
		t.Fatalf("forwardArgs = %q, want %q", got, want)
	}
	for _, tt := range []struct {
		args    []string
		words   string
		changes bool
	}{
		{got, "ledger resolve", true},
		{[]string{"ledger", "--note=it went", "--sent=true", "--", "resolve", "111-1111111-1111111"}, "ledger resolve", true},
		{[]string{"ledger", "--json=true", "--", "show", "111-1111111-1111111"}, "ledger show", false},
		{[]string{"ledger", "export"}, "ledger export", false},
		{[]string{"status", "--json=true", "--"}, "status", false},
		{[]string{"ingest", "--", "a.txt"}, "ingest", true},
		{[]string{"reload", "--"}, "reload", true},
		{nil, "", false},
	} {
		if w := strings.Join(commandWords(tt.args), " "); w != tt.words || changes(tt.args) != tt.changes {
			t.Errorf("%q: words %q changes %v, want %q %v", tt.args, w, changes(tt.args), tt.words, tt.changes)
		}
	}
	// The ledger's subcommand is found wherever the flags put it, and the
	// rest goes to its own flag set.
	for _, tt := range []struct {
		args []string
		sub  string
		rest []string
	}{
		{[]string{"show", "111-1111111-1111111", "--json"}, "show", []string{"111-1111111-1111111", "--json"}},
		{[]string{"--config", "c.toml", "show", "111-1111111-1111111"}, "show", []string{"--config", "c.toml", "111-1111111-1111111"}},
		{[]string{"-note", "x", "--sent", "resolve", "111-1111111-1111111"}, "resolve", []string{"-note", "x", "--sent", "111-1111111-1111111"}},
		{[]string{"--note=it went", "--sent=true", "--", "resolve", "111-1111111-1111111"}, "resolve", []string{"--note=it went", "--sent=true", "--", "111-1111111-1111111"}},
		{[]string{"--config", "c.toml"}, "", []string{"--config", "c.toml"}},
		{[]string{"--"}, "", []string{"--"}},
	} {
		if sub, rest := ledgerSubcommand(tt.args); sub != tt.sub || !slices.Equal(rest, tt.rest) {
			t.Errorf("ledgerSubcommand(%q) = %q, %q; want %q, %q", tt.args, sub, rest, tt.sub, tt.rest)
		}
	}
	// Inside the daemon, --config is refused.
	d := &app{stdout: io.Discard, stderr: io.Discard, daemon: &daemon{}}
	fs = newFlags("status", "", "", d)
	d.configFlag(fs)
	if err := fs.Parse([]string{"--config", "/etc/shadow"}); err == nil || !strings.Contains(err.Error(), "never taken from a socket client") {
		t.Fatalf("--config inside the daemon: %v", err)
	}
}
