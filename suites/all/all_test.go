package all

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reference-server/store/postgres/pgtest"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/suites/framework"
)

// Flags for go test (after -args). The environment variables SCIM_BASE_URL,
// SCIM_TOKEN and SCIM_BASIC fill the target when -target is not given.
var (
	flagTarget      = flag.String("target", "", "SCIM base URL (default $SCIM_BASE_URL; empty: in-process reference server)")
	flagToken       = flag.String("token", "", "bearer token (default $SCIM_TOKEN)")
	flagBasic       = flag.String("basic", "", "basic credentials user:password (default $SCIM_BASIC)")
	flagInsecure    = flag.Bool("insecure", false, "skip TLS certificate verification")
	flagCaps        = flag.String("capabilities", "", "JSON ServiceProviderConfig to use instead of the target's")
	flagLimits      = flag.String("limits", "", "YAML/JSON map of attribute path to max length")
	flagBaseline    = flag.String("baseline", "", "baseline file of accepted failures")
	flagExpired     = flag.String("expired-token", "", "an expired bearer token for the auth checks")
	flagDestructive = flag.Bool("allow-destructive", false, "let checks touch data the run did not create")
	flagProfile     = flag.String("profile", "rfc", "in-process reference server profile")
	flagReportDir   = flag.String("report-dir", os.Getenv("SCIMLAB_REPORT_DIR"), "write reports here (made absolute against the package directory)")
	flagChecksMD    = flag.String("checks-md", "", "TestCheckTable writes the check table as Markdown to this file")
	flagSeed        = flag.Int64("seed", 0, "seed for fake data and the run id")
	flagHeaders     = headerFlag{}
)

func init() {
	flag.Var(&flagHeaders, "header", "extra request header 'Name: value' (repeatable)")
}

type headerFlag map[string]string

func (h headerFlag) String() string { return fmt.Sprint(map[string]string(h)) }

func (h headerFlag) Set(s string) error {
	k, v, err := framework.ParseHeader(s)
	if err != nil {
		return err
	}
	h[k] = v
	return nil
}

// Child processes: RunSpecs runs once per process, so the lenient pass and
// the broken-server run each re-execute this test binary.
const (
	envChild       = "SCIMLAB_SUITE_CHILD"  // "lenient" or "broken"
	envChildReport = "SCIMLAB_SUITE_REPORT" // where a child writes its run as JSON
)

func testConfig(t *testing.T) framework.Config {
	cfg := framework.Config{
		Target: *flagTarget, Token: *flagToken, Basic: *flagBasic, Insecure: *flagInsecure,
		CapabilitiesFile: *flagCaps, LimitsFile: *flagLimits, BaselineFile: *flagBaseline,
		ExpiredToken: *flagExpired, AllowDestructive: *flagDestructive, Profile: *flagProfile,
		Seed: *flagSeed, Local: LocalStarter, Command: "go test ./suites/all",
	}
	if len(flagHeaders) > 0 {
		cfg.Headers = flagHeaders
	}
	if *flagReportDir != "" {
		abs, err := filepath.Abs(*flagReportDir)
		if err != nil {
			t.Fatalf("-report-dir: %v", err)
		}
		cfg.ReportDir = abs
	}
	return cfg.WithEnv()
}

// and combines two label filters.
func and(a, b string) string {
	if strings.TrimSpace(a) == "" {
		return b
	}
	return "(" + a + ") && (" + b + ")"
}

