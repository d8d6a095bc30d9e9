package filter

import (
	"cmp"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/scimlab/scimlab/reference-server/schema"
)

// Match reports whether doc, a resource decoded from JSON, satisfies e
// (RFC 7644 §3.4.2.2). The package documentation lists the rules. rt
// supplies attribute types, caseExact and the schema that owns each
// attribute; with a nil rt, strings compare case-insensitively, numbers
// numerically, and strings that both parse as RFC 3339 times
// chronologically. A nil e matches every document. Match does not report
// errors: call [Validate] first to reject a filter that names unknown
// attributes or applies an operator to a type it does not fit.
func Match(e Expr, doc map[string]any, rt *schema.ResourceType) bool {
	if e == nil {
		return true
	}
	return eval(e, scope{doc: doc, rt: rt})
}

// MatchValue reports whether elem, one value of the complex attribute
// parent, satisfies e, whose attribute paths are relative to parent: e is
// the Filter of a [ValuePath] or of a [Path] such as
// members[value eq "2819c…"]. parent may be nil, with the effects that a
// nil rt has on [Match]. A nil e matches every value.
func MatchValue(e Expr, elem map[string]any, parent *schema.Attribute) bool {
	if e == nil {
		return true
	}
	return eval(e, scope{doc: elem, parent: parent, relative: true})
}

// scope is where attribute paths are looked up: a resource and its
// resource type, or (relative) one value of a complex attribute and that
// attribute's definition.
type scope struct {
	doc      map[string]any
	rt       *schema.ResourceType
	parent   *schema.Attribute
	relative bool
}

func eval(e Expr, s scope) bool {
	switch e := e.(type) {
	case *Compare:
		v, def := s.lookup(e.Attr)
		return compare(e, v, def)
	case *Logical:
		switch e.Op {
		case And:
			return eval(e.Left, s) && eval(e.Right, s)
		case Or:
			return eval(e.Left, s) || eval(e.Right, s)
		}
	case *Not:
		return !eval(e.X, s)
	case *ValuePath:
		v, def := s.lookup(e.Attr)
		if e.Attr.Sub != "" && def != nil {
			def = def.Sub(e.Attr.Sub)
		}
		inner := scope{parent: def, relative: true}
		return each(v, e.Attr.Sub, false, func(x any) bool {
			m, ok := x.(map[string]any)
			if !ok {
				return false
			}
			inner.doc = m
			return eval(e.Filter, inner)
		})
	}
	return false
}

// lookup returns the value of p.Name in s and its definition (nil when
// unknown). p.Sub is left to the caller.
func (s scope) lookup(p AttrPath) (any, *schema.Attribute) {
	if s.relative {
		var def *schema.Attribute
		if s.parent != nil {
			def = s.parent.Sub(p.Name)
		}
		return get(s.doc, p.Name), def
	}
	var def *schema.Attribute
	uri := p.URI
	if s.rt != nil {
		var owner string
		if def, owner = resolve(s.rt, uri, p.Name); def != nil {
			uri = owner // "" for common attributes
		}
	}
	container := s.doc
	if uri != "" && !(s.rt != nil && s.rt.Schema != nil && strings.EqualFold(uri, s.rt.Schema.ID)) {
		// An extension's attributes live in an object under its URN
		// (RFC 7643 §3.3). Without a resource type to tell a core URN
		// from an extension's, a URN the document lacks is taken to
		// qualify a top-level attribute.
		m, ok := get(s.doc, uri).(map[string]any)
		switch {
		case ok:
			container = m
		case s.rt != nil:
			return nil, def
		}
	}
	return get(container, p.Name), def
}

// resolve finds the definition of uri:name in rt and the URN of the schema
// that owns it ("" for the common attributes of RFC 7643 §3.1, which
// belong to no schema but may be qualified with the core schema's URN).
func resolve(rt *schema.ResourceType, uri, name string) (*schema.Attribute, string) {
	a, owner := rt.Resolve(uri, name, "")
	if a == nil && uri != "" && rt.Schema != nil && strings.EqualFold(uri, rt.Schema.ID) {
		switch strings.ToLower(name) {
		case "id", "externalid", "meta", "schemas":
			return rt.Resolve("", name, "")
		}
	}
	return a, owner
}

