package filter

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CompareOp is an attribute operator of RFC 7644 §3.4.2.2, Table 3. The
// constants are lower case; the parser accepts any case.
type CompareOp string

// The attribute operators of RFC 7644 §3.4.2.2, Table 3.
const (
	Eq CompareOp = "eq" // equal
	Ne CompareOp = "ne" // not equal
	Co CompareOp = "co" // contains
	Sw CompareOp = "sw" // starts with
	Ew CompareOp = "ew" // ends with
	Gt CompareOp = "gt" // greater than
	Lt CompareOp = "lt" // less than
	Ge CompareOp = "ge" // greater than or equal to
	Le CompareOp = "le" // less than or equal to
	Pr CompareOp = "pr" // present (has value); takes no operand
)

// compareOps maps the lower-case spelling of each operator to itself.
var compareOps = map[string]CompareOp{
	"eq": Eq, "ne": Ne, "co": Co, "sw": Sw, "ew": Ew,
	"gt": Gt, "lt": Lt, "ge": Ge, "le": Le, "pr": Pr,
}

// LogicalOp is a logical operator of RFC 7644 §3.4.2.2, Table 4. "not" is
// the separate node type [Not].
type LogicalOp string

// The binary logical operators of RFC 7644 §3.4.2.2, Table 4.
const (
	And LogicalOp = "and"
	Or  LogicalOp = "or"
)

// Expr is a node of a parsed filter: *[Compare], *[Logical], *[Not] or
// *[ValuePath]. The interface is sealed. String returns the canonical form
// described in the package documentation.
type Expr interface {
	isExpr()
	String() string
}

// AttrPath is an attribute path, attrPath in RFC 7644 §3.4.2.2:
// [URI ":"] Name ["." Sub]. URI is empty when the path is not qualified by a
// schema URN, and Sub is empty when it names no sub-attribute. Inside a
// [ValuePath] filter the path is relative to the value path's attribute.
type AttrPath struct {
	URI, Name, Sub string
}

// String returns the path as written in a filter, for example
// "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName".
func (p AttrPath) String() string {
	var b strings.Builder
	p.write(&b)
	return b.String()
}

func (p AttrPath) write(b *strings.Builder) {
	if p.URI != "" {
		b.WriteString(p.URI)
		b.WriteByte(':')
	}
	b.WriteString(p.Name)
	if p.Sub != "" {
		b.WriteByte('.')
		b.WriteString(p.Sub)
	}
}

// FullURN returns URI + ":" + Name, or "" when the path has no URI. A PATCH
// path that is a bare schema URN, such as
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", parses with
// its last segment as Name; FullURN gives the URN back so that a caller can
// compare it with the resource type's extension schemas (RFC 7644 §3.5.2).
func (p AttrPath) FullURN() string {
	if p.URI == "" {
		return ""
	}
	return p.URI + ":" + p.Name
}

// Compare is an attribute expression, attrExp in RFC 7644 §3.4.2.2:
// Attr Op Value, or Attr "pr". Value is a string, a json.Number holding the
// number as written, a bool, or nil for null and for [Pr].
type Compare struct {
	Attr  AttrPath
	Op    CompareOp
	Value any
}

// Logical is "Left and Right" or "Left or Right" (RFC 7644 §3.4.2.2, logExp).
type Logical struct {
	Op          LogicalOp
	Left, Right Expr
}

// Not is "not (X)" (RFC 7644 §3.4.2.2).
type Not struct {
	X Expr
}

// ValuePath is Attr[Filter], a filter on the values of a multi-valued
// complex attribute (RFC 7644 §3.4.2.2, valuePath). The attribute paths in
// Filter name sub-attributes of Attr.
type ValuePath struct {
	Attr   AttrPath
	Filter Expr
}

func (*Compare) isExpr()   {}
func (*Logical) isExpr()   {}
func (*Not) isExpr()       {}
func (*ValuePath) isExpr() {}

// String returns the expression in canonical form, for example
// `name.familyName co "O'Malley"` or `title pr`.
func (e *Compare) String() string {
	var b strings.Builder
	e.write(&b)
	return b.String()
}

// String returns the expression in canonical form, with parentheses only
// where precedence or left associativity requires them.
func (e *Logical) String() string {
	var b strings.Builder
	e.write(&b)
	return b.String()
}

// String returns the expression in canonical form: "not (…)".
func (e *Not) String() string {
	var b strings.Builder
	e.write(&b)
	return b.String()
}

// String returns the expression in canonical form, for example
// `emails[type eq "work"]`.
func (e *ValuePath) String() string {
	var b strings.Builder
	e.write(&b)
	return b.String()
}

func (e *Compare) write(b *strings.Builder) {
	e.Attr.write(b)
	b.WriteByte(' ')
	b.WriteString(string(e.Op))
	if e.Op != Pr {
		b.WriteByte(' ')
		writeValue(b, e.Value)
	}
}

func (e *Logical) write(b *strings.Builder) {
	// "and" binds tighter than "or", and both associate to the left, so a
	// left operand needs parentheses only when it binds more loosely, and a
	// right operand also when it binds equally.
	writeExpr(b, e.Left, e.Op == And && isOp(e.Left, Or))
	b.WriteByte(' ')
	b.WriteString(string(e.Op))
	b.WriteByte(' ')
	writeExpr(b, e.Right, isOp(e.Right, Or) || (e.Op == And && isOp(e.Right, And)))
}

func (e *Not) write(b *strings.Builder) {
	b.WriteString("not ")
	writeExpr(b, e.X, true)
}

func (e *ValuePath) write(b *strings.Builder) {
	e.Attr.write(b)
	b.WriteByte('[')
	writeExpr(b, e.Filter, false)
	b.WriteByte(']')
}

func isOp(e Expr, op LogicalOp) bool {
	l, ok := e.(*Logical)
	return ok && l.Op == op
}

// writeExpr writes e, in parentheses if paren is set. A nil e, which the
// parser never produces, is written as "()" so that the output fails to
// parse rather than silently meaning something else.
func writeExpr(b *strings.Builder, e Expr, paren bool) {
	if paren {
		b.WriteByte('(')
	}
	switch e := e.(type) {
	case *Compare:
		e.write(b)
	case *Logical:
		e.write(b)
	case *Not:
		e.write(b)
	case *ValuePath:
		e.write(b)
	case nil:
		if !paren {
			b.WriteString("()")
		}
	default:
		b.WriteString(e.String())
	}
	if paren {
		b.WriteByte(')')
	}
}

// writeValue writes a comparison value as JSON.
func writeValue(b *strings.Builder, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case json.Number:
		b.WriteString(string(v))
	case string:
		writeString(b, v)
	default:
		// Values the parser never produces (an int built by hand, say)
		// are written as encoding/json would write them.
		out, err := json.Marshal(v)
		if err != nil {
			b.WriteString("null")
			return
		}
		b.Write(out)
	}
}

// writeString writes s as a JSON string. Unlike encoding/json it leaves
// '<', '>', '&' and non-ASCII characters unescaped, so that the canonical
// form stays readable; invalid UTF-8 is written as \ufffd.
func writeString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteString(`\ufffd`)
			} else {
				b.WriteString(s[i : i+size])
			}
			i += size
			continue
		}
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		default:
			b.WriteByte(c)
		}
		i++
	}
	b.WriteByte('"')
}
