package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lmittmann/tint"

	"campaignd/internal/config"
)

// Log attribute keys used across the daemon.
const (
	keyComponent = "component"
	keyErr       = "err"
)

// newLogger sets up logging once: tint colours on a terminal, plain
// key=value (or JSON) otherwise. Under journald (stderr is the journal's
// stream), each line starts with its syslog priority, "<4>" for a warning,
// which journald reads and strips (SyslogLevelPrefix=, on by default), so
// that `journalctl -p warning` shows every warning and error; the time is
// left to journald.
func newLogger(cfg *config.Config, w io.Writer, level *slog.LevelVar) *slog.Logger {
	level.Set(parseLevel(cfg.Log.Level))
	journal := underJournal(w)
	opts := &slog.HandlerOptions{Level: level}
	if journal {
		opts.ReplaceAttr = dropTime
	}
	var out io.Writer = w
	var jw *journalWriter
	if journal {
		jw = &journalWriter{w: w}
		out = jw
	}
	var h slog.Handler
	switch format := cfg.Log.Format; {
	case format == "json":
		h = slog.NewJSONHandler(out, opts)
	case format == "auto" && !journal && isTerminal(w):
		return slog.New(tint.NewTextHandler(w, &tint.Options{Level: level, TimeFormat: time.TimeOnly}))
	default:
		h = slog.NewTextHandler(out, opts)
	}
	if journal {
		h = &journalHandler{inner: h, w: jw}
	}
	return slog.New(h)
}

func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// underJournal reports whether w is the stream systemd connected to
// journald: JOURNAL_STREAM holds its device and inode ("8:12345"), which
// must be w's own (a child whose stderr was redirected inherits the
// variable but not the stream).
func underJournal(w io.Writer) bool {
	f, ok := w.(*os.File)
	env := os.Getenv("JOURNAL_STREAM")
	if !ok || env == "" {
		return false
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return false
	}
	return env == fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}

// priority is the syslog priority of a level: debug 7, info 6, warning 4,
// error 3.
func priority(l slog.Level) int {
	switch {
	case l >= slog.LevelError:
		return 3
	case l >= slog.LevelWarn:
		return 4
	case l >= slog.LevelInfo:
		return 6
	default:
		return 7
	}
}

// journalHandler gives each record's line the "<N>" prefix of its
// priority. The handlers derived from it (With, WithGroup) share its
// writer, whose lock keeps a record's priority with its line.
type journalHandler struct {
	inner slog.Handler
	w     *journalWriter
}

// journalWriter writes lines with the priority of the record being handled.
type journalWriter struct {
	mu   sync.Mutex
	w    io.Writer
	prio int
}

func (j *journalWriter) Write(p []byte) (int, error) {
	lines := strings.SplitAfter(string(p), "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			fmt.Fprintf(&b, "<%d>%s", j.prio, l)
		}
	}
	if _, err := io.WriteString(j.w, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (h *journalHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *journalHandler) Handle(ctx context.Context, r slog.Record) error {
	h.w.mu.Lock()
	defer h.w.mu.Unlock()
	h.w.prio = priority(r.Level)
	return h.inner.Handle(ctx, r)
}

func (h *journalHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &journalHandler{inner: h.inner.WithAttrs(as), w: h.w}
}

func (h *journalHandler) WithGroup(name string) slog.Handler {
	return &journalHandler{inner: h.inner.WithGroup(name), w: h.w}
}

// startAttrs are what the start-up line says: what runs, on which
// folder, ledger and socket, and each campaign's channel and marketplaces.
func startAttrs(cfg *config.Config) []any {
	campaigns := make([]string, len(cfg.Campaigns))
	for i, c := range cfg.Campaigns {
		campaigns[i] = fmt.Sprintf("%s: %s for %s", c.Name, c.Channel, strings.Join(c.SalesChannels, ", "))
	}
	return []any{"version", version, "config", cfg.Path, "inbox", cfg.Inbox.Dir, "ledger", cfg.Ledger.Path,
		"socket", cfg.Control.Socket, "tick", cfg.Schedule.Tick, "campaigns", strings.Join(campaigns, "; ")}
}

func parseLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
