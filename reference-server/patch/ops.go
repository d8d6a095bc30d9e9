package patch

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/scimlab/scimlab/reference-server/filter"
	"github.com/scimlab/scimlab/reference-server/schema"
	"github.com/scimlab/scimlab/reference-server/scim"
)

// writeResource evaluates an add or replace without a path. RFC 7644
// §3.5.2.1 and §3.5.2.3: the target is the resource itself and the value is
// an object whose members are attributes; each member is written as if its
// name were the operation's path, so a multi-valued attribute gains values
// under add and has them replaced under replace, and a complex attribute has
// the given sub-attributes merged in either way. An extension URN member
// writes that extension's attributes. A null member adds nothing under add
// and unassigns the attribute under replace (RFC 7643 §2.5).
//
// Members are evaluated in sorted key order, so the result never depends on
// map order. Okta's group rename carries the resource's own "id"; writing a
// value equal to the current id is no change (see Options.ResourceID).
func (e *evaluator) writeResource(k opKind, v any) error {
	obj, ok := v.(map[string]any)
	if !ok {
		if v == nil {
			return scim.Errorf(400, scim.InvalidValue, "%s needs a \"value\" (RFC 7644 §3.5.2.%d)", k, section(k))
		}
		return scim.Errorf(400, scim.InvalidValue, "without a path, the value of %s is an object whose members are attributes of the resource (RFC 7644 §3.5.2.%d), not %s", k, section(k), jsonKind(v))
	}
	for _, key := range sortedKeys(obj) {
		if err := e.writeMember(k, key, obj[key]); err != nil {
			return err
		}
	}
	return nil
}

// writeMember writes one member of a path-less value object. Without
// Options.DottedKeys a member name must be an attribute name or an
// extension URN: "name.givenName" or "urn:…:User:employeeNumber" is 400
// invalidValue naming the key, never a literal attribute (idp-traffic.md B1).
func (e *evaluator) writeMember(k opKind, key string, v any) error {
	if ext := e.rt.Extension(key); ext != nil {
		return e.writeOne(k, target{path: key, ext: ext}, v)
	}
	if !e.opt.DottedKeys && strings.ContainsAny(key, ".:[") {
		return scim.Errorf(400, scim.InvalidValue, "value member %q is not an attribute name: without a path the value's members are attribute names or extension URNs (RFC 7644 §3.5.2.%d); nest sub-attributes in their complex attribute, as {\"name\":{\"givenName\":…}}", key, section(k))
	}
	t, err := e.resolve(key)
	if err != nil {
		return scim.Errorf(400, scim.InvalidValue, "value member %q is not an attribute of %s resources", key, e.rt.Name)
	}
	if t.filter != nil {
		return scim.Errorf(400, scim.InvalidValue, "value member %q has a value filter; use it as the operation's path instead", key)
	}
	return e.writeOne(k, t, v)
}

// writeOne writes v to t; a null v adds nothing, or under replace unassigns t.
func (e *evaluator) writeOne(k opKind, t target, v any) error {
	if v == nil {
		if k == opAdd {
			return nil
		}
		return e.remove(t, nil)
	}
	return e.write(k, t, v)
}

// sameID reports whether v is the resource's current id.
func (e *evaluator) sameID(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	cur, _ := get(e.doc, "id")
	id, _ := cur.(string)
	if id == "" {
		id = e.opt.ResourceID
	}
	return id != "" && s == id
}

