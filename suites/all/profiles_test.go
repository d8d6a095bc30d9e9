package all

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reference-server/auth"
	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/store/sqlite"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/suites/framework"
)

// The profile runs: the requirement is that against every profile
// other than rfc "each failure or skip is one the profile explains". Each
// such profile has an expectation file, fixtures/profiles/expected/<name>.yaml,
// in the baseline format: every check that fails against the profile, with
// the profile knob that causes it. TestProfilesExplainEveryFailure runs the
// suite (strict, no tolerance checks, as TestConformance does for rfc) against
// each profile in a child process, applies the file and fails on a failure
// without a waiver, on a waiver that is no longer needed and on a skip whose
// reason is not one of the accepted forms.
const (
	envProfileChild = "SCIMLAB_PROFILE_CHILD" // the profile a child runs
	expectedDir     = "../../fixtures/profiles/expected"
	profilesDir     = "../../fixtures/profiles"
	// profileSeed makes the profile runs deterministic unless -seed is given.
	profileSeed = 20261122
	// profileParallel children run at once (CI has two cores).
	profileParallel = 2
)

// acceptedSkip reports whether a skip reason is one a profile explains by
// itself: a capability its discovery declares (ServiceProviderConfig,
// /Schemas, /Me, a POST /.search answered 501), what the target does with
// nested groups, the limits its profile declares, or an input the run was not given (not requested:
// --expired-token, --limits, --allow-destructive). A check whose shared
// setup failed is an error, not a skip: it must be listed in the
// expectation file with the cause of that failure.
func acceptedSkip(reason string) bool {
	for _, prefix := range []string{
		"ServiceProviderConfig.",
		"/Schemas declares ",
		"the User schema declares ",
		"/Me is not supported",
		"the target refuses nested groups",
		"the target accepts nested groups",
		"the in-process server's profile ",
		framework.SearchUnsupportedPrefix,
		framework.NotRequestedPrefix,
	} {
		if strings.HasPrefix(reason, prefix) {
			return true
		}
	}
	return false
}

// unexplained lists failures that no profile knob explains: bugs in a check
// or in the reference server, reported rather than waived. A profile whose
// only problems are these is skipped with their IDs; when one of them passes
// (or stops failing) the test asks to remove it from here.
var unexplained = map[string]map[string]string{}

// profileStarter starts the in-process reference server like LocalStarter,
// but with the profile's rate limits removed: a fast suite run against a
// rate-limited profile (slack, zscaler) sees 429s, which say nothing about
// the checks. Faults are tested in reference-server; profiles without rate
// limits go through LocalStarter unchanged.
func profileStarter(ctx context.Context, name string, lenient bool) (*framework.LocalServer, error) {
	p, err := profile.Get(name)
	if err != nil {
		return nil, err
	}
	if !p.Faults.RateLimit.On() && !p.Faults.WriteRateLimit.On() {
		return LocalStarter(ctx, name, lenient)
	}
	p, err = profile.Resolve(name, "", lenient, profile.FaultFlags{RateLimit: "off"})
	if err != nil {
		return nil, err
	}
	if p.Faults.On() {
		return nil, fmt.Errorf("profile %s: faults left after removing the rate limit: %v", name, p.Faults)
	}
	st, err := sqlite.Open(":memory:")
	if err != nil {
		return nil, err
	}
	srv, err := server.New(server.Config{Store: st, Profile: p})
	if err != nil {
		st.Close()
		return nil, err
	}
	secret, _, err := auth.Create(ctx, st, "local", 24*time.Hour, time.Now())
	if err != nil {
		st.Close()
		return nil, err
	}
	hs := httptest.NewServer(srv.Handler())
	return &framework.LocalServer{
		BaseURL: hs.URL + server.BasePath,
		Token:   secret,
		Limits:  ProfileLimits(p),
		Close: func() error {
			hs.Close()
			return st.Close()
		},
	}, nil
}

