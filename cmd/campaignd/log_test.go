package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"campaignd/internal/config"
)

// journalStream sets JOURNAL_STREAM to f's device and inode, as systemd
// does for a unit whose stderr is the journal.
func journalStream(t *testing.T, f *os.File) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	t.Setenv("JOURNAL_STREAM", fmt.Sprintf("%d:%d", st.Dev, st.Ino))
}

// TestJournalPriorities: under journald each line starts with the syslog
// priority of its level, which journald reads (SyslogLevelPrefix=), and
// carries no time; on any other stream nothing is prefixed.
func TestJournalPriorities(t *testing.T) {
	for _, format := range []string{"text", "json", "auto"} {
		t.Run(format, func(t *testing.T) {
			f, err := os.Create(filepath.Join(t.TempDir(), "journal"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			journalStream(t, f)
			cfg := &config.Config{Log: config.LogConfig{Level: "debug", Format: format}}
			log := newLogger(cfg, f, new(slog.LevelVar)).With(keyComponent, "test")
			log.Debug("d")
			log.Info("i", "multi", "line\none")
			log.Warn("w")
			log.WithGroup("g").Error("e", "k", 1)
			b, err := os.ReadFile(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			want := []string{"<7>", "<6>", "<4>", "<3>"}
			if len(lines) != len(want) {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), b)
			}
			for i, l := range lines {
				if !strings.HasPrefix(l, want[i]) || strings.Contains(l, "time") || !strings.Contains(l, "test") {
					t.Errorf("line %d = %q, want the prefix %s, the component and no time", i, l, want[i])
				}
			}
		})
	}
	// JOURNAL_STREAM names another stream (a child whose stderr was
	// redirected inherits it): no prefix.
	f, err := os.Create(filepath.Join(t.TempDir(), "other"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t.Setenv("JOURNAL_STREAM", "1:2")
	newLogger(&config.Config{Log: config.LogConfig{Level: "info", Format: "text"}}, f, new(slog.LevelVar)).Warn("w")
	if b, _ := os.ReadFile(f.Name()); !strings.HasPrefix(string(b), "time=") {
		t.Fatalf("not the journal, yet: %q", b)
	}
}

// TestJournalDaemon runs the daemon with its stderr as the journal's
// stream and checks what `journalctl -p warning` would show: every refusal
// (a rejected file, a message the policy checks refuse, a reload refused
// over the socket) at warning or above, the start-up line naming the inbox,
// the ledger and each campaign's channel, and the pass line named as in
// `run --once`.
func TestJournalDaemon(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "[schedule]\ntick = \"@every 1s\"\n")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	journalStream(t, w)
	logs := newLogLines()
	copied := make(chan struct{})
	go func() { io.Copy(logs, r); close(copied) }()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- runCampaignd(ctx, []string{"run", "--config", cfg}, io.Discard, w) }()
	d := &daemonProc{logs: logs}
	defer func() {
		stop()
		<-done
		w.Close()
		<-copied
		r.Close()
	}()

	start := d.waitLog(t, "campaignd started")
	for _, want := range []string{"<6>", "inbox=" + filepath.Join(dir, "var", "inbox"), "ledger=" + filepath.Join(dir, "var", "campaignd.db"),
		`campaigns="en: outbox for Amazon.com, Amazon.co.uk; de: outbox for Amazon.de; fr: outbox for Amazon.fr;`} {
		if !strings.Contains(start, want) {
			t.Errorf("the start-up line lacks %q:\n%s", want, start)
		}
	}
	writeFile(t, filepath.Join(dir, "var", "inbox", "notes.txt"), "not a report\n")
	priorityOf(t, d.waitLog(t, "notes.txt"), "<4>", "inbox file rejected")
	writeFile(t, filepath.Join(dir, "var", "inbox", "orders.txt"), allOrdersHeader+
		line("111-0000001-0000001", "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Bottle, see www.example.com/deal", "Shipped"))
	priorityOf(t, d.waitLog(t, "message refused"), "<4>", "P-LINK")
	priorityOf(t, d.waitLog(t, `msg="send pass"`), "<6>", "refused=1")

	orig, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	bad := writeFile(t, filepath.Join(dir, "bad.tmpl"), "Subject: Order {{.OrderID}}\n\nPlease leave us a 5-star review! {{.ReviewURL}}\n")
	writeFile(t, cfg, replaceFirstTemplate(string(orig), bad))
	if res := cli(t, "reload", "--config", cfg); res.code != exitUsage {
		t.Fatalf("reload: exit %d, want 2\n%s", res.code, res.stderr)
	}
	priorityOf(t, d.waitLog(t, "reload refused"), "<4>", `by="uid 0 (root)"`)
}

// priorityOf fails unless the log line l has the journal prefix prio and
// holds want.
func priorityOf(t *testing.T, l, prio, want string) {
	t.Helper()
	if !strings.HasPrefix(l, prio) || !strings.Contains(l, want) {
		t.Fatalf("log line %q: want the prefix %s and %q", l, prio, want)
	}
}

// TestPassLineOnce: `run --once` names its pass line as the daemon does.
func TestPassLineOnce(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	r := cli(t, "run", "--once", "--config", cfg)
	sc := bufio.NewScanner(strings.NewReader(r.stderr))
	found := false
	for sc.Scan() {
		found = found || strings.Contains(sc.Text(), `msg="send pass"`)
	}
	if r.code != exitOK || !found {
		t.Fatalf("run --once: exit %d, no send pass line:\n%s", r.code, r.stderr)
	}
}

// TestStartFailureUnderJournal: a daemon that cannot start says why as an
// error in the journal, every line of it.
func TestStartFailureUnderJournal(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	writeFile(t, filepath.Join(dir, "var", "processed"), "not a folder")
	writeFile(t, filepath.Join(dir, "var", "rejected"), "not a folder")
	f, err := os.Create(filepath.Join(dir, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	journalStream(t, f)
	if code := runCampaignd(context.Background(), []string{"run", "--config", cfg}, io.Discard, f); code != exitUsage {
		t.Fatalf("exit %d, want 2", code)
	}
	b, _ := os.ReadFile(f.Name())
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "<3>campaignd: ") || !strings.HasPrefix(lines[1], "<3>") ||
		!strings.Contains(lines[0], "inbox.processed_dir") || !strings.Contains(lines[1], "inbox.rejected_dir") {
		t.Fatalf("journal:\n%s\nwant two error lines, one per folder", b)
	}
}
