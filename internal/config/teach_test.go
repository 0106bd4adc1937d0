package config_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"campaignd/internal/config"
)

// twoCampaigns is a config of two campaigns, "en" and "de", whose lines
// the tests below point at: [inbox] settle is on line 9, the second
// campaign's sales_channels on line 20.
const twoCampaigns = `seller_name = "Brand"
[ledger]
path = "var/l.db"
[inbox]
dir = "var/inbox"
processed_dir = "var/processed"
rejected_dir = "var/rejected"
# how long a file must hold still
settle = "2s"
[control]
socket = "var/s.sock"
[[campaign]]
name = "en"
sales_channels = ["Amazon.com"]
template = "t.tmpl"
channel = "outbox"
[[campaign]]
name = "de"
template = "t.tmpl"
sales_channels = ["Amazon.de"]
channel = "outbox"
delay_days = 5
[channel.smtp]
port = 587
[channel.outbox]
dir = "var/outbox"
`

// TestErrorsTeach: each config error names the file, the line, the key
// (a campaign's key with the campaign's name, not its index) and what was
// likely meant or what is wanted.
func TestErrorsTeach(t *testing.T) {
	tests := []struct {
		name      string
		old, new  string // the edit to twoCampaigns
		want      string // the whole line of the error after "invalid config: "
		wantAlso  string // a part of it, for long lines
		wantLines int    // problems reported, 1 unless set
	}{
		{"misspelt key", `settle = "2s"`, `setle = "2s"`,
			`c.toml:9: unknown key inbox.setle (did you mean settle?)`, "", 0},
		{"misspelt key in a campaign", `sales_channels = ["Amazon.de"]`, `sales_channel = ["Amazon.de"]`,
			`c.toml:20: unknown key sales_channel in campaign "de" (did you mean sales_channels?)`, "", 0},
		{"key in the wrong table", "[channel.smtp]\nport = 587", "[channel.smtp]\nport = 587\n[schedule]\nsettle = \"5s\"",
			`c.toml:26: unknown key schedule.settle (did you mean inbox.settle?)`, "", 0},
		{"unknown table", "[[campaign]]\nname = \"de\"", "[[campaigns]]\nname = \"de\"",
			`c.toml:17: unknown table [[campaigns]] (did you mean [[campaign]]?)`, "", 0},
		{"unknown key with no likeness", `settle = "2s"`, `colour = "blue"`,
			`c.toml:9: unknown key inbox.colour`, "", 0},
		{"two unknown keys", `settle = "2s"`, "setle = \"2s\"\nrescann = \"1m\"",
			`c.toml:9: unknown key inbox.setle (did you mean settle?)`, `c.toml:10: unknown key inbox.rescann (did you mean rescan?)`, 2},
		{"bad duration", `settle = "2s"`, `settle = "2 seconds"`,
			`c.toml:9: inbox.settle: not a duration (want e.g. "90s", "5m"): "2 seconds"`, "", 0},
		{"number for a string", `dir = "var/outbox"`, `dir = 5`,
			`c.toml:26: channel.outbox.dir: want a string in quotes (dir = "/var/lib/campaignd/inbox"), got a whole number`, "", 0},
		{"string for a number", `port = 587`, `port = "587"`,
			`c.toml:24: channel.smtp.port: want a whole number, without quotes (port = 587), got a string`, "", 0},
		{"string for a number in a campaign", `delay_days = 5`, `delay_days = "5"`,
			`c.toml:22: campaign "de": delay_days: want a whole number, without quotes (port = 587), got a string`, "", 0},
		{"string for a list", `sales_channels = ["Amazon.de"]`, `sales_channels = "Amazon.de"`,
			`c.toml:20: campaign "de": sales_channels: want a list in brackets (sales_channels = ["Amazon.de"]), got a string`, "", 0},
		{"unknown marketplace", `["Amazon.de"]`, `["Amazon.dee"]`,
			"", `c.toml:20: campaign "de": sales_channels: unknown marketplace "Amazon.dee" (did you mean "Amazon.de"?); campaignd knows Amazon.ae, Amazon.ca,`, 0},
		{"a bad value names its key and line", `delay_days = 5`, `delay_days = 45`,
			`c.toml:22: campaign "de": delay_days: must be 0 to 30, got 45`, "", 0},
		{"a key after a multi-line string", `seller_name = "Brand"`, "seller_name = \"Brand\"\n[schedule]\nquiet_hours = \"\"\"\ntik = 1\n\"\"\"\ntik = \"@every 1m\"",
			`c.toml:6: unknown key schedule.tik (did you mean tick?)`, "", 0},
		{"a campaign without a name", "name = \"de\"\n", "",
			"", `c.toml:17: the 2nd [[campaign]] (it has no name): name: must be set`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "t.tmpl", "Subject: x\n\nbody\n")
			src := strings.Replace(twoCampaigns, tt.old, tt.new, 1)
			if src == twoCampaigns {
				t.Fatalf("the edit %q changed nothing", tt.old)
			}
			_, err := config.Parse(filepath.Join(dir, "c.toml"), []byte(src))
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			msg := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
			lines := strings.Split(msg, "\n")
			if want := max(tt.wantLines, 1); len(lines) != want {
				t.Errorf("%d problems reported, want %d:\n%v", len(lines), want, err)
			}
			if tt.want != "" && lines[0] != "invalid config: "+tt.want {
				t.Errorf("error:\n%s\nwant:\ninvalid config: %s", lines[0], tt.want)
			}
			if tt.wantAlso != "" && !strings.Contains(msg, tt.wantAlso) {
				t.Errorf("error:\n%s\nwant it to contain:\n%s", msg, tt.wantAlso)
			}
		})
	}
}
