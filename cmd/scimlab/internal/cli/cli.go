// Package cli implements the scimlab command line: subcommands, flag parsing
// and typed exit codes. Each subcommand parses its own flag set and calls into
// the packages that do the work.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"syscall"
)

// ExitCode is the process exit status (DESIGN.md, "Contracts other tools rely on").
type ExitCode int

// Exit codes.
const (
	ExitOK          ExitCode = 0 // all required checks pass
	ExitFailures    ExitCode = 1 // conformance failures
	ExitUsage       ExitCode = 2 // usage or configuration error
	ExitUnreachable ExitCode = 3 // target unreachable
)

// Build information, set with -ldflags "-X …/cli.version=… -X …/cli.commit=…".
var (
	version = ""
	commit  = ""
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) ExitCode
}

// env is what a subcommand may use: its output streams, and the credentials
// given on its command line, which no message may show (see scrub).
type env struct {
	stdout, stderr io.Writer
	secrets        []string
}

// usageError is a bad flag or argument: one line to stderr and exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

var commands []command

func register(c command) { commands = append(commands, c) }

func lookup(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

// Main runs scimlab with args (without the program name) and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) ExitCode {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal stops the run, which still writes its partial report
	// and removes what it created; a second one ends the process at once,
	// with the status a shell shows for a process the signal killed (130
	// for SIGINT). It is exited here, not left to the signal's default
	// action: while the suites run, Ginkgo handles the same signals, and a
	// second one would only make it skip the clean-up.
	go func() {
		<-ctx.Done()
		second := make(chan os.Signal, 1)
		signal.Notify(second, os.Interrupt, syscall.SIGTERM)
		stop()
		sig := <-second
		code := 128 + int(syscall.SIGINT)
		if s, ok := sig.(syscall.Signal); ok {
			code = 128 + int(s)
		}
		os.Exit(code)
	}()
	return run(ctx, args, stdout, stderr)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) ExitCode {
	e := &env{stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		// One line, as for every other usage error; the list is a command away.
		names := make([]string, 0, len(commands))
		for _, c := range commands {
			names = append(names, c.name)
		}
		sort.Strings(names)
		fmt.Fprintf(stderr, "scimlab: missing command; want one of %s (scimlab help describes each)\n", strings.Join(names, ", "))
		return ExitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 {
			if c := lookup(args[1]); c != nil {
				return c.run(ctx, e, []string{"--help"})
			}
			fmt.Fprintf(stderr, "scimlab help: unknown command %q (run 'scimlab help' for the list)\n", args[1])
			return ExitUsage
		}
		printUsage(stdout)
		return ExitOK
	case "-version", "--version":
		args = []string{"version"}
	}
	c := lookup(args[0])
	if c == nil {
		fmt.Fprintf(stderr, "scimlab: unknown command %q (run 'scimlab help' for the list)\n", args[0])
		return ExitUsage
	}
	return c.run(ctx, e, args[1:])
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "scimlab: SCIM 2.0 conformance tester, reference server and IdP simulator")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: scimlab <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	cs := append([]command(nil), commands...)
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Exit codes: 0 pass, 1 conformance failures, 2 usage or config error, 3 target unreachable.")
	fmt.Fprintln(w, "Run 'scimlab <command> --help' for a command's flags.")
}

// flags is a subcommand's flag set with its help printer.
type flags struct {
	*flag.FlagSet
	help func()
}

// newFlags returns a flag set for a subcommand that reports errors instead of exiting.
func newFlags(name, usage string, e *env) *flags {
	fs := flag.NewFlagSet("scimlab "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	// The flag package calls Usage on every parse error; parse prints the
	// help text itself, only for -h/--help.
	fs.Usage = func() {}
	return &flags{FlagSet: fs, help: func() {
		fmt.Fprintf(e.stdout, "Usage: scimlab %s %s\n\nFlags:\n", name, usage)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}}
}

// parse parses args; it returns (code, true) when the command should stop:
// after --help (0), or on a bad flag or a credential no HTTP header can
// carry (one line, 2).
func parse(fs *flags, args []string, e *env) (ExitCode, bool) {
	_, secrets := redactArgs(fs.FlagSet, args)
	e.secrets = append(e.secrets, secrets...)
	err := fs.Parse(args)
	if err == nil {
		err = checkCredentialFlags(fs.FlagSet)
	}
	if err == nil {
		return ExitOK, false
	}
	if errors.Is(err, flag.ErrHelp) {
		fs.help()
		return ExitOK, true
	}
	fmt.Fprintf(e.stderr, "%s: %s\n", fs.Name(), e.scrub(firstLine(err.Error())))
	return ExitUsage, true
}

// fail prints err as one line and returns the exit code it maps to.
func fail(e *env, name string, err error, code ExitCode) ExitCode {
	fmt.Fprintf(e.stderr, "scimlab %s: %s\n", name, e.scrub(firstLine(err.Error())))
	return code
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// groupHelp answers a command group (token, report, …) called without a
// subcommand (usage on stderr, exit 2) or with -h/--help (usage on stdout,
// exit 0); done is false when a subcommand follows.
func groupHelp(e *env, args []string, group, usage string) (code ExitCode, done bool) {
	if len(args) == 0 {
		// One line, as for every other usage error: the group and its
		// subcommands, read from its usage lines.
		fmt.Fprintf(e.stderr, "scimlab %s: missing subcommand; want %s (add --help for the flags)\n", group, strings.Join(subcommands(group, usage), ", "))
		return ExitUsage, true
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, usage)
		return ExitOK, true
	}
	return ExitOK, false
}

// subcommands lists, in order and once each, the word after "scimlab GROUP"
// on each line of a usage text ("deactivate|activate" counts as two).
func subcommands(group, usage string) []string {
	prefix := append([]string{"scimlab"}, strings.Fields(group)...)
	var out []string
	for _, line := range strings.Split(usage, "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "Usage:"))
		if len(f) <= len(prefix) || !slices.Equal(f[:len(prefix)], prefix) {
			continue
		}
		for _, sub := range strings.Split(f[len(prefix)], "|") {
			if sub != "" && !strings.HasPrefix(sub, "-") && !slices.Contains(out, sub) {
				out = append(out, sub)
			}
		}
	}
	return out
}
