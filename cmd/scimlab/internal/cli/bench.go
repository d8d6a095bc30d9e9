package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/scimlab/scimlab/reference-server/loadtest"
)

func init() {
	register(command{name: "bench", summary: "measure the reference server against a trivial handler (load command)", run: runBench})
}

func runBench(ctx context.Context, e *env, args []string) ExitCode {
	fs := newFlags("bench", "[--users 10000] [--concurrency 16] [--target URL --token T] [--data DSN] [--cpuprofile DIR]", e)
	target := fs.String("target", "", "a running server's SCIM base URL on loopback (empty: start one in-process)")
	token := fs.String("token", os.Getenv("SCIM_TOKEN"), "bearer token for --target (env SCIM_TOKEN)")
	users := fs.Int("users", 10000, "users to create (and members to add to one group)")
	concurrency := fs.Int("concurrency", 16, "keep-alive clients")
	data := fs.String("data", "", "in-process server's SQLite database (empty: a durable file in a temp dir; :memory: skips fsync)")
	profile := fs.String("profile", "rfc", "in-process server's profile")
	cpuprofile := fs.String("cpuprofile", "", "write one CPU profile per workload into this directory (for go tool pprof)")
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
	if *target == "" {
		tuneServerGC() // the in-process server runs as `scimlab serve` would
	}
	res, err := loadtest.Run(ctx, loadtest.Config{
		BaseURL: *target, Token: *token, Profile: *profile, DataDSN: *data,
		Concurrency: *concurrency, Users: *users, CPUProfileDir: *cpuprofile,
		Progress: func(s string) { fmt.Fprintln(e.stderr, s) },
	})
	if err != nil {
		return fail(e, "bench", err, ExitUsage)
	}
	loadtest.Print(e.stdout, res)
	return ExitOK
}
