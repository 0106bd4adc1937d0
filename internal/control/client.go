package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// Client calls the daemon on the socket at Path.
type Client struct {
	Path string
	// Timeout is the longest the client waits for the daemon to say
	// anything (it sends a progress line every few seconds while a command
	// runs); zero means DefaultTimeout.
	Timeout time.Duration
}

// Call sends args, with files as open descriptors, to the daemon and returns
// its response. It returns an error wrapping ErrNoDaemon when nothing
// listens on the socket, ErrPermission when the caller may not use it,
// ErrTimeout when the daemon stays silent for Timeout, and ctx's error as
// soon as ctx is cancelled. Every error names the socket.
func (c Client) Call(ctx context.Context, args []string, files ...*os.File) (Response, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if len(files) > MaxFiles {
		return Response{}, fmt.Errorf("at most %d files go to the daemon in one request", MaxFiles)
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "unix", c.Path)
	if err != nil {
		return Response{}, c.dialError(ctx, err)
	}
	defer conn.Close()
	uc := conn.(*net.UnixConn)
	// Cancelling ctx wakes whatever read or write is waiting.
	stop := context.AfterFunc(ctx, func() { uc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	resp, err := c.exchange(ctx, uc, timeout, args, files)
	if err != nil && ctx.Err() != nil {
		return Response{}, fmt.Errorf("interrupted while waiting for the daemon on %s: %w", c.Path, ctx.Err())
	}
	return resp, err
}

func (c Client) exchange(ctx context.Context, conn *net.UnixConn, timeout time.Duration, args []string, files []*os.File) (Response, error) {
	// deadline sets the next deadline unless ctx is already cancelled
	// (whose wake-up it would otherwise undo).
	deadline := func() error {
		conn.SetDeadline(time.Now().Add(timeout))
		return ctx.Err()
	}
	if err := deadline(); err != nil {
		return Response{}, err
	}
	if err := c.send(conn, args, files); err != nil {
		return Response{}, c.ioError("send the request", timeout, err)
	}
	dec := json.NewDecoder(conn)
	for {
		if err := deadline(); err != nil {
			return Response{}, err
		}
		var r Response
		if err := dec.Decode(&r); err != nil {
			return Response{}, c.ioError("read the answer", timeout, err)
		}
		if !r.Working {
			return r, nil
		}
	}
}

// send writes the request line with the files' descriptors attached.
func (c Client) send(conn *net.UnixConn, args []string, files []*os.File) error {
	line, err := json.Marshal(Request{Args: args, Files: len(files)})
	if err != nil {
		return err
	}
	line = append(line, '\n')
	if len(line) > MaxRequest {
		return fmt.Errorf("the request is larger than %d bytes", MaxRequest)
	}
	var oob []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		oob = syscall.UnixRights(fds...)
	}
	n, _, err := conn.WriteMsgUnix(line, oob, nil)
	runtime.KeepAlive(files)
	if err == nil && n < len(line) {
		_, err = conn.Write(line[n:])
	}
	return err
}

func (c Client) dialError(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("interrupted while connecting to the daemon on %s: %w", c.Path, ctx.Err())
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("%w on %s: %v", ErrNoDaemon, c.Path, err)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return c.permissionError()
	case errors.Is(err, syscall.EAGAIN), errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%w on %s: it accepts no connection (too busy, or stuck; its log says more)", ErrTimeout, c.Path)
	default:
		return fmt.Errorf("cannot reach the daemon on %s: %w", c.Path, err)
	}
}

// permissionError says what to do about a socket the caller may not use.
func (c Client) permissionError() error {
	group := "its group"
	if fi, err := os.Stat(c.Path); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			group = "group " + strconv.Quote(strconv.FormatUint(uint64(st.Gid), 10))
			if g, err := user.LookupGroupId(strconv.FormatUint(uint64(st.Gid), 10)); err == nil {
				group = "group " + strconv.Quote(g.Name)
			}
		}
	}
	return fmt.Errorf("%w on the control socket %s: to use the running daemon, be root or in the socket's %s "+
		"(sudo usermod -aG GROUP $USER, then log in again)", ErrPermission, c.Path, group)
}

func (c Client) ioError(what string, timeout time.Duration, err error) error {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%w on %s: it said nothing for %s (is it stuck? its log says more)", ErrTimeout, c.Path, timeout)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return fmt.Errorf("the daemon on %s closed the connection without an answer (its log says why)", c.Path)
	default:
		return fmt.Errorf("%s to the daemon on %s: %w", what, c.Path, err)
	}
}
