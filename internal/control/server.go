package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"syscall"
	"time"
)

// Handler runs one request and returns its exit code. It must not keep the
// request's files after it returns.
type Handler func(ctx context.Context, req *Request, stdout, stderr io.Writer) int

// Server answers requests on a unix socket. Set the exported fields, then
// call Listen and Serve.
type Server struct {
	Path    string
	Handler Handler
	Logger  *slog.Logger

	MaxConns       int           // connections served at once; more wait in the kernel's queue
	RequestTimeout time.Duration // how long a client may take to send its request
	WriteTimeout   time.Duration // how long one answer line may take to go out
	Heartbeat      time.Duration // how often a running command says it is working
	CloseWait      time.Duration // how long Close waits for running requests

	ln      *net.UnixListener
	wg      sync.WaitGroup // requests in flight
	serving sync.WaitGroup // the Serve loop
	mu      sync.Mutex
	closed  bool
	ctx     context.Context
	cancel  context.CancelFunc
}

// Listen creates the socket (mode 0660). A socket left by a crashed daemon
// is replaced, one a live daemon answers on is not (ErrInUse), and anything
// else at the path (a file, a folder) is left alone (ErrNotSocket).
func (s *Server) Listen() error {
	s.defaults()
	if err := removeStale(s.Path); err != nil {
		return err
	}
	old := syscall.Umask(0o117)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: s.Path, Net: "unix"})
	syscall.Umask(old)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.Path, err)
	}
	s.ln = ln
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return nil
}

func (s *Server) defaults() {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.MaxConns <= 0 {
		s.MaxConns = DefaultMaxConns
	}
	if s.RequestTimeout <= 0 {
		s.RequestTimeout = DefaultRequestTimeout
	}
	if s.WriteTimeout <= 0 {
		s.WriteTimeout = DefaultWriteTimeout
	}
	if s.Heartbeat <= 0 {
		s.Heartbeat = DefaultHeartbeat
	}
	if s.CloseWait <= 0 {
		s.CloseWait = DefaultCloseWait
	}
}

// removeStale removes a socket at path that no daemon answers on.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%w: %s is %s; campaignd removes only a stale socket there (check control.socket)", ErrNotSocket, path, describeMode(fi.Mode()))
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("%w: %s", ErrInUse, path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	return nil
}

func describeMode(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a folder"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	default:
		return "not a socket"
	}
}

// Serve accepts connections until Close. When accepting fails (the process
// is out of descriptors, say), it backs off and keeps trying.
func (s *Server) Serve() {
	s.mu.Lock()
	if s.closed || s.ln == nil {
		s.mu.Unlock()
		return
	}
	s.serving.Add(1)
	s.mu.Unlock()
	defer s.serving.Done()
	slots := make(chan struct{}, s.MaxConns)
	var delay time.Duration
	for {
		select {
		case slots <- struct{}{}:
		case <-s.ctx.Done():
			return
		}
		conn, err := s.ln.AcceptUnix()
		if err != nil {
			<-slots
			if delay = s.acceptFailed(err, delay); delay < 0 {
				return
			}
			continue
		}
		if delay != 0 {
			s.Logger.Info("control socket accepts connections again", "socket", s.Path)
			delay = 0
		}
		if !s.track() {
			conn.Close()
			return
		}
		go func() {
			defer s.wg.Done()
			defer func() { <-slots }()
			s.serve(conn)
		}()
	}
}

// acceptFailed backs off after a failed accept (the process is out of
// descriptors, say): it logs the first failure of a run, waits, and returns
// the next delay, or -1 when the server is closing.
func (s *Server) acceptFailed(err error, delay time.Duration) time.Duration {
	if errors.Is(err, net.ErrClosed) || s.ctx.Err() != nil {
		return -1
	}
	if delay == 0 {
		s.Logger.Error("control socket cannot accept connections; retrying", "socket", s.Path, "err", err.Error())
	}
	delay = min(max(2*delay, 5*time.Millisecond), time.Second)
	if !s.sleep(delay) {
		return -1
	}
	return delay
}

// track counts a request in flight, unless the server is closing.
func (s *Server) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// sleep waits d, or returns false when the server closes first.
func (s *Server) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

func (s *Server) serve(conn *net.UnixConn) {
	defer conn.Close()
	req, err := readRequest(conn, time.Now().Add(s.RequestTimeout))
	defer req.closeFiles()
	if err == nil {
		req.Peer, err = peerOf(conn)
	}
	if err != nil {
		s.Logger.Warn("control request refused", "err", err.Error())
		s.write(conn, Response{Stderr: "campaignd: request refused: " + err.Error() + "\n", Code: 2})
		return
	}
	s.answer(conn, req)
}

