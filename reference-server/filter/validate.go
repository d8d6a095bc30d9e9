package filter

import (
	"encoding/json"
	"strings"

	"github.com/scimlab/scimlab/reference-server/schema"
	"github.com/scimlab/scimlab/reference-server/scim"
)

// Validate checks e against the attributes of rt and returns a *scim.Error
// with status 400 and scimType invalidFilter (RFC 7644 §3.4.2.2, §3.12)
// that names the offending attribute, or nil. It rejects:
//
//   - an attribute, or sub-attribute, that rt does not define;
//   - a value path on an attribute that is not complex, or with a
//     URI-qualified or dotted path inside its brackets;
//   - a complex attribute compared without a sub-attribute when it has no
//     "value" sub-attribute;
//   - gt, ge, lt and le on boolean and binary attributes, which RFC 7644
//     §3.4.2.2 says SHALL fail with invalidFilter;
//   - co, sw and ew on attributes that are not strings or references;
//   - an operand of the wrong JSON type for the attribute, a dateTime
//     operand that is not an RFC 3339 time, and null with an operator
//     other than eq and ne.
//
// A nil e or rt is valid.
func Validate(e Expr, rt *schema.ResourceType) error {
	if e == nil || rt == nil {
		return nil
	}
	if err := validate(e, rt, nil, ""); err != nil {
		return err
	}
	return nil
}

// ValidateAny is Validate for a query over several resource types at once
// (RFC 7644 §3.4.2.1, a search at the server root): each attribute
// expression must be valid for at least one of rts, and for a type that
// lacks the attribute it is evaluated "as if there is no attribute value",
// which [Match] does for an attribute a document does not hold. So
// `userName eq "bob" or displayName eq "eng"` may find Users and Groups
// alike, and `members pr or userName eq "alice"` is valid. When an
// expression is valid for no type, the error is the one the first type
// gives.
func ValidateAny(e Expr, rts []*schema.ResourceType) error {
	if e == nil || len(rts) == 0 {
		return nil
	}
	if err := validateAny(e, rts); err != nil {
		return err
	}
	return nil
}

func validateAny(e Expr, rts []*schema.ResourceType) *scim.Error {
	switch x := e.(type) {
	case *Logical:
		if err := validateAny(x.Left, rts); err != nil {
			return err
		}
		return validateAny(x.Right, rts)
	case *Not:
		return validateAny(x.X, rts)
	}
	var first *scim.Error
	for _, rt := range rts {
		err := validate(e, rt, nil, "")
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// validate checks e. Inside a value path, parent is the complex attribute
// whose sub-attributes the paths of e name, and parentName its path.
func validate(e Expr, rt *schema.ResourceType, parent *schema.Attribute, parentName string) *scim.Error {
	switch e := e.(type) {
	case *Compare:
		a, name, err := resolveForFilter(e.Attr, rt, parent, parentName)
		if err != nil {
			return err
		}
		return checkCompare(e, a, name)
	case *Logical:
		if err := validate(e.Left, rt, parent, parentName); err != nil {
			return err
		}
		return validate(e.Right, rt, parent, parentName)
	case *Not:
		return validate(e.X, rt, parent, parentName)
	case *ValuePath:
		name := e.Attr.String()
		if parent != nil {
			return invalid("value paths cannot be nested, as in %q", name)
		}
		a, _, err := resolveForFilter(AttrPath{URI: e.Attr.URI, Name: e.Attr.Name}, rt, nil, "")
		if err != nil {
			return err
		}
		if e.Attr.Sub != "" || a.Type != schema.Complex {
			return invalid("attribute %q is not complex, so it cannot take a value filter [...]", name)
		}
		return validate(e.Filter, rt, a, name)
	}
	return invalid("incomplete filter expression")
}

// resolveForFilter returns the definition of p, at the top level of rt or,
// with parent set, relative to parent, and the name to use in messages.
func resolveForFilter(p AttrPath, rt *schema.ResourceType, parent *schema.Attribute, parentName string) (*schema.Attribute, string, *scim.Error) {
	if parent != nil {
		if p.URI != "" || p.Sub != "" {
			return nil, "", invalid("%q inside %s[...] must name one sub-attribute of %q", p.String(), parentName, parentName)
		}
		name := parentName + "." + p.Name
		a := parent.Sub(p.Name)
		if a == nil {
			return nil, "", invalid("unknown attribute %q", name)
		}
		return a, name, nil
	}
	name := p.String()
	a, _ := resolve(rt, p.URI, p.Name)
	if a == nil {
		return nil, "", invalid("unknown attribute %q", name)
	}
	if p.Sub == "" {
		return a, name, nil
	}
	if a.Type != schema.Complex {
		return nil, "", invalid("unknown attribute %q: %q has no sub-attributes", name, AttrPath{URI: p.URI, Name: p.Name}.String())
	}
	s := a.Sub(p.Sub)
	if s == nil {
		return nil, "", invalid("unknown attribute %q", name)
	}
	return s, name, nil
}

// checkCompare checks that e's operator and operand fit a, the attribute
// that e.Attr names (RFC 7644 §3.4.2.2, Table 3).
func checkCompare(e *Compare, a *schema.Attribute, name string) *scim.Error {
	if e.Op == Pr {
		return nil
	}
	if _, ok := compareOps[string(e.Op)]; !ok {
		return invalid("unknown operator %q on attribute %q", e.Op, name)
	}
	t := a
	if a.Type == schema.Complex {
		if t = a.Sub("value"); t == nil {
			return invalid("attribute %q is complex; compare one of its sub-attributes, as in %q", name, name+"."+firstSub(a))
		}
	}
	if e.Value == nil {
		if e.Op == Eq || e.Op == Ne {
			return nil
		}
		return invalid("operator %q on attribute %q cannot take null", e.Op, name)
	}
	switch e.Op {
	case Co, Sw, Ew:
		if t.Type != schema.String && t.Type != schema.Reference {
			return invalid("operator %q applies to strings, but attribute %q is %s", e.Op, name, t.Type)
		}
	case Gt, Ge, Lt, Le:
		if t.Type == schema.Boolean || t.Type == schema.Binary {
			return invalid("operator %q is not defined for %s attribute %q", e.Op, t.Type, name)
		}
	}
	ok := false
	switch v := e.Value.(type) {
	case string:
		switch t.Type {
		case schema.String, schema.Reference, schema.Binary:
			ok = true
		case schema.DateTime:
			if _, ok = parseTime(v); !ok {
				return invalid("attribute %q is a dateTime, but %s is not an RFC 3339 date-time", name, jsonText(v))
			}
		}
	case json.Number:
		ok = t.Type == schema.Integer || t.Type == schema.Decimal
	case bool:
		ok = t.Type == schema.Boolean
	}
	if !ok {
		return invalid("attribute %q is %s, but the filter compares it with %s", name, article(t.Type), jsonText(e.Value))
	}
	return nil
}

func invalid(format string, args ...any) *scim.Error {
	return scim.Errorf(400, scim.InvalidFilter, "filter: "+format, args...)
}

// jsonText writes a comparison value as the filter would.
func jsonText(v any) string {
	var b strings.Builder
	writeValue(&b, v)
	return b.String()
}

func firstSub(a *schema.Attribute) string {
	if len(a.SubAttributes) == 0 {
		return "…"
	}
	return a.SubAttributes[0].Name
}

// article returns "a string", "an integer" and so on.
func article(t schema.Type) string {
	switch t {
	case schema.Integer:
		return "an integer"
	case "":
		return "untyped"
	}
	return "a " + string(t)
}
