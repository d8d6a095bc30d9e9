package schema

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/scimlab/scimlab/reference-server/scim"
)

// Mode names the operation whose request body is validated.
type Mode int

const (
	// Create is a POST (RFC 7644 §3.3).
	Create Mode = iota
	// Replace is a PUT (RFC 7644 §3.5.1). Its body obeys the same rules as
	// a POST body; the PUT-only rule, that immutable values must not change,
	// needs the stored resource and is CheckImmutable.
	Replace
)

// String returns "create" or "replace".
func (m Mode) String() string {
	if m == Replace {
		return "replace"
	}
	return "create"
}

// Options tunes Validate.
type Options struct {
	Mode Mode

	// StringBooleans accepts the strings "true" and "false", in any case,
	// for boolean attributes and stores them as JSON booleans. Entra ID sends
	// "True"/"False" (docs/idp-traffic.md §1.2, row 7). Off, a string is an
	// invalidValue as RFC 7643 §2.3.2 requires.
	StringBooleans bool

	// RejectUnknown makes an attribute or sub-attribute that no schema of the
	// resource type defines a 400 invalidSyntax. Off (the default), such
	// attributes are dropped: RFC 7644 §3.3 lets a service provider ignore
	// what it does not support, and Microsoft's SCIM validator expects it.
	RejectUnknown bool
}

// Validate checks a POST or PUT body against rt (RFC 7643 §2, §3, §7;
// RFC 7644 §3.3, §3.5.1) and returns a new, normalised document; doc is not
// changed and shares nothing with the result. Every failure is a *scim.Error.
//
// Normalisation:
//   - Attribute and sub-attribute names take the schema's spelling; they
//     match case-insensitively (RFC 7643 §2.1).
//   - URN-qualified and dotted top-level keys ("urn:…:User:userName",
//     "name.givenName", "urn:…:enterprise:2.0:User:employeeNumber") move to
//     their attribute; extension attributes end up in the object under the
//     extension's URN (RFC 7643 §3.3). The same value given twice, under any
//     spelling, is a 400 invalidSyntax.
//   - null means absent and is dropped, as are empty arrays and complex
//     values left empty (Entra skips nulls; RFC 7644 §3.5.2 treats a null
//     or empty value as unassigned).
//   - readOnly attributes and sub-attributes (id, meta, groups,
//     manager.displayName) are dropped unchecked: RFC 7644 §3.3 says they
//     SHALL be ignored, and Okta echoes the whole resource on PUT.
//   - schemas must be an array of strings holding the core schema URN; every
//     URN in it must be the core schema or an extension of rt, else 400
//     invalidValue. An extension whose attributes appear in the body is added
//     to schemas. The result lists the core URN, then extensions in rt's
//     order.
//   - Unknown attributes are dropped, or refused (see Options).
//
// Checks, each a 400 invalidValue naming the attribute and what it must be:
// the data type of §2.3 (string; boolean; decimal; integer, which must be
// whole; dateTime, RFC 3339 or xsd:dateTime without a zone; binary, base64 of
// RFC 4648 §4; reference, a URI reference; complex, a JSON object);
// multi-valued attributes must be arrays (§2.4: a lone object is refused);
// at most one value of a multi-valued attribute may be "primary": true
// (§2.4); required attributes must be present and not blank ("attribute
// 'userName' is required"), required extensions present (§6); and values of
// attributes marked StrictCanonical must be canonical.
func (rt *ResourceType) Validate(doc map[string]any, opt Options) (map[string]any, error) {
	v := validator{rt: rt, opt: opt}
	return v.document(doc)
}

type validator struct {
	rt       *ResourceType
	opt      Options
	prefixes map[*Schema]string // extension URN + ":", built once per extension
}

func (v *validator) extPrefix(s *Schema) string {
	p, ok := v.prefixes[s]
	if !ok {
		if v.prefixes == nil {
			v.prefixes = make(map[*Schema]string, 1)
		}
		p = s.ID + ":"
		v.prefixes[s] = p
	}
	return p
}

// schemaSet is a set of a resource type's extensions. There are a handful
// at most, so a slice (left nil when there are none) beats a map.
type schemaSet []*Schema

func (s schemaSet) has(x *Schema) bool { return slices.Contains(s, x) }

func (s *schemaSet) add(x *Schema) {
	if !s.has(x) {
		*s = append(*s, x)
	}
}