// write evaluates add or replace of v at t.
//
// RFC 7644 §3.5.2.1 (add) and §3.5.2.3 (replace) agree on everything but
// multi-valued attributes without a filter, where add appends the values not
// already present and replace sets the whole list. For both, a target that
// does not exist is created; a single-valued attribute is set; a complex
// attribute has the sub-attributes in the value set and keeps the others;
// a value filter selects the values to write to, and selecting none is 400
// noTarget (§3.5.2.3 for replace; for add, §3.12 Table 9 names a filter that
// yields no match as the case of noTarget). A sub-attribute of a
// multi-valued attribute without a filter ("emails.type") addresses that
// sub-attribute of every value.
func (e *evaluator) write(k opKind, t target, v any) error {
	if t.ext != nil {
		return e.writeExtension(k, t, v)
	}
	a := t.attr
	if t.urn == "" && t.filter == nil && t.sub == nil && strings.EqualFold(a.Name, "id") && e.sameID(v) {
		return nil
	}
	e.touch(t.urn, a)
	if t.urn != "" {
		e.touchExt(e.rt.Extension(t.urn))
	}
	c := e.container(t.urn, true)
	switch {
	case t.filter != nil:
		list := listOf(c, a.Name)
		if err := e.spend(len(list)); err != nil {
			return err
		}
		idx := matches(t.filter, a, list)
		if len(idx) == 0 {
			if !e.opt.ReplaceCreatesMissing {
				return scim.Errorf(400, scim.NoTarget, "no value of %s matches the filter of %q (RFC 7644 §3.5.2.3, §3.12)", a.Name, t.path)
			}
			seed, ok := e.seedValue(t)
			if !ok {
				return scim.Errorf(400, scim.NoTarget, "no value of %s matches the filter of %q, and the filter does not describe a value to create", a.Name, t.path)
			}
			list = append(list, seed)
			idx = []int{len(list) - 1}
		}
		return e.writeAt(k, t, c, list, idx, v)
	case t.sub != nil && a.MultiValued:
		list := listOf(c, a.Name)
		if len(list) == 0 {
			return scim.Errorf(400, scim.NoTarget, "%s has no values whose %s could be set", a.Name, t.sub.Name)
		}
		if err := e.spend(len(list)); err != nil {
			return err
		}
		idx := make([]int, len(list))
		for i := range idx {
			idx[i] = i
		}
		return e.writeAt(k, t, c, list, idx, v)
	case t.sub != nil:
		nv, err := e.normalizeAny(t.sub, v, a.Name+"."+t.sub.Name)
		if err != nil {
			return err
		}
		parent := objectOf(c, a.Name)
		set(parent, t.sub.Name, nv)
		set(c, a.Name, parent)
	case a.MultiValued:
		vals, err := e.values(a, v, a.Name)
		if err != nil {
			return err
		}
		var list []any
		var written []int
		if k == opReplace {
			list = vals
			for i := range list {
				written = append(written, i)
			}
		} else {
			list = listOf(c, a.Name)
			for _, x := range vals {
				if err := e.spend(len(list)); err != nil {
					return err
				}
				if indexOf(a, list, x) >= 0 {
					continue
				}
				if j := sameTypedValue(a, list, x); j >= 0 {
					// RFC 7643 §2.4: the same (type, value) "SHOULD NOT be
					// returned more than once"; the value is there, so what
					// the add says of it (primary, display) is merged in.
					m := maps.Clone(list[j].(map[string]any))
					for k, v := range x.(map[string]any) {
						set(m, k, v)
					}
					list[j] = m
					if !slices.Contains(written, j) {
						written = append(written, j)
					}
					continue
				}
				list = append(list, x)
				written = append(written, len(list)-1)
			}
		}
		if err := demotePrimary(a, list, written); err != nil {
			return err
		}
		for _, i := range written {
			e.wrote(t, list[i])
		}
		store(c, a.Name, list)
	case a.Type == schema.Complex:
		nv, err := e.normalize(a, v, a.Name)
		if err != nil {
			return err
		}
		cur := objectOf(c, a.Name)
		merge(cur, v.(map[string]any), nv.(map[string]any), a)
		if len(cur) == 0 {
			del(c, a.Name)
		} else {
			set(c, a.Name, cur)
		}
	default:
		nv, err := e.normalize(a, v, a.Name)
		if err != nil {
			return err
		}
		set(c, a.Name, nv)
	}
	return nil
}

