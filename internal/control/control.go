// Package control is the daemon's unix-socket protocol. The CLI sends the
// arguments of a subcommand (status, plan, preview, ingest, ledger, reload,
// fetch) to the running daemon, which runs the same subcommand code against
// its own ledger and returns what it printed and its exit code. Only the
// daemon holds the ledger open, so commands work while it runs.
//
// The socket is a trust boundary: the daemon runs with rights its callers
// may not have. So the daemon never opens a path on a caller's behalf. A
// file travels as an open descriptor that the caller opened with its own
// rights (SCM_RIGHTS: the report for `ingest`, the new file for `ledger
// backup`), and the caller's uid, read from the socket itself
// (SO_PEERCRED), names it in the audit trail.
//
// One request per connection. The client sends one JSON Request line, with
// the descriptors attached to it; the daemon answers with progress lines
// ({"working":true}) every Heartbeat while the command runs, then one
// Response line with what the command printed and its exit code. The server
// caps a request's size and its descriptors, times out a client that does
// not send its request, serves a bounded number of connections at once, and
// keeps accepting (with backoff) when the process runs out of descriptors.
// The client gives up when the daemon stays silent for its Timeout, and at
// once when its context is cancelled.
package control

import (
	"errors"
	"os"
	"time"
)

// Limits of one request.
const (
	// MaxRequest is the largest request line the server reads, in bytes.
	MaxRequest = 64 << 10
	// MaxFiles is the most descriptors one request may carry.
	MaxFiles = 16
	// maxOutput caps what a command's output keeps, per stream.
	maxOutput = 64 << 20
)

// Defaults for the zero fields of Server and Client.
const (
	DefaultMaxConns       = 8
	DefaultRequestTimeout = 5 * time.Second
	DefaultWriteTimeout   = 30 * time.Second
	DefaultHeartbeat      = 2 * time.Second
	DefaultTimeout        = 30 * time.Second
	DefaultCloseWait      = 5 * time.Second
)

// ErrNoDaemon is returned by Call when no daemon listens on the socket.
var ErrNoDaemon = errors.New("no daemon is listening")

// ErrInUse is returned by Listen when a live daemon already answers on the socket.
var ErrInUse = errors.New("control socket is in use by a running daemon")

// ErrNotSocket is returned by Listen when something other than a socket
// (a file, a folder) is at the socket's path: it is never removed.
var ErrNotSocket = errors.New("not a socket")

// ErrPermission is returned by Call when the caller may not connect to the
// socket (it is not in the socket's group).
var ErrPermission = errors.New("permission denied")

// ErrTimeout is returned by Call when the daemon stays silent for the
// client's Timeout.
var ErrTimeout = errors.New("no answer from the daemon")

// Request is one command for the daemon. On the wire it is a JSON line with
// Files descriptors attached; the server fills in FileList and Peer.
type Request struct {
	Args  []string `json:"args"`
	Files int      `json:"files,omitempty"`

	// FileList holds the descriptors that came with the request, in order.
	// The server closes them once the handler returns.
	FileList []*os.File `json:"-"`
	// Peer is the process at the other end of the socket.
	Peer Peer `json:"-"`
}

// Response is one line from the daemon: a progress line (Working) while the
// command runs, then what the command printed and its exit code.
type Response struct {
	Working bool   `json:"working,omitempty"`
	Stdout  string `json:"stdout,omitempty"`
	Stderr  string `json:"stderr,omitempty"`
	Code    int    `json:"code"`
}