// slot gathers what a body says about one top-level attribute, from however
// many keys: a whole value and/or sub-attribute values from dotted keys.
type slot struct {
	r     ref // r.sub is nil
	key   string
	whole any
	subs  []subValue
}

type subValue struct {
	key string
	sub *Attribute
	v   any
}

func (v *validator) document(doc map[string]any) (map[string]any, error) {
	// Each attribute in an extension's object takes a slot too.
	n := len(doc)
	for _, e := range v.rt.Extensions {
		if obj, ok := doc[e.Schema.ID].(map[string]any); ok {
			n += len(obj)
		}
	}
	var (
		schemas     any
		schemasKey  string
		slots       = make([]slot, 0, n)
		extsPresent schemaSet
	)
	add := func(r ref, key string, val any) error {
		if r.attr.Mutability == ReadOnly || (r.sub != nil && r.sub.Mutability == ReadOnly) {
			return nil // RFC 7644 §3.3: SHALL be ignored
		}
		if r.ext {
			extsPresent.add(r.schema)
		}
		// A slot per schema attribute at most, so a scan is short.
		i := 0
		for i < len(slots) && slots[i].r.attr != r.attr {
			i++
		}
		if i == len(slots) {
			slots = append(slots, slot{r: ref{schema: r.schema, ext: r.ext, attr: r.attr}})
		}
		s := &slots[i]
		if r.sub == nil {
			if s.whole != nil {
				return duplicate(r.path(), s.key, key)
			}
			s.whole, s.key = val, key
			return nil
		}
		if r.attr.MultiValued {
			return scim.Errorf(400, scim.InvalidValue,
				"attribute %q is multi-valued: its sub-attribute %q cannot be set on its own (key %q); send the array of values",
				s.r.path(), r.sub.Name, clip(key))
		}
		s.subs = append(s.subs, subValue{key: key, sub: r.sub, v: val})
		return nil
	}

	var buf [48]string
	for _, key := range docKeys(buf[:0], doc, v.rt) {
		val := doc[key]
		if val == nil {
			continue
		}
		r, ok := v.rt.lookup(key)
		if !ok {
			if err := v.unknown(key); err != nil {
				return nil, err
			}
			continue
		}
		switch {
		case r.attr == nil: // the object of an extension's attributes
			obj, ok := val.(map[string]any)
			if !ok {
				return nil, scim.Errorf(400, scim.InvalidValue,
					"%q must be a JSON object of the extension's attributes, got %s", r.schema.ID, kind(val))
			}
			extsPresent.add(r.schema)
			var ebuf [16]string
			for _, k := range keysFor(ebuf[:0], obj, r.schema.Attributes) {
				if obj[k] == nil {
					continue
				}
				a, sub, ok := lookupIn(r.schema, k)
				if !ok {
					if err := v.unknown(r.schema.ID + ":" + k); err != nil {
						return nil, err
					}
					continue
				}
				if err := add(ref{schema: r.schema, ext: true, attr: a, sub: sub}, k, obj[k]); err != nil {
					return nil, err
				}
			}
		case r.attr == SchemasAttr:
			if schemas != nil {
				return nil, duplicate("schemas", schemasKey, key)
			}
			schemas, schemasKey = val, key
		default:
			if err := add(r, key, val); err != nil {
				return nil, err
			}
		}
	}

	declared, err := v.schemas(schemas)
	if err != nil {
		return nil, err
	}

	out := make(map[string]any, len(slots)+1)
	for i := range slots {
		s := &slots[i]
		val := s.whole
		if len(s.subs) > 0 {
			merged, err := mergeSubs(s, val)
			if err != nil {
				return nil, err
			}
			val = merged
		}
		prefix := ""
		if s.r.ext {
			prefix = v.extPrefix(s.r.schema)
		}
		nv, err := v.value(s.r.attr, val, prefix)
		if err != nil {
			return nil, err
		}
		if nv == nil {
			continue
		}
		if !s.r.ext {
			out[s.r.attr.Name] = nv
			continue
		}
		obj, _ := out[s.r.schema.ID].(map[string]any)
		if obj == nil {
			obj = make(map[string]any)
			out[s.r.schema.ID] = obj
		}
		obj[s.r.attr.Name] = nv
	}

	if err := requireAttrs(v.rt.Schema.Attributes, out, ""); err != nil {
		return nil, err
	}
	list := []any{v.rt.Schema.ID}
	for _, e := range v.rt.Extensions {
		used := declared.has(e.Schema) || extsPresent.has(e.Schema)
		if e.Required && !used {
			return nil, scim.Errorf(400, scim.InvalidValue,
				"schema extension %s is required for resource type %s (RFC 7643 §6)", e.Schema.ID, v.rt.Name)
		}
		if !used {
			continue
		}
		list = append(list, e.Schema.ID)
		ext, _ := out[e.Schema.ID].(map[string]any)
		if err := requireAttrs(e.Schema.Attributes, ext, e.Schema.ID+":"); err != nil {
			return nil, err
		}
	}
	out["schemas"] = list
	return out, nil
}

