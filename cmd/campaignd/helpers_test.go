package main

// The end-to-end tests run campaignd's commands in this process, through
// runCampaignd (as main calls Run), so they run under the race detector and
// cost no process start. The daemon too runs in-process: `run` in a
// goroutine, stopped by cancelling its context as SIGTERM does. What only
// a process can show (signals, SIGKILL, another user's credentials on the
// socket, descriptor limits and memory of the daemon) uses the real binary,
// built once, without -race, by campaigndBinary.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// testWaits shorten the daemon's real-time waits in in-process tests.
var testWaits = waits{sendGrace: 500 * time.Millisecond, inboxRetry: 10 * time.Millisecond, fetchPoll: 10 * time.Millisecond}

// testEpoch is the instant in-process commands believe it is when the tests
// start; their clock runs on from it in real time (testNow). Fixture dates
// are written against it, so the tests mean the same whatever day they run
// on. Commands run as a process (the real binary) use the real clock.
var (
	testEpoch = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	testStart = time.Now()
)

// testNow is the in-process commands' clock.
func testNow() time.Time { return testEpoch.Add(time.Since(testStart)) }

// runCampaignd runs campaignd in this process with args, as main does, with
// testWaits and the test clock.
func runCampaignd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr, clock: testNow, waits: testWaits}
	return a.dispatch(ctx, args)
}

type result struct {
	stdout, stderr string
	code           int
}

// cli runs one command in this process.
func cli(t *testing.T, args ...string) result {
	t.Helper()
	return cliCtx(t, context.Background(), args...)
}

// cliCtx runs one command in this process until ctx ends (for `run`, as
// SIGTERM ends it).
func cliCtx(t *testing.T, ctx context.Context, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := runCampaignd(ctx, args, &out, &errb)
	return result{out.String(), errb.String(), code}
}

var (
	binaryOnce sync.Once
	binaryDir  string
	binaryPath string
	binaryErr  error
)

// campaigndBinary builds campaignd once, without the race detector (the
// in-process tests have it), for the tests that need a process.
func campaigndBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		if binaryDir, binaryErr = os.MkdirTemp("", "campaignd-e2e-"); binaryErr != nil {
			return
		}
		binaryPath = filepath.Join(binaryDir, "campaignd")
		out, err := exec.Command("go", "build", "-o", binaryPath, ".").CombinedOutput()
		if err != nil {
			binaryErr = fmt.Errorf("build campaignd: %v\n%s", err, out)
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
	os.Exit(code)
}

// runProcess runs cmd and returns what it printed and its exit code.
func runProcess(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", cmd.Args, err)
	}
	return result{out.String(), errb.String(), code}
}

// testConfig writes a config whose state lives in dir and whose templates are
// the shipped ones; extra is appended (TOML).
func testConfig(t *testing.T, dir, extra string) string {
	t.Helper()
	tmpl, err := filepath.Abs("../../templates")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `seller_name = "Example Brand"
[ledger]
path = "var/campaignd.db"
[inbox]
dir = "var/inbox"
processed_dir = "var/processed"
rejected_dir = "var/rejected"
settle = "10ms"
[control]
socket = "var/campaignd.sock"
[log]
format = "text"
level = "debug"
%s
[channel.outbox]
dir = "var/outbox"
`, extra)
	for _, c := range []struct{ name, markets string }{
		{"en", `"Amazon.com", "Amazon.co.uk"`}, {"de", `"Amazon.de"`}, {"fr", `"Amazon.fr"`},
		{"es", `"Amazon.es"`}, {"it", `"Amazon.it"`}, {"ja", `"Amazon.co.jp"`},
	} {
		fmt.Fprintf(&b, "[[campaign]]\nname = %q\nsales_channels = [%s]\ntemplate = %q\nchannel = \"outbox\"\n",
			c.name, c.markets, filepath.Join(tmpl, "review-request."+c.name+".tmpl"))
	}
	p := filepath.Join(dir, "campaignd.toml")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func outbox(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "var", "outbox"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".eml") {
			names = append(names, strings.TrimSuffix(e.Name(), ".eml"))
		}
	}
	sort.Strings(names)
	return names
}

