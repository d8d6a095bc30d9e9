package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// usageCase is a command line that must end in a usage or configuration
// error: exit 2, nothing on stdout, and one error line on stderr, the last
// one, holding stderr (a simulation's progress lines may come before it).
type usageCase struct {
	name   string
	args   []string
	stderr string
}

func runUsageCases(t *testing.T, cases []usageCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tc.args...)
			lines := strings.Split(strings.TrimRight(errs, "\n"), "\n")
			if code != ExitUsage || out != "" || strings.Count(errs, "scimlab "+tc.args[0]+":") != 1 || !strings.Contains(lines[len(lines)-1], tc.stderr) {
				t.Fatalf("exit %d, want 2, no stdout and one error line holding %q\nstdout %q\nstderr %q", code, tc.stderr, out, errs)
			}
		})
	}
}

// TestBadValuesStopBeforeAnyWork: a value scimlab cannot serve is one line
// on stderr and exit 2, before a server starts, the suites run or a request
// goes out (nothing on stdout, where the runs print their progress).
func TestBadValuesStopBeforeAnyWork(t *testing.T) {
	runUsageCases(t, []usageCase{
		{"simulate huge users", []string{"simulate", "--users", "2000000000", "--groups", "1"}, "users 2000000000 is out of range: from 0 to 1000000"},
		{"simulate huge groups", []string{"simulate", "--groups", "2000000000"}, "groups 2000000000 is out of range"},
		{"simulate negative users", []string{"simulate", "--users", "-1"}, "users -1 is out of range"},
		{"simulate huge concurrency", []string{"simulate", "--concurrency", "1000000000"}, "concurrency 1000000000 is out of range"},
		{"simulate rate NaN", []string{"simulate", "--rate", "NaN"}, "rate NaN is not a number"},
		{"simulate time scale", []string{"simulate", "--time-scale", "1e300"}, "time scale 1e+300 is out of range"},
		{"demo huge users", []string{"demo", "--users", "2000000000"}, "scimlab demo: invalid simulation config: users 2000000000 is out of range"},
		{"demo negative users", []string{"demo", "--users", "-1"}, "scimlab demo: invalid simulation config: users -1 is out of range"},
	})
}

// TestFlagFilesAreReadBeforeTheTarget: a bad --baseline, --limits,
// --capabilities, --report-dir or --out is exit 2 before a single request
// reaches the target.
func TestFlagFilesAreReadBeforeTheTarget(t *testing.T) {
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "no", http.StatusTeapot)
	}))
	defer target.Close()
	dir := t.TempDir()
	badYAML, notJSON, file := filepath.Join(dir, "bad.yaml"), filepath.Join(dir, "spc.json"), filepath.Join(dir, "file")
	for path, text := range map[string]string{badYAML: "waivers: [\n", notJSON: "{patch", file: ""} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	session := listSession(t, 1)
	base := target.URL + "/scim/v2"
	runUsageCases(t, []usageCase{
		{"baseline not YAML", []string{"test", "--target", base, "--token", "t", "--baseline", badYAML}, "baseline " + badYAML + ": baseline is not valid YAML"},
		{"baseline missing", []string{"test", "--target", base, "--token", "t", "--baseline", filepath.Join(dir, "none.yaml")}, "none.yaml"},
		{"limits not a map", []string{"test", "--target", base, "--token", "t", "--limits", badYAML}, "--limits"},
		{"capabilities not JSON", []string{"test", "--target", base, "--token", "t", "--capabilities", notJSON}, "is not a JSON ServiceProviderConfig"},
		{"test report dir", []string{"test", "--target", base, "--token", "t", "--report-dir", filepath.Join(file, "out")}, "--report-dir " + filepath.Join(file, "out")},
		{"simulate report dir", []string{"simulate", "--target", base, "--token", "t", "--report-dir", filepath.Join(file, "out")}, "--report-dir"},
		{"replay report dir", []string{"replay", session, "--target", base, "--token", "t", "--report-dir", filepath.Join(file, "out")}, "--report-dir"},
		{"replay minimize out", []string{"replay", session, "--minimize", "--out", filepath.Join(dir, "no-such-dir", "min.jsonl")}, "--out " + filepath.Join(dir, "no-such-dir", "min.jsonl")},
	})
	if n := hits.Load(); n != 0 {
		t.Errorf("the target got %d requests", n)
	}
}

// TestLabelFilterErrorIsOnePlainLine: a label filter that does not parse is
// one plain line (no colour markup, no ANSI escape) and exit 2.
func TestLabelFilterErrorIsOnePlainLine(t *testing.T) {
	for filter, want := range map[string]string{
		"((":   `--label-filter "((": Syntax Error Parsing Label Filter: Mismatched '(' - could not find matching ')'`,
		"a &&": `--label-filter "a &&": Syntax Error Parsing Label Filter: Unexpected EOF`,
	} {
		code, out, errs := runCLI(t, "test", "--label-filter", filter)
		if code != ExitUsage || out != "" || errs != "scimlab test: "+want+".\n" {
			t.Errorf("--label-filter %q: exit %d, stdout %q, stderr %q; want 2 and %q", filter, code, out, errs, want)
		}
	}
}
