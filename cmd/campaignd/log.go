package main

import (
	"io"
	"log/slog"
	"os"
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
// key=value under journald (which adds its own timestamps), or JSON.
func newLogger(cfg *config.Config, w io.Writer, level *slog.LevelVar) *slog.Logger {
	level.Set(parseLevel(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	switch format := cfg.Log.Format; {
	case format == "json":
		return slog.New(slog.NewJSONHandler(w, opts))
	case format == "auto" && isTerminal(w):
		return slog.New(tint.NewTextHandler(w, &tint.Options{Level: level, TimeFormat: time.TimeOnly}))
	default:
		if os.Getenv("JOURNAL_STREAM") != "" {
			opts.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
				if len(groups) == 0 && a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}
		}
		return slog.New(slog.NewTextHandler(w, opts))
	}
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
