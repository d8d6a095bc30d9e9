package schema

import "strings"

// selection is a parsed attributes or excludedAttributes list. Attributes
// are identified by pointer: every name resolves, through lookup, to an
// *Attribute of the resource type or to a common attribute.
type selection struct {
	any   bool                               // the list named something, known or not
	whole map[*Attribute]bool                // top-level attributes named whole
	subs  map[*Attribute]map[*Attribute]bool // top-level attribute → sub-attributes named
	exts  map[*Schema]bool                   // extensions named by their bare URN
}

func (rt *ResourceType) selection(names []string) selection {
	var sel selection
	eachName(names, func(n string) bool {
		sel.any = true
		if rt.Schema != nil && strings.EqualFold(n, rt.Schema.ID) {
			// The core schema's bare URN names all of its attributes, as
			// an extension's bare URN names all of the extension's.
			if sel.whole == nil {
				sel.whole = make(map[*Attribute]bool)
			}
			for _, a := range rt.Schema.Attributes {
				sel.whole[a] = true
			}
			return true
		}
		r, ok := rt.lookup(n)
		switch {
		case !ok: // RFC 7644 §3.4.2.5 defines no error; unknown names select nothing
		case r.attr == nil:
			if sel.exts == nil {
				sel.exts = make(map[*Schema]bool)
			}
			sel.exts[r.schema] = true
		case r.sub == nil:
			if sel.whole == nil {
				sel.whole = make(map[*Attribute]bool)
			}
			sel.whole[r.attr] = true
		default:
			if sel.subs == nil {
				sel.subs = make(map[*Attribute]map[*Attribute]bool)
			}
			if sel.subs[r.attr] == nil {
				sel.subs[r.attr] = make(map[*Attribute]bool)
			}
			sel.subs[r.attr][r.sub] = true
		}
		return true
	})
	return sel
}

// Project returns the representation of the resource doc that a response
// carries, given the attributes and excludedAttributes query parameters
// (RFC 7644 §3.4.2.5, §3.9) and each attribute's "returned" characteristic
// (RFC 7643 §7). doc is not changed and shares nothing with the result.
//
//   - returned "never" (password) is always removed, at any depth.
//   - returned "always" (id, schemas) is always kept, whatever the lists say.
//   - returned "default" (everything else in the core schemas, meta
//     included) is kept unless attributes is non-empty and does not name it,
//     or excluded names it.
//   - returned "request" is kept only when attributes names it.
//
// With a non-empty attributes list only the attributes it names, plus the
// "always" ones, are returned. Naming a complex attribute ("name",
// "emails") keeps the whole value, request-only sub-attributes included;
// naming a sub-attribute ("name.givenName", "emails.value") keeps only the
// named sub-attributes (in every value, for a multi-valued attribute), and
// values left empty are dropped. excluded then removes what it names, whole
// attributes or sub-attributes, but never an "always" one. Names follow
// ResolveName: case-insensitive, optionally URN-qualified, a bare schema
// URN (core or extension) meaning every attribute of that schema; unknown
// names are ignored.
// Each element may be a comma-separated list, as the query parameter is
// written.
//
// Keys of doc that are no attribute of rt are kept as if returned "default".
// RFC 7644 §3.4.2.5 leaves the combination of both parameters unspecified;
// applying attributes then excluded is the reading that never returns
// something the client excluded.
func (rt *ResourceType) Project(doc map[string]any, attributes, excluded []string) map[string]any {
	p := projector{inc: rt.selection(attributes), exc: rt.selection(excluded)}
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		if v == nil {
			continue
		}
		r, ok := rt.lookup(k)
		switch {
		case !ok || r.sub != nil: // not an attribute of rt (a dotted key is no stored form)
			if !p.inc.any {
				out[k] = deepCopy(v)
			}
		case r.attr == nil: // an extension's object
			obj, isObj := v.(map[string]any)
			if !isObj {
				if !p.inc.any && !p.exc.exts[r.schema] {
					out[k] = deepCopy(v)
				}
				continue
			}
			ext := make(map[string]any, len(obj))
			for ek, ev := range obj {
				a, sub, ok := lookupIn(r.schema, ek)
				if !ok || sub != nil {
					if !p.inc.any && !p.exc.exts[r.schema] && ev != nil {
						ext[ek] = deepCopy(ev)
					}
					continue
				}
				if pv, keep := p.attr(r.schema, a, ev); keep {
					ext[ek] = pv
				}
			}
			if len(ext) > 0 {
				out[k] = ext
			}
		default:
			var ext *Schema
			if r.ext {
				ext = r.schema
			}
			if pv, keep := p.attr(ext, r.attr, v); keep {
				out[k] = pv
			}
		}
	}
	return out
}

type projector struct {
	inc, exc selection
}

// attr projects the value v of top-level attribute a; ext is a's extension
// schema, or nil for the core schema and the common attributes.
func (p *projector) attr(ext *Schema, a *Attribute, v any) (any, bool) {
	if v == nil {
		return nil, false
	}
	switch a.Returned {
	case Never:
		return nil, false
	case Always:
		return p.complex(a, v, true, nil, nil)
	}
	named := p.inc.whole[a] || (ext != nil && p.inc.exts[ext])
	subs := p.inc.subs[a]
	if p.inc.any {
		if !named && len(subs) == 0 {
			return nil, false
		}
	} else if a.Returned == Request {
		return nil, false
	}
	if p.exc.whole[a] || (ext != nil && p.exc.exts[ext]) {
		return nil, false
	}
	if named {
		subs = nil
	}
	return p.complex(a, v, named, subs, p.exc.subs[a])
}

// complex filters the sub-attributes of a's value v. named means the whole
// attribute was asked for; subs, when non-empty, are the only sub-attributes
// asked for; excluded are sub-attributes to remove.
func (p *projector) complex(a *Attribute, v any, named bool, subs, excluded map[*Attribute]bool) (any, bool) {
	if a.Type != Complex {
		return deepCopy(v), true
	}
	keep := func(k string) bool {
		s := a.Sub(k)
		if s == nil { // not in the schema: part of the whole value only
			return len(subs) == 0
		}
		switch {
		case s.Returned == Never:
			return false
		case s.Returned == Always:
			return true
		case excluded[s]:
			return false
		case named:
			return true
		case len(subs) > 0:
			return subs[s]
		}
		return s.Returned != Request // "default", or blank (§2.2's default)
	}
	one := func(x any) (any, bool) {
		m, ok := x.(map[string]any)
		if !ok {
			return deepCopy(x), len(subs) == 0 && x != nil
		}
		out := make(map[string]any, len(m))
		for k, sv := range m {
			if sv != nil && keep(k) {
				out[k] = deepCopy(sv)
			}
		}
		return out, len(out) > 0
	}
	if !a.MultiValued {
		return one(v)
	}
	arr, ok := v.([]any)
	if !ok {
		return one(v)
	}
	out := make([]any, 0, len(arr))
	for _, e := range arr {
		if pe, ok := one(e); ok {
			out = append(out, pe)
		}
	}
	return out, len(out) > 0
}

// deepCopy copies the maps and slices of a decoded JSON value.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}
