package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"campaignd/internal/config"
	"campaignd/internal/control"
	"campaignd/internal/ledger"
	"campaignd/internal/scheduler"
)

const defaultConfig = config.DefaultPath

// newFlags returns a FlagSet for a subcommand with a hand-written usage
// text: what it does, its synopsis, its flags. What the flag package prints
// goes to stdout when help was asked for (-h, --help: exit 0) and to stderr
// with the error when the command line is wrong (exit 2); see parse.
func newFlags(name, synopsis, about string, a *app) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(&flagOutput{stdout: a.stdout, stderr: a.stderr})
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\nUsage:\n\t%s\n\nFlags:\n", about, strings.TrimSpace("campaignd "+name+" [flags] "+synopsis))
		fs.PrintDefaults()
	}
	return fs
}

// flagOutput holds what the flag package prints while it parses, until
// parse knows whether it is help (for stdout) or an error (for stderr).
type flagOutput struct {
	buf            bytes.Buffer
	stdout, stderr io.Writer
}

func (o *flagOutput) Write(p []byte) (int, error) { return o.buf.Write(p) }

// flush writes what was held to stdout (help) or stderr.
func (o *flagOutput) flush(help bool) {
	w := o.stderr
	if help {
		w = o.stdout
	}
	w.Write(o.buf.Bytes())
	o.buf.Reset()
}

// flushFlags flushes fs's held output after a parse that ended with err.
func flushFlags(fs *flag.FlagSet, err error) {
	if o, ok := fs.Output().(*flagOutput); ok {
		o.flush(errors.Is(err, flag.ErrHelp))
	}
}

// configFlag defines --config. Inside the daemon (a request from the
// control socket) the flag exists only to refuse it: the daemon uses its own
// config, and never reads a file a client names.
func (a *app) configFlag(fs *flag.FlagSet) *string {
	if a.daemon == nil {
		return fs.String("config", defaultConfig, "config `FILE`")
	}
	fs.Func("config", "not accepted on the control socket", func(string) error {
		return errors.New("the daemon uses its own config; --config is never taken from a socket client")
	})
	return new(string)
}

// parse parses flags that may come before, between or after the
// positional arguments (`campaignd preview ORDER --config FILE`); after
// "--" everything is positional. fs.Args() then holds the positionals.
func parse(fs *flag.FlagSet, args []string) error {
	var pos []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			flushFlags(fs, err)
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return silent(exitUsage) // the flag package printed the problem and the usage
		}
		left := fs.Args()
		if len(left) == 0 {
			break
		}
		if consumed := len(rest) - len(left); consumed > 0 && rest[consumed-1] == "--" {
			pos = append(pos, left...)
			break
		}
		pos = append(pos, left[0])
		rest = left[1:]
	}
	err := fs.Parse(append([]string{"--"}, pos...))
	flushFlags(fs, err)
	return err
}

// parseAt parses an --at value (RFC 3339); empty means the clock.
func (a *app) parseAt(s string) (time.Time, error) {
	if s == "" {
		return a.clock().UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usagef("--at %q: want an RFC 3339 time such as 2026-11-26T09:00:00Z", s)
	}
	return t.UTC(), nil
}

// loadConfig loads the config or returns an exit-2 error naming the file and key.
func loadConfig(path string) (*config.Config, error) {
	c, err := config.Load(path)
	if err != nil {
		return nil, invalid(err)
	}
	return c, nil
}

// config returns the daemon's config when the command runs inside the
// daemon, or loads path.
func (a *app) config(path string) (*config.Config, error) {
	if a.daemon != nil {
		a.daemon.mu.Lock()
		defer a.daemon.mu.Unlock()
		return a.daemon.cfg, nil
	}
	return loadConfig(path)
}

// client is the control-socket client for cfg's daemon.
func client(cfg *config.Config) control.Client {
	return control.Client{Path: cfg.Control.Socket, Timeout: cfg.Control.Timeout.Duration}
}

// forward sends the command parsed into fs to the running daemon, if one
// answers on the config's socket, with files as open descriptors, and prints
// its answer. done is false when no daemon runs and the caller should do the
// work itself. Any other failure to reach the daemon (permission denied, no
// answer) is an error: the caller must not work around a running daemon.
func (a *app) forward(ctx context.Context, cfg *config.Config, fs *flag.FlagSet, files ...*os.File) (done bool, err error) {
	if a.daemon != nil {
		return false, nil // already inside the daemon
	}
	resp, err := client(cfg).Call(ctx, forwardArgs(fs), files...)
	if errors.Is(err, control.ErrNoDaemon) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	fmt.Fprint(a.stdout, resp.Stdout)
	fmt.Fprint(a.stderr, resp.Stderr)
	if resp.Code != exitOK {
		return true, silent(resp.Code)
	}
	return true, nil
}

// forwardArgs rebuilds a parsed command line for the daemon: the command
// (and subcommand: the flag set is named "ledger show"), the flags that were
// set (never --config), then "--" and the positional arguments.
func forwardArgs(fs *flag.FlagSet) []string {
	args := strings.Fields(fs.Name())
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "config" {
			args = append(args, "--"+f.Name+"="+f.Value.String())
		}
	})
	return append(append(args, "--"), fs.Args()...)
}

// socketCommands are the commands the daemon serves on its control socket.
// The others (run, lint, version) never go to the daemon: they would act
// with the daemon's rights, not the caller's.
var socketCommands = map[string]bool{"status": true, "plan": true, "preview": true, "ingest": true, "ledger": true, "reload": true, "fetch": true}

