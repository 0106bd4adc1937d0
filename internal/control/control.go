// Package control is the daemon's unix-socket protocol. The CLI sends the
// arguments of a subcommand (status, plan, preview, ingest, ledger, reload)
// to the running daemon, which runs the same subcommand code against its own
// ledger and returns what it printed and its exit code. Only the daemon
// holds the ledger open, so commands work while it runs.
//
// One request per connection: a JSON Request line, then a JSON Response line.
package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// ErrNoDaemon is returned by Call when no daemon answers on the socket.
var ErrNoDaemon = errors.New("no daemon is listening")

// ErrInUse is returned by Listen when a live daemon already answers on the socket.
var ErrInUse = errors.New("control socket is in use by a running daemon")

// Request is one command for the daemon.
type Request struct {
	Args []string `json:"args"`
}

// Response is what the command printed and its exit code.
type Response struct {
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Code   int    `json:"code"`
}

// Handler runs one request.
type Handler func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// Server answers requests on a unix socket.
type Server struct {
	Path    string
	Handler Handler
	Logger  *slog.Logger

	ln      net.Listener
	wg      sync.WaitGroup // requests in flight
	serving sync.WaitGroup // the Serve loop
	mu      sync.Mutex
	closed  bool
	ctx     context.Context
	cancel  context.CancelFunc
}

// Listen creates the socket (mode 0660), replacing a stale one left by a
// crashed daemon but never one a live daemon answers on.
func (s *Server) Listen() error {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if c, err := net.DialTimeout("unix", s.Path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("%w: %s", ErrInUse, s.Path)
	}
	if err := os.Remove(s.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale socket: %w", err)
	}
	old := syscall.Umask(0o117)
	ln, err := net.Listen("unix", s.Path)
	syscall.Umask(old)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.Path, err)
	}
	s.ln = ln
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return nil
}

// Serve accepts connections until Close.
func (s *Server) Serve() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.serving.Add(1)
	s.mu.Unlock()
	defer s.serving.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			conn.Close()
			return
		}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serve(conn)
		}()
	}
}

func (s *Server) serve(conn net.Conn) {
	defer conn.Close()
	var req Request
	if err := json.NewDecoder(bufio.NewReader(conn)).Decode(&req); err != nil {
		s.Logger.Warn("bad control request", "err", err.Error())
		return
	}
	var out, errb limitedBuffer
	code := s.Handler(s.ctx, req.Args, &out, &errb)
	if err := json.NewEncoder(conn).Encode(Response{Stdout: out.String(), Stderr: errb.String(), Code: code}); err != nil {
		s.Logger.Warn("write control response", "err", err.Error())
	}
}

// Close stops accepting, cancels running requests, waits for them and
// removes the socket.
func (s *Server) Close() error {
	if s.ln == nil {
		return nil
	}
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	err := s.ln.Close()
	s.cancel()
	s.serving.Wait()
	s.wg.Wait()
	os.Remove(s.Path)
	return err
}

// Call sends args to the daemon on path and returns its response; it
// returns ErrNoDaemon when nothing listens there.
func Call(ctx context.Context, path string, args []string) (Response, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return Response{}, fmt.Errorf("%w on %s: %v", ErrNoDaemon, path, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if err := json.NewEncoder(conn).Encode(Request{Args: args}); err != nil {
		return Response{}, fmt.Errorf("send request: %w", err)
	}
	var resp Response
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		return Response{}, fmt.Errorf("read daemon response: %w", err)
	}
	return resp, nil
}

// limitedBuffer keeps at most 64 MiB of command output.
type limitedBuffer struct {
	buf []byte
}

const maxOutput = 64 << 20

func (b *limitedBuffer) Write(p []byte) (int, error) {
	room := maxOutput - len(b.buf)
	if room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string { return string(b.buf) }
