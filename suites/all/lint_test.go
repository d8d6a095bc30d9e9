package all

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// focusRE finds focused specs, which make RunSpecs exit 197 and run only a
// subset (STYLE.md: never commit them).
var focusRE = regexp.MustCompile(`\b(FIt|FDescribe|FContext|FWhen|FEntry|FDescribeTable|FSpecify)\(|\bFocus\b`)

// TestNoFocus fails when a spec under suites/ is focused.
func TestNoFocus(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	self, _ := filepath.Abs("lint_test.go")
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || path == self {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if focusRE.MatchString(line) && !strings.HasPrefix(strings.TrimSpace(line), "//") {
				t.Errorf("%s:%d: focused spec: %s", path, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
