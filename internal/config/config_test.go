package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"campaignd/internal/config"
)

const minimal = `
seller_name = "Brand"
[ledger]
path = "var/l.db"
[inbox]
dir = "var/inbox"
processed_dir = "var/processed"
rejected_dir = "var/rejected"
[control]
socket = "var/s.sock"
[[campaign]]
name = "en"
sales_channels = ["Amazon.com"]
template = "t.tmpl"
channel = "outbox"
[channel.outbox]
dir = "var/outbox"
`

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadMinimal(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "t.tmpl", "Subject: x\n\nbody\n")
	c, err := config.Load(write(t, dir, "c.toml", minimal))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Ledger.Path, filepath.Join(dir, "var/l.db"); got != want {
		t.Errorf("ledger.path = %q, want %q (relative to the config's folder)", got, want)
	}
	if got := c.Campaigns[0].Template; got != filepath.Join(dir, "t.tmpl") {
		t.Errorf("template = %q", got)
	}
	if c.Campaigns[0].Delay() != 5*24*time.Hour || c.Campaigns[0].Transit() != 3*24*time.Hour {
		t.Errorf("defaults: delay %v transit %v", c.Campaigns[0].Delay(), c.Campaigns[0].Transit())
	}
	if c.Window() != 30*24*time.Hour || c.Schedule.Tick != "@every 1m" {
		t.Errorf("defaults: window %v tick %q", c.Window(), c.Schedule.Tick)
	}
	if ms := c.Campaigns[0].Marketplaces(); len(ms) != 1 || ms[0].Name != "Amazon.com" || ms[0].ID != "ATVPDKIKX0DER" {
		t.Errorf("campaign en sends to %+v, want Amazon.com from the marketplace table", ms)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(string) string
		noTmpl  bool
		wantKey string
	}{
		{"unknown key", func(s string) string { return strings.Replace(s, "[control]", "[control]\nsockett = \"x\"", 1) }, false, "unknown key control.sockett"},
		{"bad cron", func(s string) string { return s + "[schedule]\ntick = \"every minute\"\n" }, false, "schedule.tick"},
		{"window too long", func(s string) string { return s + "[schedule]\nwindow_days = 31\n" }, false, "schedule.window_days"},
		{"missing template", func(s string) string { return s }, true, `campaign "en": template`},
		{"unknown marketplace", func(s string) string { return strings.Replace(s, `"Amazon.com"`, `"Amazon.moon"`, 1) }, false, `unknown marketplace "Amazon.moon"`},
		{"bad channel", func(s string) string { return strings.Replace(s, `channel = "outbox"`, `channel = "fax"`, 1) }, false, `campaign "en": channel`},
		{"bad quiet hours", func(s string) string { return s + "[schedule]\nquiet_hours = \"25:00-08:00\"\n" }, false, "schedule.quiet_hours"},
		{"bad duration", func(s string) string { return s + "[schedule]\nretry = \"soon\"\n" }, false, "not a duration"},
		{"syntax", func(s string) string { return s + "[[[\n" }, false, "c.toml:"},
		{"metrics not loopback", func(s string) string { return s + "[metrics]\nlisten = \"0.0.0.0:9100\"\n" }, false, "metrics.listen"},
		{"smtp without host", func(s string) string {
			return strings.Replace(s, `channel = "outbox"`, `channel = "smtp"`, 1) + "[channel.smtp]\nfrom = \"a@b.c\"\n"
		}, false, "channel.smtp.host"},
		{"spapi without secrets", func(s string) string {
			return strings.Replace(s, `channel = "outbox"`, `channel = "spapi"`, 1) + "[channel.spapi]\nclient_id = \"x\"\n"
		}, false, "channel.spapi.client_secret"},
		{"generic without purchase date", func(s string) string { return s + "[generic.columns]\norder_id = \"Order\"\n" }, false, "generic.columns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if !tt.noTmpl {
				write(t, dir, "t.tmpl", "Subject: x\n\nbody\n")
			}
			path := write(t, dir, "c.toml", tt.edit(minimal))
			_, err := config.Load(path)
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.wantKey) || !strings.Contains(err.Error(), "c.toml") {
				t.Fatalf("err = %q, want it to name %q and the file", err, tt.wantKey)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "nope.toml"))
	if !errors.Is(err, config.ErrRead) || !strings.Contains(err.Error(), "nope.toml") {
		t.Fatalf("err = %v, want ErrRead naming the file", err)
	}
}

func TestExampleConfigLoads(t *testing.T) {
	c, err := config.Load("../../config.example.toml")
	if err != nil {
		t.Fatalf("config.example.toml must work as-is: %v", err)
	}
	langs, markets := map[string]bool{}, map[string]bool{}
	for _, cp := range c.Campaigns {
		langs[cp.Name] = true
		for _, m := range cp.Marketplaces() {
			markets[m.Name] = true
		}
		if cp.Channel != "outbox" {
			t.Errorf("campaign %s uses %s; the example must use the outbox", cp.Name, cp.Channel)
		}
	}
	for _, l := range []string{"en", "de", "fr", "es", "it", "ja"} {
		if !langs[l] {
			t.Errorf("no campaign for language %s", l)
		}
	}
	for _, mp := range []string{"Amazon.com", "Amazon.co.uk", "Amazon.de", "Amazon.fr", "Amazon.es", "Amazon.it", "Amazon.co.jp"} {
		if !markets[mp] {
			t.Errorf("no campaign schedules %s out of the box", mp)
		}
	}
	if !strings.HasSuffix(c.Ledger.Path, filepath.Join("var", "campaignd.db")) {
		t.Errorf("ledger.path = %q, want it under var/", c.Ledger.Path)
	}
	if _, _, ok := c.Quiet(); ok {
		t.Error("the example sets quiet hours; its demo must send at any hour")
	}
}

func TestQuietHours(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "t.tmpl", "Subject: x\n\nbody\n")
	c, err := config.Load(write(t, dir, "c.toml", minimal+"[schedule]\nquiet_hours = \"21:30-08:00\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	from, to, ok := c.Quiet()
	if !ok || from != 21*60+30 || to != 8*60 {
		t.Errorf("Quiet() = %d, %d, %v", from, to, ok)
	}
}

func TestReadSecret(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "s", "  hunter2\n")
	if s, err := config.ReadSecret("", p); err != nil || s != "hunter2" {
		t.Fatalf("ReadSecret(file) = %q, %v", s, err)
	}
	if s, _ := config.ReadSecret("inline", ""); s != "inline" {
		t.Fatalf("ReadSecret(inline) = %q", s)
	}
}
