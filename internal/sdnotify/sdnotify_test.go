package sdnotify_test

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"campaignd/internal/sdnotify"
)

func TestSendReachesSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	n := sdnotify.New()
	if !n.Enabled() {
		t.Fatal("notifier not enabled with NOTIFY_SOCKET set")
	}
	if err := n.Send(sdnotify.Ready); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	k, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(buf[:k]); got != "READY=1" {
		t.Fatalf("socket got %q", got)
	}
}

func TestDisabledWithoutSocket(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if err := sdnotify.New().Send(sdnotify.Ready); err != nil {
		t.Fatalf("Send without a socket = %v, want nil", err)
	}
}

func TestWatchdogInterval(t *testing.T) {
	t.Setenv("WATCHDOG_USEC", "30000000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	if got := sdnotify.WatchdogInterval(); got != 30*time.Second {
		t.Fatalf("interval = %v", got)
	}
	t.Setenv("WATCHDOG_PID", "1")
	if got := sdnotify.WatchdogInterval(); got != 0 {
		t.Fatalf("interval for another pid = %v, want 0", got)
	}
}
