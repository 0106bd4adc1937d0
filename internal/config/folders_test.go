package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"campaignd/internal/config"
)

// TestHomeRefused: a path written with "~" is refused with its key and
// line and the absolute path to write instead; no shell expands it, and it
// would be a folder named "~" beside the config.
func TestHomeRefused(t *testing.T) {
	tests := []struct{ old, new, want string }{
		{`dir = "var/inbox"`, `dir = "~/amazon-reports"`,
			`c.toml:5: inbox.dir: "~/amazon-reports" starts with "~", which campaignd does not expand (it would be a folder named "~" beside the config file): write the absolute path, such as "/home/you/amazon-reports"`},
		{`path = "var/l.db"`, `path = "~alice/campaignd.db"`, `such as "/home/alice/campaignd.db"`},
		{`template = "t.tmpl"`, `template = "~/t.tmpl"`, `c.toml:15: campaign "en": template: "~/t.tmpl" starts with "~"`},
		{`dir = "var/outbox"`, `dir = "~"`, `channel.outbox.dir: "~" starts with "~"`},
	}
	for _, tt := range tests {
		t.Run(tt.new, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "t.tmpl", "Subject: x\n\nbody\n")
			_, err := config.Load(write(t, dir, "c.toml", strings.Replace(twoCampaigns, tt.old, tt.new, 1)))
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if msg := strings.ReplaceAll(err.Error(), dir+"/", ""); !strings.Contains(msg, tt.want) {
				t.Fatalf("err:\n%s\nwant it to contain:\n%s", msg, tt.want)
			}
		})
	}
}

// TestPrepareFolders: the daemon's folders are created when missing and
// checked; a folder that is a file, or under one, is named by its key.
func TestPrepareFolders(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "t.tmpl", "Subject: x\n\nbody\n")
	c, err := config.Load(write(t, dir, "c.toml", minimal))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PrepareFolders(true); err != nil {
		t.Fatal(err)
	}
	for _, f := range c.Folders(true) {
		st, err := os.Stat(f.Path)
		if err != nil || !st.IsDir() {
			t.Errorf("%s: %s was not created: %v", f.Key, f.Path, err)
		}
		ents, _ := os.ReadDir(f.Path)
		for _, e := range ents {
			if !e.IsDir() {
				t.Errorf("%s: the check left %s behind", f.Key, e.Name())
			}
		}
	}
	if err := os.RemoveAll(filepath.Join(dir, "var", "rejected")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "var"), "rejected", "a file where a folder belongs")
	write(t, dir, "outbox-file", "")
	c.Channel.Outbox.Dir = filepath.Join(dir, "outbox-file", "sub")
	err = c.PrepareFolders(true)
	want := []string{
		filepath.Join(dir, "c.toml") + ": inbox.rejected_dir: " + filepath.Join(dir, "var", "rejected") + " is a file, not a folder",
		filepath.Join(dir, "c.toml") + ": channel.outbox.dir: " + c.Channel.Outbox.Dir + ": " + filepath.Join(dir, "outbox-file") + " is a file, not a folder",
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Fatalf("err:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}
