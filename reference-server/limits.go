package server

import (
	"cmp"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/schema"
	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reference-server/store"
)

// The profile's attribute rules (profile.Rules): unsupported attributes,
// multi-valued attributes kept whole, cut to one value or refused, length
// limits refused or truncated, and attributes the target requires beyond the
// schema. shape applies them to every document about to be stored, after
// schema validation (POST, PUT) or after the PATCH is applied, so that a
// target's rules hold whichever way a value arrives.

// attrRules are the rules of one resource type resolved against its schema.
type attrRules struct {
	unsupported []profile.Ref
	multi       []multiRule
	limits      []limitRule
	required    []profile.Ref
}

type multiRule struct {
	ref    profile.Ref
	policy string
}

type limitRule struct {
	ref profile.Ref
	max int
}

// profileRules holds the attribute rules of users and groups (nil: none).
type profileRules struct {
	users, groups *attrRules
}

// compileRules resolves the profile's attribute rules once.
func compileRules(p *profile.Profile, users, groups *schema.ResourceType) (*profileRules, error) {
	u, err := compileAttrRules(&p.Users.Rules, users)
	if err != nil {
		return nil, err
	}
	g, err := compileAttrRules(&p.Groups.Rules, groups)
	if err != nil {
		return nil, err
	}
	return &profileRules{users: u, groups: g}, nil
}

func compileAttrRules(r *profile.Rules, rt *schema.ResourceType) (*attrRules, error) {
	if len(r.Unsupported)+len(r.MultiValued)+len(r.Limits)+len(r.Required) == 0 {
		return nil, nil
	}
	out := &attrRules{}
	resolve := func(path string) (profile.Ref, error) { return profile.ResolvePath(rt, path) }
	for _, p := range r.Unsupported {
		ref, err := resolve(p)
		if err != nil {
			return nil, err
		}
		out.unsupported = append(out.unsupported, ref)
	}
	for _, p := range slices.Sorted(maps.Keys(r.MultiValued)) {
		if r.MultiValued[p] == profile.KeepAll {
			continue
		}
		ref, err := resolve(p)
		if err != nil {
			return nil, err
		}
		out.multi = append(out.multi, multiRule{ref, r.MultiValued[p]})
	}
	for _, p := range slices.Sorted(maps.Keys(r.Limits)) {
		ref, err := resolve(p)
		if err != nil {
			return nil, err
		}
		out.limits = append(out.limits, limitRule{ref, r.Limits[p]})
	}
	for _, p := range r.Required {
		ref, err := resolve(p)
		if err != nil {
			return nil, err
		}
		out.required = append(out.required, ref)
	}
	return out, nil
}

func (pr *profileRules) of(s *Server, k *resourceKind) *attrRules {
	if pr == nil {
		return nil
	}
	if k == s.users {
		return pr.users
	}
	return pr.groups
}

// shape applies the profile's attribute rules to doc, a validated or
// patched document of kind k about to be stored, changing it in place, and
// then the server's own rule for indexed values (checkIndexed). Errors are
// 400 invalidValue naming the attribute and the rule.
func (s *Server) shape(k *resourceKind, doc map[string]any) (map[string]any, error) {
	if doc == nil {
		return doc, nil
	}
	if ar := s.rules.of(s, k); ar != nil {
		if err := s.applyRules(ar, doc); err != nil {
			return nil, err
		}
	}
	if err := s.checkIndexed(k, doc); err != nil {
		return nil, err
	}
	return doc, nil
}

func (s *Server) applyRules(ar *attrRules, doc map[string]any) error {
	for _, ref := range ar.unsupported {
		dropAttr(doc, ref)
	}
	for _, m := range ar.multi {
		if err := s.oneValue(doc, m); err != nil {
			return err
		}
	}
	for _, l := range ar.limits {
		if err := s.limit(doc, l); err != nil {
			return err
		}
	}
	for _, ref := range ar.required {
		if !hasValue(doc, ref) {
			return errorf(http.StatusBadRequest, scim.InvalidValue, "attribute '%s' is required by this server (profile %s)", ref.Path, s.prof.Name)
		}
	}
	return nil
}

// MaxIndexedBytes is the longest value, in bytes of UTF-8, of an attribute
// the stores index: a User's userName, a Group's displayName (as the store
// keeps them: lower-cased where they are case-insensitive) and externalId.
// PostgreSQL refuses a btree index entry over 2,704 bytes, the row's other
// index columns included; 2,048 leaves room for those on every backend.
// It holds whatever the profile, after the profile's own length limits.
const MaxIndexedBytes = 2048

// checkIndexed refuses, on every backend alike, an indexed value (see
// MaxIndexedBytes) that a store could not index: one with a NUL character
// (U+0000; PostgreSQL's text refuses it) or longer than MaxIndexedBytes.
// 400 invalidValue naming the attribute and the rule.
func (s *Server) checkIndexed(k *resourceKind, doc map[string]any) error {
	name := "displayName"
	if k == s.users {
		name = "userName"
	}
	check := func(attr string, stored string) error {
		v, _ := doc[attr].(string)
		if !store.Storable(v) {
			return errorf(http.StatusBadRequest, scim.InvalidValue, "attribute '%s' contains a NUL character (U+0000), which this server does not accept in an attribute it indexes", attr)
		}
		if n := max(len(v), len(stored)); n > MaxIndexedBytes {
			return errorf(http.StatusBadRequest, scim.InvalidValue, "attribute '%s' is %d bytes long (UTF-8); this server's limit for an attribute it indexes is %d bytes", attr, n, MaxIndexedBytes)
		}
		return nil
	}
	if err := check(name, s.keyOf(k, doc)); err != nil {
		return err
	}
	return check("externalId", "")
}

