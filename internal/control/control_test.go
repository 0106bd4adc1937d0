package control_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"campaignd/internal/control"
)

// serve starts a server on a new socket with handler h; opts adjust it
// before Listen.
func serve(t *testing.T, h control.Handler, opts ...func(*control.Server)) *control.Server {
	t.Helper()
	srv := &control.Server{Path: filepath.Join(t.TempDir(), "c.sock"), Handler: h}
	for _, o := range opts {
		o(srv)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() { srv.Close() })
	return srv
}

func TestCallRoundTrip(t *testing.T) {
	var peer control.Peer
	srv := serve(t, func(ctx context.Context, req *control.Request, stdout, stderr io.Writer) int {
		peer = req.Peer
		fmt.Fprintf(stdout, "got %s", strings.Join(req.Args, ","))
		fmt.Fprint(stderr, "warn")
		return 3
	})
	resp, err := control.Client{Path: srv.Path}.Call(context.Background(), []string{"status", "--json"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Stdout != "got status,--json" || resp.Stderr != "warn" || resp.Code != 3 {
		t.Fatalf("resp = %+v", resp)
	}
	if peer.UID != uint32(os.Getuid()) || peer.PID != int32(os.Getpid()) {
		t.Fatalf("peer = %+v, want uid %d pid %d (from the socket, not the request)", peer, os.Getuid(), os.Getpid())
	}
	if w := control.Who(0); w != "uid 0 (root)" {
		t.Errorf("Who(0) = %q", w)
	}

	second := &control.Server{Path: srv.Path, Handler: srv.Handler}
	if err := second.Listen(); !errors.Is(err, control.ErrInUse) {
		t.Fatalf("second Listen = %v, want ErrInUse", err)
	}
}

func TestCallNoDaemon(t *testing.T) {
	_, err := control.Client{Path: filepath.Join(t.TempDir(), "none.sock")}.Call(context.Background(), []string{"status"})
	if !errors.Is(err, control.ErrNoDaemon) {
		t.Fatalf("err = %v, want ErrNoDaemon", err)
	}
}

// TestFilesTravelAsDescriptors: the handler reads the caller's file through
// the descriptor it passed, and can write into a file the caller created;
// no path goes over the socket.
func TestFilesTravelAsDescriptors(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "orders.txt")
	if err := os.WriteFile(src, []byte("report bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := serve(t, func(ctx context.Context, req *control.Request, stdout, stderr io.Writer) int {
		if len(req.FileList) != 2 {
			fmt.Fprintf(stderr, "%d files", len(req.FileList))
			return 2
		}
		b, err := io.ReadAll(req.FileList[0])
		if err != nil {
			fmt.Fprint(stderr, err)
			return 1
		}
		fmt.Fprintf(req.FileList[1], "copy of %s", b)
		fmt.Fprintf(stdout, "read %q", b)
		return 0
	})
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	resp, err := control.Client{Path: srv.Path}.Call(context.Background(), []string{"ingest", "--", "orders.txt"}, in, out)
	if err != nil || resp.Code != 0 || resp.Stdout != `read "report bytes"` {
		t.Fatalf("resp = %+v, %v", resp, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "out")); string(b) != "copy of report bytes" {
		t.Fatalf("written through the descriptor: %q", b)
	}
}

// TestListenLeavesNonSocket: something that is not a socket at the socket's
// path (here a file standing for the ledger) is never removed.
func TestListenLeavesNonSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "campaignd.db")
	if err := os.WriteFile(path, []byte("the ledger"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := &control.Server{Path: path, Handler: func(context.Context, *control.Request, io.Writer, io.Writer) int { return 0 }}
	err := srv.Listen()
	if err == nil {
		srv.Close()
	}
	if b, rerr := os.ReadFile(path); rerr != nil || string(b) != "the ledger" {
		t.Fatalf("the file at the socket's path was removed or changed: %q, %v", b, rerr)
	}
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Listen = %v, want an error naming %s", err, path)
	}
}

// TestListenReplacesStaleSocket: a socket no daemon answers on is replaced.
func TestListenReplacesStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close() // a crashed daemon's socket: the file stays, nobody listens
	srv := serve(t, func(ctx context.Context, req *control.Request, stdout, stderr io.Writer) int { return 0 },
		func(s *control.Server) { s.Path = path })
	if _, err := (control.Client{Path: srv.Path}).Call(context.Background(), []string{"status"}); err != nil {
		t.Fatal(err)
	}
}

