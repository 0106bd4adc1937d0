package scheduler_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"campaignd/internal/scheduler"
)

func TestParseSpecNextInUTC(t *testing.T) {
	tests := []struct {
		spec     string
		from     time.Time
		want     time.Time
		rejected bool
	}{
		{spec: "@every 1m", from: at("2026-11-20T10:00:30Z"), want: at("2026-11-20T10:01:30Z")},
		{spec: "*/5 * * * *", from: at("2026-11-20T10:02:00Z"), want: at("2026-11-20T10:05:00Z")},
		{spec: "@hourly", from: at("2026-11-20T10:59:59Z"), want: at("2026-11-20T11:00:00Z")},
		{spec: "0 9 * * *", from: at("2026-11-20T09:00:00Z"), want: at("2026-11-21T09:00:00Z")},
		{spec: "every minute", rejected: true},
		{spec: "61 * * * *", rejected: true},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := scheduler.ParseSpec(tt.spec)
			if tt.rejected {
				if err == nil {
					t.Fatalf("ParseSpec(%q) accepted", tt.spec)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Next(tt.from); !got.Equal(tt.want) {
				t.Fatalf("Next(%v) = %v, want %v", tt.from, got, tt.want)
			}
		})
	}
}

// TestRunnerPassAtStartAndStop: Start runs a pass at once (the schedule's
// first tick is an hour away), passes the runner's clock to it, and Stop
// returns once it is done.
func TestRunnerPassAtStartAndStop(t *testing.T) {
	e := newEnv(t)
	e.ingest("a.txt", header+row("111-0000001-0000001", "2026-11-01T10:00:00Z", "2026-11-03T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Bottle", "Shipped"), at("2026-11-03T12:00:00Z"))
	passes := make(chan scheduler.PassStats, 4)
	r := &scheduler.Runner{Engine: e.engine, Spec: "@every 1h", Now: func() time.Time { return at("2026-11-10T00:00:00Z") },
		AfterPass: func(st scheduler.PassStats, err error) {
			if err != nil {
				t.Errorf("pass: %v", err)
			}
			passes <- st
		}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case st := <-passes:
		if st.Sent != 1 {
			t.Fatalf("start-up pass = %+v", st)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no pass at start-up")
	}
	if got := r.NextPass(); got.IsZero() {
		t.Fatal("no next pass scheduled")
	}
	if !r.LastPass().Equal(at("2026-11-10T00:00:00Z")) {
		t.Fatalf("last pass = %v", r.LastPass())
	}
	r.Stop(context.Background())
	if len(e.outbox()) != 1 {
		t.Fatalf("outbox = %v", e.outbox())
	}
}

// TestRunnerRecoversFromPanic: a pass that panics is reported, and the
// runner goes on.
func TestRunnerRecoversFromPanic(t *testing.T) {
	calls := 0
	errs := make(chan error, 2)
	r := &scheduler.Runner{Engine: nil, Spec: "@every 1h", Now: func() time.Time {
		calls++
		if calls == 1 {
			panic("clock broke")
		}
		return at("2026-11-10T00:00:00Z")
	}, AfterPass: func(_ scheduler.PassStats, err error) { errs <- err }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		if err == nil {
			t.Fatal("a panicking pass reported no error")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no pass reported")
	}
	r.Stop(context.Background())
}

// TestPassStatsLogLine: a pass's counts show inline on its log line, each
// under its own key, as operators grep for them.
func TestPassStatsLogLine(t *testing.T) {
	var b strings.Builder
	log := slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	log.Info("send pass", slog.Any("", scheduler.PassStats{Due: 3, Sent: 2, Retried: 1, Quiet: 4, Expired: 5}))
	want := `level=INFO msg="send pass" due=3 sent=2 retried=1 failed=0 in_doubt=0 refused=0 quiet=4 expired=5 purged=0` + "\n"
	if b.String() != want {
		t.Fatalf("log line\n%q, want\n%q", b.String(), want)
	}
}
