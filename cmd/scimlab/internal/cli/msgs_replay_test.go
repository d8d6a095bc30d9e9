package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestMsgsMinimizeOnTheLenientServer: an Entra session replays without a
// failure on the built-in server, lenient by default, so --minimize finds
// nothing to minimise: the error says that the server's leniency is why,
// and that --lenient=false minimises what a strict server fails.
func TestMsgsMinimizeOnTheLenientServer(t *testing.T) {
	t.Setenv("SCIM_TOKEN", "")
	dir := t.TempDir()
	session := recordEntra(t, filepath.Join(dir, "entra.jsonl"), "4")

	const hint = "against the built-in server, which is lenient by default (accepts IdP dialects); to minimise a failure a strict server shows, add --lenient=false"
	for _, args := range [][]string{{"--minimize"}, {"--minimize", "RPL-0003"}} {
		code, out, errs := runCLI(t, append([]string{"replay", session, "--out", filepath.Join(dir, "min.jsonl")}, args...)...)
		if code != ExitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "the transcript shows no such failure") || !strings.Contains(errs, hint) {
			t.Errorf("%v: exit %d\nstdout %q\nstderr %q", args, code, out, errs)
		}
	}
	code, _, errs := runCLI(t, "replay", session, "--lenient", "--minimize", "--out", filepath.Join(dir, "min.jsonl"))
	if code != ExitUsage || !strings.Contains(errs, "which --lenient makes accept IdP dialects; to minimise a failure a strict server shows, use --lenient=false") {
		t.Errorf("--lenient --minimize: exit %d, %q", code, errs)
	}
	// What the hint says works: the strict server shows Entra's failure.
	code, out, errs := runCLI(t, "replay", session, "--lenient=false", "--minimize", "--out", filepath.Join(dir, "min.jsonl"))
	if code != ExitOK || !strings.Contains(out, "still show the failure of RPL-") {
		t.Errorf("--lenient=false --minimize: exit %d\n%s\n%s", code, out, errs)
	}
	// A strict server that passes the check says nothing of leniency.
	code, _, errs = runCLI(t, "replay", session, "--lenient=false", "--minimize", "RPL-0001", "--out", filepath.Join(dir, "min.jsonl"))
	if code != ExitUsage || strings.Contains(errs, "lenient") {
		t.Errorf("--lenient=false --minimize RPL-0001: exit %d, %q", code, errs)
	}
}
