package cli

import (
	"testing"

	server "github.com/scimlab/scimlab/reference-server"
)

// TestMinimizeAgainstATargetNeedsAReset: --minimize against --target
// without --reset-cmd is refused (attempts that do not start from the same
// state give an artefact, not the recorded failure); --reset-cmd and --out
// are refused where they do nothing.
func TestMinimizeAgainstATargetNeedsAReset(t *testing.T) {
	l := startReference(t, server.LocalOptions{Lenient: true})
	session := listSession(t, 2)
	runUsageCases(t, []usageCase{
		{"minimize target without reset", []string{"replay", session, "--minimize", "--target", l.BaseURL, "--token", l.Token},
			"--minimize against --target needs --reset-cmd CMD, a command that resets " + l.BaseURL + " before each attempt"},
		{"reset without minimize", []string{"replay", session, "--target", l.BaseURL, "--token", l.Token, "--reset-cmd", "true"}, "--reset-cmd and --out go with --minimize"},
		{"out without minimize", []string{"replay", session, "--out", "min.jsonl"}, "--reset-cmd and --out go with --minimize"},
		{"reset without target", []string{"replay", session, "--minimize", "--reset-cmd", "true"}, "--reset-cmd goes with --target"},
		// Accepted: the run goes on to find that nothing fails.
		{"minimize target with reset", []string{"replay", session, "--minimize", "--target", l.BaseURL, "--token", l.Token, "--reset-cmd", "true"}, "every exchange passed"},
	})
}
