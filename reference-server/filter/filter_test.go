package filter

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reference-server/schema"
	"github.com/scimlab/scimlab/reference-server/scim"
)

// rfcFilters are the examples of RFC 7644 §3.4.2.2 ("filter=userName eq
// "bjensen"" through the emails/ims value-path example), the canonical form
// String gives each, and whether each matches the bjensen and jomalley
// fixtures.
var rfcFilters = []struct {
	in, canon         string
	bjensen, jomalley bool
}{
	{in: `userName eq "bjensen"`, bjensen: true},
	{in: `name.familyName co "O'Malley"`, jomalley: true},
	{in: `userName sw "J"`, jomalley: true},
	{in: `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, jomalley: true},
	{in: `title pr`, bjensen: true},
	// jomalley's lastModified is one second before bjensen's, although it
	// sorts after it as a string.
	{in: `meta.lastModified gt "2011-05-13T04:42:34Z"`},
	{in: `meta.lastModified ge "2011-05-13T04:42:34Z"`, bjensen: true},
	{in: `meta.lastModified lt "2011-05-13T04:42:34Z"`, jomalley: true},
	{in: `meta.lastModified le "2011-05-13T04:42:34Z"`, bjensen: true, jomalley: true},
	{in: `title pr and userType eq "Employee"`, bjensen: true},
	{in: `title pr or userType eq "Intern"`, bjensen: true, jomalley: true},
	{in: `schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, bjensen: true},
	{in: `userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`, bjensen: true},
	{in: `userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`, jomalley: true},
	{
		in:      `userType eq "Employee" and (emails.type eq "work")`,
		canon:   `userType eq "Employee" and emails.type eq "work"`,
		bjensen: true,
	},
	{in: `userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`, bjensen: true},
	{
		in:      `emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
		bjensen: true, jomalley: true,
	},
}

func mustParse(t testing.TB, s string) Expr {
	t.Helper()
	e, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return e
}

// roundTrip checks that e's canonical form parses back to e and is a fixed
// point of String.
func roundTrip(t *testing.T, in string, e Expr) string {
	t.Helper()
	s := e.String()
	e2, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q) = %s, which does not parse: %v", in, s, err)
	}
	if !reflect.DeepEqual(e, e2) {
		t.Errorf("Parse(%q).String() = %s, which parses to a different tree: %s", in, s, e2)
	}
	return s
}

func TestParseRFCExamples(t *testing.T) {
	for _, tc := range rfcFilters {
		t.Run(tc.in, func(t *testing.T) {
			want := tc.canon
			if want == "" {
				want = tc.in
			}
			if got := roundTrip(t, tc.in, mustParse(t, tc.in)); got != want {
				t.Errorf("String() = %s, want %s", got, want)
			}
		})
	}
}

func TestParseTree(t *testing.T) {
	a := &Compare{Attr: AttrPath{Name: "a"}, Op: Pr}
	b := &Compare{Attr: AttrPath{Name: "b"}, Op: Pr}
	c := &Compare{Attr: AttrPath{Name: "c"}, Op: Pr}
	and := func(l, r Expr) Expr { return &Logical{Op: And, Left: l, Right: r} }
	or := func(l, r Expr) Expr { return &Logical{Op: Or, Left: l, Right: r} }
	not := func(x Expr) Expr { return &Not{X: x} }
	tests := []struct {
		in    string
		want  Expr
		canon string
	}{
		// RFC 7644 §3.4.2.2: "not" binds tighter than "and", and "and"
		// tighter than "or".
		{`a pr or b pr and c pr`, or(a, and(b, c)), ""},
		{`a pr and b pr or c pr`, or(and(a, b), c), ""},
		{`not (a pr) and b pr`, and(not(a), b), ""},
		{`not (a pr) or b pr and c pr`, or(not(a), and(b, c)), ""},
		{`b pr and not (a pr)`, and(b, not(a)), ""},
		// Left associativity; parentheses that change it are kept.
		{`a pr and b pr and c pr`, and(and(a, b), c), ""},
		{`a pr or b pr or c pr`, or(or(a, b), c), ""},
		{`a pr and (b pr and c pr)`, and(a, and(b, c)), ""},
		{`a pr or (b pr or c pr)`, or(a, or(b, c)), ""},
		{`(a pr or b pr) and c pr`, and(or(a, b), c), ""},
		{`a pr and (b pr or c pr)`, and(a, or(b, c)), ""},
		{`not (a pr or b pr) and c pr`, and(not(or(a, b)), c), ""},
		// Parentheses that change nothing are dropped.
		{`((a pr))`, a, `a pr`},
		{`(a pr and b pr) or c pr`, or(and(a, b), c), `a pr and b pr or c pr`},
		{`a pr or (b pr and c pr)`, or(a, and(b, c)), `a pr or b pr and c pr`},
		{`not ((a pr))`, not(a), `not (a pr)`},
		// "not" with and without the space of the RFC's examples
		// (errata 7319), and white space inside grouping.
		{`not(a pr)`, not(a), `not (a pr)`},
		{"not\t( a pr )", not(a), `not (a pr)`},
		{"  a pr  or\n  b pr ", or(a, b), `a pr or b pr`},
		// Keywords that are attribute names where the grammar allows it.
		{`not pr`, &Compare{Attr: AttrPath{Name: "not"}, Op: Pr}, ""},
		{`and pr or or pr`, or(&Compare{Attr: AttrPath{Name: "and"}, Op: Pr}, &Compare{Attr: AttrPath{Name: "or"}, Op: Pr}), ""},
		{`pr pr`, &Compare{Attr: AttrPath{Name: "pr"}, Op: Pr}, ""},
		{`eq eq "eq"`, &Compare{Attr: AttrPath{Name: "eq"}, Op: Eq, Value: "eq"}, ""},
		// Value paths; errata 7322 allows grouping inside the brackets.
		{
			`emails[type eq "work" or (type eq "home" and value ew "@example.com")]`,
			&ValuePath{Attr: AttrPath{Name: "emails"}, Filter: or(
				&Compare{Attr: AttrPath{Name: "type"}, Op: Eq, Value: "work"},
				and(&Compare{Attr: AttrPath{Name: "type"}, Op: Eq, Value: "home"},
					&Compare{Attr: AttrPath{Name: "value"}, Op: Ew, Value: "@example.com"}))},
			`emails[type eq "work" or type eq "home" and value ew "@example.com"]`,
		},
		{
			`emails[ not (primary eq true) ] and a pr`,
			and(&ValuePath{Attr: AttrPath{Name: "emails"}, Filter: not(&Compare{Attr: AttrPath{Name: "primary"}, Op: Eq, Value: true})}, a),
			`emails[not (primary eq true)] and a pr`,
		},
		{
			`urn:ietf:params:scim:schemas:core:2.0:User:emails[value sw "b"]`,
			&ValuePath{Attr: AttrPath{URI: userURN, Name: "emails"}, Filter: &Compare{Attr: AttrPath{Name: "value"}, Op: Sw, Value: "b"}},
			"",
		},
		// Attribute paths.
		{
			`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915"`,
			&Compare{Attr: AttrPath{URI: enterpriseURN, Name: "manager", Sub: "value"}, Op: Eq, Value: "26118915"},
			"",
		},
		{`members.$ref pr`, &Compare{Attr: AttrPath{Name: "members", Sub: "$ref"}, Op: Pr}, ""},
		{`first-name_2 pr`, &Compare{Attr: AttrPath{Name: "first-name_2"}, Op: Pr}, ""},
		{`urn:a:b:c pr`, &Compare{Attr: AttrPath{URI: "urn:a:b", Name: "c"}, Op: Pr}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			e := mustParse(t, tc.in)
			if !reflect.DeepEqual(e, tc.want) {
				t.Fatalf("Parse(%q) = %s, want %s", tc.in, e, tc.want)
			}
			want := tc.canon
			if want == "" {
				want = tc.in
			}
			if got := roundTrip(t, tc.in, e); got != want {
				t.Errorf("String() = %s, want %s", got, want)
			}
		})
	}
}

