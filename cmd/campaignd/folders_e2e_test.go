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

// nobodyState sets up dir for a daemon run as nobody: the config readable,
// var/ its own, and outbox (outside var/) a folder root owns, as /etc is.
// It returns the config's path and the outbox.
func nobodyState(t *testing.T, dir, extra string) (cfg, outbox string) {
	t.Helper()
	cfg = testConfig(t, dir, extra)
	editConfig(t, cfg, `dir = "var/outbox"`, `dir = "etc/outbox"`)
	outbox = filepath.Join(dir, "etc", "outbox")
	for _, d := range []string{filepath.Join(dir, "var"), outbox} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(filepath.Join(dir, "var"), nobody, nobody); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	openUp(t, dir)
	return cfg, outbox
}

// TestOutboxNotWritable: an outbox campaignd's user cannot write in (under
// /etc, say) stops the start with one line naming the key, the folder, the
// user and the fix, and exit 2, before a ledger exists. When the folder
// stops being writable while the daemon runs, each pass stops at the first
// send with one error, the orders stay scheduled (not failed, not retried
// once each with a line each), and they go once the folder is fixed.
func TestOutboxNotWritable(t *testing.T) {
	rootOnly(t)
	t.Parallel()
	dir := t.TempDir()
	cfg, outbox := nobodyState(t, dir, "[schedule]\ntick = \"@every 1s\"\n")

	r := runProcess(t, asUser(t, exec.Command(campaigndBinary(t), "run", "--once", "--config", cfg), nobody))
	want := fmt.Sprintf("campaignd: %s: channel.outbox.dir: %s: cannot create files in the folder as user nobody (uid 65534): permission denied. Give the folder to that user (chown), or choose one it owns, such as one under /var/lib/campaignd\n", cfg, outbox)
	if r.code != exitUsage || r.stderr != want {
		t.Fatalf("run --once: exit %d, stderr:\n%s\nwant exit 2 and:\n%s", r.code, r.stderr, want)
	}
	assertGone(t, filepath.Join(dir, "var", "campaignd.db"))

	if err := os.Chown(outbox, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	d := startBinary(t, asUser(t, exec.Command(campaigndBinary(t), "run", "--config", cfg), nobody))
	d.waitLog(t, "campaignd started")
	if err := os.Chown(outbox, 0, 0); err != nil { // as if someone took the folder away
		t.Fatal(err)
	}
	ids := []string{"111-0000001-0000001", "111-0000002-0000002", "111-0000003-0000003"}
	dropReport(t, filepath.Join(dir, "var", "inbox"), "orders.txt", dueReport(time.Now(), ids...))
	d.waitLogCount(t, "send pass failed", 3)
	log := d.logs.String()
	if n := strings.Count(log, "permission denied"); n != strings.Count(log, "send pass failed") {
		t.Errorf("%d lines say permission denied in %d failed passes, want one a pass:\n%s", n, strings.Count(log, "send pass failed"), log)
	}
	if strings.Contains(log, "will retry") || strings.Contains(log, "failed for good") {
		t.Errorf("the orders were retried or failed one by one:\n%s", log)
	}
	if st := status(t, cfg); st.Orders["scheduled"] != 3 || st.Orders["failed"] != 0 || st.Orders["sent"] != 0 {
		t.Fatalf("orders %v, want the 3 still scheduled", st.Orders)
	}

	if err := os.Chown(outbox, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	waitFiles(t, outbox, 3)
	d.waitLogCount(t, "review request sent", 3)
	d.cmd.Process.Signal(syscall.SIGTERM)
	if err := d.cmd.Wait(); err != nil {
		t.Fatalf("the daemon stopped with %v:\n%s", err, d.logs)
	}
}

// dueReport is an All Orders report of Amazon.com orders delivered long
// enough before now to be due, and well inside their window.
func dueReport(now time.Time, ids ...string) string {
	purchase := now.Add(-12 * 24 * time.Hour).UTC().Format(time.RFC3339)
	delivered := now.Add(-9 * 24 * time.Hour).UTC().Format(time.RFC3339)
	var b strings.Builder
	b.WriteString(allOrdersHeader)
	for _, id := range ids {
		b.WriteString(line(id, purchase, delivered, "Shipped - Delivered to Buyer", "Amazon.com", "Water Bottle", "Shipped"))
	}
	return b.String()
}

// dropReport puts a report into the inbox as an uploader that renames into
// place does, readable by every user.
func dropReport(t *testing.T, inbox, name, content string) {
	t.Helper()
	tmp := filepath.Join(inbox, "."+name+".upload")
	writeFile(t, tmp, content)
	if err := os.Chmod(tmp, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(inbox, name)); err != nil {
		t.Fatal(err)
	}
}
