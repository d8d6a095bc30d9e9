package cli

import (
	"bytes"
	"context"
	"os"
	"runtime/debug"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (ExitCode, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageAndExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     ExitCode
		stderrRe string // substring expected on stderr
		stdoutRe string // substring expected on stdout
	}{
		{"no args", nil, ExitUsage, "scimlab: missing command; want one of", ""},
		{"help", []string{"help"}, ExitOK, "", "Commands:"},
		{"unknown command", []string{"frobnicate"}, ExitUsage, `unknown command "frobnicate"`, ""},
		{"help for an unknown command", []string{"help", "nope"}, ExitUsage, `scimlab help: unknown command "nope"`, ""},
		{"version", []string{"version"}, ExitOK, "", "scimlab "},
		{"version extra arg", []string{"version", "x"}, ExitUsage, "takes no arguments", ""},
		{"bad flag", []string{"version", "--bogus"}, ExitUsage, "flag provided but not defined: -bogus", ""},
		{"help flag", []string{"version", "--help"}, ExitOK, "", "Usage: scimlab version"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit code = %d, want %d (stdout %q, stderr %q)", code, tc.code, out, errs)
			}
			if tc.stderrRe != "" && !strings.Contains(errs, tc.stderrRe) {
				t.Errorf("stderr = %q, want it to contain %q", errs, tc.stderrRe)
			}
			if tc.stdoutRe != "" && !strings.Contains(out, tc.stdoutRe) {
				t.Errorf("stdout = %q, want it to contain %q", out, tc.stdoutRe)
			}
			if tc.code == ExitUsage && tc.args != nil && (out != "" || strings.Count(errs, "\n") != 1) {
				t.Errorf("a usage error is one line on stderr and nothing on stdout: stdout %q, stderr %q", out, errs)
			}
		})
	}
}

// A bad flag is answered with exactly one line on stderr and nothing on stdout.
func TestBadFlagIsOneLine(t *testing.T) {
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(t, c.name, "--definitely-not-a-flag")
			if code != ExitUsage {
				t.Fatalf("exit code = %d, want 2", code)
			}
			if out != "" {
				t.Errorf("stdout = %q, want empty", out)
			}
			if n := strings.Count(errs, "\n"); n != 1 {
				t.Errorf("stderr has %d lines, want 1: %q", n, errs)
			}
		})
	}
}

// Every command answers --help with its usage on stdout and exit 0.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			code, out, _ := runCLI(t, c.name, "--help")
			if code != ExitOK || !strings.Contains(out, "Usage: scimlab "+c.name) {
				t.Fatalf("--help: code %d, stdout %q", code, out)
			}
		})
	}
}

func TestListenAddressMustBeLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:9000": true, "localhost:9000": true, "[::1]:9000": true, "0.0.0.0:9000": false, "192.0.2.1:9000": false, "nonsense": false} {
		if err := checkLoopback(addr, false); (err == nil) != ok {
			t.Errorf("%s: err = %v, want ok=%v", addr, err, ok)
		}
	}
	if err := checkLoopback("0.0.0.0:9000", true); err != nil {
		t.Errorf("--public should allow any address: %v", err)
	}
}

// TestServerGC: serve and an in-process bench collect at serverGCPercent,
// unless GOGC says otherwise.
func TestServerGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	os.Unsetenv("GOGC")
	tuneServerGC()
	if got := debug.SetGCPercent(100); got != serverGCPercent {
		t.Errorf("GC percent %d without GOGC, want %d", got, serverGCPercent)
	}
	t.Setenv("GOGC", "200")
	tuneServerGC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC percent %d with GOGC set, want it left alone", got)
	}
}