// writeAt writes v to the values at idx of the multi-valued attribute
// t.attr, whose current list is list: to their sub-attribute t.sub, or, with
// no sub-attribute, in place of each value (replace, §3.5.2.3: "all matching
// record values SHALL be replaced") or merged into it (add).
func (e *evaluator) writeAt(k opKind, t target, c map[string]any, list []any, idx []int, v any) error {
	a := t.attr
	var nv any
	var err error
	if t.sub != nil {
		nv, err = e.normalizeAny(t.sub, v, a.Name+"."+t.sub.Name)
	} else {
		nv, err = e.normalize(a, v, a.Name)
	}
	if err != nil {
		return err
	}
	for _, i := range idx {
		before := list[i]
		old, _ := before.(map[string]any)
		var after any
		switch {
		case t.sub != nil:
			m := maps.Clone(old)
			if m == nil {
				m = map[string]any{}
			}
			set(m, t.sub.Name, copyValue(nv))
			after = m
		case k == opAdd && a.Type == schema.Complex:
			m := maps.Clone(old)
			if m == nil {
				m = map[string]any{}
			}
			merge(m, v.(map[string]any), nv.(map[string]any), a)
			after = m
		default:
			after = copyValue(nv)
		}
		if old != nil {
			if err := checkSubs(a, before, after, t.valueName()); err != nil {
				return err
			}
		}
		list[i] = after
		e.wrote(t, after)
	}
	if err := demotePrimary(a, list, idx); err != nil {
		return err
	}
	store(c, a.Name, list)
	return nil
}

// writeExtension writes a value object to a whole extension (a path that is
// the extension's URN, or an extension URN member of a path-less value):
// each member is written to that attribute of the extension.
func (e *evaluator) writeExtension(k opKind, t target, v any) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return scim.Errorf(400, scim.InvalidValue, "%s is an extension; its value is an object of the extension's attributes, not %s", t.ext.ID, jsonKind(v))
	}
	e.touchExt(t.ext)
	for _, key := range sortedKeys(obj) {
		a := t.ext.Attr(key)
		if a == nil {
			return scim.Errorf(400, scim.InvalidValue, "%q is not an attribute of the extension %s", key, t.ext.ID)
		}
		if err := e.writeOne(k, target{path: t.ext.ID + ":" + a.Name, attr: a, urn: t.ext.ID}, obj[key]); err != nil {
			return err
		}
	}
	return nil
}

// remove evaluates remove at t (RFC 7644 §3.5.2.2). A single-valued
// attribute or sub-attribute is unassigned; a multi-valued attribute without
// a filter loses all its values; a filter removes the values it matches, or
// with a sub-attribute that sub-attribute of each (a value left empty is
// dropped). An attribute left with no values is unassigned. A bare extension
// URN removes the whole extension object.
//
// Removing what is not there, including through a filter that matches
// nothing, is success with no change. §3.5.2.2, which defines remove, asks
// for noTarget only when "path" is missing; §3.12 Table 9 describes
// noTarget as what "occurs" when a filter yields no match, but the outcome
// a remove asks for already holds, and Okta and Entra ID remove members they
// believe present, which must not fail a whole membership push.
//
// With Options.RemoveMembersByValue, a value on a multi-valued attribute
// without a filter removes only the listed values (idp-traffic.md B6); a
// listed object matches a value that has every sub-attribute it gives. The
// strict reading ignores the value and removes every value.
func (e *evaluator) remove(t target, v any) error {
	if t.ext != nil {
		e.touchExt(t.ext)
		c := e.container(t.ext.ID, false)
		if c == nil {
			return nil
		}
		for _, a := range t.ext.Attributes {
			if _, ok := get(c, a.Name); ok {
				e.touch(t.ext.ID, a)
			}
		}
		del(e.doc, t.ext.ID)
		return nil
	}
	a := t.attr
	e.touch(t.urn, a)
	if t.urn != "" {
		e.touchExt(e.rt.Extension(t.urn))
	}
	c := e.container(t.urn, false)
	if c == nil {
		return nil
	}
	cur, ok := get(c, a.Name)
	if !ok {
		return nil
	}
	switch {
	case t.filter != nil || t.sub != nil && a.MultiValued:
		list, _ := cur.([]any)
		if err := e.spend(len(list)); err != nil {
			return err
		}
		var idx []int
		if t.filter != nil {
			idx = matches(t.filter, a, list)
		} else {
			for i := range list {
				idx = append(idx, i)
			}
		}
		if len(idx) == 0 {
			return nil
		}
		drop := make(map[int]bool, len(idx))
		for _, i := range idx {
			if t.sub == nil {
				drop[i] = true
				continue
			}
			old, ok := list[i].(map[string]any)
			if !ok {
				continue
			}
			m := maps.Clone(old)
			del(m, t.sub.Name)
			if err := checkSubs(a, old, m, t.valueName()); err != nil {
				return err
			}
			list[i] = m
			drop[i] = len(m) == 0
			e.wrote(t, m)
		}
		out := list[:0]
		for i, x := range list {
			if !drop[i] {
				out = append(out, x)
			}
		}
		store(c, a.Name, out)
	case t.sub != nil:
		if m, ok := cur.(map[string]any); ok {
			del(m, t.sub.Name)
			if len(m) == 0 {
				del(c, a.Name)
			}
		}
	case a.MultiValued && v != nil && e.opt.RemoveMembersByValue:
		listed, err := e.values(a, v, a.Name)
		if err != nil {
			return err
		}
		list, _ := cur.([]any)
		if err := e.spend(len(list) * len(listed)); err != nil {
			return err
		}
		out := list[:0]
		for _, x := range list {
			gone := false
			for _, l := range listed {
				if covers(a, x, l) {
					gone = true
					break
				}
			}
			if !gone {
				out = append(out, x)
			}
		}
		store(c, a.Name, out)
	default:
		del(c, a.Name)
	}
	return nil
}