// TestConformance runs the suite. With no target it runs the strict "rfc"
// profile of the in-process reference server and leaves the tolerance checks
// to TestTolerance (see suites/README.md).
func TestConformance(t *testing.T) {
	gomega.RegisterFailHandler(ginkgo.Fail)
	cfg := testConfig(t)
	sc, rc := ginkgo.GinkgoConfiguration()
	// The caps and throttled children preview the suite first, as the CLI
	// does to check a --label-filter: their gated skips and rate-limit
	// errors need the top-level BeforeEach that a bare preview would drop.
	preview := false
	switch os.Getenv(envChild) {
	case "lenient":
		cfg.Target, cfg.Token, cfg.Basic, cfg.Lenient = "", "", "", true
		sc.LabelFilter = and(sc.LabelFilter, "tolerance")
	case "broken":
		b := startBroken(t)
		cfg.Target, cfg.Token, cfg.Basic = b.BaseURL, b.Token, ""
		sc.LabelFilter = and(sc.LabelFilter, "!tolerance")
	case "bugpack":
		cfg.Target, cfg.Token, cfg.Basic = "", "", ""
		sc.LabelFilter = and(sc.LabelFilter, "bugpack")
	case "unreliable":
		cfg.Target, cfg.Token = startUnreliable(t)
		cfg.Basic = ""
		sc.LabelFilter = and(sc.LabelFilter, "filter || groups || bugpack")
	case "throttled":
		cfg.Target, cfg.Token = startThrottled(t)
		cfg.Basic = ""
		sc.LabelFilter = and(sc.LabelFilter, "users || groups || bugpack")
		preview = true
	case "shapes", "toomany":
		cfg.Target, cfg.Token = startShapes(t, os.Getenv(envChild))
		cfg.Basic = ""
		if os.Getenv(envChild) == "shapes" {
			sc.LabelFilter = and(sc.LabelFilter, "(users || groups || paging || search || bulk) && !tolerance")
		} else {
			sc.LabelFilter = and(sc.LabelFilter, "search")
		}
	case "scimmy":
		cfg.Target, cfg.Token = startScimmy(t)
		cfg.Basic = ""
		sc.LabelFilter = and(sc.LabelFilter, "(me || errors || filter || paging || projection) && !tolerance")
	case "caps":
		cfg.Target, cfg.Token, cfg.Basic = "", "", ""
		abs, err := filepath.Abs("../../fixtures/capabilities/all-unsupported.json")
		if err != nil {
			t.Fatal(err)
		}
		cfg.CapabilitiesFile = abs
		sc.LabelFilter = and(sc.LabelFilter, "!tolerance")
		preview = true
	case "cli":
		runCLI(t, cfg)
		return
	case "postgres":
		dsn := pgtest.DSN(t)
		cfg.Target, cfg.Token, cfg.Basic = "", "", ""
		cfg.Local = func(ctx context.Context, profile string, lenient bool) (*framework.LocalServer, error) {
			return startLocal(ctx, server.LocalOptions{Profile: profile, Lenient: lenient, DataDSN: dsn})
		}
		sc.LabelFilter = and(sc.LabelFilter, "!tolerance")
	case "":
		if cfg.Target == "" {
			sc.LabelFilter = and(sc.LabelFilter, "!tolerance")
		}
	default:
		t.Fatalf("%s=%q: want lenient, broken, bugpack, unreliable, throttled, shapes, toomany, scimmy, caps, cli or postgres", envChild, os.Getenv(envChild))
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	framework.Configure(cfg)
	if preview {
		framework.PreviewSpecs(SuiteName)
	}
	start := time.Now()
	ginkgo.RunSpecs(t, SuiteName, sc, rc)
	run := framework.LastRun()
	if run != nil {
		s := run.Summary()
		t.Logf("%d checks in %s: %d pass, %d fail, %d error, %d skipped, %d unsupported-but-works, %d waived",
			len(run.Checks), time.Since(start).Round(time.Millisecond), s.Of(reports.Pass), s.Of(reports.Fail), s.Of(reports.Error), s.Of(reports.Skipped), s.Of(reports.UnsupportedButWorks), s.Of(reports.Waived))
		for _, c := range run.Checks {
			if c.Verdict != reports.Pass {
				t.Logf("%s %s [%s %s]: %s", c.Verdict, c.ID, c.Level, c.Area, c.Reason)
			}
		}
		// The reference server deletes: its clean-up leaves nothing, and
		// checks every deletion.
		if os.Getenv(envChild) == "" && cfg.Target == "" {
			for _, o := range run.OrphanList() {
				t.Errorf("orphan %s: %s", o.URL, o.Reason)
			}
			for _, n := range run.Notes {
				if strings.HasPrefix(n, "clean-up: ") {
					t.Errorf("note: %s", n)
				}
			}
		}
	}
	if path := os.Getenv(envChildReport); path != "" && run != nil {
		if err := framework.WriteRunJSON(path, run); err != nil {
			t.Fatal(err)
		}
	}
}

// runChild re-executes this test binary for one TestConformance run with
// the given child mode and returns its report and output.
func runChild(t *testing.T, mode string) (*reports.Run, string, error) {
	t.Helper()
	report := filepath.Join(t.TempDir(), "run.json")
	args := []string{"-test.run=^TestConformance$", "-test.count=1", "-test.timeout=10m"}
	if *flagSeed != 0 {
		args = append(args, fmt.Sprintf("-seed=%d", *flagSeed))
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), envChild+"="+mode, envChildReport+"="+report, "SCIMLAB_REPORT_DIR=")
	out, runErr := cmd.CombinedOutput()
	f, err := os.Open(report)
	if err != nil {
		t.Fatalf("child %s wrote no report (%v); output:\n%s", mode, err, tail(string(out), 80))
	}
	defer f.Close()
	run, err := reports.ReadJSON(f)
	if err != nil {
		t.Fatalf("child %s report: %v", mode, err)
	}
	return run, string(out), runErr
}

