package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/scimlab/scimlab/reference-server/loadtest"
	"github.com/scimlab/scimlab/suites/all"
)

func init() {
	register(command{name: "bench", summary: "measure the reference server against a trivial handler (load command)", run: runBench})
}

func runBench(ctx context.Context, e *env, args []string) ExitCode {
	if os.Getenv(trivialChildEnv) != "" {
		return serveTrivialChild(e)
	}
	fs := newFlags("bench", "[--users 10000] [--concurrency 16] [--target URL --token T [--keep]] [--data DSN] [--cpuprofile DIR]", e)
	target := fs.String("target", "", "a running server's SCIM base URL on loopback (empty: start one in-process)")
	token := fs.String("token", os.Getenv("SCIM_TOKEN"), "bearer token for --target (env SCIM_TOKEN)")
	users := fs.Int("users", 10000, "users to create (and members to add to one group)")
	concurrency := fs.Int("concurrency", 16, "keep-alive clients")
	data := fs.String("data", "", "in-process server's store: an SQLite file (empty: a durable file in a temp dir), :memory: (skips fsync), or a postgres:// URL")
	profile := fs.String("profile", "rfc", "in-process server's profile")
	cpuprofile := fs.String("cpuprofile", "", "write one CPU profile per workload into this directory (for go tool pprof)")
	keep := fs.Bool("keep", false, "leave the users and the group the bench creates on --target (for inspection); by default it deletes them when it ends")
	if code, stop := parse(fs, args, e); stop {
		return code
	}
	if fs.NArg() > 0 {
		return fail(e, "bench", usagef("unexpected argument %q", fs.Arg(0)), ExitUsage)
	}
	if *users <= 0 || *concurrency <= 0 {
		return fail(e, "bench", usagef("--users and --concurrency must be positive"), ExitUsage)
	}
	if *cpuprofile != "" {
		if err := os.MkdirAll(*cpuprofile, 0o755); err != nil {
			return fail(e, "bench", usagef("--cpuprofile: %v", err), ExitUsage)
		}
	}
	if hasUserinfo(*target) {
		// As test, simulate and replay: no request would send it, and the
		// start-up line would show it.
		return fail(e, "bench", usagef("--target must not carry credentials: use --token"), ExitUsage)
	}
	if *target != "" {
		// What `test` checks before its run, before the seconds the trivial
		// handlers take: a loopback target that serves SCIM and takes the
		// token (a wrong one is exit 2, one that does not answer exit 3).
		if err := loadtest.CheckLoopback(*target); err != nil {
			return fail(e, "bench", usagef("%v", err), ExitUsage)
		}
		if *token == "" {
			return fail(e, "bench", usagef("--target needs --token (or SCIM_TOKEN): the bench creates users"), ExitUsage)
		}
		if err := preflight(ctx, newProbe(*target, *token, "", nil, false), false); err != nil {
			code, _ := suiteError(e, "bench", err)
			return code
		}
	}
	trivialURL, durableURL := "", ""
	if *target == "" {
		tuneServerGC() // the in-process server runs as `scimlab serve` would
	} else {
		// The server runs in a process of its own: so does the handler it
		// is compared with.
		url, stop, err := startTrivialChild(ctx)
		if err != nil {
			fmt.Fprintf(e.stderr, "scimlab bench: the trivial handler runs in this process instead: %v\n", err)
		} else {
			defer stop()
			trivialURL, durableURL = url, url+"durable"
		}
	}
	res, err := loadtest.Run(ctx, loadtest.Config{
		BaseURL: *target, Token: *token, TrivialURL: trivialURL, DurableURL: durableURL, Profile: *profile, DataDSN: *data,
		Concurrency: *concurrency, Users: *users, CPUProfileDir: *cpuprofile, Keep: *keep,
		Progress: func(s string) { fmt.Fprintln(e.stderr, s) },
	})
	if err != nil {
		// What the failed run created on --target is deleted (or kept) all
		// the same: say so before the error.
		var cl strings.Builder
		loadtest.PrintCleanup(&cl, res)
		fmt.Fprint(e.stderr, e.scrub(cl.String()))
		if benchTargetGone(ctx, *target, *token, res) {
			return fail(e, "bench", fmt.Errorf("%w: %v", all.ErrUnreachable, err), ExitUnreachable)
		}
		return fail(e, "bench", err, ExitUsage)
	}
	loadtest.Print(e.stdout, res)
	if *keep && *target == "" {
		fmt.Fprintln(e.stdout, "--keep: nothing kept: the in-process server's store is removed with it (pass --target to keep what the bench creates)")
	}
	return ExitOK
}

// trivialChildEnv set in its environment makes `scimlab bench` serve only
// the trivial handler (and the durable one at /durable), on a free loopback
// port: it prints the handler's URL on a line of its own and serves until
// its standard input closes (its parent, a bench run against --target, has
// finished or died).
const trivialChildEnv = "SCIMLAB_BENCH_TRIVIAL_CHILD"

func serveTrivialChild(e *env) ExitCode {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(e, "bench", err, ExitUsage)
	}
	srv, closeLog, err := loadtest.HandlersServer()
	if err != nil {
		ln.Close()
		return fail(e, "bench", err, ExitUsage)
	}
	defer closeLog()
	go srv.Serve(ln)
	fmt.Fprintf(e.stdout, "http://%s/\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return ExitOK
}

// startTrivialChild starts this executable as a trivial-handler child and
// returns its URL and a function that stops it.
func startTrivialChild(ctx context.Context) (string, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "bench")
	cmd.Env = append(os.Environ(), trivialChildEnv+"=1")
	cmd.WaitDelay = 5 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	}
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(l)
	}()
	select {
	case l := <-line:
		if strings.HasPrefix(l, "http://127.0.0.1:") {
			return l, stop, nil
		}
		err = fmt.Errorf("its child process said %q", l)
	case <-time.After(10 * time.Second):
		err = fmt.Errorf("its child process did not start in 10s")
	}
	_ = cmd.Process.Kill()
	stop()
	return "", nil, err
}

// benchTargetGone tells a bench that failed because its --target does not
// answer (exit 3) from one that failed otherwise (exit 2): res is set once
// loadtest has accepted the target as a loopback base URL, and then one
// probe of the target (the preflight's request) gets no response.
func benchTargetGone(ctx context.Context, target, token string, res *loadtest.Result) bool {
	if target == "" || res == nil || ctx.Err() != nil {
		return false
	}
	_, err := newProbe(target, token, "", nil, false).get(ctx, "/Users?count=1")
	return errors.Is(err, all.ErrUnreachable)
}