func TestParseCaseInsensitive(t *testing.T) {
	tests := []struct{ in, canon string }{
		{`userName EQ "x"`, `userName eq "x"`},
		{`USERNAME eq "x"`, `USERNAME eq "x"`}, // names keep their spelling
		{`userName Eq "x"`, `userName eq "x"`},
		{`title PR`, `title pr`},
		{`a pr AND b pr Or c pr`, `a pr and b pr or c pr`},
		{`NOT (a pr)`, `not (a pr)`},
		{`Not(a pr)`, `not (a pr)`},
		{`active eq TRUE`, `active eq true`},
		{`active Ne False`, `active ne false`},
		{`manager eq NULL`, `manager eq null`},
		{`a GE 1 and b lE 2 and c gT 3 and d Lt 4 and e Co "x" and f sW "y" and g EW "z"`,
			`a ge 1 and b le 2 and c gt 3 and d lt 4 and e co "x" and f sw "y" and g ew "z"`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := roundTrip(t, tc.in, mustParse(t, tc.in)); got != tc.canon {
				t.Errorf("String() = %s, want %s", got, tc.canon)
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	tests := []struct {
		in    string
		want  any
		canon string // of the value; "" means as written
	}{
		{`"bjensen"`, "bjensen", ""},
		{`""`, "", ""},
		{`"O'Malley"`, "O'Malley", ""},
		{`"say \"hi\""`, `say "hi"`, ""},
		{`"C:\\dir"`, `C:\dir`, ""},
		{`"a\/b"`, "a/b", `"a/b"`},
		{`"Andr\u00e9"`, "André", `"André"`},
		{`"André"`, "André", ""},
		{`"\ud83d\ude00"`, "😀", `"😀"`},
		{`"\ud83d"`, "\ufffd", `"` + "\ufffd" + `"`}, // lone surrogate, as encoding/json
		{`"\b\f\n\r\t\u0001"`, "\b\f\n\r\t\x01", `"\u0008\u000c\n\r\t\u0001"`},
		{`"<&>"`, "<&>", ""},
		{`0`, json.Number("0"), ""},
		{`-1.5e+10`, json.Number("-1.5e+10"), ""},
		{`1E5`, json.Number("1E5"), ""},
		{`0.10`, json.Number("0.10"), ""},
		{`true`, true, ""},
		{`false`, false, ""},
		{`null`, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			in := "a eq " + tc.in
			e := mustParse(t, in)
			c, ok := e.(*Compare)
			if !ok || c.Op != Eq || c.Attr != (AttrPath{Name: "a"}) {
				t.Fatalf("Parse(%q) = %#v", in, e)
			}
			if !reflect.DeepEqual(c.Value, tc.want) {
				t.Errorf("value = %#v, want %#v", c.Value, tc.want)
			}
			want := tc.canon
			if want == "" {
				want = tc.in
			}
			if got := roundTrip(t, in, e); got != "a eq "+want {
				t.Errorf("String() = %s, want a eq %s", got, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in     string
		offset int
		reason string // a substring of Reason
	}{
		{``, 0, "empty filter"},
		{`   `, 3, "empty filter"},
		{`userName eqq "x"`, 9, `expected compareOp (eq, ne, co, sw, ew, gt, lt, ge, le or pr), found "eqq"`},
		{`userName eq`, 11, `expected a comparison value after "eq"`},
		{`userName eq `, 12, `expected a comparison value, found end of input`},
		{`userName eq "bjensen`, 12, "unterminated string"},
		{`userName eq "bjensen\"`, 12, "unterminated string"},
		{`(userName eq "x"`, 16, `expected ")" to close "(" at offset 0, found end of input`},
		{`userName eq "x")`, 15, `expected "and", "or" or end of filter, found ")"`},
		{`userName eq "x" foo`, 16, `found "foo"`},
		{`userName eq "x" and`, 19, `expected a filter after "and"`},
		{`userName eq "x" and `, 20, "expected an attribute path, found end of input"},
		{`userName eq "x" or(a pr)`, 18, `expected a space after "or"`},
		{`emails[type[value eq 1]]`, 11, "value paths cannot be nested"},
		{`emails[type eq "work" and x[y pr]]`, 27, "value paths cannot be nested"},
		{`emails[type eq "work"`, 21, `expected "]" to close "[" at offset 6`},
		{`emails[]`, 7, "expected an attribute path"},
		{`emails.value[type eq "work"]`, 12, "names a sub-attribute"},
		{`emails[type eq "work"].value eq "x"`, 22, `found ".value"`},
		{`userName eq akadmin`, 12, `found "akadmin"; strings must be in double quotes`},
		{`userName eq 'x'`, 12, "strings must be in double quotes"},
		{`userName`, 8, "expected a space and an operator"},
		{`userName eq"x"`, 11, `expected a space after "eq"`},
		{`userName [type eq "x"]`, 9, `found "["`},
		{`name.givenName.x pr`, 14, "at most one sub-attribute"},
		{`1abc pr`, 0, "must start with a letter"},
		{`$foo pr`, 0, "must start with a letter"},
		{`user*name pr`, 4, `invalid character "*"`},
		{`:name pr`, 0, "expected a schema URI"},
		{`urn:x: pr`, 6, "expected an attribute name"},
		{`1urn:x:a pr`, 0, "schema URI must start with a letter"},
		{`urn:x<y:a pr`, 5, `invalid character "<" in schema URI`},
		{`a eq "\x"`, 6, `invalid escape "\\"`},
		{`a eq "\u12"`, 6, `invalid \u escape`},
		{"a eq \"x\ty\"", 7, "control character"},
		{`a eq 01`, 5, `invalid number "01"`},
		{`a eq 1.`, 5, "invalid number"},
		{`a eq -`, 5, "invalid number"},
		{`a eq 1e`, 5, "invalid number"},
		{`a eq +1`, 5, "expected a comparison value"},
		{`a eq .5`, 5, "expected a comparison value"},
		{`a eq 1abc`, 5, "invalid number"},
		{`a eq truex`, 5, `found "truex"`},
		{`not (a pr`, 9, `expected ")"`},
		{`a pr and not b`, 13, `found "b"`},
		{`()`, 1, `expected an attribute path, found ")"`},
		{`a pr and(b pr)`, 8, `expected a space after "and"`},
		{"a\x00 pr", 1, "expected a space and an operator"},
		{"a eq \"\xff\"", 6, "invalid UTF-8"},
		{strings.Repeat("a", MaxLength+1), MaxLength, "more than the maximum of 4096"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			e, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want an error", tc.in, e)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T, want *ParseError", tc.in, err)
			}
			if pe.Offset != tc.offset || !strings.Contains(pe.Reason, tc.reason) {
				t.Errorf("Parse(%q): offset %d, %q; want offset %d, %q", tc.in, pe.Offset, pe.Reason, tc.offset, tc.reason)
			}
			if !errors.Is(err, ErrInvalidFilter) || errors.Is(err, ErrInvalidPath) || pe.IsPath || pe.Input != tc.in {
				t.Errorf("Parse(%q): %#v does not unwrap to ErrInvalidFilter alone", tc.in, pe)
			}
		})
	}
}

func TestParseMaxLength(t *testing.T) {
	// A filter of exactly MaxLength bytes parses.
	in := `userName eq "` + strings.Repeat("x", MaxLength-len(`userName eq ""`)) + `"`
	if len(in) != MaxLength {
		t.Fatalf("test input is %d bytes", len(in))
	}
	if _, err := Parse(in); err != nil {
		t.Errorf("Parse(%d bytes): %v", len(in), err)
	}
	// Deep nesting within the limit neither fails nor overflows the stack.
	n := (MaxLength - len("a pr")) / 2
	deep := strings.Repeat("(", n) + "a pr" + strings.Repeat(")", n)
	if e, err := Parse(deep); err != nil || e.String() != "a pr" {
		t.Errorf("Parse(%d nested groups) = %v, %v", n, e, err)
	}
}

func TestParseErrorMessage(t *testing.T) {
	_, err := Parse(`userName eqq "x"`)
	const want = `invalid filter at offset 9: expected compareOp (eq, ne, co, sw, ew, gt, lt, ge, le or pr), found "eqq" in "userName eqq \"x\""`
	if err == nil || err.Error() != want {
		t.Fatalf("Error() = %v\nwant      %s", err, want)
	}
	var pe *ParseError
	errors.As(err, &pe)
	se := pe.SCIM()
	if !errors.Is(se, scim.New(400, scim.InvalidFilter, "")) || se.Detail != want {
		t.Errorf("SCIM() = %#v, want 400 invalidFilter with the message as detail", se)
	}

	// A long input is shown around the offset.
	long := `userName eq "` + strings.Repeat("x", 300) + `" and title xx "y"`
	_, err = Parse(long)
	msg := err.Error()
	if !strings.Contains(msg, `…"xxx`) || !strings.Contains(msg, `title xx \"y\""`) || len(msg) > 250 {
		t.Errorf("long input message = %s", msg)
	}
}

// TestParseAuthentikUnquoted pins the response to the unquoted value that
// authentik's SCIM client has sent: 400 invalidFilter.
func TestParseAuthentikUnquoted(t *testing.T) {
	_, err := Parse(`userName eq akadmin`)
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("Parse: %v, want a *ParseError", err)
	}
	if got := pe.SCIM(); got.Status != 400 || got.ScimType != scim.InvalidFilter {
		t.Errorf("SCIM() = %v, want 400 invalidFilter", got)
	}
}

func TestStringOfBuiltTrees(t *testing.T) {
	// Trees built by hand get the same canonical form, including values of
	// types the parser does not produce.
	tests := []struct {
		e    Expr
		want string
	}{
		{&Compare{Attr: AttrPath{Name: "loginCount"}, Op: Gt, Value: 3}, `loginCount gt 3`},
		{&Compare{Attr: AttrPath{Name: "a"}, Op: Eq, Value: "bad\xffutf8"}, `a eq "bad\ufffdutf8"`},
		{&Compare{Attr: AttrPath{Name: "a"}, Op: Eq, Value: func() {}}, `a eq null`},
		{&Logical{Op: And, Left: &Compare{Attr: AttrPath{Name: "a"}, Op: Pr}}, `a pr and ()`},
		{&Not{}, `not ()`},
	}
	for _, tc := range tests {
		if got := tc.e.String(); got != tc.want {
			t.Errorf("String() = %s, want %s", got, tc.want)
		}
	}
}

func TestParseDialectEntraWorkEmail(t *testing.T) {
	in := `emails[type eq "work"].value eq "ana@example.com"`
	if _, err := Parse(in); err == nil {
		t.Fatalf("Parse(%q) should fail: the RFC grammar has no subAttr after a value path in a filter", in)
	}
	e, err := ParseDialect(in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.String(), `emails[type eq "work" and value eq "ana@example.com"]`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	doc := map[string]any{"emails": []any{
		map[string]any{"type": "home", "value": "ana@example.com"},
		map[string]any{"type": "work", "value": "ana@work.example"},
	}}
	if Match(e, doc, nil) {
		t.Error("the work email is not ana@example.com; the filter must not match on the home one")
	}
	doc["emails"].([]any)[1].(map[string]any)["value"] = "ANA@example.com"
	if !Match(e, doc, nil) {
		t.Error("should match the work email case-insensitively")
	}
	for _, bad := range []string{`emails[type eq "work"].`, `emails[type eq "work"].value`, `emails[type eq "work"].value eq`} {
		if _, err := ParseDialect(bad); err == nil {
			t.Errorf("ParseDialect(%q) should fail", bad)
		}
	}
}

// TestValidateAny: over several resource types, each attribute expression
// must be valid for one of them; the first type's error otherwise.
func TestValidateAny(t *testing.T) {
	rts := []*schema.ResourceType{schema.UserResourceType(), schema.GroupResourceType()}
	for f, ok := range map[string]bool{
		`userName eq "a" or displayName eq "b"`:          true,
		`members pr or userName eq "a"`:                  true,
		`not (members[value eq "x"]) and active`:         false, // "active" alone is not a comparison
		`not (members[value eq "x"]) and active eq true`: true,
		`nosuch pr`:                            false,
		`members pr or nosuch pr`:              false,
		`active eq "yes"`:                      false, // a string for a boolean, and Groups lack it
		`members.value sw "a" and userName pr`: true,
	} {
		e, err := Parse(f)
		if err != nil {
			if ok {
				t.Errorf("%s: %v", f, err)
			}
			continue
		}
		if err := ValidateAny(e, rts); (err == nil) != ok {
			t.Errorf("ValidateAny(%s) = %v, want valid %v", f, err, ok)
		}
		if err := ValidateAny(e, rts[:1]); err == nil && Validate(e, rts[0]) != nil {
			t.Errorf("%s: ValidateAny over one type accepts what Validate refuses", f)
		}
	}
}
