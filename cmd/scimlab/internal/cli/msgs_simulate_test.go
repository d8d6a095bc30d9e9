package cli

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reports"
)

// TestMsgsSimulateNamesIdPAndServerProfile: the report's header names the
// IdP as the IdP, and the in-process server's profile (--profile) as the
// profile, never the IdP as a profile.
func TestMsgsSimulateNamesIdPAndServerProfile(t *testing.T) {
	t.Setenv("SCIM_BASE_URL", "")
	t.Setenv("SCIM_TOKEN", "")
	dir := t.TempDir()
	code, out, errs := runCLI(t, "simulate", "--profile", "slack", "--users", "3", "--groups", "1", "--scenario", "initial-sync", "--report-dir", dir)
	if code != ExitOK && code != ExitFailures {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	if !strings.HasSuffix(firstLine(out), " (profile slack, IdP okta-oin, seed 42)") {
		t.Errorf("header: want profile slack and IdP okta-oin:\n%s", firstLine(out))
	}
	if !strings.Contains(errs, "simulating IdP okta-oin against an in-process reference server (server profile slack") {
		t.Errorf("stderr: %s", firstLine(errs))
	}
	run, err := reports.Load(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if run.Profile != "slack" || run.IdP != "okta-oin" {
		t.Errorf("report: profile %q, IdP %q", run.Profile, run.IdP)
	}

	// Against a --target the target's profile is unknown: no profile.
	l := startReference(t, server.LocalOptions{Lenient: true})
	_, out, errs = runCLI(t, "simulate", "--idp", "entra", "--target", l.BaseURL, "--token", l.Token, "--users", "3", "--groups", "1", "--scenario", "initial-sync")
	if !strings.HasSuffix(firstLine(out), " (IdP entra, seed 42)") || !strings.Contains(errs, "simulate: IdP entra against ") {
		t.Errorf("with --target:\n%s\n%s", firstLine(out), errs)
	}
}

// TestMsgsCleanupCountsAddUp: the clean-up's "N to do" says what its units
// are when they are not all deletions (the resources the IdP already
// deleted are checked, not deleted), and its last line counts each kind
// against its own number.
func TestMsgsCleanupCountsAddUp(t *testing.T) {
	t.Setenv("SCIM_BASE_URL", "")
	t.Setenv("SCIM_TOKEN", "")
	code, _, errs := runCLI(t, "simulate", "--lenient", "--users", "12", "--groups", "3")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	begin := regexp.MustCompile(`simulate: clean-up: (\d+) to do \((\d+) to delete, (\d+) resources? the IdP already deleted to check\)\n`).FindStringSubmatch(errs)
	end := regexp.MustCompile(`simulate: clean-up: (\d+) of (\d+) deleted, (\d+) resources? the IdP already deleted checked in `).FindStringSubmatch(errs)
	if begin == nil || end == nil {
		t.Fatalf("clean-up lines:\n%s", errs)
	}
	n := func(s string) int { i, _ := strconv.Atoi(s); return i }
	if n(begin[1]) != n(begin[2])+n(begin[3]) || end[1] != begin[2] || end[2] != begin[2] || end[3] != begin[3] {
		t.Errorf("the counts do not add up: %q, %q", begin[0], end[0])
	}
}

// TestMsgsSimulateTargetIsNoSCIMService: a --target that serves no SCIM
// (a web page, a base URL whose collections answer 404) is said to be that,
// as test's preflight says it, not an "invalid simulation config".
func TestMsgsSimulateTargetIsNoSCIMService(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>Welcome</html>"))
	}))
	defer web.Close()
	l := startReference(t, server.LocalOptions{Lenient: true})
	for name, target := range map[string]string{"a web page": web.URL + "/scim/v2", "a 404 base": strings.TrimSuffix(l.BaseURL, "/v2") + "/v1"} {
		code, out, errs := runCLI(t, "simulate", "--target", target, "--token", l.Token, "--users", "2", "--groups", "1")
		if code != ExitUsage || out != "" || strings.Count(errs, "\n") != 1 || strings.Contains(errs, "invalid simulation config") ||
			!strings.HasPrefix(errs, "scimlab simulate: no SCIM service at "+target+": ") || !strings.Contains(errs, "check --target (the SCIM base URL") {
			t.Errorf("%s: exit %d\nstdout %q\nstderr %q", name, code, out, errs)
		}
	}
}

// TestMsgsSeedConflictHint: after a run with --keep, a run with the same
// seed meets its users: the 409 gets a note saying so and what to do; a
// target whose lookup misses them answers the create itself 409.
func TestMsgsSeedConflictHint(t *testing.T) {
	const hint = "a user of this seed is already on the target (an earlier run with --keep, or one killed before its clean-up): delete it or pass another --seed"
	l := startReference(t, server.LocalOptions{Lenient: true})
	sim := func(extra ...string) string {
		t.Helper()
		_, out, errs := runCLI(t, append([]string{"simulate", "--target", l.BaseURL, "--token", l.Token, "--users", "4", "--groups", "1", "--seed", "9"}, extra...)...)
		if out == "" {
			t.Fatalf("no report: %s", errs)
		}
		return out
	}
	if out := sim("--keep"); strings.Contains(out, hint) {
		t.Errorf("first run, on an empty target:\n%s", out)
	}
	if out := sim(); !strings.Contains(out, hint) || !strings.Contains(out, "answered 409 for the userName ") || !strings.Contains(out, "a name this run generated from --seed 9") {
		t.Errorf("same seed after --keep: no hint:\n%s", out)
	}
	if out := sim("--seed", "10"); strings.Contains(out, hint) {
		t.Errorf("another seed:\n%s", out)
	}

	// A target whose lookup finds nothing, and whose create answers 409.
	taken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/scim+json")
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness","detail":"userName is taken"}`))
			return
		}
		_, _ = w.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[],"startIndex":1,"itemsPerPage":0}`))
	}))
	defer taken.Close()
	_, out, errs := runCLI(t, "simulate", "--target", taken.URL+"/scim/v2", "--token", "t0ken", "--users", "2", "--groups", "0", "--scenario", "initial-sync")
	if !strings.Contains(out, "POST /Users answered 409 for the userName ") || !strings.Contains(out, "(2 such 409s in all)") || !strings.Contains(out, hint) {
		t.Errorf("create 409:\n%s\n%s", out, errs)
	}
}

// TestMsgsCleanupNoteCountsInTheSingular: one group is "1 group".
func TestMsgsCleanupNoteCountsInTheSingular(t *testing.T) {
	t.Setenv("SCIM_BASE_URL", "")
	t.Setenv("SCIM_TOKEN", "")
	code, out, errs := runCLI(t, "simulate", "--lenient", "--users", "6", "--groups", "2")
	if code != ExitOK || !strings.Contains(out, "clean-up: deleted the 6 users and 1 group this run created") {
		t.Errorf("exit %d\n%s\n%s", code, out, errs)
	}
}
