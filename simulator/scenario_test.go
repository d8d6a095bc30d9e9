package simulator

import (
	"os"
	"path/filepath"
	"testing"
)

// TestScenarioFileWithoutName: a scenario file of one's own that names
// itself keeps its name; one that does not is named after its file, so that
// its reports still say which scenario they ran.
func TestScenarioFileWithoutName(t *testing.T) {
	dir := t.TempDir()
	for file, body := range map[string]string{
		"nightly.yaml":   "steps: [test-connection, initial-sync, verify]\n",
		"weekly.yml":     "name: ''\nsteps: [test-connection]\n",
		"mine.yaml":      "name: lifecycle-lite\nsteps: [test-connection]\n",
		"nightly-b.yaml": "name: '  '\nsteps: [test-connection]\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for file, want := range map[string]string{"nightly.yaml": "nightly", "weekly.yml": "weekly", "mine.yaml": "lifecycle-lite", "nightly-b.yaml": "nightly-b"} {
		s, err := LoadScenario(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if s.Name != want {
			t.Errorf("%s: name %q, want %q", file, s.Name, want)
		}
	}
}