type statusJSON struct {
	Orders map[string]int `json:"orders"`
	Daemon *struct {
		PID int `json:"pid"`
	} `json:"daemon"`
	RecentFiles []struct {
		Name    string `json:"name"`
		Outcome string `json:"outcome"`
	} `json:"recent_files"`
}

func status(t *testing.T, cfg string) statusJSON {
	t.Helper()
	r := cli(t, "status", "--json", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("status: exit %d: %s", r.code, r.stderr)
	}
	var st statusJSON
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, r.stdout)
	}
	return st
}

const allOrdersHeader = "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\tfulfillment-channel\tsales-channel\torder-channel\tship-service-level\tproduct-name\tsku\tasin\titem-status\tquantity\tcurrency\titem-price\n"

func line(id, purchase, updated, status, channel, product, itemStatus string) string {
	return strings.Join([]string{id, "", purchase, updated, status, "Amazon", channel, "", "Standard", product, "SKU-1", "B0TEST0001", itemStatus, "1", "USD", "9.99"}, "\t") + "\n"
}

// ordersReport is an All Orders report of delivered Amazon.com orders.
func ordersReport(ids ...string) string {
	var b strings.Builder
	b.WriteString(allOrdersHeader)
	for _, id := range ids {
		b.WriteString(line(id, "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Water Bottle", "Shipped"))
	}
	return b.String()
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func assertFile(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if string(b) != want {
		t.Fatalf("%s holds %q, want %q", path, b, want)
	}
}

func assertGone(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Fatalf("%s is still there (%v)", path, err)
	}
}

// logLines collects a daemon's log, line by line, and wakes whoever waits
// for the next line. Writing never blocks the daemon.
type logLines struct {
	mu      sync.Mutex
	lines   []string
	partial []byte
	closed  bool
	more    chan struct{} // closed at each new line or at the end
}

func newLogLines() *logLines { return &logLines{more: make(chan struct{})} }

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.lines = append(l.lines, string(l.partial[:i]))
		l.partial = l.partial[i+1:]
		close(l.more)
		l.more = make(chan struct{})
	}
	return len(p), nil
}

// close marks the end of the log: the daemon has exited.
func (l *logLines) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		l.lines = append(l.lines, string(l.partial))
		l.partial = nil
	}
	l.closed = true
	close(l.more)
	l.more = make(chan struct{})
}

// line returns line i, waiting for it until timeout; ok is false when the
// log ended before it.
func (l *logLines) line(t *testing.T, i int, timeout <-chan time.Time) (string, bool) {
	t.Helper()
	for {
		l.mu.Lock()
		n, closed, more := len(l.lines), l.closed, l.more
		var s string
		if i < n {
			s = l.lines[i]
		}
		l.mu.Unlock()
		switch {
		case i < n:
			return s, true
		case closed:
			return "", false
		}
		select {
		case <-more:
		case <-timeout:
			t.Fatalf("no log line %d came in time; the log so far:\n%s", i, l.String())
		}
	}
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// daemonProc is a running `campaignd run` (or `run --once`): in this
// process (stop cancels it, as SIGTERM does), or the binary (cmd).
type daemonProc struct {
	logs *logLines
	next int // the next log line to read

	stop context.CancelFunc // in-process
	code chan int           // in-process: Run's exit code
	cmd  *exec.Cmd          // the binary
}

// startInProcess starts `campaignd args...` in this process.
func startInProcess(t *testing.T, args ...string) *daemonProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &daemonProc{logs: newLogLines(), stop: cancel, code: make(chan int, 1)}
	go func() {
		code := runCampaignd(ctx, args, io.Discard, d.logs)
		d.logs.close()
		d.code <- code
	}()
	t.Cleanup(func() {
		cancel()
		d.code <- <-d.code // waits for Run to end, and leaves the code for wait
	})
	return d
}