// normalizeAny normalizes v for a, as a list when a is multi-valued.
func (e *evaluator) normalizeAny(a *schema.Attribute, v any, where string) (any, error) {
	if a.MultiValued {
		return e.values(a, v, where)
	}
	return e.normalize(a, v, where)
}

// merge sets in cur the sub-attributes that raw, a complex value of a as
// sent, gives: normalized values from nv, and for null members an unassigned
// sub-attribute.
func merge(cur, raw, nv map[string]any, a *schema.Attribute) {
	for _, k := range sortedKeys(raw) {
		name := k
		if sa := a.Sub(k); sa != nil {
			name = sa.Name
		}
		if raw[k] == nil {
			del(cur, name)
			continue
		}
		if x, ok := nv[name]; ok {
			set(cur, name, x)
		}
	}
}

// demotePrimary enforces RFC 7644 §3.5.2: "a PATCH operation that sets a
// value's "primary" sub-attribute to "true" SHALL cause the server to
// automatically set "primary" to "false" for any other values". One
// operation that writes primary true to several values at once asks for two
// primaries, which RFC 7643 §2.4 forbids ("MUST appear no more than once")
// and a POST or PUT of the same values is refused for: 400 invalidValue.
func demotePrimary(a *schema.Attribute, list []any, written []int) error {
	ps := a.Sub("primary")
	if ps == nil || ps.Type != schema.Boolean {
		return nil
	}
	winner := -1
	for _, i := range written {
		if p, _ := getMap(list[i], ps.Name); p == true {
			if winner >= 0 {
				return scim.Errorf(400, scim.InvalidValue, "the operation gives %d values of %s \"primary\": true; at most one may be primary (RFC 7643 §2.4)", countPrimary(list, written, ps.Name), a.Name)
			}
			winner = i
		}
	}
	if winner < 0 {
		return nil
	}
	for i, x := range list {
		if i == winner {
			continue
		}
		if p, _ := getMap(x, ps.Name); p == true {
			m := maps.Clone(x.(map[string]any))
			set(m, ps.Name, false)
			list[i] = m
		}
	}
	return nil
}

