package cli

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"

	"github.com/scimlab/scimlab/suites/all"
)

// setFlags returns the names of the flags the command line set.
func setFlags(fs *flags) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// refuseServerFlags refuses --profile and --lenient together with --target
// (for commands where they only shape the in-process reference server): they
// would change nothing, and a user who passes them expects them to.
func refuseServerFlags(fs *flags, target string) error {
	set := setFlags(fs)
	if target == "" || !set["profile"] && !set["lenient"] {
		return nil
	}
	return usagef("--profile and --lenient choose how the in-process reference server behaves; with --target %s they would change nothing: drop them", target)
}

// profileLimitsFile writes the attribute length limits of profile sf to a
// file in a new temporary directory, in the form --limits reads, and
// returns its path and a function that removes it. The path is "" when the
// profile sets no limits.
func profileLimitsFile(sf serveFlags) (string, func(), error) {
	p, err := sf.resolve()
	if err != nil {
		return "", nil, err
	}
	limits := all.ProfileLimits(p)
	if len(limits) == 0 {
		return "", func() {}, nil
	}
	dir, err := os.MkdirTemp("", "scimlab-limits-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	b, err := json.Marshal(limits)
	if err == nil {
		path := filepath.Join(dir, "profile-"+p.Name+"-limits.json")
		if err = os.WriteFile(path, b, 0o600); err == nil {
			return path, cleanup, nil
		}
	}
	cleanup()
	return "", nil, err
}