// schemas checks the schemas attribute (RFC 7643 §3) and returns the
// extensions it declares.
func (v *validator) schemas(val any) (schemaSet, error) {
	core := v.rt.Schema.ID
	if val == nil {
		return nil, scim.Errorf(400, scim.InvalidValue, "attribute 'schemas' is required and must list %s (RFC 7643 §3)", core)
	}
	arr, ok := val.([]any)
	if !ok {
		return nil, scim.Errorf(400, scim.InvalidValue, "attribute 'schemas' must be an array of schema URIs, got %s", kind(val))
	}
	var declared schemaSet
	coreSeen := false
	for _, e := range arr {
		u, ok := e.(string)
		if !ok {
			return nil, scim.Errorf(400, scim.InvalidValue, "attribute 'schemas' must hold only schema URI strings, got %s", kind(e))
		}
		if strings.EqualFold(u, core) {
			coreSeen = true
			continue
		}
		if ext := v.rt.Extension(u); ext != nil {
			declared.add(ext)
			continue
		}
		return nil, scim.Errorf(400, scim.InvalidValue,
			"schema %q in 'schemas' is neither %s nor an extension of resource type %s", clip(u), core, v.rt.Name)
	}
	if !coreSeen {
		return nil, scim.Errorf(400, scim.InvalidValue, "attribute 'schemas' must contain %s", core)
	}
	return declared, nil
}

// mergeSubs folds the values of dotted keys ("name.givenName") into the
// attribute's object.
func mergeSubs(s *slot, whole any) (map[string]any, error) {
	merged := make(map[string]any)
	if whole != nil {
		obj, ok := whole.(map[string]any)
		if !ok {
			return nil, typeError(s.r.path(), "a JSON object", whole)
		}
		for k, x := range obj {
			merged[k] = x
		}
	}
	for _, sv := range s.subs {
		for k, x := range merged {
			if x != nil && strings.EqualFold(k, sv.sub.Name) {
				return nil, duplicate(s.r.path()+"."+sv.sub.Name, k, sv.key)
			}
		}
		merged[sv.sub.Name] = sv.v
	}
	return merged, nil
}

