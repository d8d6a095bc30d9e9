package filter

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Parse parses a filter (RFC 7644 §3.4.2.2). White space around the filter
// is ignored. A syntax error is a *[ParseError] that unwraps to
// [ErrInvalidFilter].
func Parse(filter string) (Expr, error) {
	return parse(parser{in: filter})
}

// ParseDialect parses a filter as Parse does and also accepts the form
// Microsoft Entra ID sends to match users by work email, a value path
// followed by a sub-attribute comparison (idp-traffic.md §1.2:
// `emails[type eq "work"].value eq "x"`), which the RFC's grammar lacks. It
// is read as `emails[type eq "work" and value eq "x"]`, the same test.
func ParseDialect(filter string) (Expr, error) {
	return parse(parser{in: filter, dialect: true})
}

func parse(p parser) (Expr, error) {
	if err := p.checkInput(); err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.eof() {
		return nil, p.fail(p.pos, "empty filter")
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eof() {
		return nil, p.failf(p.pos, `expected "and", "or" or end of filter, found %s`, p.found())
	}
	return e, nil
}

// parser is a recursive-descent parser over the input string. Each parse
// method starts at p.pos, consumes one construct without the white space
// around it, and leaves p.pos just after it. The call graph
// parseOr → parseAnd → parseNot → parseAttrExp is the precedence of RFC
// 7644 §3.4.2.2: each method parses operands with the next, tighter one.
type parser struct {
	in      string
	pos     int
	isPath  bool // errors are ErrInvalidPath
	inValue bool // inside valuePath brackets, which do not nest
	dialect bool // ParseDialect: a valuePath may be followed by "." subAttr and a comparison
}

// checkInput rejects input that is too long or not UTF-8.
func (p *parser) checkInput() error {
	if len(p.in) > MaxLength {
		return p.failf(MaxLength, "input is %d bytes, more than the maximum of %d bytes this server accepts (a size limit, not a syntax error)", len(p.in), MaxLength)
	}
	for i := 0; i < len(p.in); {
		if p.in[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(p.in[i:])
		if r == utf8.RuneError && size == 1 {
			return p.fail(i, "invalid UTF-8")
		}
		i += size
	}
	return nil
}

// parseOr parses operands joined by "or" (RFC 7644 §3.4.2.2, logExp).
func (p *parser) parseOr() (Expr, error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for {
		ok, err := p.keyword("or")
		if err != nil || !ok {
			return left, err
		}
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		left = &Logical{Op: Or, Left: left, Right: right}
	}
}

// parseAnd parses operands joined by "and", which binds tighter than "or".
func (p *parser) parseAnd() (Expr, error) {
	left, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	for {
		ok, err := p.keyword("and")
		if err != nil || !ok {
			return left, err
		}
		right, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		left = &Logical{Op: And, Left: left, Right: right}
	}
}

// parseNot parses "not (…)", a parenthesized group, or an attribute
// expression. A "not" that is not followed by "(" is an attribute name.
func (p *parser) parseNot() (Expr, error) {
	start := p.pos
	if w := p.peekWord(); strings.EqualFold(w, "not") {
		p.pos += len(w)
		p.skipSpace()
		if p.peek() == '(' {
			x, err := p.parseGroup()
			if err != nil {
				return nil, err
			}
			return &Not{X: x}, nil
		}
		p.pos = start
	}
	if p.peek() == '(' {
		return p.parseGroup()
	}
	return p.parseAttrExp()
}

// parseGroup parses "(" FILTER ")", allowing white space inside.
func (p *parser) parseGroup() (Expr, error) {
	open := p.pos
	p.pos++
	p.skipSpace()
	x, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.peek() != ')' {
		return nil, p.failf(p.pos, `expected ")" to close "(" at offset %d, found %s`, open, p.found())
	}
	p.pos++
	return x, nil
}

// parseAttrExp parses attrExp or, in a filter, valuePath.
func (p *parser) parseAttrExp() (Expr, error) {
	attr, err := p.parseAttrPath()
	if err != nil {
		return nil, err
	}
	if p.peek() == '[' {
		f, err := p.parseValueFilter(attr)
		if err != nil {
			return nil, err
		}
		if p.dialect && p.peek() == '.' {
			// emails[type eq "work"].value eq "x" ≡ emails[type eq "work" and value eq "x"].
			p.pos++
			start := p.pos
			for !p.eof() && isWordByte(p.peek()) && p.peek() != '.' && p.peek() != ':' {
				p.pos++
			}
			name := p.in[start:p.pos]
			if off, reason := checkName(name); reason != "" {
				return nil, p.fail(start+off, reason)
			}
			cmp, err := p.parseCompare(AttrPath{Name: name})
			if err != nil {
				return nil, err
			}
			f = &Logical{Op: And, Left: f, Right: cmp}
		}
		return &ValuePath{Attr: attr, Filter: f}, nil
	}
	return p.parseCompare(attr)
}

// parseCompare parses SP compareOp [SP compValue] after attr.
func (p *parser) parseCompare(attr AttrPath) (Expr, error) {
	if p.skipSpace() == 0 {
		return nil, p.failf(p.pos, "expected a space and an operator after %q, found %s", attr.String(), p.found())
	}
	w := p.peekWord()
	op, ok := lookupOp(w)
	if !ok {
		return nil, p.failf(p.pos, "expected compareOp (eq, ne, co, sw, ew, gt, lt, ge, le or pr), found %s", p.found())
	}
	p.pos += len(w)
	if op == Pr {
		return &Compare{Attr: attr, Op: Pr}, nil
	}
	if p.eof() {
		return nil, p.failf(p.pos, "expected a comparison value after %q", w)
	}
	if p.skipSpace() == 0 {
		return nil, p.failf(p.pos, "expected a space after %q, found %s", w, p.found())
	}
	v, err := p.parseCompValue()
	if err != nil {
		return nil, err
	}
	return &Compare{Attr: attr, Op: op, Value: v}, nil
}

// lookupOp returns the operator spelled w in any case.
func lookupOp(w string) (CompareOp, bool) {
	if len(w) != 2 {
		return "", false
	}
	b := [2]byte{lower(w[0]), lower(w[1])}
	op, ok := compareOps[string(b[:])]
	return op, ok
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// parseValueFilter parses "[" valFilter "]" after the attribute path attr.
func (p *parser) parseValueFilter(attr AttrPath) (Expr, error) {
	open := p.pos
	if p.inValue {
		return nil, p.fail(open, "value paths cannot be nested (RFC 7644 §3.4.2.2, errata 4690)")
	}
	if attr.Sub != "" {
		return nil, p.failf(open, "a value path filters a complex attribute, but %q names a sub-attribute", attr.String())
	}
	p.pos++
	p.inValue = true
	p.skipSpace()
	f, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.peek() != ']' {
		return nil, p.failf(p.pos, `expected "]" to close "[" at offset %d, found %s`, open, p.found())
	}
	p.pos++
	p.inValue = false
	return f, nil
}

// parseAttrPath parses attrPath: [URI ":"] ATTRNAME *1subAttr.
func (p *parser) parseAttrPath() (AttrPath, error) {
	start := p.pos
	w := p.peekWord()
	if w == "" {
		return AttrPath{}, p.failf(start, "expected an attribute path, found %s", p.found())
	}
	attr, off, reason := splitAttrPath(w)
	if reason != "" {
		return AttrPath{}, p.fail(start+off, reason)
	}
	p.pos += len(w)
	return attr, nil
}

// splitAttrPath splits a word into URI, name and sub-attribute. The URI is
// everything before the last ':', since ATTRNAME has no ':'. On error it
// returns the offset in w of the bad byte and the reason.
func splitAttrPath(w string) (attr AttrPath, off int, reason string) {
	rest, at := w, 0
	if i := strings.LastIndexByte(w, ':'); i >= 0 {
		if off, reason := checkURI(w[:i]); reason != "" {
			return AttrPath{}, off, reason
		}
		attr.URI = w[:i]
		rest, at = w[i+1:], i+1
	}
	name, sub, hasSub := strings.Cut(rest, ".")
	if off, reason := checkName(name); reason != "" {
		return AttrPath{}, at + off, reason
	}
	attr.Name = name
	if hasSub {
		at += len(name) + 1
		if off, reason := checkName(sub); reason != "" {
			return AttrPath{}, at + off, reason
		}
		attr.Sub = sub
	}
	return attr, 0, ""
}

// checkName checks ATTRNAME = ALPHA *(nameChar) / "$ref".
func checkName(s string) (off int, reason string) {
	switch {
	case s == "":
		return 0, "expected an attribute name"
	case strings.EqualFold(s, "$ref"):
		return 0, ""
	case !isAlpha(s[0]):
		return 0, fmt.Sprintf("attribute name must start with a letter, found %s", quoteRune(s))
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if isAlpha(c) || isDigit(c) || c == '-' || c == '_' {
			continue
		}
		if c == '.' {
			return i, "an attribute path has at most one sub-attribute"
		}
		return i, fmt.Sprintf("invalid character %s in attribute name", quoteRune(s[i:]))
	}
	return 0, ""
}

// checkURI checks the schema URI of an attribute path: a scheme letter
// followed by characters that RFC 3986 Appendix A allows in a URI (other
// than the parentheses and brackets that delimit filters).
func checkURI(s string) (off int, reason string) {
	if s == "" {
		return 0, `expected a schema URI before ":"`
	}
	if !isAlpha(s[0]) {
		return 0, fmt.Sprintf("schema URI must start with a letter, found %s", quoteRune(s))
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if isAlpha(c) || isDigit(c) || strings.IndexByte("-._~:/?#@!$&'*+,;=%", c) >= 0 {
			continue
		}
		return i, fmt.Sprintf("invalid character %s in schema URI", quoteRune(s[i:]))
	}
	return 0, ""
}

// parseCompValue parses compValue: a JSON string, number, true, false or
// null. The keywords are case-insensitive; a number keeps its lexeme.
func (p *parser) parseCompValue() (any, error) {
	if p.peek() == '"' {
		return p.parseString()
	}
	w := p.peekWord()
	var v any
	switch {
	case w == "":
		return nil, p.failf(p.pos, "expected a comparison value, found %s", p.found())
	case strings.EqualFold(w, "true"):
		v = true
	case strings.EqualFold(w, "false"):
		v = false
	case strings.EqualFold(w, "null"):
		v = nil
	case w[0] == '-' || isDigit(w[0]):
		if !isJSONNumber(w) {
			return nil, p.failf(p.pos, "invalid number %q", w)
		}
		v = json.Number(w)
	default:
		return nil, p.failf(p.pos, "expected a comparison value (a JSON string, number, true, false or null), found %s; strings must be in double quotes", p.found())
	}
	p.pos += len(w)
	return v, nil
}

// isJSONNumber reports whether s is a number per RFC 8259 §6:
// [ "-" ] ( "0" / 1-9 *DIGIT ) [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ].
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i == len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i == len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return i == len(s)
}

// parseString parses a JSON string (RFC 8259 §7) starting at the opening
// quote and returns its decoded value. A string without escapes is returned
// as a substring of the input.
func (p *parser) parseString() (string, error) {
	start := p.pos
	escaped := false
	for i := start + 1; i < len(p.in); {
		switch c := p.in[i]; {
		case c == '"':
			p.pos = i + 1
			if !escaped {
				return p.in[start+1 : i], nil
			}
			return unescape(p.in[start+1 : i]), nil
		case c == '\\':
			escaped = true
			if i+1 == len(p.in) {
				return "", p.fail(start, "unterminated string")
			}
			switch p.in[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := hex4(p.in[i+2:]); !ok {
					return "", p.fail(i, `invalid \u escape in string: want four hex digits`)
				}
				i += 6
			default:
				return "", p.failf(i, "invalid escape %s in string", quoteRune(p.in[i:]))
			}
		case c < 0x20:
			return "", p.failf(i, "control character %q in string; write it as a JSON escape", c)
		default:
			i++
		}
	}
	return "", p.fail(start, "unterminated string")
}

// unescape decodes the body of a JSON string that parseString has checked.
// Lone UTF-16 surrogates become U+FFFD, as encoding/json decodes them.
func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		switch s[i+1] {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, _ := hex4(s[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2, ok = hex4(s[i+2:])
				}
				if d := utf16.DecodeRune(r, r2); ok && d != utf8.RuneError {
					r = d
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			b.WriteRune(r)
			continue
		default: // '"', '\\', '/'
			b.WriteByte(s[i+1])
		}
		i += 2
	}
	return b.String()
}

// hex4 decodes the four hex digits at the start of s.
func hex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[:4]) {
		var d byte
		switch {
		case isDigit(c):
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

// keyword consumes white space, kw and white space when they come next, as
// in logExp's SP "and" SP. It consumes nothing and reports false when kw
// does not follow white space; a kw not followed by white space is an error.
func (p *parser) keyword(kw string) (bool, error) {
	start := p.pos
	if p.skipSpace() == 0 {
		return false, nil
	}
	w := p.peekWord()
	if !strings.EqualFold(w, kw) {
		p.pos = start
		return false, nil
	}
	p.pos += len(w)
	if p.eof() {
		return false, p.failf(p.pos, "expected a filter after %q", w)
	}
	if p.skipSpace() == 0 {
		return false, p.failf(p.pos, "expected a space after %q, found %s", w, p.found())
	}
	return true, nil
}

// peekWord returns the run of word bytes at p.pos without consuming it. A
// word ends at white space, a control character, a parenthesis, a bracket
// or a double quote.
func (p *parser) peekWord() string {
	i := p.pos
	for i < len(p.in) && isWordByte(p.in[i]) {
		i++
	}
	return p.in[p.pos:i]
}

func isWordByte(c byte) bool {
	switch c {
	case '(', ')', '[', ']', '"', 0x7f:
		return false
	}
	return c > ' '
}

// skipSpace consumes white space and returns how many bytes it consumed.
func (p *parser) skipSpace() int {
	start := p.pos
	for p.pos < len(p.in) && isSpace(p.in[p.pos]) {
		p.pos++
	}
	return p.pos - start
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func (p *parser) eof() bool { return p.pos >= len(p.in) }

// peek returns the byte at p.pos, or 0 at the end of input.
func (p *parser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.in[p.pos]
}

// found describes what is at p.pos for an error message.
func (p *parser) found() string {
	if p.eof() {
		return "end of input"
	}
	w := p.peekWord()
	if w == "" {
		return quoteRune(p.in[p.pos:])
	}
	if len(w) > 32 {
		i := 32
		for i > 0 && !utf8.RuneStart(w[i]) {
			i--
		}
		return strconv.Quote(w[:i]) + "…"
	}
	return strconv.Quote(w)
}

// quoteRune quotes the first character of s.
func quoteRune(s string) string {
	_, size := utf8.DecodeRuneInString(s)
	return strconv.Quote(s[:size])
}

func (p *parser) fail(off int, reason string) *ParseError {
	return &ParseError{Input: p.in, Offset: off, Reason: reason, IsPath: p.isPath}
}

func (p *parser) failf(off int, format string, args ...any) *ParseError {
	return p.fail(off, fmt.Sprintf(format, args...))
}