// serveRequest runs one request from the control socket inside the daemon.
func (d *daemon) serveRequest(ctx context.Context, req *control.Request, stdout, stderr io.Writer) int {
	who := req.Peer.String()
	if len(req.Args) == 0 || !socketCommands[req.Args[0]] {
		d.logger.Warn("control request refused", "who", who, "args", fmt.Sprintf("%q", req.Args))
		fmt.Fprintf(stderr, "campaignd: the daemon serves only status, plan, preview, ingest, ledger, reload and fetch on its socket; run other commands yourself\n")
		return exitUsage
	}
	level := slog.LevelDebug // looking is routine; changes are worth a line each
	if changes(req.Args) {
		level = slog.LevelInfo
	}
	d.logger.Log(ctx, level, "control request", "who", who, "command", strings.Join(commandWords(req.Args), " "), "files", len(req.FileList))
	sub := &app{stdout: stdout, stderr: stderr, daemon: d, clock: d.now, files: req.FileList, who: who}
	return sub.dispatch(ctx, req.Args)
}

// commandWords are the command and, for ledger, its subcommand: the first
// positional argument after the flags.
func commandWords(args []string) []string {
	if len(args) == 0 || args[0] != "ledger" {
		return args[:min(len(args), 1)]
	}
	for i, a := range args[1:] {
		if a == "--" && i+2 < len(args) {
			return []string{"ledger", args[i+2]}
		}
		if !strings.HasPrefix(a, "-") {
			return []string{"ledger", a}
		}
	}
	return args[:1]
}

// changes reports whether a request may change something (ingest, reload,
// fetch, a correction, a backup) rather than only look.
func changes(args []string) bool {
	w := commandWords(args)
	switch {
	case len(w) == 0:
		return false
	case w[0] == "ingest" || w[0] == "reload" || w[0] == "fetch":
		return true
	case w[0] == "ledger":
		return len(w) < 2 || (w[1] != "show" && w[1] != "export")
	}
	return false
}

// operator names who runs a command, for the audit trail: the socket's
// peer inside the daemon, the current user otherwise.
func (a *app) operator() string {
	if a.who != "" {
		return a.who
	}
	return control.Who(uint32(os.Getuid()))
}

// withLedger runs fn with the daemon's ledger, or opens the file itself
// when no daemon runs (read-only when it only looks). A command that only
// looks never creates the ledger or its folder: when there is no ledger
// yet, it says so and looks at an empty one.
func (a *app) withLedger(cfg *config.Config, readOnly bool, fn func(l *ledger.Ledger) error) error {
	if a.daemon != nil {
		return fn(a.daemon.ledger)
	}
	if _, err := os.Stat(cfg.Ledger.Path); errors.Is(err, os.ErrNotExist) {
		if readOnly {
			return a.withEmptyLedger(cfg, fn)
		}
		if err := os.MkdirAll(filepath.Dir(cfg.Ledger.Path), 0o750); err != nil {
			return fmt.Errorf("create ledger folder: %w", err)
		}
		readOnly = false // a read-only open cannot create the file
	}
	l, err := ledger.Open(cfg.Ledger.Path, ledger.Options{Timeout: cfg.Ledger.LockTimeout.Duration, ReadOnly: readOnly})
	if errors.Is(err, ledger.ErrLocked) {
		return fmt.Errorf("ledger %s is locked by another process, and no daemon answers on %s", cfg.Ledger.Path, cfg.Control.Socket)
	}
	if err != nil {
		return fmt.Errorf("open ledger: %w", err)
	}
	defer l.Close()
	return fn(l)
}

// withEmptyLedger runs fn on an empty ledger in a private temporary folder,
// for a command that only looks before the daemon first ran. Creating the
// real ledger there would be wrong: made by `sudo campaignd status`, it would
// belong to root, and the daemon (user campaignd) could not open it.
func (a *app) withEmptyLedger(cfg *config.Config, fn func(l *ledger.Ledger) error) error {
	fmt.Fprintf(a.stderr, "campaignd: no ledger at %s yet (the daemon creates it when it first runs); showing an empty ledger\n", cfg.Ledger.Path)
	dir, err := os.MkdirTemp("", "campaignd-empty-")
	if err != nil {
		return fmt.Errorf("empty ledger: %w", err)
	}
	defer os.RemoveAll(dir)
	l, err := ledger.Open(filepath.Join(dir, "campaignd.db"), ledger.Options{})
	if err != nil {
		return fmt.Errorf("empty ledger: %w", err)
	}
	defer l.Close()
	return fn(l)
}

// prepare builds the run-time setup (rules, checked templates, senders), or
// uses the daemon's.
func (a *app) prepare(cfg *config.Config) (*scheduler.Setup, func(), error) {
	if a.daemon != nil {
		return a.daemon.engine.Setup(), func() {}, nil
	}
	s, err := prepare(cfg, a.clock)
	if err != nil {
		if errors.Is(err, scheduler.ErrTemplates) {
			fmt.Fprintln(a.stderr, err)
			return nil, nil, &exitError{exitUsage, fmt.Errorf("%s: the configured templates fail the policy checks", cfg.Path)}
		}
		return nil, nil, invalid(fmt.Errorf("%s: %w", cfg.Path, err))
	}
	return s, func() { s.Close() }, nil
}

// stamp formats a time for people: UTC, to the second.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