// get returns m[key], matching key case-insensitively (RFC 7643 §2.1).
func get(m map[string]any, key string) any {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// compare evaluates an attribute expression against v, the value of
// e.Attr.Name, whose definition is top (nil when unknown).
func compare(e *Compare, v any, top *schema.Attribute) bool {
	sub := e.Attr.Sub
	// def is the definition of the values compared: the sub-attribute, or
	// for a complex attribute named without one, its "value" sub-attribute.
	def := top
	if top != nil && sub != "" {
		def = top.Sub(sub)
	} else if top != nil && top.Type == schema.Complex {
		def = top.Sub("value")
	}
	switch {
	case e.Op == Pr:
		return each(v, sub, false, present)
	case e.Value == nil && e.Op == Eq:
		return !each(v, sub, false, present)
	case e.Value == nil && e.Op == Ne:
		return each(v, sub, false, present)
	case e.Value == nil:
		return false
	case e.Op == Ne:
		seen := false
		differs := each(v, sub, true, func(x any) bool {
			seen = true
			return !compareScalar(Eq, x, e.Value, def)
		})
		return differs || !seen
	}
	return each(v, sub, true, func(x any) bool {
		return compareScalar(e.Op, x, e.Value, def)
	})
}

// each calls fn for each non-null value that an attribute expression
// compares, until fn returns true, and reports whether it did. v is the
// attribute's value: a single value or a multi-valued array, whose values
// are visited in turn. With sub set, each value's sub-attribute sub is
// visited instead; with useValue set and no sub, a complex value's "value"
// sub-attribute is (RFC 7643 §2.4).
func each(v any, sub string, useValue bool, fn func(any) bool) bool {
	switch v := v.(type) {
	case []any:
		for _, x := range v {
			if eachOne(x, sub, useValue, fn) {
				return true
			}
		}
		return false
	case []map[string]any:
		for _, x := range v {
			if eachOne(x, sub, useValue, fn) {
				return true
			}
		}
		return false
	case []string:
		for _, x := range v {
			if eachOne(x, sub, useValue, fn) {
				return true
			}
		}
		return false
	}
	return eachOne(v, sub, useValue, fn)
}

func eachOne(x any, sub string, useValue bool, fn func(any) bool) bool {
	m, isMap := x.(map[string]any)
	switch {
	case sub != "" && !isMap:
		return false
	case sub != "":
		x = get(m, sub)
		if xs, ok := x.([]any); ok {
			for _, y := range xs {
				if y != nil && fn(y) {
					return true
				}
			}
			return false
		}
	case isMap && useValue:
		x = get(m, "value")
	}
	return x != nil && fn(x)
}

// present reports whether x has a value for "pr": not null, not "", and not
// an empty array or object (RFC 7644 §3.4.2.2, Table 3).
func present(x any) bool {
	switch x := x.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case []any:
		for _, y := range x {
			if present(y) {
				return true
			}
		}
		return false
	case map[string]any:
		for _, y := range x {
			if present(y) {
				return true
			}
		}
		return false
	}
	return true
}

// compareScalar reports whether got op want holds for one value got of an
// attribute defined by def (nil when unknown). want is a string, json.Number
// or bool. Values of different kinds are unequal and unordered.
func compareScalar(op CompareOp, got, want any, def *schema.Attribute) bool {
	switch w := want.(type) {
	case string:
		return compareString(op, got, w, def)
	case json.Number:
		if op == Co || op == Sw || op == Ew {
			return false
		}
		c, ok := compareNumber(got, w)
		return ok && ordered(op, c)
	case bool:
		g, ok := got.(bool)
		return ok && op == Eq && g == w
	}
	return false
}

// compareString compares strings, chronologically for dateTime attributes
// (and, when def is nil, for values that both parse as times), and
// otherwise case-insensitively unless def is caseExact (RFC 7644 §3.4.2.2).
// Ordering is lexicographic by bytes, after lower-casing when
// case-insensitive.
func compareString(op CompareOp, got any, w string, def *schema.Attribute) bool {
	var g string
	switch x := got.(type) {
	case string:
		g = x
	case time.Time:
		g = x.Format(time.RFC3339Nano)
	default:
		return false
	}
	// RFC 7643 §2.3.6 and §2.3.7: binary values and references are case
	// exact whatever the attribute's caseExact says.
	caseExact := def != nil && (def.CaseExact || def.Type == schema.Binary || def.Type == schema.Reference)
	if op != Co && op != Sw && op != Ew && (def == nil || def.Type == schema.DateTime) {
		if gt, ok := parseTime(g); ok {
			if wt, ok := parseTime(w); ok {
				return ordered(op, gt.Compare(wt))
			}
		}
	}
	if op == Eq {
		return g == w || !caseExact && strings.EqualFold(g, w)
	}
	if !caseExact {
		g, w = strings.ToLower(g), strings.ToLower(w)
	}
	switch op {
	case Co:
		return strings.Contains(g, w)
	case Sw:
		return strings.HasPrefix(g, w)
	case Ew:
		return strings.HasSuffix(g, w)
	}
	return ordered(op, strings.Compare(g, w))
}

// parseTime parses an xsd:dateTime (RFC 7643 §2.3.5) in its RFC 3339 form.
// A time without a zone is taken as UTC.
func parseTime(s string) (time.Time, bool) {
	// Skip the parser for strings that cannot be times: most are not.
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if t, err := time.Parse("2006-01-02T15:04:05.999999999", s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// compareNumber compares a document value with a number operand, exactly
// when both are integers and as float64 otherwise. It reports false when
// got is not a number.
func compareNumber(got any, w json.Number) (int, bool) {
	if wi, err := strconv.ParseInt(string(w), 10, 64); err == nil {
		if gi, ok := asInt(got); ok {
			return cmp.Compare(gi, wi), true
		}
	}
	// ParseFloat returns ±Inf with its range error, which still orders.
	wf, _ := strconv.ParseFloat(string(w), 64)
	gf, ok := asFloat(got)
	if !ok {
		return 0, false
	}
	return cmp.Compare(gf, wf), true
}

func asInt(x any) (int64, bool) {
	switch x := x.(type) {
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), true
		}
	case json.Number:
		i, err := x.Int64()
		return i, err == nil
	}
	return 0, false
}

func asFloat(x any) (float64, bool) {
	switch x := x.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	}
	return 0, false
}

// ordered reports whether a comparison result c satisfies op.
func ordered(op CompareOp, c int) bool {
	switch op {
	case Eq:
		return c == 0
	case Ne:
		return c != 0
	case Gt:
		return c > 0
	case Ge:
		return c >= 0
	case Lt:
		return c < 0
	case Le:
		return c <= 0
	}
	return false
}
