package schema

import (
	"reflect"
	"strings"

	"github.com/scimlab/scimlab/reference-server/scim"
)

// CheckImmutable enforces, for a PUT, that immutable values keep their
// value (RFC 7643 §7 "immutable"; RFC 7644 §3.5.1: "If one or more values
// are already set for the attribute, the input value(s) MUST match"). old is
// the stored resource and new the validated body, both as Validate returns
// them. An immutable attribute (or immutable sub-attribute of a single-valued
// complex attribute) with a value in old must be absent from new, which
// keeps the stored value (the caller carries it over), or equal to it:
// strings compare per caseExact, multi-valued attributes as multisets. It
// returns 400 mutability naming the attribute.
//
// Immutable sub-attributes of a multi-valued attribute (Group members.value,
// §4.2) are not compared: such values are added and removed whole, and a
// changed element is a removal plus an addition, which the RFC allows.
func (rt *ResourceType) CheckImmutable(old, new map[string]any) error {
	check := func(s *Schema, prefix string, o, n map[string]any) error {
		for _, a := range s.Attributes {
			ov, nv := getFold(o, a.Name), getFold(n, a.Name)
			if ov == nil || nv == nil {
				continue
			}
			if a.Mutability == Immutable {
				if !equalValue(a, ov, nv) {
					return immutableError(prefix + a.Name)
				}
				continue
			}
			if a.Type != Complex || a.MultiValued {
				continue
			}
			om, _ := ov.(map[string]any)
			nm, _ := nv.(map[string]any)
			for _, sub := range a.SubAttributes {
				if sub.Mutability != Immutable {
					continue
				}
				osv, nsv := getFold(om, sub.Name), getFold(nm, sub.Name)
				if osv != nil && nsv != nil && !equalValue(sub, osv, nsv) {
					return immutableError(prefix + a.Name + "." + sub.Name)
				}
			}
		}
		return nil
	}
	if err := check(rt.Schema, "", old, new); err != nil {
		return err
	}
	for _, e := range rt.Extensions {
		o, _ := getFold(old, e.Schema.ID).(map[string]any)
		n, _ := getFold(new, e.Schema.ID).(map[string]any)
		if err := check(e.Schema, e.Schema.ID+":", o, n); err != nil {
			return err
		}
	}
	return nil
}

func immutableError(path string) error {
	return scim.Errorf(400, scim.Mutability, "attribute %q is immutable and already has a different value (RFC 7644 §3.5.1)", path)
}

// getFold returns m's value under key, matching case-insensitively when
// there is no exact match.
func getFold(m map[string]any, key string) any {
	if x, ok := m[key]; ok {
		return x
	}
	for k, x := range m {
		if strings.EqualFold(k, key) {
			return x
		}
	}
	return nil
}

// equalValue compares two values of attribute a the way RFC 7643 §2.5
// matches them: strings per caseExact, numbers numerically, complex values
// sub-attribute by sub-attribute, multi-valued attributes as multisets.
func equalValue(a *Attribute, x, y any) bool {
	if a.MultiValued {
		xs, ok1 := x.([]any)
		ys, ok2 := y.([]any)
		if !ok1 || !ok2 {
			return reflect.DeepEqual(x, y)
		}
		if len(xs) != len(ys) {
			return false
		}
		used := make([]bool, len(ys))
	next:
		for _, xe := range xs {
			for j, ye := range ys {
				if !used[j] && equalSingle(a, xe, ye) {
					used[j] = true
					continue next
				}
			}
			return false
		}
		return true
	}
	return equalSingle(a, x, y)
}

func equalSingle(a *Attribute, x, y any) bool {
	if x == nil || y == nil {
		return x == nil && y == nil
	}
	switch a.Type {
	case Complex:
		xm, ok1 := x.(map[string]any)
		ym, ok2 := y.(map[string]any)
		if !ok1 || !ok2 {
			return reflect.DeepEqual(x, y)
		}
		for _, k := range unionKeys(xm, ym) {
			xv, yv := getFold(xm, k), getFold(ym, k)
			if s := a.Sub(k); s != nil {
				if !equalValue(s, xv, yv) {
					return false
				}
			} else if !reflect.DeepEqual(xv, yv) {
				return false
			}
		}
		return true
	case Decimal, Integer:
		xf, ok1 := number(x)
		yf, ok2 := number(y)
		return ok1 && ok2 && xf == yf
	case String, Reference:
		xs, ok1 := x.(string)
		ys, ok2 := y.(string)
		if ok1 && ok2 && !a.CaseExact {
			return strings.EqualFold(xs, ys)
		}
	}
	return reflect.DeepEqual(x, y)
}

func unionKeys(a, b map[string]any) []string {
	keys := make([]string, 0, len(a)+len(b))
	seen := make(map[string]bool, len(a)+len(b))
	for _, m := range []map[string]any{a, b} {
		for k := range m {
			if l := strings.ToLower(k); !seen[l] {
				seen[l] = true
				keys = append(keys, k)
			}
		}
	}
	return keys
}
