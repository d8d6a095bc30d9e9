package schema

import (
	"strings"

	"github.com/scimlab/scimlab/reference-server/scim"
)

// ref is a resolved attribute name.
type ref struct {
	schema *Schema    // owning schema; nil for a common attribute
	ext    bool       // schema is an extension of the resource type
	attr   *Attribute // top-level attribute; nil when the name is a bare extension URN
	sub    *Attribute // sub-attribute, or nil
}

// path is the canonical name of r: the schema's spelling, URN-qualified for
// extension attributes. It is what error messages show.
func (r ref) path() string {
	var b strings.Builder
	if r.ext {
		b.WriteString(r.schema.ID)
		if r.attr == nil {
			return b.String()
		}
		b.WriteByte(':')
	}
	b.WriteString(r.attr.Name)
	if r.sub != nil {
		b.WriteByte('.')
		b.WriteString(r.sub.Name)
	}
	return b.String()
}

// lookup resolves name against rt's schemas.
func (rt *ResourceType) lookup(name string) (ref, bool) {
	for _, e := range rt.Extensions {
		if strings.EqualFold(name, e.Schema.ID) {
			return ref{schema: e.Schema, ext: true}, true
		}
	}
	var owner *Schema
	ext := false
	if prefixed(name, rt.Schema.ID) {
		owner = rt.Schema
	}
	for _, e := range rt.Extensions {
		if prefixed(name, e.Schema.ID) && (owner == nil || len(e.Schema.ID) > len(owner.ID)) {
			owner, ext = e.Schema, true
		}
	}
	rest := name
	if owner != nil {
		rest = name[len(owner.ID)+1:]
	}
	attrName, subName, dotted := strings.Cut(rest, ".")
	if dotted && subName == "" {
		return ref{}, false
	}

	r := ref{schema: owner, ext: ext}
	if !ext {
		r.attr = commonAttr(attrName)
		if r.attr != nil {
			r.schema = nil
		}
	}
	if r.attr == nil && owner != nil {
		r.attr = owner.Attr(attrName)
	}
	if r.attr == nil && owner == nil {
		if r.attr = rt.Schema.Attr(attrName); r.attr != nil {
			r.schema = rt.Schema
		}
		for i := 0; r.attr == nil && i < len(rt.Extensions); i++ {
			if r.attr = rt.Extensions[i].Schema.Attr(attrName); r.attr != nil {
				r.schema, r.ext = rt.Extensions[i].Schema, true
			}
		}
	}
	if r.attr == nil {
		return ref{}, false
	}
	if dotted {
		if r.sub = r.attr.Sub(subName); r.sub == nil {
			return ref{}, false
		}
	}
	return r, true
}

// lookupIn resolves name ("attr" or "attr.sub", no URN) inside one schema, as
// the keys of an extension object are written.
func lookupIn(s *Schema, name string) (a, sub *Attribute, ok bool) {
	attrName, subName, dotted := strings.Cut(name, ".")
	if a = s.Attr(attrName); a == nil {
		return nil, nil, false
	}
	if dotted {
		if sub = a.Sub(subName); sub == nil {
			return nil, nil, false
		}
	}
	return a, sub, true
}

// prefixed reports whether name is urn followed by ':' and more, ignoring case.
func prefixed(name, urn string) bool {
	return len(name) > len(urn)+1 && name[len(urn)] == ':' && strings.EqualFold(name[:len(urn)], urn)
}

// commonAttr returns the common attribute (RFC 7643 §3.1) called name, or nil.
func commonAttr(name string) *Attribute {
	switch {
	case strings.EqualFold(name, "id"):
		return IDAttr
	case strings.EqualFold(name, "externalId"):
		return ExternalIDAttr
	case strings.EqualFold(name, "meta"):
		return MetaAttr
	case strings.EqualFold(name, "schemas"):
		return SchemasAttr
	}
	return nil
}

// ResolveName canonicalises one attribute name of rt, written as a JSON key
// or a path. Names follow RFC 7644 §3.10 ("attribute notation") and the
// attrPath rule of §3.4.2.2:
//
//	attrPath = [URI ":"] ATTRNAME *1subAttr
//	subAttr  = "." ATTRNAME
//
// so "userName", "name.givenName",
// "urn:ietf:params:scim:schemas:core:2.0:User:userName" and
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
// all name attributes. A URN itself contains '.' ("2.0") and ':', so the URI
// prefix is found by matching the resource type's schema URNs, not by
// splitting: the longest schema URN the name starts with, followed by ':', is
// the prefix, and the rest splits at its first '.'. A name that is exactly an
// extension URN names the whole extension (the object stored under that key,
// RFC 7643 §3.3). Matching ignores case (RFC 7643 §2.1), and surrounding
// spaces are trimmed. Unqualified names resolve to the common attributes of
// RFC 7643 §3.1 (id, externalId, meta, schemas), then the core schema, then
// each extension in order: RFC 7644 §3.10 says clients SHOULD, not MUST,
// qualify extension attributes. Validate, Project and ValidateAttrNames use
// the same rules; the PATCH engine uses ResolveName for the dotted and
// URN-qualified keys of a path-less replace (Entra's aadOptscim062020).
//
// It returns the attribute the name denotes (the sub-attribute for a dotted
// name), its canonical name in the schema's spelling relative to its schema
// ("name.givenName", "employeeNumber"), and the extension URN in the schema's
// spelling when the attribute belongs to an extension ("" for the core schema
// and the common attributes). In a resource the value therefore lives at
// doc[canonical] or doc[extURN][canonical], split at '.'. A bare extension
// URN yields a nil attribute, an empty canonical name and the URN. An unknown
// name yields nil, "", "".
func ResolveName(rt *ResourceType, key string) (a *Attribute, canonical string, extURN string) {
	r, ok := rt.lookup(strings.TrimSpace(key))
	if !ok {
		return nil, "", ""
	}
	if r.ext {
		extURN = r.schema.ID
	}
	if r.attr == nil {
		return nil, "", extURN
	}
	if r.sub != nil {
		return r.sub, r.attr.Name + "." + r.sub.Name, extURN
	}
	return r.attr, r.attr.Name, extURN
}

// ValidateAttrNames checks the names of an attributes or excludedAttributes
// parameter (RFC 7644 §3.4.2.5, §3.9) and returns a 400 invalidValue naming
// the first that resolves to no attribute of rt. Each element may itself be a
// comma-separated list, as the query parameter is written. The RFC does not
// require the check: Project ignores unknown names, and a caller may choose
// to as well.
func (rt *ResourceType) ValidateAttrNames(names []string) error {
	var bad string
	eachName(names, func(n string) bool {
		if _, ok := rt.lookup(n); !ok {
			bad = n
			return false
		}
		return true
	})
	if bad != "" {
		return scim.Errorf(400, scim.InvalidValue, "unknown attribute %q for resource type %s", clip(bad), rt.Name)
	}
	return nil
}

// eachName calls fn with every non-empty, trimmed name in names, splitting
// elements at commas, until fn returns false.
func eachName(names []string, fn func(string) bool) {
	for _, n := range names {
		for part := range strings.SplitSeq(n, ",") {
			if part = strings.TrimSpace(part); part != "" && !fn(part) {
				return
			}
		}
	}
}

// clip shortens s for an error message, so that a hostile request cannot make
// the server echo megabytes.
func clip(s string) string {
	const max = 120
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