// parentWithLocalServer skips the test in a child process, and when an
// external target is under test (why says what the test needs instead).
func parentWithLocalServer(t *testing.T, why string) {
	t.Helper()
	if os.Getenv(envChild) != "" {
		t.Skip("child process")
	}
	if testConfig(t).Target != "" {
		t.Skip("an external target is under test: " + why)
	}
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// TestConformanceOnPostgres runs every check against the in-process
// reference server on the PostgreSQL store (SCIMLAB_TEST_POSTGRES; skipped
// without it), as TestConformance does on SQLite: the backend for several
// replicas must answer exactly as the embedded default does.
func TestConformanceOnPostgres(t *testing.T) {
	if os.Getenv(envChild) != "" {
		t.Skip("child process")
	}
	if testConfig(t).Target != "" {
		t.Skip("an external target is under test, not the reference server")
	}
	pgtest.DSN(t) // skips (or fails, when required) without a database
	run, out, err := runChild(t, "postgres")
	if len(run.Checks) == 0 {
		t.Fatalf("the PostgreSQL pass ran no checks; output:\n%s", tail(out, 60))
	}
	for _, c := range run.Checks {
		if c.Verdict.Failing() {
			t.Errorf("%s %s [%s]: %s", c.Verdict, c.ID, c.Level, c.Reason)
		}
	}
	if err != nil && !t.Failed() {
		t.Fatalf("the PostgreSQL pass failed: %v; output:\n%s", err, tail(out, 60))
	}
	t.Logf("%d checks on the PostgreSQL store", len(run.Checks))
}

// TestTolerance runs the tolerance checks (request shapes real IdPs send
// that the RFC does not define) against the in-process server with every
// leniency on. Against an external target TestConformance runs them.
func TestTolerance(t *testing.T) {
	parentWithLocalServer(t, "it runs the tolerance checks in TestConformance")
	run, out, err := runChild(t, "lenient")
	if len(run.Checks) == 0 {
		t.Fatalf("the lenient pass ran no checks; output:\n%s", tail(out, 60))
	}
	gaps, berr := reports.LoadBaseline("testdata/lenient-gaps.yaml")
	if berr != nil {
		t.Fatal(berr)
	}
	failing := 0
	for _, c := range run.Checks {
		if c.Verdict.Failing() {
			failing++
		}
	}
	gaps.Apply(run, time.Now())
	for _, c := range run.Checks {
		switch {
		case c.Verdict.Failing():
			t.Errorf("%s %s [%s]: %s", c.Verdict, c.ID, c.Level, c.Reason)
		case c.Verdict == reports.Waived:
			t.Logf("known gap of the reference server: %s %s", c.ID, c.Reason)
		}
	}
	for _, n := range run.Notes {
		if strings.Contains(n, "no longer needed") || strings.Contains(n, "expired") || strings.Contains(n, "names no check") {
			t.Errorf("testdata/lenient-gaps.yaml: %s", n)
		}
	}
	if failing > 0 && err != nil {
		err = nil // the child fails on the known gaps; the waivers above decide
	}
	if err != nil && !t.Failed() {
		t.Fatalf("lenient child failed: %v\n%s", err, tail(out, 60))
	}
	t.Logf("lenient pass: %d tolerance checks", len(run.Checks))
}

// TestCheckTable checks the registry without running anything: IDs and full
// names unique, one area and one level per check, vocabulary labels only,
// and at least 200 checks. With -checks-md FILE it writes the table.
func TestCheckTable(t *testing.T) {
	if os.Getenv(envChild) != "" {
		t.Skip("child process")
	}
	checks, err := Checks()
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) < 200 {
		t.Errorf("%d checks, want at least 200", len(checks))
	}
	counts := map[string]int{}
	for _, c := range checks {
		counts[c.Area]++
	}
	areas := make([]string, 0, len(counts))
	for a := range counts {
		areas = append(areas, a)
	}
	sort.Strings(areas)
	for _, a := range areas {
		t.Logf("%-11s %3d", a, counts[a])
	}
	t.Logf("total       %3d", len(checks))
	if *flagChecksMD != "" {
		if err := os.WriteFile(*flagChecksMD, []byte(framework.ChecksMarkdown(checks)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
