package profile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/scimlab/scimlab/fixtures"
	"github.com/scimlab/scimlab/reference-server/auth"
)

// The YAML engine. A profile file is one YAML mapping whose keys are the
// yaml tags of Profile. It starts from the profile it extends (rfc unless it
// says "extends: NAME"): scalars it sets replace the base's, mappings merge
// key by key (so "users: {limits: {userName: 150}}" keeps every other user
// rule of the base, and a limit of 0 lifts one), lists replace the base's,
// and "tokens" replaces the whole token policy. Unknown keys are errors
// naming the key and its line. Validate then fills defaults and checks
// every value.

const dir = "profiles"

// Names lists the shipped profile names, sorted.
func Names() []string {
	return fixtures.YAMLNames(fixtures.Profiles, dir)
}

// ErrUnknown is returned (wrapped) by Get for a name no shipped profile has.
var ErrUnknown = errors.New("unknown profile")

// Get returns a fresh, validated copy of the shipped profile with this name
// or alias, case-insensitive ("" means "rfc"). A "+lenient" suffix, as
// WithLenient names a profile ("rfc+lenient"), returns the lenient copy.
func Get(name string) (*Profile, error) {
	base, lenient := strings.CutSuffix(strings.TrimSpace(name), "+lenient")
	p, err := raw(base, nil)
	if err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if lenient {
		p = p.WithLenient()
	}
	return p, nil
}

// canonical returns the file name (without .yaml) of a shipped profile
// named name or aliased so.
func canonical(name string) (string, error) {
	want := strings.ToLower(strings.TrimSpace(name))
	if want == "" {
		want = "rfc"
	}
	names := Names()
	for _, n := range names {
		if n == want {
			return n, nil
		}
	}
	for _, n := range names {
		b, err := fs.ReadFile(fixtures.Profiles, path.Join(dir, n+".yaml"))
		if err != nil {
			continue
		}
		var head struct {
			Aliases []string `yaml:"aliases"`
		}
		if yaml.Unmarshal(b, &head) == nil {
			for _, a := range head.Aliases {
				if strings.EqualFold(a, want) {
					return n, nil
				}
			}
		}
	}
	return "", fmt.Errorf("profile: %w %q (known: %s)", ErrUnknown, name, strings.Join(names, ", "))
}

// raw loads a shipped profile with its bases applied, not yet validated.
// seen guards against a cycle of extends.
func raw(name string, seen []string) (*Profile, error) {
	n, err := canonical(name)
	if err != nil {
		return nil, err
	}
	for _, s := range seen {
		if s == n {
			return nil, fmt.Errorf("profile: %s: extends makes a cycle (%s → %s)", n, strings.Join(seen, " → "), n)
		}
	}
	b, err := fs.ReadFile(fixtures.Profiles, path.Join(dir, n+".yaml"))
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	p, _, err := decode(b, "fixtures/profiles/"+n+".yaml", n, "", append(seen, n))
	if err != nil {
		return nil, err
	}
	if p.Name != n {
		return nil, fmt.Errorf("profile: fixtures/profiles/%s.yaml: name is %q; it must match the file name", n, p.Name)
	}
	return p, nil
}

// Load reads a profile from a YAML file of the user's own; it extends rfc
// unless it says "extends: NAME". Errors name the file, the key and the line.
func Load(file string) (*Profile, error) {
	return loadFile(file, "")
}

// Parse reads a profile from YAML; source names it in errors.
func Parse(b []byte, source string) (*Profile, error) {
	return parseValidated(b, source, "")
}

func loadFile(file, base string) (*Profile, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	return parseValidated(b, file, base)
}

func parseValidated(b []byte, source, base string) (*Profile, error) {
	p, lines, err := decode(b, source, "", base, nil)
	if err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, withLines(err, source, lines)
	}
	return p, nil
}

// decode reads one profile document over its base. self is the shipped name
// being read ("" for a user's file); base is the profile the caller wants the
// file to extend ("" = what the file says, else rfc). It returns the
// profile and the line of every key path, for error messages.
func decode(b []byte, source, self, base string, seen []string) (*Profile, map[string]int, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, fmt.Errorf("profile: %s: the file is empty; it needs at least \"name\"", source)
		}
		return nil, nil, fmt.Errorf("profile: %s: %s", source, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, nil, fmt.Errorf("profile: %s: line %d: a profile file holds one YAML document", source, extra.Line)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("profile: %s: line %d: a profile is a YAML mapping of keys such as name, users and groups", source, root.Line)
	}
	lines := map[string]int{}
	index(root, "", lines)
	top := map[string]*yaml.Node{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		top[root.Content[i].Value] = root.Content[i+1]
	}

	extends := ""
	if n := top["extends"]; n != nil {
		extends = strings.TrimSpace(n.Value)
	}
	switch {
	case base != "" && extends != "" && !strings.EqualFold(base, extends):
		return nil, nil, fmt.Errorf("profile: %s: line %d: the file extends %q but --profile asks for %q; drop one", source, lines["extends"], extends, base)
	case extends == "":
		extends = base
	}
	var p *Profile
	if self == "rfc" {
		if extends != "" {
			return nil, nil, fmt.Errorf("profile: %s: rfc is the base of every profile and extends nothing", source)
		}
		p = &Profile{}
	} else {
		if extends == "" {
			extends = "rfc"
		}
		bp, err := raw(extends, seen)
		if err != nil {
			if errors.Is(err, ErrUnknown) {
				return nil, nil, fmt.Errorf("profile: %s: line %d: extends: %w", source, lines["extends"], &wrapped{strings.TrimPrefix(err.Error(), "profile: "), err})
			}
			return nil, nil, err
		}
		p = bp
		p.Extends = bp.Name
		// What a profile does not say it inherits; these say who it is.
		p.Name, p.Description, p.Emulates, p.Sources, p.Aliases, p.DocumentationURI = "", "", "", nil, nil, ""
	}
	if top["tokens"] != nil {
		p.Tokens = auth.Policy{}
	}
	strict := yaml.NewDecoder(bytes.NewReader(b))
	strict.KnownFields(true)
	if err := strict.Decode(p); err != nil {
		return nil, nil, decodeError(err, source, lines)
	}
	if p.Name == "" {
		return nil, nil, fmt.Errorf("profile: %s: name is missing", source)
	}
	if self != "rfc" && p.Extends == "" {
		p.Extends = "rfc"
	}
	return p, lines, nil
}

