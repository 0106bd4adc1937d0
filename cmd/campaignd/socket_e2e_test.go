package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// nobody is the unprivileged user the tests run clients (or the daemon) as.
const nobody = 65534

// rootOnly skips a test that must switch users.
func rootOnly(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root to run processes as another user")
	}
}

// asUser makes cmd (the binary) run as uid (and its primary group, gid =
// uid here). The binary's folder is opened to every user so that uid can
// run it.
func asUser(t *testing.T, cmd *exec.Cmd, uid uint32) *exec.Cmd {
	t.Helper()
	if err := os.Chmod(filepath.Dir(campaigndBinary(t)), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	return cmd
}

// openUp lets other users traverse dir and every folder above it up to the
// system's temporary folder (t.TempDir makes them 0700).
func openUp(t *testing.T, dir string) {
	t.Helper()
	tmp := filepath.Clean(os.TempDir())
	for d := filepath.Clean(dir); strings.HasPrefix(d, tmp+string(filepath.Separator)); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// rawResponse is the daemon's answer as any version of the protocol sends it.
type rawResponse struct {
	Working bool   `json:"working"`
	Stdout  string `json:"stdout"`
	Stderr  string `json:"stderr"`
	Code    int    `json:"code"`
}

// rawCall sends one request line on the socket, as a hostile client would
// (no descriptors), and returns the daemon's final answer.
func rawCall(t *testing.T, sock, line string) rawResponse {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := c.Write([]byte(line + "\n")); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(c)
	for {
		var r rawResponse
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("request %s: %v", line, err)
		}
		if !r.Working {
			return r
		}
	}
}

// TestSocketNeverOpensPathsForClients: a client of the control socket cannot
// make the daemon read, write or move a path with the daemon's rights: not
// through lint, ledger backup, ingest or --config.
func TestSocketNeverOpensPathsForClients(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	sock := filepath.Join(dir, "var", "campaignd.sock")
	private := filepath.Join(dir, "private")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	secret := writeFile(t, filepath.Join(private, "secret.tmpl"), "TOPSECRET first line\n\nmore\n")
	report := writeFile(t, filepath.Join(private, "orders.txt"), allOrdersHeader+
		line("111-0000001-0000001", "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Bottle", "Shipped"))
	otherCfg := testConfig(t, private, "")
	startDaemon(t, cfg)

	for _, tt := range []struct {
		name string
		args []string
	}{
		{"lint reads a file", []string{"lint", secret}},
		{"lint with a config", []string{"lint", "--config", otherCfg}},
		{"backup writes a file", []string{"ledger", "backup", "--", filepath.Join(private, "copy.db")}},
		{"ingest moves a file", []string{"ingest", "--", report}},
		{"status with another config", []string{"status", "--config", otherCfg}},
		{"run", []string{"run", "--once", "--config", otherCfg}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := json.Marshal(map[string]any{"args": tt.args})
			r := rawCall(t, sock, string(req))
			if r.Code == 0 {
				t.Errorf("the daemon served %v: %s%s", tt.args, r.Stdout, r.Stderr)
			}
			if strings.Contains(r.Stdout+r.Stderr, "TOPSECRET") {
				t.Errorf("the daemon showed a private file's content: %s%s", r.Stdout, r.Stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(private, "copy.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the daemon wrote a backup where the client named: %v", err)
	}
	if b, err := os.ReadFile(report); err != nil || !strings.Contains(string(b), "111-0000001-0000001") {
		t.Errorf("the daemon moved or changed the client's report: %v", err)
	}
	if st := status(t, cfg); st.Orders["total"] != 0 {
		t.Errorf("the daemon ingested a path a client named: %v", st.Orders)
	}
}

// TestSocketAuditNamesTheCaller: a correction made through the daemon by an
// unprivileged user (running the binary) is audited with that user's uid
// and name, read from the socket (the client cannot claim it).
func TestSocketAuditNamesTheCaller(t *testing.T) {
	rootOnly(t)
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	openUp(t, dir)
	if err := os.Chmod(cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	startDaemon(t, cfg)
	openUp(t, filepath.Join(dir, "var"))
	if err := os.Chmod(filepath.Join(dir, "var", "campaignd.sock"), 0o666); err != nil {
		t.Fatal(err)
	}
	r := runProcess(t, asUser(t, exec.Command(campaigndBinary(t), "ledger", "exclude", "111-0000009-0000009", "--note", "buyer asked", "--config", cfg), nobody))
	if r.code != 0 {
		t.Fatalf("exclude as nobody: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	show := cli(t, "ledger", "show", "111-0000009-0000009", "--config", cfg)
	if !strings.Contains(show.stdout, "operator uid 65534 (nobody)") {
		t.Fatalf("the audit event does not name the caller:\n%s%s", show.stdout, show.stderr)
	}
}

// TestPermissionDeniedOnSocket: a user (running the binary) who may not use
// the socket is told so, with what to do, instead of "no daemon answers".
func TestPermissionDeniedOnSocket(t *testing.T) {
	rootOnly(t)
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	openUp(t, dir)
	if err := os.Chmod(cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	startDaemon(t, cfg)
	openUp(t, filepath.Join(dir, "var"))
	sock := filepath.Join(dir, "var", "campaignd.sock")
	for _, args := range [][]string{{"reload"}, {"status"}} {
		r := runProcess(t, asUser(t, exec.Command(campaigndBinary(t), append(args, "--config", cfg)...), nobody))
		if r.code != 1 || !strings.Contains(r.stderr, "permission denied") || !strings.Contains(r.stderr, sock) ||
			!strings.Contains(r.stderr, `group "root"`) {
			t.Errorf("%s as a user outside the socket's group: exit %d\n%s%s", args[0], r.code, r.stdout, r.stderr)
		}
	}
}

// silentDaemon listens on sock, accepts, and never answers. Each accepted
// connection is reported on the returned channel.
func silentDaemon(t *testing.T, sock string) <-chan struct{} {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(sock), 0o750); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{}, 10)
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			accepted <- struct{}{}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return accepted
}

// TestCLIGivesUpOnASilentDaemon: a daemon that accepts but never answers
// gets a clear error naming the socket once control.timeout has passed.
func TestCLIGivesUpOnASilentDaemon(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	b, _ := os.ReadFile(cfg)
	writeFile(t, cfg, strings.Replace(string(b), "[control]\n", "[control]\ntimeout = \"1s\"\n", 1))
	sock := filepath.Join(dir, "var", "campaignd.sock")
	silentDaemon(t, sock)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	r := cliCtx(t, ctx, "status", "--config", cfg)
	if ctx.Err() != nil {
		t.Fatal("status still waits for a daemon that does not answer after 30 s")
	}
	if r.code != 1 || !strings.Contains(r.stderr, sock) || !strings.Contains(r.stderr, "said nothing for 1s") {
		t.Fatalf("exit %d after %v\n%s%s", r.code, time.Since(start), r.stdout, r.stderr)
	}
}

// TestCLIStopsOnTheFirstSignal: SIGTERM (or ^C) ends a command (the binary)
// that waits for the daemon at once, not only the second one.
func TestCLIStopsOnTheFirstSignal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	accepted := silentDaemon(t, filepath.Join(dir, "var", "campaignd.sock"))
	var errb bytes.Buffer
	cmd := exec.Command(campaigndBinary(t), "status", "--config", cfg)
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	select {
	case <-accepted:
	case <-time.After(30 * time.Second):
		t.Fatal("status never connected")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(errb.String(), "interrupted") {
			t.Fatalf("after SIGTERM: %v\n%s", err, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("status ignored the first SIGTERM")
	}
}

// openFDs counts the descriptors process pid has open.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestSocketSurvivesRunningOutOfDescriptors: when the daemon (the binary,
// whose limit is lowered) runs out of file descriptors, its socket keeps
// accepting once descriptors are free again, and status answers.
func TestSocketSurvivesRunningOutOfDescriptors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	d := startDaemonBinary(t, cfg)
	pid := d.pid()
	limit := uint64(openFDs(t, pid) + 4)
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: limit, Max: limit}, nil); err != nil {
		t.Skipf("cannot lower the daemon's descriptor limit: %v", err)
	}
	sock := filepath.Join(dir, "var", "campaignd.sock")
	var flood []net.Conn
	for range 40 {
		c, err := net.Dial("unix", sock)
		if err != nil {
			break // the daemon's queue is full
		}
		flood = append(flood, c)
	}
	// Wait until the daemon holds every descriptor it may (the flood made
	// accepting fail).
	deadline := time.Now().Add(30 * time.Second)
	for uint64(openFDs(t, pid)) < limit {
		if time.Now().After(deadline) {
			t.Fatalf("the daemon holds %d descriptors of %d after %d connections", openFDs(t, pid), limit, len(flood))
		}
		time.Sleep(10 * time.Millisecond) // polling a real process, with a deadline
	}
	for _, c := range flood {
		c.Close()
	}
	// The daemon frees the flood's descriptors as it finds each connection
	// closed (those still queued, once it can accept them): until then a
	// status may find none left to read the inbox with. Ask until it
	// answers, with a deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var r result
	for tries := 1; ; tries++ {
		r = runProcess(t, exec.CommandContext(ctx, campaigndBinary(t), "status", "--json", "--config", cfg))
		if r.code == 0 || ctx.Err() != nil {
			t.Logf("status answered at try %d", tries)
			break
		}
		time.Sleep(50 * time.Millisecond) // polling a real process, with a deadline
	}
	if ctx.Err() != nil || r.code != 0 || !strings.Contains(r.stdout, `"pid": `+strconv.Itoa(pid)) {
		t.Fatalf("status after the daemon ran out of descriptors: exit %d, %v\n%s%s", r.code, ctx.Err(), r.stdout, r.stderr)
	}
	d.waitLog(t, "control socket cannot accept connections") // the fault did happen
}

// rss is the resident memory of process pid, in bytes.
func rss(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// TestOversizedRequestIsCut: a client sending hundreds of megabytes of JSON
// is cut off after a small limit, and the daemon (the binary, whose memory
// is measured) does not grow.
func TestOversizedRequestIsCut(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	d := startDaemonBinary(t, cfg)
	before := rss(t, d.pid())
	c, err := net.Dial("unix", filepath.Join(dir, "var", "campaignd.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	chunk := []byte(`{"args":["` + strings.Repeat("a", 1<<20))
	sent := 0
	for ; sent < 200<<20; sent += len(chunk) {
		if _, err := c.Write(chunk); err != nil {
			break
		}
		chunk = chunk[len(chunk)-1<<20:]
	}
	if sent >= 200<<20 {
		t.Fatalf("the daemon read a %d MiB request", sent>>20)
	}
	grown := rss(t, d.pid()) - before
	if grown > 32<<20 {
		t.Fatalf("the daemon grew by %d MiB reading a request", grown>>20)
	}
	t.Logf("the daemon cut the request after %d MiB were sent; its RSS grew by %d KiB", sent>>20, grown>>10)
	if st := status(t, cfg); st.Daemon == nil {
		t.Fatal("the daemon stopped answering")
	}
}

// TestSocketPathHoldingAFile: a file (here the ledger itself) at the
// socket's path is never removed: a config naming the ledger is refused
// before anything starts, and any other file stops the start with its path.
func TestSocketPathHoldingAFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	ledgerPath := filepath.Join(dir, "var", "campaignd.db")
	// Create the ledger with some history.
	writeFile(t, filepath.Join(dir, "drop", "o.txt"), allOrdersHeader+
		line("111-0000001-0000001", "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Bottle", "Shipped"))
	if r := cli(t, "ingest", filepath.Join(dir, "drop", "o.txt"), "--config", cfg); r.code != 0 {
		t.Fatalf("ingest: %s%s", r.stdout, r.stderr)
	}
	orig, _ := os.ReadFile(cfg)

	writeFile(t, cfg, strings.Replace(string(orig), `socket = "var/campaignd.sock"`, `socket = "var/campaignd.db"`, 1))
	// A daemon that started anyway would run until the deadline, then exit 0.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r := cliCtx(t, ctx, "run", "--config", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, "control.socket") || !strings.Contains(r.stderr, "ledger.path") {
		t.Errorf("socket = the ledger: exit %d\n%s", r.code, r.stderr)
	}
	if fi, err := os.Stat(ledgerPath); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("the ledger is gone or replaced: %v", err)
	}

	notes := writeFile(t, filepath.Join(dir, "var", "notes.txt"), "keep me\n")
	writeFile(t, cfg, strings.Replace(string(orig), `socket = "var/campaignd.sock"`, `socket = "var/notes.txt"`, 1))
	r = cliCtx(t, ctx, "run", "--config", cfg)
	if r.code == 0 || !strings.Contains(r.stderr, notes) || !strings.Contains(r.stderr, "not a socket") {
		t.Errorf("socket = a file: exit %d\n%s", r.code, r.stderr)
	}
	if b, err := os.ReadFile(notes); err != nil || string(b) != "keep me\n" {
		t.Fatalf("the file at the socket's path was removed: %v", err)
	}
	if st := status(t, cfg); st.Orders["total"] != 1 {
		t.Fatalf("the ledger lost its orders: %v", st.Orders)
	}
}
