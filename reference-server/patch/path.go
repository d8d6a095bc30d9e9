package patch

import (
	"errors"
	"strings"

	"github.com/scimlab/scimlab/reference-server/filter"
	"github.com/scimlab/scimlab/reference-server/schema"
	"github.com/scimlab/scimlab/reference-server/scim"
)

// target is what a PATCH path addresses (RFC 7644 §3.5.2, Figure 7): a
// top-level attribute, a sub-attribute of it, or the values of a
// multi-valued attribute selected by a filter and optionally one of their
// sub-attributes; or, for a bare extension URN, the whole extension object.
type target struct {
	path   string
	ext    *schema.Schema    // the whole extension object, when the path is its URN
	attr   *schema.Attribute // the top-level attribute
	urn    string            // extension URN holding attr; "" for core and common attributes
	filter filter.Expr       // value filter, or nil
	sub    *schema.Attribute // sub-attribute, or nil
}

// valueName names, in messages, the values of a multi-valued attribute
// that t's filter selects: members[value eq "x"] (its sub-attributes are
// named by appending ".display").
func (t target) valueName() string {
	if t.filter == nil {
		return t.attr.Name
	}
	return t.attr.Name + "[" + t.filter.String() + "]"
}

// resolve parses path and looks its attributes up in the resource type.
//
// A malformed path, an attribute the resource type does not define, a
// sub-attribute of a simple attribute, a value filter on a single-valued
// attribute and a value filter that names an unknown sub-attribute or
// compares it with a literal of the wrong type (filter.Validate) are all 400
// invalidPath: RFC 7644 §3.12 keeps noTarget for a
// well-formed path that yields no value to operate on.
func (e *evaluator) resolve(path string) (target, error) {
	p, err := filter.ParsePath(path)
	if err != nil {
		return target{}, pathError(path, err)
	}
	return e.resolveParsed(path, p)
}

func (e *evaluator) resolveParsed(path string, p filter.Path) (target, error) {
	sub := p.Attr.Sub
	if p.Sub != "" {
		if sub != "" {
			return target{}, scim.Errorf(400, scim.InvalidPath, "path %q names two sub-attributes", path)
		}
		sub = p.Sub
	}
	if p.Filter == nil && sub == "" {
		if ext := e.rt.Extension(p.Attr.FullURN()); ext != nil {
			return target{path: path, ext: ext}, nil
		}
	}
	a, owner := e.rt.Resolve(p.Attr.URI, p.Attr.Name, "")
	if a == nil {
		name := filter.AttrPath{URI: p.Attr.URI, Name: p.Attr.Name}.String()
		return target{}, scim.Errorf(400, scim.InvalidPath, "path %q: %q is not an attribute of %s resources", path, name, e.rt.Name)
	}
	t := target{path: path, attr: a}
	if owner != "" && !strings.EqualFold(owner, e.rt.Schema.ID) {
		t.urn = owner
	}
	if sub != "" {
		if a.Type != schema.Complex {
			return target{}, scim.Errorf(400, scim.InvalidPath, "path %q: %s is not complex and has no sub-attribute %q", path, a.Name, sub)
		}
		if t.sub = a.Sub(sub); t.sub == nil {
			return target{}, scim.Errorf(400, scim.InvalidPath, "path %q: %q is not a sub-attribute of %s", path, sub, a.Name)
		}
	}
	if p.Filter != nil {
		if !a.MultiValued {
			return target{}, scim.Errorf(400, scim.InvalidPath, "path %q: a value filter selects values of a multi-valued attribute, and %s is single-valued", path, a.Name)
		}
		vp := &filter.ValuePath{Attr: filter.AttrPath{URI: p.Attr.URI, Name: p.Attr.Name}, Filter: p.Filter}
		if err := filter.Validate(vp, e.rt); err != nil {
			return target{}, scim.Errorf(400, scim.InvalidPath, "path %q: %s", path, scim.AsError(err).Detail)
		}
		t.filter = p.Filter
	}
	return t, nil
}

// pathError maps a path parse failure to 400 invalidPath: in a PATCH path
// even a malformed filter is a malformed path (RFC 7644 §3.12).
func pathError(path string, err error) error {
	var pe *filter.ParseError
	if errors.As(err, &pe) {
		if se := pe.SCIM(); se != nil {
			return scim.New(400, scim.InvalidPath, se.Detail)
		}
	}
	return scim.Errorf(400, scim.InvalidPath, "path %q: %v", path, err)
}

// matches returns the indices of the values of a multi-valued attribute a
// that filter f selects. A simple value v is matched as {"value": v}, the
// form RFC 7644 §3.4.2.2 uses to filter simple multi-valued attributes.
func matches(f filter.Expr, a *schema.Attribute, values []any) []int {
	var idx []int
	for i, v := range values {
		elem, ok := v.(map[string]any)
		if !ok {
			elem = map[string]any{"value": v}
		}
		if filter.MatchValue(f, elem, a) {
			idx = append(idx, i)
		}
	}
	return idx
}
