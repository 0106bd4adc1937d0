package main

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStopGraceFitsTheUnit: the stop sequence's waits end well inside
// TimeoutStopSec of both units, so systemd never kills a daemon that is
// recording the outcome of its last send.
func TestStopGraceFitsTheUnit(t *testing.T) {
	for _, unit := range []string{"../../systemd/campaignd.service", "../../systemd/campaignd@.service"} {
		b, err := os.ReadFile(unit)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^TimeoutStopSec=(\d+)s?$`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("%s sets no TimeoutStopSec in seconds", unit)
		}
		secs, _ := strconv.Atoi(string(m[1]))
		stopTimeout := time.Duration(secs) * time.Second
		if sendGrace >= shutdownGrace || shutdownGrace > stopTimeout-5*time.Second {
			t.Errorf("%s: TimeoutStopSec=%s, send grace %s, shutdown grace %s: want send grace < shutdown grace <= TimeoutStopSec - 5s",
				unit, stopTimeout, sendGrace, shutdownGrace)
		}
	}
}

// TestStopDuringStalledSend stops the daemon (as SIGTERM does: its context
// ends) while its SMTP peer has stopped answering in the middle of a send.
// The daemon must stop in order: take no new work, cancel the send in
// flight, record its outcome, then close the ledger, and exit 0. Stalled
// before the message went (at RCPT), the order goes back to scheduled at
// once; stalled after the final "." (the server holds the message but never
// answers), the send gets its grace period (shortened here, see
// testWaits; TestStopGraceFitsTheUnit checks the real one), then the order
// is in doubt.
func TestStopDuringStalledSend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mode, step, want string
		within           time.Duration
	}{
		{"run", "rcpt", "scheduled", 5 * time.Second},
		{"run", "end", "in_doubt", testWaits.sendGrace + 5*time.Second},
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
			d.stop()
			start := time.Now()
			code := d.wait(t)
			took := time.Since(start)
			logs := strings.Split(d.logs.String(), "\n")
			if code != 0 {
				t.Fatalf("daemon exit %d\n%s", code, d.logs)
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
			last := map[string]string{"run": "msg=stopped", "once": `msg="send pass"`}[tt.mode]
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

// startProc starts `run` (as startDaemon) or `run --once` in this process,
// at the tests' pass clock.
func startProc(t *testing.T, cfg, mode string) *daemonProc {
	t.Helper()
	if mode == "run" {
		return startDaemon(t, cfg, "--force-clock", "--at", killAt)
	}
	return startInProcess(t, "run", "--once", "--config", cfg, "--force-clock", "--at", killAt)
}
