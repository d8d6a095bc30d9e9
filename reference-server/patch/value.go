package patch

import (
	"encoding/json"
	"math"
	"slices"
	"strings"

	"github.com/scimlab/scimlab/reference-server/schema"
	"github.com/scimlab/scimlab/reference-server/scim"
)

// normalize checks that v, one value of attribute a (a single value even
// when a is multi-valued), has a's type (RFC 7643 §2.3) and returns a copy
// with sub-attribute names spelled as the schema spells them. With
// Options.StringBooleans the strings "true" and "false" (any case) become
// booleans. Sub-attributes the schema does not define are dropped, as RFC
// 7644 §3.3 lets a service provider ignore what it does not support, but an
// object naming none of a's sub-attributes is 400 invalidValue: it is not a
// value of a at all (a group-shaped {"displayName":…} sent as members must
// not become an empty member, idp-traffic.md B21). Null sub-attributes are
// dropped (unassigned, RFC 7643 §2.5). where names the value in error
// details.
func (e *evaluator) normalize(a *schema.Attribute, v any, where string) (any, error) {
	switch a.Type {
	case schema.Complex:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, scim.Errorf(400, scim.InvalidValue, "%s is complex; its value is an object of sub-attributes, not %s", where, jsonKind(v))
		}
		out := make(map[string]any, len(m))
		known := 0
		for _, k := range sortedKeys(m) {
			sv := m[k]
			sa := a.Sub(k)
			if sa == nil {
				continue
			}
			known++
			if sv == nil {
				del(out, sa.Name)
				continue
			}
			var nv any
			var err error
			if sa.MultiValued {
				nv, err = e.values(sa, sv, where+"."+sa.Name)
			} else {
				nv, err = e.normalize(sa, sv, where+"."+sa.Name)
			}
			if err != nil {
				return nil, err
			}
			set(out, sa.Name, nv)
		}
		if len(m) > 0 && known == 0 {
			return nil, scim.Errorf(400, scim.InvalidValue, "%s: the object %s names none of the sub-attributes of %s", where, brief(m), a.Name)
		}
		return out, nil
	case schema.Boolean:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			if e.opt.StringBooleans {
				if strings.EqualFold(b, "true") {
					return true, nil
				}
				if strings.EqualFold(b, "false") {
					return false, nil
				}
			}
		}
		return nil, scim.Errorf(400, scim.InvalidValue, "%s is boolean; %s is not a JSON boolean", where, brief(v))
	case schema.Integer:
		if f, ok := number(v); ok && f == math.Trunc(f) && !math.IsInf(f, 0) {
			return v, nil
		}
		return nil, scim.Errorf(400, scim.InvalidValue, "%s is an integer; %s is not", where, brief(v))
	case schema.Decimal:
		if _, ok := number(v); ok {
			return v, nil
		}
		return nil, scim.Errorf(400, scim.InvalidValue, "%s is a decimal number; %s is not", where, brief(v))
	default: // string, dateTime, binary, reference: JSON strings (RFC 7643 §2.3)
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, scim.Errorf(400, scim.InvalidValue, "%s is a %s, written as a JSON string; %s is not", where, a.Type, brief(v))
	}
}

// values normalizes the value of a multi-valued attribute a: an array, or a
// single value taken as a one-element array. Duplicates are dropped.
func (e *evaluator) values(a *schema.Attribute, v any, where string) ([]any, error) {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	out := make([]any, 0, len(list))
	for i, x := range list {
		if x == nil {
			return nil, scim.Errorf(400, scim.InvalidValue, "%s[%d] is null", where, i)
		}
		nv, err := e.normalize(a, x, where)
		if err != nil {
			return nil, err
		}
		if err := e.spend(len(out)); err != nil {
			return nil, err
		}
		if indexOf(a, out, nv) < 0 {
			out = append(out, nv)
		}
	}
	return out, nil
}

// indexOf returns the index of the value in values that is the same value
// as v of multi-valued attribute a, or -1. Values of a reference list (an
// attribute with "value" and "$ref" sub-attributes, such as members and
// groups) are the same when their "value" is; RFC 7644 §3.5.2.1 asks that
// re-adding a member change nothing. Other values are the same when they
// are equal, comparing strings of caseExact=false attributes without case.
func indexOf(a *schema.Attribute, values []any, v any) int {
	if vs := a.Sub("value"); vs != nil && a.Sub("$ref") != nil {
		if id, ok := getMap(v, "value"); ok {
			for i, x := range values {
				if xid, ok := getMap(x, "value"); ok && equalUnder(vs, id, xid) {
					return i
				}
			}
			return -1
		}
	}
	for i, x := range values {
		if equalUnder(a, x, v) {
			return i
		}
	}
	return -1
}

// covers reports whether value x of multi-valued attribute a has every
// sub-attribute that the listed value l gives (or, for simple values,
// equals l): the match of Options.RemoveMembersByValue.
func covers(a *schema.Attribute, x, l any) bool {
	lm, ok := l.(map[string]any)
	if !ok || a.Type != schema.Complex {
		return equalUnder(a, x, l)
	}
	xm, ok := x.(map[string]any)
	if !ok {
		return false
	}
	for k, lv := range lm {
		xv, _ := get(xm, k)
		if !equalUnder(a.Sub(k), xv, lv) {
			return false
		}
	}
	return len(lm) > 0
}

