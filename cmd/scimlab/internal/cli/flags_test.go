package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	server "github.com/scimlab/scimlab/reference-server"
)

// TestFlagsThatCannotWorkAreRefused: a flag that would change nothing, or
// give a wrong answer, is exit 2 with a line saying why, not ignored.
//
// An unknown --profile is exit 2 in every mode. Against --target, test reads
// --profile as the profile the target emulates (its limits feed the limits
// checks); simulate and replay, where it only shapes the in-process server,
// refuse it, as they and test refuse --lenient.
//
// replay --minimize against --target needs --reset-cmd: attempts that do not
// start from the same state give an artefact, not the recorded failure; and
// --reset-cmd and --out are refused where they do nothing.
//
// A --label-filter that selects no check is refused before the run.
func TestFlagsThatCannotWorkAreRefused(t *testing.T) {
	l := startReference(t, server.LocalOptions{Lenient: true})
	session := listSession(t, 1)
	runUsageCases(t, []usageCase{
		{"test unknown profile", []string{"test", "--target", l.BaseURL, "--token", l.Token, "--profile", "nope"}, `unknown profile "nope"`},
		{"test lenient with target", []string{"test", "--target", l.BaseURL, "--token", l.Token, "--lenient"}, "--lenient makes the in-process reference server accept IdP dialects; with --target"},
		{"simulate unknown profile", []string{"simulate", "--profile", "nope"}, `unknown profile "nope"`},
		{"simulate unknown profile with target", []string{"simulate", "--target", l.BaseURL, "--token", l.Token, "--profile", "nope"}, `unknown profile "nope"`},
		{"simulate profile with target", []string{"simulate", "--target", l.BaseURL, "--token", l.Token, "--profile", "alation"}, "--profile and --lenient choose how the in-process reference server behaves"},
		{"simulate lenient with target", []string{"simulate", "--target", l.BaseURL, "--token", l.Token, "--lenient"}, "with --target " + l.BaseURL + " they would change nothing"},
		{"replay unknown profile", []string{"replay", session, "--profile", "nope"}, `unknown profile "nope"`},
		{"replay profile with target", []string{"replay", session, "--target", l.BaseURL, "--token", l.Token, "--profile", "aws"}, "--profile and --lenient choose"},
		{"minimize target without reset", []string{"replay", session, "--minimize", "--target", l.BaseURL, "--token", l.Token},
			"--minimize against --target needs --reset-cmd CMD, a command that resets " + l.BaseURL + " before each attempt"},
		{"reset without minimize", []string{"replay", session, "--target", l.BaseURL, "--token", l.Token, "--reset-cmd", "true"}, "--reset-cmd and --out go with --minimize"},
		{"out without minimize", []string{"replay", session, "--out", "min.jsonl"}, "--reset-cmd and --out go with --minimize"},
		{"reset without target", []string{"replay", session, "--minimize", "--reset-cmd", "true"}, "--reset-cmd goes with --target"},
		// A label filter that selects nothing would pass with "0 checks".
		{"label filter selects nothing", []string{"test", "--label-filter", "MUTS"}, `--label-filter "MUTS" selects no check: labels are areas`},
		{"label filter names a check ID", []string{"test", "--label-filter", "USR-001"}, "USR-001 is a check ID, not a label"},
		{"bug pack and a filter outside it", []string{"test", "--bug-pack", "--label-filter", "bulk"}, `--label-filter "(bulk) && bugpack" selects no check`},
		{"label filter syntax", []string{"test", "--label-filter", "MUST &&"}, `--label-filter "MUST &&": Syntax Error Parsing Label Filter: Unexpected EOF.`},
		// Accepted: the run goes on to find that nothing fails.
		{"minimize target with reset", []string{"replay", session, "--minimize", "--target", l.BaseURL, "--token", l.Token, "--reset-cmd", "true"}, "every exchange passed"},
	})
}

// TestProfileGivesTheTargetsLimits: `test --target URL --profile alation`
// runs the limits checks with Alation's limits instead of skipping them.
func TestProfileGivesTheTargetsLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("runs scimlab in a child process")
	}
	l := startReference(t, server.LocalOptions{Profile: "alation"})
	dir := t.TempDir()
	code, out, errs := runChild(t, nil, "test", "--target", l.BaseURL, "--token", l.Token, "--profile", "alation", "--label-filter", "limits", "--report-dir", dir)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `"verdict": "skipped"`) || !strings.Contains(string(b), `"verdict": "pass"`) {
		t.Errorf("the limits checks did not run with the profile's limits:\n%s", out)
	}
}
