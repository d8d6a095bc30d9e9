package cli

import (
	"flag"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/scimlab/scimlab/reports"
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
	return usagef("no credential for %s: pass --token (or SCIM_TOKEN) or --header 'Authorization: …'", reports.RedactURL(target))
}

// envDefaultRE finds the environment variable a flag's usage says its
// default comes from: "bearer token (env SCIM_TOKEN)".
var envDefaultRE = regexp.MustCompile(`\(env ([A-Z][A-Z0-9_]*)\)`)

// checkCredentialFlags refuses a credential that holds a control character
// (a carriage return from a token file with Windows line endings, a
// newline, a tab): it cannot go into an Authorization header, and sending it
// would fail as if the target were unreachable. The credentials are the
// values redactArgs masks: --basic, every flag named like a secret except
// a -file one, and every --header value. The error names the flag, or the
// environment variable the value came from, and never the value.
func checkCredentialFlags(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var problems []string
	fs.VisitAll(func(f *flag.Flag) {
		if h, ok := f.Value.(headerFlag); ok {
			names := make([]string, 0, len(h))
			for name := range h {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				if c, bad := controlChar(h[name]); bad {
					problems = append(problems, fmt.Sprintf("the value of --header %s holds a control character (%s)", name, c))
				}
			}
			return
		}
		if strings.HasSuffix(f.Name, "-file") || f.Name != "basic" && !reports.SensitiveName(f.Name) {
			return
		}
		c, bad := controlChar(f.Value.String())
		if !bad {
			return
		}
		from := "--" + f.Name
		if m := envDefaultRE.FindStringSubmatch(f.Usage); !set[f.Name] && m != nil {
			from = m[1] + " (the default of --" + f.Name + ")"
		}
		problems = append(problems, fmt.Sprintf("%s holds a control character (%s)", from, c))
	})
	if len(problems) == 0 {
		return nil
	}
	return usagef("%s, which no HTTP header may carry: remove it", strings.Join(problems, "; "))
}

// controlChar returns the first control character of s that an HTTP field
// value may not hold, described ("U+000D, a carriage return"), and whether
// there is one. A tab may stand between visible characters (RFC 7230 §3.2,
// field-content), so it is not one.
func controlChar(s string) (string, bool) {
	i := strings.IndexFunc(s, func(r rune) bool { return r != '\t' && unicode.IsControl(r) })
	if i < 0 {
		return "", false
	}
	r := []rune(s[i:])[0]
	what := fmt.Sprintf("%U", r)
	switch r {
	case '\r':
		what += ", a carriage return: a line ending read from a file?"
	case '\n':
		what += ", a newline: a line ending read from a file?"
	}
	return what, true
}
