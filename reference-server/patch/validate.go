package patch

import (
	"reflect"

	"github.com/scimlab/scimlab/reference-server/schema"
	"github.com/scimlab/scimlab/reference-server/scim"
)

// validate checks the result against the resource type's schemas
// (schema.ResourceType.Validate, in Replace mode: a patched resource obeys
// the rules of a PUT body, RFC 7644 §3.5.1). It catches what the evaluator
// does not check value by value: dateTime and base64 syntax, URI references,
// canonical values, required attributes and extensions.
//
// The stored document was valid, so only what the request wrote needs
// checking: the values of a multi-valued complex attribute that no
// operation wrote are left out, which keeps adding one member to a large
// group from re-validating every member. Everything else is validated
// whole. Validate's normalised copy is not used: it drops readOnly
// attributes, which a stored resource keeps.
func (e *evaluator) validate() error {
	_, err := e.rt.Validate(e.validationDoc(), schema.Options{Mode: schema.Replace, StringBooleans: e.opt.StringBooleans})
	if err == nil {
		return nil
	}
	se := scim.AsError(err)
	return &scim.Error{Status: se.Status, ScimType: se.ScimType, Detail: "the patched resource is not valid: " + se.Detail}
}

// validationDoc is e.doc with each multi-valued complex attribute cut to the
// values the request wrote.
func (e *evaluator) validationDoc() map[string]any {
	out := make(map[string]any, len(e.doc))
	for k, v := range e.doc {
		if ext := e.rt.Extension(k); ext != nil {
			if m, ok := v.(map[string]any); ok {
				em := make(map[string]any, len(m))
				for ek, ev := range m {
					if tv, ok := e.trim(ext.ID, ext.Attr(ek), ev); ok {
						em[ek] = tv
					}
				}
				v = em
			}
			out[k] = v
			continue
		}
		if tv, ok := e.trim("", e.rt.Schema.Attr(k), v); ok {
			out[k] = tv
		}
	}
	return out
}

// trim returns the values of v, the value of attribute a in the object of
// urn, that the request wrote, when a is a multi-valued complex attribute
// that is not required; ok is false when there are none. Other values are
// returned as they are.
func (e *evaluator) trim(urn string, a *schema.Attribute, v any) (any, bool) {
	if a == nil || !a.MultiValued || a.Required || a.Type != schema.Complex {
		return v, true
	}
	written := e.written[slot{urn, a.Name}]
	list, ok := v.([]any)
	if !ok {
		return v, true
	}
	if len(written) == 0 {
		return nil, false
	}
	// A written value is recognised by identity: values are objects, and
	// the evaluator writes fresh ones.
	ptrs := make(map[uintptr]bool, len(written))
	for _, w := range written {
		if m, ok := w.(map[string]any); ok {
			ptrs[reflect.ValueOf(m).Pointer()] = true
		}
	}
	var out []any
	for _, x := range list {
		m, ok := x.(map[string]any)
		if !ok || ptrs[reflect.ValueOf(m).Pointer()] {
			out = append(out, x)
		}
	}
	return out, len(out) > 0
}
