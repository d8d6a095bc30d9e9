package cli

import (
	"fmt"
	"strings"
)

// parseInterspersed parses flags that may come before or after positional
// arguments ("replay FILE --target URL") and returns the positional ones.
func parseInterspersed(fs *flags, args []string, e *env) ([]string, ExitCode, bool) {
	var pos []string
	for {
		if code, stop := parse(fs, args, e); stop {
			return nil, code, true
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, ExitOK, false
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), ExitOK, false
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// headerFlag collects repeated --header "Name: value" flags.
type headerFlag map[string]string

func (h headerFlag) String() string { return "" }

func (h headerFlag) Set(v string) error {
	name, value, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("want \"Name: value\"")
	}
	h[strings.TrimSpace(name)] = strings.TrimSpace(value)
	return nil
}

// requireCredential refuses a --target without a credential: every request
// would be refused, and the run would blame the target for it.
func requireCredential(target, token string, headers headerFlag) error {
	if target == "" || token != "" {
		return nil
	}
	for name := range headers {
		if strings.EqualFold(name, "Authorization") {
			return nil
		}
	}
	return usagef("no credential for %s: pass --token (or SCIM_TOKEN) or --header 'Authorization: …'", target)
}