// value checks val against a and returns it normalised; nil means absent.
// prefix+a.Name is the attribute's path for error messages; it is only
// built when there is an error, so valid documents allocate no paths.
func (v *validator) value(a *Attribute, val any, prefix string) (any, error) {
	if val == nil {
		return nil, nil
	}
	subPrefix := ""
	if a.Type == Complex {
		subPrefix = prefix + a.Name + "."
	}
	if !a.MultiValued {
		return v.single(a, val, prefix, subPrefix)
	}
	arr, ok := val.([]any)
	if !ok {
		return nil, scim.Errorf(400, scim.InvalidValue,
			"attribute %q is multi-valued and must be a JSON array, got %s (RFC 7643 §2.4)", prefix+a.Name, kind(val))
	}
	out := make([]any, 0, len(arr))
	primary := a.Sub("primary")
	primaries := 0
	for _, e := range arr {
		ne, err := v.single(a, e, prefix, subPrefix)
		if err != nil {
			return nil, err
		}
		if ne == nil {
			continue
		}
		if primary != nil {
			if m, ok := ne.(map[string]any); ok && m[primary.Name] == true {
				primaries++
			}
		}
		out = append(out, ne)
	}
	if primaries > 1 {
		return nil, scim.Errorf(400, scim.InvalidValue,
			"attribute %q has %d values with \"primary\": true; at most one is allowed (RFC 7643 §2.4)", prefix+a.Name, primaries)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// single checks one value (an element, for a multi-valued attribute).
// subPrefix is prefix+a.Name+"." for a complex attribute.
func (v *validator) single(a *Attribute, val any, prefix, subPrefix string) (any, error) {
	if val == nil {
		return nil, nil
	}
	switch a.Type {
	case Complex:
		return v.complex(a, val, subPrefix)
	case Boolean:
		switch b := val.(type) {
		case bool:
			return val, nil
		case string:
			if v.opt.StringBooleans {
				if strings.EqualFold(b, "true") {
					return true, nil
				}
				if strings.EqualFold(b, "false") {
					return false, nil
				}
			}
		}
		return nil, typeError(prefix+a.Name, "a boolean (true or false)", val)
	case Decimal:
		if f, ok := number(val); ok && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return val, nil
		}
		return nil, typeError(prefix+a.Name, "a decimal number", val)
	case Integer:
		if whole(val) {
			return val, nil
		}
		return nil, typeError(prefix+a.Name, "an integer", val)
	case DateTime:
		if s, ok := val.(string); ok && validDateTime(s) {
			return val, nil
		}
		return nil, typeError(prefix+a.Name, "a dateTime such as 2008-01-23T04:56:22Z (RFC 7643 §2.3.5)", val)
	case Binary:
		if s, ok := val.(string); ok && validBase64(s) {
			return val, nil
		}
		return nil, typeError(prefix+a.Name, "base64-encoded binary (RFC 7643 §2.3.6)", val)
	case Reference:
		s, ok := val.(string)
		if !ok {
			return nil, typeError(prefix+a.Name, "a URI reference", val)
		}
		if _, err := url.Parse(s); err != nil || strings.ContainsFunc(s, notInURI) {
			return nil, scim.Errorf(400, scim.InvalidValue, "attribute %q must be a URI reference (RFC 7643 §2.3.7)", prefix+a.Name)
		}
		return val, canonical(a, s, prefix) // val, not s: re-boxing a string allocates
	default: // String, and any type a custom schema invents
		s, ok := val.(string)
		if !ok {
			return nil, typeError(prefix+a.Name, "a string", val)
		}
		return val, canonical(a, s, prefix)
	}
}

// complex checks a JSON object against a's sub-attributes; prefix is
// a's path and ".".
func (v *validator) complex(a *Attribute, val any, prefix string) (any, error) {
	obj, ok := val.(map[string]any)
	if !ok {
		return nil, typeError(strings.TrimSuffix(prefix, "."), "a JSON object", val)
	}
	out := make(map[string]any, len(obj))
	var (
		kbuf [16]string
		sbuf [16]*Attribute
		fbuf [16]string
		seen = sbuf[:0] // sub-attributes met so far, for duplicates
		from = fbuf[:0] // the key each entry of seen came from
	)
	for _, k := range keysFor(kbuf[:0], obj, a.SubAttributes) {
		x := obj[k]
		if x == nil {
			continue
		}
		s := a.Sub(k)
		if s == nil {
			if err := v.unknown(prefix + k); err != nil {
				return nil, err
			}
			continue
		}
		if s.Mutability == ReadOnly {
			continue // RFC 7644 §3.3
		}
		if i := slices.Index(seen, s); i >= 0 {
			return nil, duplicate(prefix+s.Name, from[i], k)
		}
		seen, from = append(seen, s), append(from, k)
		nx, err := v.value(s, x, prefix)
		if err != nil {
			return nil, err
		}
		if nx != nil {
			out[s.Name] = nx
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	if err := requireAttrs(a.SubAttributes, out, prefix); err != nil {
		return nil, err
	}
	return out, nil
}

// requireAttrs checks that every required, client-settable attribute of as
// has a non-blank value in obj (RFC 7643 §2.2 "required"; RFC 7644 §3.3).
func requireAttrs(as []*Attribute, obj map[string]any, prefix string) error {
	for _, a := range as {
		if !a.Required || a.Mutability == ReadOnly {
			continue
		}
		switch x := obj[a.Name].(type) {
		case nil:
		case string:
			if strings.TrimSpace(x) != "" {
				continue
			}
		default:
			continue
		}
		return scim.Errorf(400, scim.InvalidValue, "attribute '%s%s' is required", prefix, a.Name)
	}
	return nil
}

// canonical enforces a.CanonicalValues when a.StrictCanonical is set.
func canonical(a *Attribute, s, prefix string) error {
	if !a.StrictCanonical || len(a.CanonicalValues) == 0 {
		return nil
	}
	for _, c := range a.CanonicalValues {
		if c == s || (!a.CaseExact && strings.EqualFold(c, s)) {
			return nil
		}
	}
	return scim.Errorf(400, scim.InvalidValue, "attribute %q must be one of %s", prefix+a.Name, strings.Join(a.CanonicalValues, ", "))
}

func (v *validator) unknown(path string) error {
	if v.opt.RejectUnknown {
		return scim.Errorf(400, scim.InvalidSyntax, "unknown attribute %q for resource type %s", clip(path), v.rt.Name)
	}
	return nil
}

func duplicate(path, key1, key2 string) error {
	return scim.Errorf(400, scim.InvalidSyntax, "attribute %q is given more than once (as %q and %q)", path, clip(key1), clip(key2))
}

// typeError names the attribute, the expected type and the JSON kind found;
// never the value, which may be a password.
func typeError(path, want string, got any) error {
	return scim.Errorf(400, scim.InvalidValue, "attribute %q must be %s, got %s", path, want, kind(got))
}

// kind names the JSON type of a decoded value.
func kind(x any) string {
	switch x.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	if _, ok := number(x); ok {
		return "number"
	}
	return fmt.Sprintf("%T", x)
}

// number returns x as a float64 if it is a number: float64 as encoding/json
// decodes, json.Number with UseNumber, or a Go integer from a caller that
// builds documents by hand.
func number(x any) (float64, bool) {
	switch n := x.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, uintptr:
		return float64(reflect.ValueOf(n).Convert(reflect.TypeFor[float64]()).Float()), true
	}
	return 0, false
}

// whole reports whether x is a number without a fractional part (RFC 7643
// §2.3.4: "A decimal number with no fractional digits").
func whole(x any) bool {
	if n, ok := x.(json.Number); ok {
		if _, err := n.Int64(); err == nil {
			return true
		}
	}
	f, ok := number(x)
	return ok && !math.IsInf(f, 0) && !math.IsNaN(f) && f == math.Trunc(f)
}

// validDateTime accepts RFC 3339 (the profile of xsd:dateTime every client
// sends) and xsd:dateTime without a zone, which RFC 7643 §2.3.5 also allows.
func validDateTime(s string) bool {
	if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return true
	}
	_, err := time.Parse("2006-01-02T15:04:05.999999999", s)
	return err == nil
}

// keysFor appends m's keys to dst in a fixed order, so that of several
// faults the same one is always reported: the order of as when every key is
// an attribute's exact spelling (the usual case, and always so for stored
// documents), sorted otherwise. Callers pass a stack buffer.
func keysFor(dst []string, m map[string]any, as []*Attribute) []string {
	for _, a := range as {
		if _, ok := m[a.Name]; ok {
			dst = append(dst, a.Name)
		}
	}
	if len(dst) == len(m) {
		return dst
	}
	return sortedKeys(dst[:0], m)
}

// docKeys is keysFor for a whole resource: common attributes, the core
// schema's attributes and the extension URNs.
func docKeys(dst []string, m map[string]any, rt *ResourceType) []string {
	for _, a := range [...]*Attribute{SchemasAttr, IDAttr, ExternalIDAttr, MetaAttr} {
		if _, ok := m[a.Name]; ok {
			dst = append(dst, a.Name)
		}
	}
	for _, a := range rt.Schema.Attributes {
		if _, ok := m[a.Name]; ok {
			dst = append(dst, a.Name)
		}
	}
	for _, e := range rt.Extensions {
		if _, ok := m[e.Schema.ID]; ok {
			dst = append(dst, e.Schema.ID)
		}
	}
	if len(dst) == len(m) {
		return dst
	}
	return sortedKeys(dst[:0], m)
}

// sortedKeys appends m's keys to dst, sorted.
func sortedKeys(dst []string, m map[string]any) []string {
	for k := range m {
		dst = append(dst, k)
	}
	slices.Sort(dst)
	return dst
}

// validBase64 reports whether s is base64 as RFC 4648 §4 defines it
// (standard alphabet, padded), decoding into a stack buffer when s is short.
func validBase64(s string) bool {
	var buf [2048]byte
	dst := buf[:]
	if n := base64.StdEncoding.DecodedLen(len(s)); n > len(dst) {
		dst = make([]byte, n)
	}
	_, err := base64.StdEncoding.Decode(dst, []byte(s))
	return err == nil
}

// notInURI reports an ASCII character that no part of a URI may hold as it
// stands (RFC 3986 §2: a space, a control, or one of "<>\^`{|}): url.Parse
// lets some through in a path ("not a url" parses as a relative path). Other
// characters outside ASCII are left to IRIs (RFC 3987).
func notInURI(r rune) bool {
	return r <= ' ' || r == 0x7f || strings.ContainsRune("\"<>\\^`{|}", r)
}
