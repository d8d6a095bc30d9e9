package simulator

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/scimlab/scimlab/fixtures"
)

// Scenario is an ordered list of phases, read from
// fixtures/scenarios/<name>.yaml. Each phase is Go code (phases.go); a
// scenario file only chooses and orders them.
type Scenario struct {
	Name  string   `yaml:"name"`
	Title string   `yaml:"title"`
	Steps []string `yaml:"steps"`
}

// Scenarios lists the built-in scenario names, sorted.
func Scenarios() []string {
	return fixtures.YAMLNames(fixtures.IdPs, "scenarios")
}

// LoadScenario returns the built-in scenario with this name, or reads one
// from a file when name ends in .yaml or .yml.
func LoadScenario(name string) (*Scenario, error) {
	var b []byte
	var err error
	if strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml") {
		b, err = os.ReadFile(name)
	} else {
		b, err = fs.ReadFile(fixtures.IdPs, path.Join("scenarios", strings.ToLower(name)+".yaml"))
		if err != nil {
			return nil, fmt.Errorf("unknown scenario %q (known: %s)", name, strings.Join(Scenarios(), ", "))
		}
	}
	if err != nil {
		return nil, err
	}
	var s Scenario
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", name, err)
	}
	if len(s.Steps) == 0 {
		return nil, fmt.Errorf("scenario %s has no steps", name)
	}
	if strings.TrimSpace(s.Name) == "" {
		// A file of one's own without a name is named after the file, so
		// that its reports say which scenario they ran (report diff).
		s.Name = strings.TrimSuffix(strings.TrimSuffix(filepath.Base(name), ".yaml"), ".yml")
	}
	for _, st := range s.Steps {
		if _, ok := phases[st]; !ok {
			return nil, fmt.Errorf("scenario %s: unknown step %q (known: %s)", name, st, strings.Join(phaseNames(), ", "))
		}
	}
	return &s, nil
}
