package cli

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	server "github.com/scimlab/scimlab/reference-server"
)

// TestMain lets the test binary stand in for scimlab: as bench's
// trivial-handler child (os.Executable is the test binary here), and as a
// whole scimlab process for runChild.
func TestMain(m *testing.M) {
	if args, ok := childArgs(); ok {
		os.Exit(int(Main(args, os.Stdout, os.Stderr)))
	}
	if os.Getenv(trivialChildEnv) != "" {
		var errb bytes.Buffer
		os.Exit(int(serveTrivialChild(&env{stdout: os.Stdout, stderr: &errb})))
	}
	os.Exit(m.Run())
}

// TestBenchTargetTrivialInItsOwnProcess: against --target, the trivial
// handler the ratios divide by runs in a child process, as the server does.
func TestBenchTargetTrivialInItsOwnProcess(t *testing.T) {
	l, err := server.StartLocal(context.Background(), server.LocalOptions{DataDSN: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	code, out, errs := runCLI(t, "bench", "--target", l.BaseURL, "--token", l.Token, "--users", "40", "--concurrency", "2")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "trivial handler in a process of its own") || strings.Contains(errs, "runs in this process instead") {
		t.Errorf("trivial handler not in a child process:\n%s\n%s", out, errs)
	}
	// So does the durable trivial handler, whose sync counters stay there.
	if !strings.Contains(out, "durable trivial handler  ") || !strings.Contains(out, "fdatasync of the request's body (in ") {
		t.Errorf("no durable trivial handler from the child process:\n%s", out)
	}
	if !strings.Contains(out, "server peak resident memory") {
		t.Errorf("no server memory line:\n%s", out)
	}
}