// TestProfileChild is the child process of TestProfilesExplainEveryFailure:
// the suite against the profile named by SCIMLAB_PROFILE_CHILD.
func TestProfileChild(t *testing.T) {
	name := os.Getenv(envProfileChild)
	if name == "" {
		t.Skip("runs only as a child of TestProfilesExplainEveryFailure")
	}
	gomega.RegisterFailHandler(ginkgo.Fail)
	seed := *flagSeed
	if seed == 0 {
		seed = profileSeed
	}
	cfg := framework.Config{
		Profile: name, Seed: seed, Local: profileStarter,
		Command: "go test ./suites/all -run TestProfilesExplainEveryFailure",
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	framework.Configure(cfg)
	sc, rc := ginkgo.GinkgoConfiguration()
	sc.LabelFilter = and(sc.LabelFilter, "!tolerance")
	sc.RandomSeed = seed
	rc.Succinct = true
	ginkgo.RunSpecs(t, SuiteName, sc, rc)
	run := framework.LastRun()
	if run == nil {
		t.Fatal("the suite produced no report")
	}
	if err := framework.WriteRunJSON(os.Getenv(envChildReport), run); err != nil {
		t.Fatal(err)
	}
}

// runProfileChild runs TestProfileChild for one profile and returns its run.
func runProfileChild(t *testing.T, name string) (*reports.Run, error) {
	report := filepath.Join(t.TempDir(), name+".json")
	args := []string{"-test.run=^TestProfileChild$", "-test.count=1", "-test.timeout=5m"}
	if *flagSeed != 0 {
		args = append(args, fmt.Sprintf("-seed=%d", *flagSeed))
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), envProfileChild+"="+name, envChildReport+"="+report,
		"SCIMLAB_REPORT_DIR=", envChild+"=", framework.EnvBaseURL+"=", framework.EnvToken+"=", framework.EnvBasic+"=")
	out, _ := cmd.CombinedOutput()
	f, err := os.Open(report)
	if err != nil {
		return nil, fmt.Errorf("child for profile %s wrote no report (%v); output:\n%s", name, err, tail(string(out), 60))
	}
	defer f.Close()
	run, err := reports.ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("child for profile %s: report: %w", name, err)
	}
	return run, nil
}

// profileNames lists the shipped profiles (fixtures/profiles/*.yaml).
func profileNames(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join(profilesDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no profiles in %s (%v)", profilesDir, err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// TestProfilesExplainEveryFailure runs the suite against every shipped
// profile but rfc and checks that each failure is waived by the profile's
// expectation file, that no waiver is unneeded and that each skip has an
// accepted reason. rfc must pass outright (TestConformance), so it has no
// expectation file.
func TestProfilesExplainEveryFailure(t *testing.T) {
	if os.Getenv(envChild) != "" || os.Getenv(envProfileChild) != "" {
		t.Skip("child process")
	}
	if testConfig(t).Target != "" {
		t.Skip("an external target: the profiles are those of the in-process reference server")
	}
	if _, err := os.Stat(filepath.Join(expectedDir, "rfc.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s/rfc.yaml: rfc must pass outright (TestConformance), with no expected failures: remove the file (stat: %v)", expectedDir, err)
	}
	names := profileNames(t)
	known := map[string]bool{}
	for _, n := range names {
		known[n] = true
	}
	files, _ := filepath.Glob(filepath.Join(expectedDir, "*.yaml"))
	for _, f := range files {
		if n := strings.TrimSuffix(filepath.Base(f), ".yaml"); !known[n] {
			t.Errorf("%s: no profile %s in %s", f, n, profilesDir)
		}
	}

	start := time.Now()
	type result struct {
		run *reports.Run
		err error
	}
	results := map[string]result{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, profileParallel)
	for _, name := range names {
		if name == "rfc" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			run, err := runProfileChild(t, name)
			mu.Lock()
			results[name] = result{run, err}
			mu.Unlock()
		}()
	}
	wg.Wait()
	t.Logf("%d profiles in %s", len(results), time.Since(start).Round(time.Millisecond))

	for _, name := range names {
		if name == "rfc" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			r := results[name]
			if r.err != nil {
				t.Fatal(r.err)
			}
			checkProfileRun(t, name, r.run)
		})
	}
}