// readRequest reads one request line and the descriptors sent with it. It
// reads at most MaxRequest bytes, and gives up at deadline.
func readRequest(conn *net.UnixConn, deadline time.Time) (*Request, error) {
	req := &Request{}
	conn.SetReadDeadline(deadline)
	defer conn.SetReadDeadline(time.Time{})
	buf, err := readLine(conn, req)
	if err != nil {
		return req, err
	}
	files := req.FileList
	if err := json.Unmarshal(buf, req); err != nil {
		return req, fmt.Errorf("bad request: %w", err)
	}
	req.FileList = files
	if req.Files != len(files) {
		return req, fmt.Errorf("the request announces %d files but carries %d", req.Files, len(files))
	}
	return req, nil
}

// readLine reads up to the first newline, at most MaxRequest bytes, and
// puts the descriptors that came with it into req.FileList.
func readLine(conn *net.UnixConn, req *Request) ([]byte, error) {
	var buf []byte
	chunk := make([]byte, 4096)
	oob := make([]byte, syscall.CmsgSpace(4*MaxFiles))
	for {
		n, oobn, flags, _, err := conn.ReadMsgUnix(chunk, oob)
		n, oobn = max(n, 0), max(oobn, 0)
		req.FileList = append(req.FileList, rights(oob[:oobn])...)
		if flags&syscall.MSG_CTRUNC != 0 || len(req.FileList) > MaxFiles {
			return nil, fmt.Errorf("more than %d files in one request", MaxFiles)
		}
		buf = append(buf, chunk[:n]...)
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			if i > MaxRequest {
				return nil, fmt.Errorf("request larger than %d bytes", MaxRequest)
			}
			return buf[:i], nil
		}
		switch {
		case len(buf) > MaxRequest:
			return nil, fmt.Errorf("request larger than %d bytes", MaxRequest)
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil, errors.New("no request within the time allowed")
		case errors.Is(err, io.EOF) || (err == nil && n == 0):
			return nil, errors.New("connection closed before a whole request")
		case err != nil:
			return nil, fmt.Errorf("read request: %w", err)
		}
	}
}

// rights returns the descriptors passed in a control message as files.
func rights(oob []byte) []*os.File {
	if len(oob) == 0 {
		return nil
	}
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var files []*os.File
	for i := range msgs {
		fds, err := syscall.ParseUnixRights(&msgs[i])
		if err != nil {
			continue // not SCM_RIGHTS
		}
		for _, fd := range fds {
			files = append(files, os.NewFile(uintptr(fd), "descriptor from the control socket"))
		}
	}
	return files
}

func (r *Request) closeFiles() {
	for _, f := range r.FileList {
		f.Close()
	}
}

// answer runs the handler, sending a progress line every Heartbeat while it
// runs, then its response. A client that went away does not stop the
// command: it runs to its end, and its answer is dropped.
func (s *Server) answer(conn *net.UnixConn, req *Request) {
	var out, errb limitedBuffer
	done := make(chan int, 1)
	go func() { done <- s.run(req, &out, &errb) }()
	tick := time.NewTicker(s.Heartbeat)
	defer tick.Stop()
	alive := true
	for {
		select {
		case code := <-done:
			stderr := errb.String()
			if out.cut || errb.cut {
				stderr += fmt.Sprintf("campaignd: the output was cut at %d MiB\n", maxOutput>>20)
				code = max(code, 1)
			}
			if alive {
				s.write(conn, Response{Stdout: out.String(), Stderr: stderr, Code: code})
			}
			return
		case <-tick.C:
			alive = alive && s.write(conn, Response{Working: true}) == nil
		}
	}
}

// run calls the handler; a panic is logged and answered as an internal
// error instead of taking the daemon down.
func (s *Server) run(req *Request, stdout, stderr io.Writer) (code int) {
	defer func() {
		if v := recover(); v != nil {
			s.Logger.Error("control request panicked", "args", fmt.Sprint(req.Args), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			fmt.Fprintln(stderr, "campaignd: internal error in the daemon (its log has the details)")
			code = 1
		}
	}()
	return s.Handler(s.ctx, req, stdout, stderr)
}

func (s *Server) write(conn *net.UnixConn, r Response) error {
	conn.SetWriteDeadline(time.Now().Add(s.WriteTimeout))
	err := json.NewEncoder(conn).Encode(r)
	if err != nil {
		s.Logger.Warn("write control response", "err", err.Error())
	}
	return err
}

// Close stops accepting, cancels running requests, waits for them (at most
// CloseWait: a request stuck on a client's file, on a filesystem that does
// not answer, must not hold the daemon's shutdown) and removes the socket.
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
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(s.CloseWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		s.Logger.Error("control requests still running at shutdown; not waiting for them", "waited", s.CloseWait.String())
	}
	os.Remove(s.Path)
	return err
}

// limitedBuffer keeps at most maxOutput bytes of command output, and says
// whether it had to cut.
type limitedBuffer struct {
	buf []byte
	cut bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	room := maxOutput - len(b.buf)
	if room < len(p) {
		b.cut = true
	}
	if room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string { return string(b.buf) }
