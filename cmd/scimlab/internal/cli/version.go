package cli

import (
	"context"
	"fmt"
	"runtime/debug"
)

func init() {
	register(command{name: "version", summary: "print the version and commit", run: runVersion})
}

// Version returns the build's version and commit. A binary built by
// `go install …@vX` reports the module version; `make build` stamps both.
func Version() (ver, rev string) {
	ver, rev = version, commit
	if bi, ok := debug.ReadBuildInfo(); ok {
		if ver == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			ver = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && rev == "" {
				rev = s.Value
			}
		}
	}
	if ver == "" {
		ver = "dev"
	}
	if rev == "" {
		rev = "unknown"
	}
	return ver, rev
}

func runVersion(ctx context.Context, e *env, args []string) ExitCode {
	fs := newFlags("version", "", e)
	if code, stop := parse(fs, args, e); stop {
		return code
	}
	if fs.NArg() > 0 {
		return fail(e, "version", usagef("takes no arguments"), ExitUsage)
	}
	v, c := Version()
	fmt.Fprintf(e.stdout, "scimlab %s (commit %s)\n", v, c)
	return ExitOK
}