// index records the line of every key path ("users.limits.userName",
// "users.unsupported[0]").
func index(n *yaml.Node, prefix string, lines map[string]int) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if prefix != "" {
				k = prefix + "." + k
			}
			if _, ok := lines[k]; !ok {
				lines[k] = n.Content[i].Line
			}
			index(n.Content[i+1], k, lines)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			k := prefix + "[" + strconv.Itoa(i) + "]"
			lines[k] = c.Line
			index(c, k, lines)
		}
	}
}

var (
	reNotFound = regexp.MustCompile(`^line (\d+): field (\S+) not found in type \S+$`)
	reLine     = regexp.MustCompile(`^line (\d+): (.*)$`)
)

// decodeError rewrites yaml's errors to name the key: `line 12: unknown
// key "limitz" (in users)`, `line 7: maxResults: cannot unmarshal !!str …`.
func decodeError(err error, source string, lines map[string]int) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("profile: %s: %s", source, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	byLine := map[int]string{}
	for k, l := range lines {
		if old, ok := byLine[l]; !ok || len(k) < len(old) {
			byLine[l] = k
		}
	}
	msgs := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		if m := reNotFound.FindStringSubmatch(e); m != nil {
			l, _ := strconv.Atoi(m[1])
			key := byLine[l]
			where := ""
			if i := strings.LastIndexByte(key, '.'); i > 0 {
				where = " (in " + key[:i] + ")"
			}
			msgs = append(msgs, fmt.Sprintf("line %s: unknown key %q%s", m[1], m[2], where))
			continue
		}
		if m := reLine.FindStringSubmatch(e); m != nil {
			l, _ := strconv.Atoi(m[1])
			if key := byLine[l]; key != "" {
				msgs = append(msgs, fmt.Sprintf("line %s: %s: %s", m[1], key, m[2]))
				continue
			}
		}
		msgs = append(msgs, e)
	}
	if len(msgs) == 1 {
		return fmt.Errorf("profile: %s: %s", source, msgs[0])
	}
	return fmt.Errorf("profile: %s:\n  %s", source, strings.Join(msgs, "\n  "))
}

// withLines adds line numbers to the field errors of a validation error and
// names the file.
func withLines(err error, source string, lines map[string]int) error {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	for _, e := range ve.Errs {
		var fe *FieldError
		if !errors.As(e, &fe) || fe.Line > 0 {
			continue
		}
		for f := fe.Field; f != ""; {
			if l, ok := lines[f]; ok {
				fe.Line = l
				break
			}
			i := strings.LastIndexAny(f, ".[")
			if i < 0 {
				break
			}
			f = f[:i]
		}
	}
	ve.Profile = source
	return ve
}

// Resolve returns the profile `scimlab serve` runs: the shipped profile
// name (rfc when empty), or the user's file (which extends name when both
// are given), with every leniency on when lenient is set, and the fault
// flags applied over the profile's faults. Errors say what to fix; an
// unknown name lists the known ones.
func Resolve(name, file string, lenient bool, faults FaultFlags) (*Profile, error) {
	var p *Profile
	var err error
	if strings.TrimSpace(file) != "" {
		base := ""
		if strings.TrimSpace(name) != "" {
			n, err := canonical(name)
			if err != nil {
				return nil, err
			}
			base = n
		}
		p, err = loadFile(file, base)
	} else {
		p, err = Get(name)
	}
	if err != nil {
		return nil, err
	}
	if lenient {
		p = p.WithLenient()
	}
	if !faults.Empty() {
		if err := faults.apply(&p.Faults); err != nil {
			return nil, fmt.Errorf("profile: %w", err)
		}
		if err := p.Validate(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Row is one line of the README's profile table.
type Row struct {
	Name        string
	Emulates    string
	Description string
	Sources     []string
}

// Table returns a row per shipped profile, in Names order.
func Table() ([]Row, error) {
	var out []Row
	for _, n := range Names() {
		p, err := Get(n)
		if err != nil {
			return nil, err
		}
		out = append(out, Row{Name: p.Name, Emulates: p.Emulates, Description: p.Description, Sources: p.Sources})
	}
	return out, nil
}

// Markdown renders the rows as a Markdown table (name | emulates | sources).
func Markdown(rows []Row) string {
	var b strings.Builder
	b.WriteString("| Profile | Emulates | Sources |\n|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", r.Name, r.Emulates, strings.Join(r.Sources, "; "))
	}
	return b.String()
}

// wrapped is an error with a rewritten message that still unwraps.
type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }
