package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMainJob walks the whole path: ingest, two passes at two instants, a
// cancellation, the deadline, and status counts that match the outbox.
func TestMainJob(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	report := allOrdersHeader +
		// delivered 11-04 → due 11-09 10:00
		line("111-0000001-0000001", "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Water Bottle 750 ml", "Shipped") +
		// shipped 11-02 → +3 transit +5 → due 11-10 10:00; cancelled by a later report
		line("111-0000002-0000002", "2026-11-01T10:00:00Z", "2026-11-02T10:00:00Z", "Shipped", "Amazon.com", "Water Bottle 750 ml", "Shipped") +
		// German order, delivered 11-06 → due 11-11
		line("302-0000003-0000003", "2026-11-02T10:00:00+01:00", "2026-11-06T10:00:00+01:00", "Shipped - Delivered to Buyer", "Amazon.de", "Trinkflasche – Edelstahl", "Shipped") +
		// delivered late: due 11-28 10:00, deadline 12-01 10:00
		line("111-0000004-0000004", "2026-11-01T10:00:00Z", "2026-11-23T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Lunch Box", "Shipped") +
		// cancelled, MCF, lost
		line("111-0000005-0000005", "2026-11-01T10:00:00Z", "2026-11-02T10:00:00Z", "Cancelled", "Amazon.com", "Lunch Box", "Cancelled") +
		line("S01-0000006-0000006", "", "2026-11-02T10:00:00Z", "Shipped", "Non-Amazon", "Lunch Box", "Shipped") +
		line("111-0000007-0000007", "2026-11-01T10:00:00Z", "2026-11-06T10:00:00Z", "Shipped - Lost in Transit", "Amazon.com", "Lunch Box", "Shipped") +
		// a product title that carries a phone number: the rendered message is refused
		line("111-0000008-0000008", "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Lunch Box - call 1-800-555-0199 for help", "Shipped") +
		// spreadsheet damage
		line("5.8E+13", "2026-11-01T10:00:00Z", "2026-11-06T10:00:00Z", "Shipped", "Amazon.com", "Lunch Box", "Shipped")
	file := writeFile(t, filepath.Join(dir, "drop", "orders.txt"), report)

	r := cli(t, "ingest", "--config", cfg, file)
	if r.code != 0 {
		t.Fatalf("ingest: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "orders.txt:10: amazon-order-id") {
		t.Errorf("ingest does not report the damaged row with its line and column:\n%s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "var", "processed", "orders.txt")); err != nil {
		t.Errorf("ingested file not moved to processed/: %v", err)
	}

	// preview shows the message exactly as the buyer would get it, with the verdict.
	r = cli(t, "preview", "111-0000001-0000001", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "Water Bottle 750 ml") || !strings.Contains(r.stdout, "passes every policy check") ||
		!strings.Contains(r.stdout, "https://www.amazon.com/review/create-review?asin=B0TEST0001") {
		t.Fatalf("preview: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := cli(t, "preview", "111-0000008-0000008", "--config", cfg); r.code != 1 || !strings.Contains(r.stdout, "P-CONTACT") {
		t.Fatalf("preview of a refused message: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Pass 1 at 11-09 10:00: only order 1 is due (order 8 is refused).
	if r := cli(t, "run", "--once", "--config", cfg, "--force-clock", "--at", "2026-11-09T10:00:00Z"); r.code != 0 {
		t.Fatalf("run --once: exit %d\n%s", r.code, r.stderr)
	}
	if got := outbox(t, dir); strings.Join(got, ",") != "111-0000001-0000001" {
		t.Fatalf("outbox after pass 1 = %v", got)
	}

	// A later report cancels order 2 before it is due.
	cancel := writeFile(t, filepath.Join(dir, "var", "inbox", "update.txt"), allOrdersHeader+
		line("111-0000002-0000002", "2026-11-01T10:00:00Z", "2026-11-09T12:00:00Z", "Cancelled", "Amazon.com", "Water Bottle 750 ml", "Cancelled"))
	_ = cancel

	// Pass 2 at 11-20 (the inbox file is ingested first): order 3 (German) goes.
	if r := cli(t, "run", "--once", "--config", cfg, "--force-clock", "--at", "2026-11-20T00:00:00Z"); r.code != 0 {
		t.Fatalf("run --once: exit %d\n%s", r.code, r.stderr)
	}
	if got := outbox(t, dir); strings.Join(got, ",") != "111-0000001-0000001,302-0000003-0000003" {
		t.Fatalf("outbox after pass 2 = %v", got)
	}
	if st := cli(t, "status", "--config", cfg); !strings.Contains(st.stdout, "111-0000008-0000008") || !strings.Contains(st.stdout, "P-CONTACT") {
		t.Fatalf("status does not show the refused order:\n%s", st.stdout)
	}
	de, _ := os.ReadFile(filepath.Join(dir, "var", "outbox", "302-0000003-0000003.eml"))
	if !bytes.Contains(de, []byte("Content-Language: de")) && !bytes.Contains(de, []byte("Content-Language: DE")) {
		t.Errorf("the Amazon.de order did not get the German template:\n%s", de)
	}

	// The same pass again writes nothing.
	before := outbox(t, dir)
	cli(t, "run", "--once", "--config", cfg, "--force-clock", "--at", "2026-11-20T00:00:00Z")
	if got := outbox(t, dir); strings.Join(got, ",") != strings.Join(before, ",") {
		t.Fatalf("a second pass wrote %v", got)
	}

	// Order 4 is due 11-28 10:00 with its deadline at 12-01 10:00: a pass at the
	// deadline exactly sends nothing.
	if r := cli(t, "plan", "--json", "--config", cfg, "--at", "2026-12-01T10:00:00Z"); r.code != 0 || strings.Contains(r.stdout, `"order_id": "111-0000004-0000004",
      "marketplace"`) {
		t.Fatalf("plan at the deadline: exit %d\n%s", r.code, r.stdout)
	}
	cli(t, "run", "--once", "--config", cfg, "--force-clock", "--at", "2026-12-01T10:00:00Z")
	for _, id := range outbox(t, dir) {
		if id == "111-0000004-0000004" {
			t.Fatal("sent at purchase + 30 days")
		}
	}

	st := status(t, cfg)
	sent := len(outbox(t, dir))
	if st.Orders["sent"] != sent || sent != 2 {
		t.Fatalf("status counts %v do not match the outbox (%d)", st.Orders, sent)
	}
	want := map[string]int{"total": 8, "sent": 2, "excluded": 4, "expired": 2, "scheduled": 0, "claimed": 0, "in_doubt": 0, "waiting": 0, "failed": 0}
	for k, v := range want {
		if st.Orders[k] != v {
			t.Errorf("status orders.%s = %d, want %d (%v)", k, st.Orders[k], v, st.Orders)
		}
	}
	if st.Daemon != nil {
		t.Error("status claims a daemon runs")
	}
}

func TestBadInputExitCodes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	t.Run("missing config", func(t *testing.T) {
		r := cli(t, "status", "--config", filepath.Join(dir, "nope.toml"))
		if r.code != 2 || !strings.Contains(r.stderr, "nope.toml") {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		bad := writeFile(t, filepath.Join(dir, "bad.toml"), "sellr_name = \"x\"\n")
		r := cli(t, "run", "--once", "--config", bad)
		if r.code != 2 || !strings.Contains(r.stderr, "bad.toml") || !strings.Contains(r.stderr, "sellr_name") {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	})
	t.Run("bad cron", func(t *testing.T) {
		bad := testConfig(t, t.TempDir(), "[schedule]\ntick = \"sometimes\"\n")
		r := cli(t, "run", "--once", "--config", bad)
		if r.code != 2 || !strings.Contains(r.stderr, "schedule.tick") {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	})
	t.Run("not a report", func(t *testing.T) {
		f := writeFile(t, filepath.Join(dir, "drop", "notes.txt"), "dear diary\nnothing to see\n")
		r := cli(t, "ingest", "--config", cfg, f)
		if r.code != 1 || !strings.Contains(r.stdout, "rejected") {
			t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
		}
		reason, err := os.ReadFile(filepath.Join(dir, "var", "rejected", "notes.txt.error.txt"))
		if err != nil || len(reason) == 0 {
			t.Fatalf("no reason file beside the rejected file: %v", err)
		}
		if st := status(t, cfg); st.Orders["total"] != 0 {
			t.Fatalf("a rejected file changed the ledger: %v", st.Orders)
		}
	})
	t.Run("usage", func(t *testing.T) {
		if r := cli(t, "status", "--config", cfg, "extra"); r.code != 2 {
			t.Fatalf("exit %d", r.code)
		}
		if r := cli(t, "frobnicate"); r.code != 2 {
			t.Fatalf("exit %d", r.code)
		}
		if r := cli(t, "plan", "--config", cfg, "--at", "tomorrow"); r.code != 2 {
			t.Fatalf("exit %d", r.code)
		}
	})
	t.Run("failing template stops start-up", func(t *testing.T) {
		d := t.TempDir()
		tmpl := writeFile(t, filepath.Join(d, "bad.tmpl"), "Subject: Order {{.OrderID}}\n\nLeave us a 5-star review and get a free gift card! {{.ReviewURL}}\n")
		c := writeFile(t, filepath.Join(d, "c.toml"), fmt.Sprintf("[ledger]\npath = \"l.db\"\n[inbox]\ndir = \"in\"\nprocessed_dir = \"p\"\nrejected_dir = \"r\"\n[control]\nsocket = \"s.sock\"\n[[campaign]]\nname = \"en\"\nsales_channels = [\"Amazon.com\"]\ntemplate = %q\nchannel = \"outbox\"\n[channel.outbox]\ndir = \"out\"\n", tmpl))
		r := cli(t, "run", "--once", "--config", c)
		if r.code != 2 || !strings.Contains(r.stderr, "P-INCENTIVE") {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if r := cli(t, "lint", "--config", c); r.code != 1 || !strings.Contains(r.stdout, "bad.tmpl:3:") {
			t.Fatalf("lint: exit %d: %s", r.code, r.stdout)
		}
	})
}

// TestDaemon runs the daemon binary as systemd would: status and ingest
// through the control socket while it runs, a second daemon refused, a bad
// reload refused with the old config kept, a good SIGHUP reload, and
// SIGTERM (the signals are why it is a process; the commands run here).
func TestDaemon(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	metrics := freeAddr(t)
	cfg := testConfig(t, dir, fmt.Sprintf("[schedule]\ntick = \"@every 1s\"\n[metrics]\nlisten = %q\n", metrics))
	// Dropped while the daemon was down: the start-up scan finds it.
	writeFile(t, filepath.Join(dir, "var", "inbox", "early.txt"), allOrdersHeader+
		line("111-0000003-0000003", "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Water Bottle", "Shipped"))
	d := startDaemonBinary(t, cfg, "--force-clock", "--at", "2026-11-20T00:00:00Z")

	st := status(t, cfg)
	if st.Daemon == nil || st.Daemon.PID != d.pid() {
		t.Fatalf("status does not come from the daemon: %+v", st)
	}
	file := writeFile(t, filepath.Join(dir, "drop", "orders.txt"), allOrdersHeader+
		line("111-0000001-0000001", "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Water Bottle", "Shipped"))
	if r := cli(t, "ingest", "--config", cfg, file); r.code != 0 || !strings.Contains(r.stdout, "1 new") {
		t.Fatalf("ingest through the daemon: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A file dropped into the inbox is picked up by the watcher.
	writeFile(t, filepath.Join(dir, "var", "inbox", "more.txt"), allOrdersHeader+
		line("111-0000002-0000002", "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Water Bottle", "Shipped"))
	waitFiles(t, filepath.Join(dir, "var", "outbox"), 3)
	d.waitLogCount(t, "review request sent", 3) // logged once the ledger has it
	if st := status(t, cfg); st.Orders["sent"] != 3 || st.Orders["total"] != 3 {
		t.Fatalf("status = %v", st.Orders)
	}
	if body := get(t, "http://"+metrics+"/metrics"); !strings.Contains(body, `campaignd_orders{state="sent"} 3`) {
		t.Fatalf("/metrics:\n%s", body)
	}
	if body := get(t, "http://"+metrics+"/healthz"); !strings.HasPrefix(body, "ok") {
		t.Fatalf("/healthz: %s", body)
	}

	// A backup while the daemon runs holds everything it has recorded.
	if r := cli(t, "ledger", "backup", filepath.Join(dir, "live-backup.db"), "--config", cfg); r.code != 0 {
		t.Fatalf("backup through the daemon: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	if fi, err := os.Stat(filepath.Join(dir, "live-backup.db")); err != nil || fi.Size() == 0 {
		t.Fatalf("no backup written: %v", err)
	}

	// A second daemon on the same ledger fails at once.
	start := time.Now()
	r := cli(t, "run", "--config", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, "locked") || time.Since(start) > 20*time.Second {
		t.Fatalf("second run: exit %d after %v: %s", r.code, time.Since(start), r.stderr)
	}

	// A reload that brings a failing template is refused; the daemon keeps running.
	orig, _ := os.ReadFile(cfg)
	bad := writeFile(t, filepath.Join(dir, "bad.tmpl"), "Subject: Order {{.OrderID}}\n\nPlease leave us a 5-star review! {{.ReviewURL}}\n")
	writeFile(t, cfg, replaceFirstTemplate(string(orig), bad))
	if r := cli(t, "reload", "--config", cfg); r.code != 2 || !strings.Contains(r.stderr, "P-POSITIVE") {
		t.Fatalf("bad reload: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if st := status(t, cfg); st.Daemon == nil {
		t.Fatal("daemon gone after a refused reload")
	}

	// SIGHUP with the good config back reloads it.
	writeFile(t, cfg, string(orig))
	d.cmd.Process.Signal(syscall.SIGHUP)
	d.waitLog(t, "config reloaded")

	// SIGTERM: clean stop, exit 0, socket removed.
	d.cmd.Process.Signal(syscall.SIGTERM)
	d.waitLog(t, "stopped")
	if err := d.cmd.Wait(); err != nil {
		t.Fatalf("daemon exit: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "var", "campaignd.sock")); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
	if st := status(t, cfg); st.Daemon != nil || st.Orders["sent"] != 3 {
		t.Fatalf("status after stop = %+v", st)
	}
}

// TestCrashMidSend kills the daemon (the binary) with SIGKILL while it is
// sending, restarts it, and checks that every order got exactly one message.
func TestCrashMidSend(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "[schedule]\nbatch_size = 100000\n")
	const n = 400 // enough that a kill after the 5th message lands mid-pass, even on a busy machine
	var b strings.Builder
	b.WriteString(allOrdersHeader)
	for i := range n {
		b.WriteString(line(fmt.Sprintf("111-%07d-%07d", i, i), "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Water Bottle", "Shipped"))
	}
	file := writeFile(t, filepath.Join(dir, "drop", "orders.txt"), b.String())
	if r := cli(t, "ingest", "--config", cfg, file); r.code != 0 {
		t.Fatalf("ingest: %s", r.stderr)
	}
	out := filepath.Join(dir, "var", "outbox")
	cmd := exec.Command(campaigndBinary(t), "run", "--once", "--config", cfg, "--force-clock", "--at", "2026-11-20T00:00:00Z")
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFiles(t, out, 5)
	cmd.Process.Kill()
	cmd.Wait()
	atKill := len(outbox(t, dir))
	if atKill >= n {
		t.Fatalf("all %d orders were sent before the kill; the test did not interrupt a send", n)
	}
	if r := cli(t, "run", "--once", "--config", cfg, "--force-clock", "--at", "2026-11-20T00:00:00Z"); r.code != 0 {
		t.Fatalf("restart: exit %d: %s", r.code, r.stderr)
	}
	if got := len(outbox(t, dir)); got != n {
		t.Fatalf("outbox holds %d messages after the restart, want %d", got, n)
	}
	st := status(t, cfg)
	if st.Orders["sent"] != n || st.Orders["claimed"] != 0 || st.Orders["in_doubt"] != 0 {
		t.Fatalf("status = %v", st.Orders)
	}
	// No order was attempted twice: the outbox never refused a second write.
	exp := cli(t, "ledger", "export", "--config", cfg)
	if strings.Contains(exp.stdout, "already sent") {
		t.Fatal("a send was attempted twice (the outbox refused a second message)")
	}
	t.Logf("killed after %d of %d messages; the restart completed the rest", atKill, n)
}

// TestLedgerCommands corrects the ledger by hand: a request made outside
// campaignd and an excluded order are never sent, and both leave an audit
// event with the operator's note.
func TestLedgerCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	var rep strings.Builder
	rep.WriteString(allOrdersHeader)
	for _, id := range []string{"111-0000001-0000001", "111-0000002-0000002", "111-0000003-0000003"} {
		rep.WriteString(line(id, "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Water Bottle", "Shipped"))
	}
	if r := cli(t, "ingest", writeFile(t, filepath.Join(dir, "drop", "o.txt"), rep.String()), "--config", cfg); r.code != 0 {
		t.Fatalf("ingest: %s%s", r.stdout, r.stderr)
	}
	if r := cli(t, "ledger", "mark-sent", "111-0000001-0000001", "--note", "asked from Seller Central", "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, "sent") {
		t.Fatalf("mark-sent: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	if r := cli(t, "ledger", "exclude", "111-0000002-0000002", "--note", "buyer asked not to be contacted", "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, "excluded") {
		t.Fatalf("exclude: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	// An order no report has named yet can be excluded ahead of time.
	if r := cli(t, "ledger", "exclude", "111-0000009-0000009", "--config", cfg); r.code != 0 {
		t.Fatalf("exclude unknown: exit %d %s", r.code, r.stderr)
	}
	if r := cli(t, "ledger", "resolve", "111-0000003-0000003", "--sent", "--config", cfg); r.code != 1 || !strings.Contains(r.stderr, "in_doubt") {
		t.Fatalf("resolve of an order not in doubt: exit %d %s", r.code, r.stderr)
	}
	if r := cli(t, "run", "--once", "--config", cfg, "--force-clock", "--at", "2026-11-20T00:00:00Z"); r.code != 0 {
		t.Fatalf("run: %s", r.stderr)
	}
	if got := outbox(t, dir); strings.Join(got, ",") != "111-0000003-0000003" {
		t.Fatalf("outbox = %v: only the untouched order may be sent", got)
	}
	show := cli(t, "ledger", "show", "111-0000001-0000001", "--config", cfg)
	if show.code != 0 || !strings.Contains(show.stdout, "operator") || !strings.Contains(show.stdout, "asked from Seller Central") {
		t.Fatalf("show:\n%s%s", show.stdout, show.stderr)
	}
	exp := cli(t, "ledger", "export", "--config", cfg)
	if n := strings.Count(strings.TrimSpace(exp.stdout), "\n") + 1; exp.code != 0 || n != 4 {
		t.Fatalf("export: exit %d, %d lines\n%s", exp.code, n, exp.stdout)
	}
	backup := filepath.Join(dir, "backup.db")
	if r := cli(t, "ledger", "backup", backup, "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, "backup.db") {
		t.Fatalf("backup: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	if r := cli(t, "ledger", "backup", backup, "--config", cfg); r.code != 1 || !strings.Contains(r.stderr, "exists") {
		t.Fatalf("backup over an existing file: exit %d %s", r.code, r.stderr)
	}
	for _, l := range strings.Split(strings.TrimSpace(exp.stdout), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("export line is not JSON: %v\n%s", err, l)
		}
	}
}
