package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLookingCreatesNothing: before the daemon first ran there is no
// ledger. status, plan, preview, lint and ledger show/export then say so
// and look at an empty ledger; none of them creates the ledger or any
// folder (one made by `sudo campaignd status` would belong to root, and the
// daemon, running as its own user, could not open it).
func TestLookingCreatesNothing(t *testing.T) {
	const id = "111-1111111-1111111"
	tests := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"status"}, exitOK, "orders:    0 total", "no ledger at"},
		{[]string{"plan"}, exitOK, "0 to send, 0 held", "no ledger at"},
		{[]string{"plan", "--json"}, exitOK, `"send": []`, "no ledger at"},
		{[]string{"preview", id}, exitProblem, "", "is not in the ledger"},
		{[]string{"ledger", "show", id}, exitProblem, "", "no ledger at"},
		{[]string{"ledger", "export"}, exitOK, "", "no ledger at"},
		{[]string{"lint"}, exitOK, "", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			dir := t.TempDir()
			cfg := readOnlyConfig(t, dir)
			var out, errb bytes.Buffer
			code := Run(context.Background(), append(tt.args, "--config", cfg), &out, &errb)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), tt.stdout) || !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stdout %q, stderr %q; want %q and %q", out.String(), errb.String(), tt.stdout, tt.stderr)
			}
			if tt.args[0] == "ledger" && tt.args[1] == "export" && out.Len() != 0 {
				t.Errorf("export of no ledger printed %q", out.String())
			}
			assertOnly(t, dir, "campaignd.toml")
		})
	}

	// status --json: the configured ledger, every count zero, nothing created.
	dir := t.TempDir()
	cfg := readOnlyConfig(t, dir)
	var out, errb bytes.Buffer
	if code := Run(context.Background(), []string{"status", "--json", "--config", cfg}, &out, &errb); code != exitOK {
		t.Fatalf("status --json: exit %d: %s", code, errb.String())
	}
	var st struct {
		Ledger string         `json:"ledger"`
		Orders map[string]int `json:"orders"`
	}
	if err := json.Unmarshal(out.Bytes(), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out.String())
	}
	if want := filepath.Join(dir, "state", "campaignd.db"); st.Ledger != want || st.Orders["total"] != 0 {
		t.Errorf("status --json: ledger %q, orders %v; want %q and 0 total", st.Ledger, st.Orders, want)
	}
	assertOnly(t, dir, "campaignd.toml")
}

// readOnlyConfig writes a config whose ledger, folders and socket are in
// folders of dir that do not exist yet.
func readOnlyConfig(t *testing.T, dir string) string {
	t.Helper()
	tmpl, err := filepath.Abs("../../templates")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `seller_name = "Example Brand"
[ledger]
path = "state/campaignd.db"
[inbox]
dir = "state/inbox"
processed_dir = "state/processed"
rejected_dir = "state/rejected"
[control]
socket = "run/campaignd.sock"
[channel.outbox]
dir = "state/outbox"
from = "Example Brand <orders@example.com>"
[[campaign]]
name = "en"
sales_channels = ["Amazon.com"]
template = %q
channel = "outbox"
`, filepath.Join(tmpl, "review-request.en.tmpl"))
	p := filepath.Join(dir, "campaignd.toml")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// assertOnly fails unless dir holds exactly the named entries.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("%s holds %q, want only %q", dir, got, names)
	}
}
