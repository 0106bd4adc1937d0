package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestHelpOnStdout: asking for help is not an error: every command's
// --help (and -h, and `campaignd help COMMAND`) prints on stdout, nothing on
// stderr, and exits 0; a wrong flag prints the problem and the usage on
// stderr and exits 2.
func TestHelpOnStdout(t *testing.T) {
	var runs [][]string
	for _, c := range commands() {
		runs = append(runs, []string{c.name, "--help"}, []string{c.name, "-h"}, []string{"help", c.name})
	}
	runs = append(runs, []string{"ledger", "show", "--help"}, []string{"ledger", "backup", "-h"},
		[]string{"--help"}, []string{"help"}, []string{"--config", "x.toml", "help", "run"})
	for _, args := range runs {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Run(context.Background(), args, &out, &errb)
			if code != exitOK || errb.Len() != 0 || !strings.Contains(out.String(), "Usage:") {
				t.Fatalf("exit %d, want 0 with the help on stdout and nothing on stderr\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
			}
		})
	}
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"plan", "--bogus"}, &out, &errb)
	if code != exitUsage || out.Len() != 0 || !strings.Contains(errb.String(), "flag provided but not defined: -bogus") || !strings.Contains(errb.String(), "Usage:") {
		t.Fatalf("a wrong flag: exit %d, want 2 with the problem and the usage on stderr only\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
	}
}

// TestVersionFlag: `campaignd --version` prints what `campaignd version`
// prints.
func TestVersionFlag(t *testing.T) {
	want := cli(t, "version")
	if want.code != exitOK || !strings.HasPrefix(want.stdout, "campaignd ") {
		t.Fatalf("version: exit %d\n%s%s", want.code, want.stdout, want.stderr)
	}
	for _, args := range [][]string{{"--version"}, {"-version"}, {"--config", "x.toml", "--version"}} {
		if got := cli(t, args...); got != want {
			t.Errorf("%v = %+v, want %+v", args, got, want)
		}
	}
}

// TestConfigBeforeCommand: `campaignd --config FILE COMMAND` is `campaignd
// COMMAND --config FILE`, as one account of several is reached (README,
// "Several seller accounts on one machine").
func TestConfigBeforeCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	writeFile(t, filepath.Join(dir, "report.txt"), ordersReport("111-0000001-0000001", "111-0000002-0000002"))
	if r := cli(t, "--config", cfg, "ingest", filepath.Join(dir, "report.txt")); r.code != exitOK {
		t.Fatalf("--config FILE ingest: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// status says when it looked ("at"); the rest must be the same
	atLine := regexp.MustCompile(`(?m)^  "at": .*$`)
	after := atLine.ReplaceAllString(cli(t, "status", "--json", "--config", cfg).stdout, "")
	for _, args := range [][]string{{"--config", cfg, "status", "--json"}, {"--config=" + cfg, "status", "--json"}, {"-config", cfg, "status", "--json"}} {
		r := cli(t, args...)
		if r.code != exitOK || atLine.ReplaceAllString(r.stdout, "") != after {
			t.Fatalf("%v: exit %d, want the output of `status --json --config FILE`\n%s%s", args, r.code, r.stdout, r.stderr)
		}
		var st statusJSON
		if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Orders["total"] != 2 {
			t.Fatalf("%v: %v, orders %v; want the 2 orders ingested through FILE's ledger", args, err, st.Orders)
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--config"}, "--config needs a FILE"},
		{[]string{"--config", cfg}, "a command must follow"},
		{[]string{"--config", filepath.Join(dir, "none.toml"), "status"}, "none.toml"},
	} {
		r := cli(t, tt.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}
