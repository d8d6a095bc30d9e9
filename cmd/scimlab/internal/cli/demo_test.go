package cli

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestRunDirsNeverShared: demos started in the same second each get a
// directory of their own, created, under OUT.
func TestRunDirsNeverShared(t *testing.T) {
	out := filepath.Join(t.TempDir(), "reports")
	now := time.Date(2026, 11, 23, 3, 2, 13, 0, time.UTC)
	const runs = 8
	dirs := make([]string, runs)
	errs := make([]error, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() { dirs[i], errs[i] = newRunDir(out, now) })
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, d := range dirs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if seen[d] {
			t.Fatalf("two runs share %s", d)
		}
		seen[d] = true
		if st, err := os.Stat(d); err != nil || !st.IsDir() || filepath.Dir(d) != out {
			t.Errorf("%s is not a directory under %s: %v", d, out, err)
		}
	}
	if !seen[filepath.Join(out, "20261123-030213")] || !seen[filepath.Join(out, "20261123-030213-8")] {
		t.Errorf("want 20261123-030213 and -2 … -8, got %v", dirs)
	}
	// A file in the way is an error, not a directory shared with it.
	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newRunDir(blocked, now); err == nil {
		t.Error("a file as OUT is accepted")
	}
}
