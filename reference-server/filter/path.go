package filter

import "strings"

// Path is a PATCH operation's "path" (RFC 7644 §3.5.2, Figure 7):
//
//	PATH = attrPath / valuePath [subAttr]
//
// Attr is the attribute path, Filter the filter between "[" and "]" (nil
// when there are no brackets), and Sub the sub-attribute written after "]"
// (empty when there is none). A sub-attribute written without brackets, as
// in "name.familyName", is Attr.Sub. Thus:
//
//	members                               Attr{Name: "members"}
//	name.familyName                       Attr{Name: "name", Sub: "familyName"}
//	members[value eq "2819c…"]            Attr{Name: "members"}, Filter
//	members[value eq "2819c…"].display    Attr{Name: "members"}, Filter, Sub: "display"
//	urn:…:enterprise:2.0:User:employeeNumber
//	                                      Attr{URI: "urn:…:enterprise:2.0:User", Name: "employeeNumber"}
//	urn:…:enterprise:2.0:User             Attr{URI: "urn:…:enterprise:2.0", Name: "User"}
//
// The last form names a whole extension; see [AttrPath.FullURN]. The paths
// in Filter are relative to Attr, as in a [ValuePath].
type Path struct {
	Attr   AttrPath
	Filter Expr
	Sub    string
}

// String returns the path in canonical form; ParsePath(p.String()) yields p.
func (p Path) String() string {
	var b strings.Builder
	p.Attr.write(&b)
	if p.Filter != nil {
		b.WriteByte('[')
		writeExpr(&b, p.Filter, false)
		b.WriteByte(']')
	}
	if p.Sub != "" {
		b.WriteByte('.')
		b.WriteString(p.Sub)
	}
	return b.String()
}

// ParsePath parses a PATCH path (RFC 7644 §3.5.2). Unlike a filter, a path
// may not have white space around it. A syntax error is a *[ParseError] that
// unwraps to [ErrInvalidPath], including one inside the brackets.
func ParsePath(path string) (Path, error) {
	p := parser{in: path, isPath: true}
	if err := p.checkInput(); err != nil {
		return Path{}, err
	}
	if path == "" {
		return Path{}, p.fail(0, "empty path")
	}
	attr, err := p.parseAttrPath()
	if err != nil {
		return Path{}, err
	}
	out := Path{Attr: attr}
	if p.peek() == '[' {
		if out.Filter, err = p.parseValueFilter(attr); err != nil {
			return Path{}, err
		}
		if p.peek() == '.' {
			p.pos++
			w := p.peekWord()
			if off, reason := checkName(w); reason != "" {
				return Path{}, p.fail(p.pos+off, reason)
			}
			p.pos += len(w)
			out.Sub = w
		}
	}
	if !p.eof() {
		return Path{}, p.failf(p.pos, "unexpected %s after path", p.found())
	}
	return out, nil
}

// ParseAttrPath parses an attribute path, attrPath in RFC 7644 §3.4.2.2:
// [URI ":"] ATTRNAME *1subAttr, with no white space. It suits "sortBy" and
// the "attributes" and "excludedAttributes" parameters (RFC 7644 §3.4.2.3,
// §3.9). A syntax error is a *[ParseError] that unwraps to [ErrInvalidPath].
func ParseAttrPath(s string) (AttrPath, error) {
	p := parser{in: s, isPath: true}
	if err := p.checkInput(); err != nil {
		return AttrPath{}, err
	}
	if s == "" {
		return AttrPath{}, p.fail(0, "empty attribute path")
	}
	attr, err := p.parseAttrPath()
	if err != nil {
		return AttrPath{}, err
	}
	if !p.eof() {
		return AttrPath{}, p.failf(p.pos, "unexpected %s after attribute path", p.found())
	}
	return attr, nil
}
