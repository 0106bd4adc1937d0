package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestIngestLeavesTheUsersFile: `ingest FILE` keeps campaignd's own copy in
// processed/ and leaves FILE where it is, with or without a daemon; with
// --move the command removes FILE once it was ingested.
func TestIngestLeavesTheUsersFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	processed := filepath.Join(dir, "var", "processed")
	steps := []struct {
		name, file, body string
		move             bool
	}{
		{"no daemon", "a.txt", ordersReport("111-0000001-0000001"), false},
		{"no daemon, --move", "b.txt", ordersReport("111-0000002-0000002"), true},
		{"daemon", "c.txt", ordersReport("111-0000003-0000003"), false},
		{"daemon, --move", "d.txt", ordersReport("111-0000004-0000004"), true},
	}
	for i, s := range steps {
		if i == 2 {
			startDaemon(t, cfg)
		}
		path := writeFile(t, filepath.Join(dir, "home", s.file), s.body)
		args := []string{"ingest", path, "--config", cfg}
		if s.move {
			args = append(args, "--move")
		}
		r := cli(t, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "1 new") {
			t.Fatalf("%s: exit %d\n%s%s", s.name, r.code, r.stdout, r.stderr)
		}
		assertFile(t, filepath.Join(processed, s.file), s.body)
		if s.move {
			assertGone(t, path)
		} else {
			assertFile(t, path, s.body)
		}
	}
	if st := status(t, cfg); st.Orders["total"] != 4 {
		t.Fatalf("status = %v", st.Orders)
	}
}

// TestIngestFromWhereTheDaemonCannotLook: the daemon (the binary) runs as
// its own user (as under systemd, with ProtectHome); a user ingests a
// report from a folder only they can read. The report travels as an open
// descriptor, so it is ingested, and it stays where it was.
func TestIngestFromWhereTheDaemonCannotLook(t *testing.T) {
	rootOnly(t)
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	openUp(t, dir)
	if err := os.Chmod(cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "var")
	if err := os.Mkdir(state, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(state, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	startBinary(t, asUser(t, exec.Command(campaigndBinary(t), "run", "--config", cfg), nobody)).waitLog(t, "campaignd started")

	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	body := ordersReport("111-0000001-0000001")
	path := writeFile(t, filepath.Join(home, "orders.txt"), body)
	r := cli(t, "ingest", path, "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "1 new") {
		t.Fatalf("ingest from a folder the daemon cannot read: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	assertFile(t, path, body)
	copyPath := filepath.Join(state, "processed", "orders.txt")
	assertFile(t, copyPath, body)
	if fi, err := os.Stat(copyPath); err != nil || fi.Sys().(*syscall.Stat_t).Uid != nobody {
		t.Fatalf("the copy in processed/ is not the daemon's own: %v", err)
	}
	if st := status(t, cfg); st.Orders["total"] != 1 {
		t.Fatalf("status = %v", st.Orders)
	}
}

// TestDiskFullKeepsTheReport: a valid report that arrives while the disk is
// full stays in the inbox, is tried again with backoff (more times than the
// daemon used to allow before rejecting it), status says why it waits, and
// it is ingested once there is room again; it never goes to rejected/.
func TestDiskFullKeepsTheReport(t *testing.T) {
	rootOnly(t)
	t.Parallel()
	dir := t.TempDir()
	state := filepath.Join(dir, "var")
	if err := os.Mkdir(state, 0o750); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", state).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", state).Run() })
	cfg := testConfig(t, dir, "")
	b, _ := os.ReadFile(cfg)
	writeFile(t, cfg, strings.Replace(string(b), "settle = \"10ms\"\n", "settle = \"10ms\"\nrescan = \"100ms\"\n", 1))
	d := startDaemon(t, cfg)

	ids := make([]string, 2000)
	for i := range ids {
		ids[i] = fmt.Sprintf("111-%07d-%07d", i, i)
	}
	body := ordersReport(ids...)
	inboxDir := filepath.Join(state, "inbox")
	part := writeFile(t, filepath.Join(inboxDir, "orders.txt.part"), body)
	fill(t, filepath.Join(state, "filler"))
	if err := os.Rename(part, filepath.Join(inboxDir, "orders.txt")); err != nil {
		t.Fatal(err)
	}
	// The daemon used to give up after 5 tries; wait for a sixth.
	timeout := time.After(60 * time.Second)
	for tries := 0; tries < 6; {
		l, ok := d.nextLog(t, timeout)
		if !ok {
			t.Fatal("the daemon exited")
		}
		if strings.Contains(l, "orders.txt") && strings.Contains(l, "gave up") {
			t.Fatalf("the daemon gave up on the report for want of disk space: %s", l)
		}
		if strings.Contains(l, "orders.txt") && strings.Contains(l, "inbox file not handled") {
			tries++
		}
	}
	st := cli(t, "status", "--config", cfg)
	if !strings.Contains(st.stdout, "orders.txt not ingested yet") || !strings.Contains(st.stdout, "no space left on device") {
		t.Fatalf("status does not show the waiting report and why:\n%s", st.stdout)
	}
	if err := os.Remove(filepath.Join(state, "filler")); err != nil {
		t.Fatal(err)
	}
	l := d.waitLog(t, "inbox file filed")
	if !strings.Contains(l, "rejected=false") {
		t.Fatalf("filed: %s", l)
	}
	assertFile(t, filepath.Join(state, "processed", "orders.txt"), body)
	if ents, _ := os.ReadDir(filepath.Join(state, "rejected")); len(ents) != 0 {
		t.Fatalf("rejected/ holds %d files", len(ents))
	}
	if got := status(t, cfg); got.Orders["total"] != len(ids) {
		t.Fatalf("status = %v, want %d orders", got.Orders, len(ids))
	}
}

// fill writes path until the filesystem is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !strings.Contains(err.Error(), "no space left") {
				t.Fatal(err)
			}
			break
		}
	}
	// Fill the last blocks too, a byte at a time.
	for {
		if _, err := f.Write(buf[:1]); err != nil {
			return
		}
	}
}

// TestInboxShowsSkippedEntries: a symbolic link, a named pipe and a folder
// in the inbox are never read; status lists each with the reason, and the
// daemon keeps working.
func TestInboxShowsSkippedEntries(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	inboxDir := filepath.Join(dir, "var", "inbox")
	if err := os.MkdirAll(inboxDir, 0o750); err != nil {
		t.Fatal(err)
	}
	target := writeFile(t, filepath.Join(dir, "elsewhere", "orders.txt"), ordersReport("111-0000001-0000001"))
	if err := os.Symlink(target, filepath.Join(inboxDir, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(inboxDir, "pipe.txt"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(inboxDir, "november"), 0o750); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, cfg)
	st := cli(t, "status", "--config", cfg)
	for _, want := range []string{
		"link.txt skipped: a symbolic link",
		"pipe.txt skipped: a named pipe",
		"november skipped: a folder",
	} {
		if !strings.Contains(st.stdout, want) {
			t.Errorf("status does not say %q:\n%s", want, st.stdout)
		}
	}
	js := cli(t, "status", "--json", "--config", cfg)
	if !strings.Contains(js.stdout, `"inbox_skipped"`) || !strings.Contains(js.stdout, `"name": "pipe.txt"`) {
		t.Errorf("status --json does not list the skipped entries:\n%s", js.stdout)
	}
	// The daemon logged each once, and still takes a report dropped beside them.
	writeFile(t, filepath.Join(inboxDir, "real.txt"), ordersReport("111-0000002-0000002"))
	d.waitLog(t, "file=real.txt dest=")
}
