//go:build unix

package sqlite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefusesHardLinkedDatabase: a database file with a second name is
// refused, so that no second server starts on it through the other name
// (its own WAL over the same pages, its own serving claim).
func TestRefusesHardLinkedDatabase(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "one.db")
	s := openT(t, path)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "two.db")
	if err := os.Link(path, other); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	for _, p := range []string{path, other} {
		st, err := Open(p)
		if err == nil {
			st.Close()
			t.Fatalf("%s opened while it has two names", p)
		}
		if !strings.Contains(err.Error(), "2 hard links") || !strings.Contains(err.Error(), "open it by one name only") {
			t.Errorf("%s: %v", p, err)
		}
	}
	if err := os.Remove(other); err != nil {
		t.Fatal(err)
	}
	st, err := Open(path)
	if err != nil {
		t.Fatalf("one name again: %v", err)
	}
	st.Close()
}
