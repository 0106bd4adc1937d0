package main_test

import (
	"bufio"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// unitStopTimeout is TimeoutStopSec in systemd/campaignd.service: systemd
// kills the daemon if it has not stopped by then.
const unitStopTimeout = 30 * time.Second

// TestStopDuringStalledSend sends SIGTERM to the daemon while its SMTP peer
// has stopped answering in the middle of a send. The daemon must stop in
// order, well within the unit's TimeoutStopSec: take no new work, cancel the
// send in flight, record its outcome, then close the ledger, and exit 0.
// Stalled before the message went (at RCPT), the order goes back to
// scheduled at once; stalled after the final "." (the server holds the
// message but never answers), the send gets a grace period, then the order
// is in doubt.
func TestStopDuringStalledSend(t *testing.T) {
	tests := []struct {
		mode, step, want string
		within           time.Duration
	}{
		{"run", "rcpt", "scheduled", 5 * time.Second},
		{"run", "end", "in_doubt", unitStopTimeout - 5*time.Second},
		{"once", "rcpt", "scheduled", 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.mode+" "+tt.step, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			r := &relay{stallAt: tt.step}
			cfg := smtpConfig(t, dir, startRelay(t, r), "")
			ids := ingestShipments(t, dir, cfg, r, 3)
			d := startProc(t, cfg, tt.mode)
			order := <-r.stalled
			d.cmd.Process.Signal(syscall.SIGTERM)
			start := time.Now()
			exit := make(chan error, 1)
			go func() { exit <- d.cmd.Wait() }()
			var logs []string
			for l := range d.logs {
				logs = append(logs, l)
			}
			took := time.Since(start)
			if err := <-exit; err != nil {
				t.Fatalf("daemon exit: %v\n%s", err, strings.Join(logs, "\n"))
			}
			if took > tt.within {
				t.Errorf("the daemon took %s to stop, want less than %s", took.Round(time.Millisecond), tt.within)
			}
			for _, l := range logs {
				if strings.Contains(l, "database not open") || strings.Contains(l, "level=ERROR") {
					t.Errorf("error while stopping: %s", l)
				}
			}
			// In order: stop taking work, record the outcome, close.
			last := map[string]string{"run": "msg=stopped", "once": `msg="pass done"`}[tt.mode]
			if i, j, k := logIndex(logs, "stopping: no new work"), logIndex(logs, "order="+order), logIndex(logs, last); i < 0 || j < i || k < j {
				t.Errorf("stop sequence out of order (stopping %d, outcome %d, stopped %d):\n%s", i, j, k, strings.Join(logs, "\n"))
			}
			states := ledgerStates(t, cfg)
			if got := states[order]; got != tt.want {
				t.Errorf("the stalled order %s is %s, want %s", order, got, tt.want)
			}
			for _, id := range ids {
				if id != order && states[id] != "scheduled" {
					t.Errorf("order %s, never started, is %s", id, states[id])
				}
			}
			t.Logf("stopped in %s", took.Round(time.Millisecond))
		})
	}
}

// logIndex returns the index of the last log line containing s, or -1.
func logIndex(logs []string, s string) int {
	for i := len(logs) - 1; i >= 0; i-- {
		if strings.Contains(logs[i], s) {
			return i
		}
	}
	return -1
}

// startProc starts `run` (as startDaemon) or `run --once`, at the tests'
// pass clock.
func startProc(t *testing.T, cfg, mode string) *daemonProc {
	t.Helper()
	if mode == "run" {
		return startDaemon(t, cfg, "--at", killAt)
	}
	cmd := exec.Command(binary, "run", "--once", "--config", cfg, "--at", killAt)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemonProc{cmd: cmd, logs: make(chan string, 1000)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			d.logs <- sc.Text()
		}
		close(d.logs)
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return d
}