// checkProfileRun applies the profile's expectation file to its run and
// reports what the profile does not explain.
func checkProfileRun(t *testing.T, name string, run *reports.Run) {
	file := filepath.Join(expectedDir, name+".yaml")
	base, err := reports.LoadBaseline(file)
	if err != nil {
		t.Fatalf("profile %s: %v (every profile but rfc has an expectation file, even an empty one)", name, err)
	}
	if len(run.Checks) < 200 {
		t.Fatalf("profile %s: only %d checks ran; notes: %s", name, len(run.Checks), strings.Join(run.Notes, "; "))
	}
	for _, n := range run.Notes {
		if strings.Contains(n, "suite setup failed") || strings.Contains(n, " failed: ") {
			t.Errorf("profile %s: %s", name, n)
		}
	}
	checkProfileOrphans(t, name, run)
	failing := 0
	for _, c := range run.Checks {
		if c.Verdict.Failing() {
			failing++
		}
	}
	listed := map[string]bool{}
	for _, w := range base.Waivers {
		listed[w.ID] = true
	}
	known := unexplained[name]
	before := len(run.Notes)
	base.Apply(run, time.Now())
	var unexplainedFails, skips, knownBugs []string
	waived := 0
	for _, c := range run.Checks {
		line := fmt.Sprintf("  %s %s [%s %s]: %s", c.Verdict, c.ID, c.Level, c.Area, oneLineReason(c.Reason))
		switch {
		case c.Verdict.Failing() && known[c.ID] != "":
			knownBugs = append(knownBugs, c.ID+" ("+known[c.ID]+")")
		case c.Verdict.Failing():
			unexplainedFails = append(unexplainedFails, line)
		case c.Verdict == reports.Waived:
			waived++
		case c.Verdict == reports.Skipped && !acceptedSkip(c.Reason):
			skips = append(skips, line)
		case c.Verdict == reports.Skipped && listed[c.ID]:
			t.Errorf("%s: the waiver for %s is not needed: the check is skipped (%s), remove it", file, c.ID, oneLineReason(c.Reason))
		}
		if known[c.ID] != "" && !c.Verdict.Failing() {
			t.Errorf("profile %s: %s is listed in unexplained (profiles_test.go) but is %s now: remove it", name, c.ID, c.Verdict)
		}
		if known[c.ID] != "" && listed[c.ID] {
			t.Errorf("%s: %s is a known bug, not explained by the profile: do not waive it", file, c.ID)
		}
	}
	if len(unexplainedFails) > 0 {
		t.Errorf("profile %s: %d failures %s does not explain (fix the server or the check, or add a waiver naming the profile knob that causes it):\n%s",
			name, len(unexplainedFails), file, strings.Join(unexplainedFails, "\n"))
	}
	if len(skips) > 0 {
		t.Errorf("profile %s: %d skips without an accepted reason (a declared capability or a missing flag):\n%s",
			name, len(skips), strings.Join(skips, "\n"))
	}
	for _, n := range run.Notes[before:] {
		t.Errorf("%s: %s", file, n)
	}
	s := run.Summary()
	t.Logf("profile %s: %d checks: %d pass, %d waived (of %d failing), %d skipped, %d unsupported-but-works",
		name, len(run.Checks), s.Of(reports.Pass), waived, failing, s.Of(reports.Skipped), s.Of(reports.UnsupportedButWorks))
	if len(knownBugs) > 0 && !t.Failed() {
		t.Skipf("profile %s: everything else is explained, but %d failures are not explained by the profile (known bugs, reported, not waived): %s",
			name, len(knownBugs), strings.Join(knownBugs, "; "))
	}
}

// checkProfileOrphans: the clean-up leaves nothing on a profile whose
// DELETE deletes; on one whose user DELETE only deactivates (slack,
// atlassian) every user it created stays, and each is an orphan that says
// how it still answers. What the clean-up could not check is a note, never
// silent.
func checkProfileOrphans(t *testing.T, name string, run *reports.Run) {
	p, err := profile.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	orphans := run.OrphanList()
	for _, n := range run.Notes {
		if strings.HasPrefix(n, "clean-up: could not check") {
			t.Errorf("profile %s: %s", name, n)
		}
	}
	if p.Users.Delete != profile.Deactivate {
		if len(orphans) > 0 {
			t.Errorf("profile %s deletes, yet the run left %d orphans; the first: %+v", name, len(orphans), orphans[0])
		}
		return
	}
	if len(orphans) < 100 {
		t.Errorf("profile %s: DELETE only deactivates users, but only %d orphans are listed", name, len(orphans))
	}
	want := ", but GET still answers 200 (active=false)"
	if p.Users.Inactive == profile.NotFound {
		want = ", but the user is still listed by userName eq "
	}
	for _, o := range orphans {
		if !strings.Contains(o.URL, "/Users/") || !strings.Contains(o.Reason, want) {
			t.Errorf("profile %s: orphan %s (%s), want a user whose reason says %q", name, o.URL, o.Reason, want)
			return
		}
	}
}

func oneLineReason(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