// sameTypedValue returns the index of the value in list that has the same
// "value" and "type" sub-attributes as x (compared per caseExact; both
// without a type is the same type), or -1: for attributes such as emails,
// whose values are told apart by value and type. Reference lists (members,
// groups) are told apart by value alone (indexOf).
func sameTypedValue(a *schema.Attribute, list []any, x any) int {
	vs, ts := a.Sub("value"), a.Sub("type")
	xm, ok := x.(map[string]any)
	if vs == nil || ts == nil || a.Sub("$ref") != nil || !ok {
		return -1
	}
	xv, ok := get(xm, "value")
	if !ok {
		return -1
	}
	xt, _ := get(xm, "type")
	for i, y := range list {
		ym, ok := y.(map[string]any)
		if !ok {
			continue
		}
		yv, _ := get(ym, "value")
		yt, _ := get(ym, "type")
		if equalUnder(vs, xv, yv) && equalUnder(ts, xt, yt) {
			return i
		}
	}
	return -1
}

// countPrimary counts the values at written whose primary is true.
func countPrimary(list []any, written []int, name string) int {
	n := 0
	for _, i := range written {
		if p, _ := getMap(list[i], name); p == true {
			n++
		}
	}
	return n
}

// listOf returns the values of multi-valued attribute name in c; a value
// that is not an array is taken as a one-element list.
func listOf(c map[string]any, name string) []any {
	v, ok := get(c, name)
	if !ok || v == nil {
		return nil
	}
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// objectOf returns the complex value of name in c, or a new empty object.
func objectOf(c map[string]any, name string) map[string]any {
	if v, ok := get(c, name); ok {
		if m, ok := v.(map[string]any); ok {
			return m
		}
	}
	return map[string]any{}
}

// store sets a multi-valued attribute, unassigning it when list is empty
// (RFC 7644 §3.5.2.2: "the attribute SHALL be considered unassigned").
func store(c map[string]any, name string, list []any) {
	if len(list) == 0 {
		del(c, name)
		return
	}
	set(c, name, list)
}

// seedValue builds the value that the filter of t describes, for
// Options.ReplaceCreatesMissing: the filter must be one or more
// "subAttr eq literal" comparisons joined by "and", such as
// `type eq "work"`, which seeds {"type":"work"}.
func (e *evaluator) seedValue(t target) (any, bool) {
	a := t.attr
	m := map[string]any{}
	if !seed(t.filter, a, m) || len(m) == 0 {
		return nil, false
	}
	var v any = m
	if a.Type != schema.Complex {
		x, ok := m["value"]
		if !ok || len(m) != 1 {
			return nil, false
		}
		v = x
	}
	nv, err := e.normalize(a, v, a.Name)
	return nv, err == nil
}

func seed(f filter.Expr, a *schema.Attribute, m map[string]any) bool {
	switch x := f.(type) {
	case *filter.Compare:
		if x.Op != filter.Eq || x.Attr.URI != "" || x.Attr.Sub != "" || x.Value == nil {
			return false
		}
		name := x.Attr.Name
		if s := a.Sub(name); s != nil {
			name = s.Name
			// Only a value the schema names as canonical (emails type "work",
			// the form Entra sends, idp-traffic.md B5) is created; any other
			// filter keeps the RFC's noTarget.
			if str, ok := x.Value.(string); ok && len(s.CanonicalValues) > 0 && !canonical(s, str) {
				return false
			}
		} else if a.Type == schema.Complex {
			return false
		}
		v := x.Value
		if n, ok := v.(json.Number); ok {
			f, err := n.Float64()
			if err != nil {
				return false
			}
			v = f
		}
		if old, ok := m[name]; ok && !equalJSON(old, v) {
			return false
		}
		m[name] = v
		return true
	case *filter.Logical:
		return x.Op == filter.And && seed(x.Left, a, m) && seed(x.Right, a, m)
	}
	return false
}

// canonical reports whether v is one of a's canonical values (case-insensitive).
func canonical(a *schema.Attribute, v string) bool {
	for _, c := range a.CanonicalValues {
		if strings.EqualFold(c, v) {
			return true
		}
	}
	return false
}