// startDaemon starts `campaignd run` in this process and returns once it
// logged that it started.
func startDaemon(t *testing.T, cfg string, args ...string) *daemonProc {
	t.Helper()
	d := startInProcess(t, append([]string{"run", "--config", cfg}, args...)...)
	d.waitLog(t, "campaignd started")
	return d
}

// startBinary starts cmd (the campaignd binary) and collects its log.
func startBinary(t *testing.T, cmd *exec.Cmd) *daemonProc {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemonProc{logs: newLogLines(), cmd: cmd}
	copied := make(chan struct{})
	go func() {
		io.Copy(d.logs, stderr)
		d.logs.close()
		close(copied)
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		<-copied
	})
	return d
}

// startDaemonBinary starts the binary's `run` and returns once it logged
// that it started.
func startDaemonBinary(t *testing.T, cfg string, args ...string) *daemonProc {
	t.Helper()
	d := startBinary(t, exec.Command(campaigndBinary(t), append([]string{"run", "--config", cfg}, args...)...))
	d.waitLog(t, "campaignd started")
	return d
}

// pid is the daemon's process id.
func (d *daemonProc) pid() int {
	if d.cmd != nil {
		return d.cmd.Process.Pid
	}
	return os.Getpid()
}

// wait waits for an in-process daemon to end and returns its exit code.
func (d *daemonProc) wait(t *testing.T) int {
	t.Helper()
	select {
	case code := <-d.code:
		d.code <- code
		return code
	case <-time.After(60 * time.Second):
		t.Fatal("the daemon did not end within 60 s")
		return 0
	}
}

// nextLog returns the next line of the daemon's log; ok is false when the
// daemon exited.
func (d *daemonProc) nextLog(t *testing.T, timeout <-chan time.Time) (string, bool) {
	t.Helper()
	l, ok := d.logs.line(t, d.next, timeout)
	if ok {
		d.next++
	}
	return l, ok
}

// waitLog reads the daemon's log until a line contains s.
func (d *daemonProc) waitLog(t *testing.T, s string) string {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		l, ok := d.nextLog(t, timeout)
		if !ok {
			t.Fatalf("daemon exited before logging %q:\n%s", s, d.logs)
		}
		if strings.Contains(l, s) {
			return l
		}
	}
}

// waitLogCount waits until n lines of the daemon's whole log (from its
// start, whatever waitLog read already) contain s.
func (d *daemonProc) waitLogCount(t *testing.T, s string, n int) {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for i, found := 0, 0; found < n; i++ {
		l, ok := d.logs.line(t, i, timeout)
		if !ok {
			t.Fatalf("daemon exited after logging %q %d times, want %d:\n%s", s, found, n, d.logs)
		}
		if strings.Contains(l, s) {
			found++
		}
	}
}

// waitFiles waits (on file events, not by sleeping) until dir holds n .eml files.
func waitFiles(t *testing.T, dir string, n int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Add(dir); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		ents, _ := os.ReadDir(dir)
		k := 0
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".eml") {
				k++
			}
		}
		return k
	}
	timeout := time.After(60 * time.Second)
	for count() < n {
		select {
		case <-w.Events:
		case err := <-w.Errors:
			t.Fatal(err)
		case <-timeout:
			t.Fatalf("%s holds %d messages, want %d", dir, count(), n)
		}
	}
}

// freeAddr returns a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
	}
	return string(b)
}

func replaceFirstTemplate(cfg, tmpl string) string {
	lines := strings.Split(cfg, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "template = ") {
			lines[i] = fmt.Sprintf("template = %q", tmpl)
			break
		}
	}
	return strings.Join(lines, "\n")
}