// keyFold finds the key of m that names name, case-insensitively.
func keyFold(m map[string]any, name string) (string, bool) {
	if _, ok := m[name]; ok {
		return name, true
	}
	for k := range m {
		if strings.EqualFold(k, name) {
			return k, true
		}
	}
	return "", false
}

// holder returns the object that holds ref's top-level attribute: the
// document, or the object under an extension's URN.
func holder(doc map[string]any, ref profile.Ref) map[string]any {
	if ref.Schema == "" {
		return doc
	}
	k, ok := keyFold(doc, ref.Schema)
	if !ok {
		return nil
	}
	m, _ := doc[k].(map[string]any)
	return m
}

func dropAttr(doc map[string]any, ref profile.Ref) {
	h := holder(doc, ref)
	key, ok := keyFold(h, ref.Attr)
	if !ok {
		return
	}
	if ref.Sub == "" {
		delete(h, key)
		return
	}
	switch v := h[key].(type) {
	case map[string]any:
		if sk, ok := keyFold(v, ref.Sub); ok {
			delete(v, sk)
		}
	case []any:
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				if sk, ok := keyFold(m, ref.Sub); ok {
					delete(m, sk)
				}
			}
		}
	}
}

// oneValue enforces keepOne or reject on a multi-valued attribute. keepOne
// keeps the primary value, else the first in alphabetical order of its
// "value" (Alation, idp-traffic.md §2.2).
func (s *Server) oneValue(doc map[string]any, m multiRule) error {
	h := holder(doc, m.ref)
	key, ok := keyFold(h, m.ref.Attr)
	if !ok {
		return nil
	}
	list, ok := h[key].([]any)
	if !ok || len(list) <= 1 {
		return nil
	}
	if m.policy == profile.Reject {
		return errorf(http.StatusBadRequest, scim.InvalidValue, "attribute '%s' has %d values; this server takes one (profile %s)", m.ref.Path, len(list), s.prof.Name)
	}
	h[key] = []any{pickOne(list)}
	return nil
}

func pickOne(list []any) any {
	for _, v := range list {
		if m, ok := v.(map[string]any); ok {
			if k, ok := keyFold(m, "primary"); ok && m[k] == true {
				return v
			}
		}
	}
	valueOf := func(v any) (string, bool) {
		if m, ok := v.(map[string]any); ok {
			if k, ok := keyFold(m, "value"); ok {
				s, ok := m[k].(string)
				return s, ok
			}
			return "", false
		}
		s, ok := v.(string)
		return s, ok
	}
	best := list[0]
	bv, bok := valueOf(best)
	for _, v := range list[1:] {
		sv, ok := valueOf(v)
		if ok && (!bok || cmp.Or(strings.Compare(strings.ToLower(sv), strings.ToLower(bv)), strings.Compare(sv, bv)) < 0) {
			best, bv, bok = v, sv, true
		}
	}
	return best
}

// limit enforces a length limit (in characters) on every value at l.ref.
func (s *Server) limit(doc map[string]any, l limitRule) error {
	h := holder(doc, l.ref)
	key, ok := keyFold(h, l.ref.Attr)
	if !ok {
		return nil
	}
	check := func(v any, set func(string)) error {
		str, ok := v.(string)
		if !ok {
			return nil
		}
		n := utf8.RuneCountInString(str)
		if n <= l.max {
			return nil
		}
		if s.prof.LimitMode == profile.Truncate {
			set(string([]rune(str)[:l.max]))
			return nil
		}
		return errorf(http.StatusBadRequest, scim.InvalidValue, "attribute '%s' is %d characters long; this server's limit is %d (profile %s)", l.ref.Path, n, l.max, s.prof.Name)
	}
	inObj := func(m map[string]any) error {
		sk, ok := keyFold(m, l.ref.Sub)
		if !ok {
			return nil
		}
		return check(m[sk], func(v string) { m[sk] = v })
	}
	switch v := h[key].(type) {
	case string:
		return check(v, func(nv string) { h[key] = nv })
	case map[string]any:
		if l.ref.Sub != "" {
			return inObj(v)
		}
	case []any:
		for i, e := range v {
			var err error
			if m, ok := e.(map[string]any); ok && l.ref.Sub != "" {
				err = inObj(m)
			} else if l.ref.Sub == "" {
				err = check(e, func(nv string) { v[i] = nv })
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// hasValue reports whether ref has a value that is not blank.
func hasValue(doc map[string]any, ref profile.Ref) bool {
	h := holder(doc, ref)
	key, ok := keyFold(h, ref.Attr)
	if !ok {
		return false
	}
	present := func(v any) bool {
		switch v := v.(type) {
		case nil:
			return false
		case string:
			return strings.TrimSpace(v) != ""
		case []any:
			return len(v) > 0
		}
		return true
	}
	if ref.Sub == "" {
		return present(h[key])
	}
	inObj := func(v any) bool {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		sk, ok := keyFold(m, ref.Sub)
		return ok && present(m[sk])
	}
	if list, ok := h[key].([]any); ok {
		return slices.ContainsFunc(list, inObj)
	}
	return inObj(h[key])
}