// equalUnder compares two values of attribute a (a single value when a is
// multi-valued), ignoring case in strings of caseExact=false attributes.
// A nil a compares exactly.
func equalUnder(a *schema.Attribute, x, y any) bool {
	if a == nil {
		return equalJSON(x, y)
	}
	switch xv := x.(type) {
	case string:
		yv, ok := y.(string)
		if !ok {
			return false
		}
		if a.CaseExact || a.Type == schema.Binary {
			return xv == yv
		}
		return strings.EqualFold(xv, yv)
	case map[string]any:
		yv, ok := y.(map[string]any)
		if !ok || len(xv) != len(yv) {
			return false
		}
		for k, xs := range xv {
			ys, ok := get(yv, k)
			if !ok || !equalUnder(a.Sub(k), xs, ys) {
				return false
			}
		}
		return true
	case []any:
		yv, ok := y.([]any)
		if !ok || len(xv) != len(yv) {
			return false
		}
		for i := range xv {
			if !equalUnder(a, xv[i], yv[i]) {
				return false
			}
		}
		return true
	}
	return equalJSON(x, y)
}

// equalJSON reports whether two JSON values are equal; numbers compare by value.
func equalJSON(x, y any) bool {
	switch xv := x.(type) {
	case map[string]any:
		yv, ok := y.(map[string]any)
		if !ok || len(xv) != len(yv) {
			return false
		}
		for k, xs := range xv {
			ys, ok := yv[k]
			if !ok || !equalJSON(xs, ys) {
				return false
			}
		}
		return true
	case []any:
		yv, ok := y.([]any)
		if !ok || len(xv) != len(yv) {
			return false
		}
		for i := range xv {
			if !equalJSON(xv[i], yv[i]) {
				return false
			}
		}
		return true
	case string:
		yv, ok := y.(string)
		return ok && xv == yv
	case bool:
		yv, ok := y.(bool)
		return ok && xv == yv
	case nil:
		return y == nil
	}
	if xf, ok := number(x); ok {
		yf, ok := number(y)
		return ok && xf == yf
	}
	return false
}

// number returns a JSON number as a float64.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// unassigned reports whether v is no value: absent, null, an empty array or
// an empty object (RFC 7643 §2.5).
func unassigned(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// checkMutability compares the value of attribute a before and after the
// request. RFC 7644 §3.5.2: a readOnly attribute must not change, and an
// immutable one may only be given a value it did not have; §3.5.2.2: a
// required attribute must not become unassigned. Sub-attributes of a
// single-valued complex attribute are checked the same way. All three are
// 400 mutability. Writing the value an attribute already has is no change.
func checkMutability(a *schema.Attribute, before, after any, name string) error {
	if equalJSON(before, after) {
		return nil
	}
	if a.Required && !unassigned(before) && unassigned(after) {
		return scim.Errorf(400, scim.Mutability, "%s is required and cannot be removed (RFC 7644 §3.5.2.2)", name)
	}
	switch a.Mutability {
	case schema.ReadOnly:
		return scim.Errorf(400, scim.Mutability, "%s is readOnly and cannot be changed (RFC 7644 §3.5.2)", name)
	case schema.Immutable:
		if !unassigned(before) {
			return scim.Errorf(400, scim.Mutability, "%s is immutable and already has a value (RFC 7644 §3.5.2)", name)
		}
	}
	if a.Type == schema.Complex && !a.MultiValued && !unassigned(after) {
		return checkSubs(a, before, after, name)
	}
	return nil
}

// checkSubs runs checkMutability on each sub-attribute of complex value
// before and after of attribute a.
func checkSubs(a *schema.Attribute, before, after any, name string) error {
	bm, _ := before.(map[string]any)
	am, _ := after.(map[string]any)
	for _, s := range a.SubAttributes {
		bv, _ := get(bm, s.Name)
		av, _ := get(am, s.Name)
		if err := checkMutability(s, bv, av, name+"."+s.Name); err != nil {
			return err
		}
	}
	return nil
}

// get returns m[name], matching the key case-insensitively when no key is
// spelled exactly name. Among several spellings the smallest key wins, so
// the result never depends on map order.
func get(m map[string]any, name string) (any, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	found := ""
	ok := false
	for k := range m {
		if strings.EqualFold(k, name) && (!ok || k < found) {
			found, ok = k, true
		}
	}
	if !ok {
		return nil, false
	}
	return m[found], true
}

// getMap is get on a value that may not be an object.
func getMap(v any, name string) (any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	return get(m, name)
}

// set stores v under name, removing other spellings of name.
func set(m map[string]any, name string, v any) {
	del(m, name)
	m[name] = v
}

// del removes name in every spelling.
func del(m map[string]any, name string) {
	delete(m, name)
	for k := range m {
		if strings.EqualFold(k, name) {
			delete(m, k)
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// copyObject deep-copies a document; a nil document copies to an empty one.
func copyObject(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = copyValue(v)
	}
	return out
}

// copyValue deep-copies a JSON value. Values other than objects and arrays
// are immutable and shared.
func copyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return copyObject(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyValue(e)
		}
		return out
	}
	return v
}

// jsonKind names the JSON type of v for error details.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	if _, ok := number(v); ok {
		return "a number"
	}
	return "a non-JSON value"
}

// brief renders v as compact JSON for error details, cut to 60 bytes.
func brief(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return jsonKind(v)
	}
	if len(b) > 60 {
		return string(b[:57]) + "..."
	}
	return string(b)
}
