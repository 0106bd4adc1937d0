package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// editConfig replaces old by new in the config file at path.
func editConfig(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), old, new, 1)
	if s == string(b) {
		t.Fatalf("%s holds no %q", path, old)
	}
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestHomeInPathRefused: `dir = "~/amazon-reports"` is refused at start-up
// with the key, its line and the absolute path to write, and no folder
// named "~" appears beside the config.
func TestHomeInPathRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	editConfig(t, cfg, `dir = "var/inbox"`, `dir = "~/amazon-reports"`)
	r := cli(t, "run", "--once", "--config", cfg)
	want := "campaignd: invalid config: " + cfg + `:5: inbox.dir: "~/amazon-reports" starts with "~", which campaignd does not expand`
	if r.code != exitUsage || !strings.HasPrefix(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 2 and one line starting:\n%s", r.code, r.stderr, want)
	}
	assertGone(t, filepath.Join(dir, "~"))
	assertGone(t, filepath.Join(dir, "var"))
}

// TestFolderCheckedAtStart: a configured folder that cannot be one (a file
// is in its place) stops the start with one line naming its key and exit 2,
// before the ledger is created.
func TestFolderCheckedAtStart(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	writeFile(t, filepath.Join(dir, "var", "processed"), "not a folder")
	r := cli(t, "run", "--once", "--config", cfg)
	want := "campaignd: " + cfg + ": inbox.processed_dir: " + filepath.Join(dir, "var", "processed") + " is a file, not a folder\n"
	if r.code != exitUsage || r.stderr != want {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 2 and:\n%s", r.code, r.stderr, want)
	}
	assertGone(t, filepath.Join(dir, "var", "campaignd.db"))
}

// TestReloadChecksFolders: a reload whose outbox cannot be a folder is
// refused with the key, and the old config stays in force.
func TestReloadChecksFolders(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "[schedule]\ntick = \"@every 1s\"\n")
	startDaemon(t, cfg)
	writeFile(t, filepath.Join(dir, "blocked"), "")
	editConfig(t, cfg, `dir = "var/outbox"`, `dir = "blocked/outbox"`)
	r := cli(t, "reload", "--config", cfg)
	if r.code != exitUsage || !strings.Contains(r.stderr, "reload refused") ||
		!strings.Contains(r.stderr, "channel.outbox.dir: "+filepath.Join(dir, "blocked", "outbox")+": "+filepath.Join(dir, "blocked")+" is a file, not a folder") {
		t.Fatalf("reload: exit %d, stderr:\n%s\nwant exit 2 naming channel.outbox.dir", r.code, r.stderr)
	}
	writeFile(t, filepath.Join(dir, "var", "inbox", "orders.txt"), ordersReport("111-0000001-0000001"))
	waitFiles(t, filepath.Join(dir, "var", "outbox"), 1) // sent through the old config's outbox
}
