// Command campaignd sends exactly one neutral review request per eligible
// Amazon order, never 30 days or more after the order was placed, and
// refuses any message that fails the embedded Amazon policy checks.
//
// See README.md for the commands, the configuration and running it under
// systemd.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // quiet hours need every marketplace's zone, even on a minimal system

	"campaignd/internal/ledger"
)

// Exit codes (a contract: scripts depend on them).
const (
	exitOK      = 0 // success
	exitProblem = 1 // the command ran and found a problem
	exitUsage   = 2 // usage error, invalid config, or a damaged ledger
)

// version and commit are set at build time with -ldflags "-X main.version=… -X main.commit=…";
// without them the commit comes from Go's VCS stamp, when there is one.
var (
	version = "dev"
	commit  = ""
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal kills the process at once
	}()
	code := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitError carries an exit code with the message to print.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error {
	return &exitError{exitUsage, fmt.Errorf(format, a...)}
}

func invalid(err error) error { return &exitError{exitUsage, err} }

// silent is an exit code whose message the command already printed.
func silent(code int) error { return &exitError{code, nil} }

// app is what a subcommand runs with: where to print, and (inside the daemon)
// the daemon whose ledger and engine it uses, and the client's descriptors
// and identity.
type app struct {
	stdout, stderr io.Writer
	daemon         *daemon
	clock          func() time.Time
	files          []*os.File // inside the daemon: the descriptors the client passed
	who            string     // inside the daemon: the client, for the audit trail
	waits          waits      // the daemon's real-time waits; zero in production
}

// waits are the daemon's waits on the real clock that tests shorten. A
// zero field is the production value.
type waits struct {
	sendGrace  time.Duration // sendGrace: a send whose message is out, at stop
	inboxRetry time.Duration // the first wait before an inbox file is tried again (inbox.DefaultRetryBackoff)
	fetchPoll  time.Duration // the first wait between two polls of a report (fetch.DefaultPollFirst)
}

type command struct {
	name, summary string
	run           func(ctx context.Context, a *app, args []string) error
}

func commands() []command {
	return []command{
		{"run", "run the daemon (or one pass with --once)", cmdRun},
		{"ingest", "ingest order or return reports now", cmdIngest},
		{"status", "show the ledger and the daemon's state", cmdStatus},
		{"plan", "show what would be sent at a time, and why the rest would not", cmdPlan},
		{"lint", "check templates against the Amazon policy rules", cmdLint},
		{"preview", "render the message for one order with its policy verdict", cmdPreview},
		{"ledger", "inspect and correct the ledger (show, export, resolve, mark-sent, exclude)", cmdLedger},
		{"reload", "make the running daemon reload its config and templates", cmdReload},
		{"fetch", "fetch order and return reports from Amazon's Reports API (once with --once)", cmdFetch},
		{"version", "print version, commit and Go version", cmdVersion},
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `campaignd sends one neutral Amazon review request per eligible order.

Usage:
	campaignd [--config FILE] <command> [arguments]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "	%-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, `
Every command takes --config FILE (default %s),
before or after the command. "campaignd <command> --help" (or "campaignd help
<command>") shows a command's flags; "campaignd --version" is "campaignd version".

Exit codes:
	0  ok
	1  the command ran and found a problem (a lint violation, a rejected file, a failed check)
	2  usage error, invalid config, or a ledger an operator must restore
`, defaultConfig)
}

// Run runs campaignd with args and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr, clock: time.Now}
	return a.dispatch(ctx, args)
}

func (a *app) dispatch(ctx context.Context, args []string) int {
	args, err := hoistConfig(args)
	if err != nil {
		return a.exit(err)
	}
	if len(args) == 0 {
		usage(a.stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		usage(a.stdout)
		return exitOK
	case "help":
		return a.help(ctx, args[1:])
	case "-version", "--version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name == name {
			return a.exit(c.run(ctx, a, args[1:]))
		}
	}
	fmt.Fprintf(a.stderr, "campaignd: unknown command %q\n\n", name)
	usage(a.stderr)
	return exitUsage
}

// hoistConfig moves a --config given before the command to just after it:
// `campaignd --config FILE status` is `campaignd status --config FILE`.
func hoistConfig(args []string) ([]string, error) {
	if len(args) == 0 {
		return args, nil
	}
	var flag []string
	switch first := args[0]; {
	case first == "--config" || first == "-config":
		if len(args) < 2 {
			return nil, usagef("--config needs a FILE, then a command")
		}
		flag, args = args[:2], args[2:]
	case strings.HasPrefix(first, "--config=") || strings.HasPrefix(first, "-config="):
		flag, args = args[:1], args[1:]
	default:
		return args, nil
	}
	if len(args) == 0 {
		return nil, usagef("%s: a command must follow (campaignd --config FILE status)", strings.Join(flag, " "))
	}
	out := append([]string{args[0]}, flag...)
	return append(out, args[1:]...), nil
}

// help is `campaignd help [COMMAND]`: the overview, or a command's help.
func (a *app) help(ctx context.Context, args []string) int {
	for i := 0; i < len(args); i++ {
		switch arg := args[i]; {
		case arg == "--config" || arg == "-config":
			i++ // hoisted from before "help"; help needs no config
		case strings.HasPrefix(arg, "-"):
		default:
			return a.dispatch(ctx, []string{arg, "--help"})
		}
	}
	usage(a.stdout)
	return exitOK
}

func (a *app) exit(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ee):
		if ee.err != nil {
			a.printErr(ee.err)
		}
		return ee.code
	case errors.Is(err, ledger.ErrDamaged), errors.Is(err, ledger.ErrSchema):
		// The ledger needs an operator: restarting cannot fix it, so this is
		// exit 2, which the unit does not restart into.
		a.printErr(err)
		return exitUsage
	default:
		a.printErr(err)
		return exitProblem
	}
}

// printErr prints why the command failed. Under journald (the daemon that
// cannot start) each line is an error ("<3>"), for `journalctl -p err`.
func (a *app) printErr(err error) {
	prefix := ""
	if underJournal(a.stderr) {
		prefix = "<3>"
	}
	for _, l := range strings.Split("campaignd: "+err.Error(), "\n") {
		fmt.Fprintf(a.stderr, "%s%s\n", prefix, l)
	}
}

func cmdVersion(_ context.Context, a *app, args []string) error {
	fs := newFlags("version", "", "Print campaignd's version, the commit it was built from and the Go version\n(also: campaignd --version).", a)
	fs.String("config", defaultConfig, "config `FILE`: accepted, as by every command; version reads none")
	if err := parse(fs, args); err != nil {
		return err
	}
	rev, modified := commit, ""
	goVersion := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if rev == "" {
					rev = s.Value
				}
			case "vcs.modified":
				if s.Value == "true" {
					modified = " (modified)"
				}
			}
		}
	}
	if rev == "" {
		rev = "unknown"
	}
	fmt.Fprintf(a.stdout, "campaignd %s\ncommit %s%s\n%s\n", version, rev, modified, goVersion)
	return nil
}
