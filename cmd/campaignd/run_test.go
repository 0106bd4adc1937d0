package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunInProcess drives Run itself (no binary) for the commands that need
// no daemon: help, version, lint and usage errors.
func TestRunInProcess(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.tmpl")
	if err := os.WriteFile(bad, []byte("Subject: Order {{.OrderID}}\n\nIf you love it, please leave a 5-star review: {{.ReviewURL}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"no command", nil, exitUsage, "", "Usage:"},
		{"help", []string{"help"}, exitOK, "Exit codes:", ""},
		{"unknown", []string{"nope"}, exitUsage, "", `unknown command "nope"`},
		{"version", []string{"version"}, exitOK, "campaignd ", ""},
		{"lint shipped templates", []string{"lint", "--config", "../../config.example.toml"}, exitOK, "", ""},
		{"lint a bad file", []string{"lint", bad}, exitProblem, "bad.tmpl:3:", ""},
		{"lint a missing file", []string{"lint", filepath.Join(dir, "none.tmpl")}, exitUsage, "", "none.tmpl"},
		{"bad flag", []string{"status", "--bogus"}, exitUsage, "", "flag provided but not defined"},
		{"flag help", []string{"plan", "-h"}, exitOK, "Usage:", ""},
		{"ingest without files", []string{"ingest", "--config", "../../config.example.toml"}, exitUsage, "", "at least one FILE"},
		{"preview bad id", []string{"preview", "--config", "../../config.example.toml", "12345"}, exitUsage, "", "not an Amazon order id"},
		{"ledger without subcommand", []string{"ledger", "--config", "../../config.example.toml"}, exitUsage, "", "needs a subcommand"},
		{"flags after arguments", []string{"preview", "12345", "--config", "../../config.example.toml"}, exitUsage, "", "not an Amazon order id"},
		{"after -- all is positional", []string{"lint", "--", "--config"}, exitUsage, "", "--config"},
		{"ledger help", []string{"ledger", "-h"}, exitOK, "mark-sent ORDER...", ""},
		{"ledger subcommand help", []string{"ledger", "show", "-h"}, exitOK, "campaignd ledger show [flags] ORDER", ""},
		{"unknown ledger subcommand", []string{"ledger", "--config", "../../config.example.toml", "purge"}, exitUsage, "", `unknown ledger subcommand "purge"`},
		{"a flag of another ledger subcommand", []string{"ledger", "show", "111-1111111-1111111", "--sent", "--config", "../../config.example.toml"}, exitUsage, "", "flag provided but not defined: -sent"},
		{"ledger resolve needs one choice", []string{"ledger", "resolve", "111-1111111-1111111", "--config", "../../config.example.toml"}, exitUsage, "", "--sent or --retry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Run(context.Background(), tt.args, &out, &errb)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), tt.stdout) {
				t.Errorf("stdout %q does not contain %q", out.String(), tt.stdout)
			}
			if !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr %q does not contain %q", errb.String(), tt.stderr)
			}
		})
	}
}
