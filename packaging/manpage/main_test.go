package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPageSaysWhatTheBinarySays builds campaignd and checks that the page,
// as man shows it, holds every line the binary prints for --help and for
// each command's --help, one section per command, and that groff finds
// nothing wrong with it.
func TestPageSaysWhatTheBinarySays(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "campaignd")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/campaignd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build campaignd: %v\n%s", err, out)
	}
	page, err := Generate(bin, "1.2.3~test", "2026-11-29")
	if err != nil {
		t.Fatal(err)
	}
	top, err := help(bin, "--help")
	if err != nil {
		t.Fatal(err)
	}
	names, err := commands(top)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 9 {
		t.Fatalf("commands in --help: %q, want at least the nine of today", names)
	}
	shown := render(t, page)
	texts := []string{top}
	for _, name := range names {
		if !bytes.Contains(page, []byte(".SS \"campaignd "+name+"\"\n")) {
			t.Errorf("no section for %s", name)
		}
		text, err := help(bin, name, "--help")
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, text)
	}
	for _, text := range texts {
		for _, l := range strings.Split(text, "\n") {
			if l = squeeze(l); l != "" && !strings.Contains(shown, l) {
				t.Errorf("the page does not show the help line %q", l)
			}
		}
	}
	for _, want := range []string{"CAMPAIGND(8)", "campaignd - sends one neutral Amazon review request", "1.2.3~test", "/etc/campaignd/campaignd.toml"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
}

// TestRoffEscapes: help text that looks like roff (a leading dot or quote,
// backslashes, hyphens) is printed as it is, never read as a request.
func TestRoffEscapes(t *testing.T) {
	bin := fakeCampaignd(t, `case "$1" in
--help) printf 'campaignd does things.\n\nCommands:\n\tdo   it\n\n.SH not a section\n' ;;
do) printf "'br not a break\n  -flag\tC:\\\\dir\\\\n\n" >&2 ;;
esac`)
	page, err := Generate(bin, "1", "2026-11-29")
	if err != nil {
		t.Fatal(err)
	}
	shown := render(t, page)
	for _, want := range []string{".SH not a section", "'br not a break", `-flag C:\dir\n`, "campaignd - does things"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the page does not show %q:\n%s", want, shown)
		}
	}
	if bytes.Count(page, []byte("\n.SH ")) != 6 { // NAME, SYNOPSIS, DESCRIPTION, COMMANDS, FILES, SEE ALSO
		t.Errorf("the help text added or lost a section:\n%s", page)
	}
}

// TestHelpMustWork: a binary whose help fails, says nothing, or lists no
// command gives no page.
func TestHelpMustWork(t *testing.T) {
	for _, tt := range []struct{ name, script, want string }{
		{"help fails", `echo broken >&2; exit 2`, "broken"},
		{"no commands", `echo 'campaignd does things.'`, "lists no commands"},
		{"command help fails", `[ "$1" = --help ] && printf 'x\n\nCommands:\n\tdo  it\n' || exit 1`, "campaignd do --help"},
		{"command help silent", `[ "$1" = --help ] && printf 'x\n\nCommands:\n\tdo  it\n'; exit 0`, "printed nothing"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Generate(fakeCampaignd(t, tt.script), "1", "2026-11-29")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func fakeCampaignd(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "campaignd")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// render formats page as man would, as plain text, failing on any warning
// of groff's.
func render(t *testing.T, page []byte) string {
	t.Helper()
	if _, err := exec.LookPath("groff"); err != nil {
		t.Skip("groff is not installed")
	}
	cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-P-cbou", "-rLL=200n")
	cmd.Stdin = bytes.NewReader(page)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil || errb.Len() > 0 {
		t.Fatalf("groff: %v\n%s", err, errb.String())
	}
	var lines []string
	for _, l := range strings.Split(out.String(), "\n") {
		lines = append(lines, squeeze(l))
	}
	return strings.Join(lines, "\n")
}

var spaces = regexp.MustCompile(`\s+`)

// squeeze trims a line and turns each run of white space into one space
// (the page keeps the help's layout, but man indents it).
func squeeze(s string) string {
	return spaces.ReplaceAllString(strings.TrimSpace(s), " ")
}
