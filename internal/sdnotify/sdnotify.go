// Package sdnotify speaks systemd's notify protocol (sd_notify(3)): READY,
// STOPPING, RELOADING, STATUS and WATCHDOG messages on the datagram socket
// named by $NOTIFY_SOCKET. Without that variable every call does nothing, so
// the daemon runs the same outside systemd.
package sdnotify

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

// Messages systemd understands.
const (
	Ready     = "READY=1"
	Stopping  = "STOPPING=1"
	Reloading = "RELOADING=1"
	Watchdog  = "WATCHDOG=1"
)

// Notifier sends notifications to one socket.
type Notifier struct {
	socket string
}

// New returns a notifier for $NOTIFY_SOCKET (a no-op one when it is unset).
func New() *Notifier { return &Notifier{socket: os.Getenv("NOTIFY_SOCKET")} }

// Enabled reports whether systemd is listening.
func (n *Notifier) Enabled() bool { return n.socket != "" }

// Send sends one or more newline-separated assignments.
func (n *Notifier) Send(state string) error {
	if n.socket == "" {
		return nil
	}
	name := n.socket
	if name[0] == '@' {
		name = "\x00" + name[1:] // abstract namespace
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	return nil
}

// WatchdogInterval returns how often systemd wants a WATCHDOG ping, or 0
// when the watchdog is off or meant for another process.
func WatchdogInterval() time.Duration {
	usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return 0
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0
	}
	return time.Duration(usec) * time.Microsecond
}