// rawRequest connects to path and writes b; it returns the connection.
func rawRequest(t *testing.T, path string, b []byte) *net.UnixConn {
	t.Helper()
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if len(b) > 0 {
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// TestRequestSizeCapped: a client sending an endless request is cut off
// after MaxRequest bytes with an answer, instead of growing the daemon.
func TestRequestSizeCapped(t *testing.T) {
	srv := serve(t, func(context.Context, *control.Request, io.Writer, io.Writer) int { return 0 })
	c := rawRequest(t, srv.Path, nil)
	// Write 64 MiB of one JSON string; the server must stop reading long before.
	chunk := []byte(`{"args":["` + strings.Repeat("a", 1<<20))
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	var werr error
	sent := 0
	for sent < 64<<20 && werr == nil {
		var n int
		n, werr = c.Write(chunk)
		sent += n
		chunk = chunk[len(chunk)-1<<20:]
	}
	if werr == nil {
		t.Fatalf("the server read all %d MiB of one request", sent>>20)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var resp control.Response
	if err := json.NewDecoder(c).Decode(&resp); err == nil && (resp.Code != 2 || !strings.Contains(resp.Stderr, "larger than")) {
		t.Fatalf("answer to an oversized request: %+v", resp)
	}
}

// TestIdleClientTimedOut: a client that connects and says nothing is
// disconnected after RequestTimeout.
func TestIdleClientTimedOut(t *testing.T) {
	srv := serve(t, func(context.Context, *control.Request, io.Writer, io.Writer) int { return 0 },
		func(s *control.Server) { s.RequestTimeout = 100 * time.Millisecond })
	c := rawRequest(t, srv.Path, nil)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("an idle client kept its connection for 10 s")
	}
	if !strings.Contains(line, "no request within") {
		t.Fatalf("answer to an idle client: %q, %v", line, err)
	}
}

// TestConcurrentConnectionsCapped: at most MaxConns connections are served
// at once; the next one is served as soon as one ends.
func TestConcurrentConnectionsCapped(t *testing.T) {
	srv := serve(t, func(context.Context, *control.Request, io.Writer, io.Writer) int { return 0 },
		func(s *control.Server) { s.MaxConns = 2; s.RequestTimeout = time.Minute })
	idle := []*net.UnixConn{rawRequest(t, srv.Path, nil), rawRequest(t, srv.Path, nil)}
	short := control.Client{Path: srv.Path, Timeout: 300 * time.Millisecond}
	if _, err := short.Call(context.Background(), []string{"status"}); !errors.Is(err, control.ErrTimeout) {
		t.Fatalf("third connection while two are open: %v, want ErrTimeout", err)
	}
	idle[0].Close()
	if _, err := (control.Client{Path: srv.Path, Timeout: 10 * time.Second}).Call(context.Background(), []string{"status"}); err != nil {
		t.Fatalf("after one idle connection closed: %v", err)
	}
}

// TestClientTimeout: a daemon that accepts but never answers makes Call
// fail after Timeout, naming the socket.
func TestClientTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stuck.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // accepted, never answered
		}
	}()
	start := time.Now()
	_, err = control.Client{Path: path, Timeout: 200 * time.Millisecond}.Call(context.Background(), []string{"status"})
	if !errors.Is(err, control.ErrTimeout) || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want ErrTimeout naming %s", err, path)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Call took %v", d)
	}

	// Cancelling the context ends the call at once, whatever the timeout.
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := control.Client{Path: path, Timeout: time.Hour}.Call(ctx, []string{"status"})
		errc <- err
	}()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Call did not return after its context was cancelled")
	}
}

// TestHeartbeatKeepsLongCommandAlive: a command that runs longer than the
// client's Timeout is not cut off while the daemon says it is working.
func TestHeartbeatKeepsLongCommandAlive(t *testing.T) {
	t.Parallel()
	// The command works twice the client's timeout; heartbeats every 10 ms
	// leave a loaded machine a second to deliver one.
	srv := serve(t, func(ctx context.Context, req *control.Request, stdout, stderr io.Writer) int {
		<-time.After(2 * time.Second) // the command's own work
		fmt.Fprint(stdout, "done")
		return 0
	}, func(s *control.Server) { s.Heartbeat = 10 * time.Millisecond })
	resp, err := control.Client{Path: srv.Path, Timeout: time.Second}.Call(context.Background(), []string{"ingest"})
	if err != nil || resp.Stdout != "done" {
		t.Fatalf("resp = %+v, %v", resp, err)
	}
}

// TestHandlerPanicIsAnswered: a panic in a command is an error answer, and
// the server keeps serving.
func TestHandlerPanicIsAnswered(t *testing.T) {
	srv := serve(t, func(ctx context.Context, req *control.Request, stdout, stderr io.Writer) int {
		if req.Args[0] == "boom" {
			panic("truncated ledger")
		}
		return 0
	})
	c := control.Client{Path: srv.Path}
	if resp, err := c.Call(context.Background(), []string{"boom"}); err != nil || resp.Code != 1 || !strings.Contains(resp.Stderr, "internal error") {
		t.Fatalf("resp = %+v, %v", resp, err)
	}
	if resp, err := c.Call(context.Background(), []string{"status"}); err != nil || resp.Code != 0 {
		t.Fatalf("after a panic: %+v, %v", resp, err)
	}
}

// TestRequestFileCountChecked: a request must carry the descriptors it
// announces.
func TestRequestFileCountChecked(t *testing.T) {
	called := false
	srv := serve(t, func(context.Context, *control.Request, io.Writer, io.Writer) int { called = true; return 0 })
	c := rawRequest(t, srv.Path, []byte(`{"args":["ingest","--","/etc/shadow"],"files":1}`+"\n"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var resp control.Response
	if err := json.NewDecoder(c).Decode(&resp); err != nil || resp.Code != 2 || called {
		t.Fatalf("resp = %+v, %v, handler called %v", resp, err, called)
	}
}

// TestCloseDoesNotWaitForeverOnAStuckRequest: a request stuck on a client's
// file (a filesystem that never answers) does not hold the daemon's
// shutdown beyond CloseWait; Close still removes the socket.
func TestCloseDoesNotWaitForeverOnAStuckRequest(t *testing.T) {
	stuck := make(chan struct{})
	defer close(stuck)
	started := make(chan struct{})
	srv := &control.Server{Path: filepath.Join(t.TempDir(), "c.sock"), CloseWait: 100 * time.Millisecond,
		Handler: func(ctx context.Context, req *control.Request, stdout, stderr io.Writer) int {
			close(started)
			<-stuck // ignores ctx, as a read from a hung filesystem would
			return 0
		}}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	go control.Client{Path: srv.Path, Timeout: time.Minute}.Call(context.Background(), []string{"ingest"})
	<-started
	closed := make(chan struct{})
	go func() {
		srv.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waits for a stuck request")
	}
	if _, err := os.Stat(srv.Path); !os.IsNotExist(err) {
		t.Fatalf("socket left behind: %v", err)
	}
}
