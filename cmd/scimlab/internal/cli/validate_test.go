package cli

import (
	"strings"
	"testing"
)

// TestBadValuesStopBeforeAnyWork: a value scimlab cannot serve is one line
// on stderr and exit 2, before a server starts, the suites run or a request
// goes out (nothing on stdout, where the runs print their progress).
func TestBadValuesStopBeforeAnyWork(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"simulate huge users", []string{"simulate", "--users", "2000000000", "--groups", "1"}, "users 2000000000 is out of range: from 0 to 1000000"},
		{"simulate huge groups", []string{"simulate", "--groups", "2000000000"}, "groups 2000000000 is out of range"},
		{"simulate negative users", []string{"simulate", "--users", "-1"}, "users -1 is out of range"},
		{"simulate huge concurrency", []string{"simulate", "--concurrency", "1000000000"}, "concurrency 1000000000 is out of range"},
		{"simulate rate NaN", []string{"simulate", "--rate", "NaN"}, "rate NaN is not a number"},
		{"simulate time scale", []string{"simulate", "--time-scale", "1e300"}, "time scale 1e+300 is out of range"},
		{"demo huge users", []string{"demo", "--users", "2000000000"}, "scimlab demo: invalid simulation config: users 2000000000 is out of range"},
		{"demo negative users", []string{"demo", "--users", "-1"}, "scimlab demo: invalid simulation config: users -1 is out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tc.args...)
			if code != ExitUsage {
				t.Fatalf("exit %d, want 2\nstdout %q\nstderr %q", code, out, errs)
			}
			if out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.stderr) {
				t.Errorf("want one line holding %q on stderr and nothing on stdout;\nstdout %q\nstderr %q", tc.stderr, out, errs)
			}
		})
	}
}
