package filter

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reference-server/scim"
)

func TestParsePath(t *testing.T) {
	eq := func(name, v string) *Compare { return &Compare{Attr: AttrPath{Name: name}, Op: Eq, Value: v} }
	const member = "2819c223-7f76-453a-919d-413861904646"
	tests := []struct {
		in   string
		want Path
	}{
		// RFC 7644 §3.5.2 and §3.5.2.1–3.
		{`members`, Path{Attr: AttrPath{Name: "members"}}},
		{`name.familyName`, Path{Attr: AttrPath{Name: "name", Sub: "familyName"}}},
		{`addresses[type eq "work"]`, Path{Attr: AttrPath{Name: "addresses"}, Filter: eq("type", "work")}},
		{`members[value eq "` + member + `"]`, Path{Attr: AttrPath{Name: "members"}, Filter: eq("value", member)}},
		{`members[value eq "` + member + `"].displayName`, Path{Attr: AttrPath{Name: "members"}, Filter: eq("value", member), Sub: "displayName"}},
		{`emails[type eq "work" and value ew "example.com"]`, Path{Attr: AttrPath{Name: "emails"}, Filter: &Logical{
			Op: And, Left: eq("type", "work"), Right: &Compare{Attr: AttrPath{Name: "value"}, Op: Ew, Value: "example.com"}}}},
		{`addresses[type eq "work"].streetAddress`, Path{Attr: AttrPath{Name: "addresses"}, Filter: eq("type", "work"), Sub: "streetAddress"}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`,
			Path{Attr: AttrPath{URI: enterpriseURN, Name: "employeeNumber"}}},
		// A bare extension URN: its last segment parses as the name.
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`,
			Path{Attr: AttrPath{URI: "urn:ietf:params:scim:schemas:extension:enterprise:2.0", Name: "User"}}},
		// Entra ID.
		{`emails[type eq "work"].value`, Path{Attr: AttrPath{Name: "emails"}, Filter: eq("type", "work"), Sub: "value"}},
		{`phoneNumbers[type eq "mobile"].value`, Path{Attr: AttrPath{Name: "phoneNumbers"}, Filter: eq("type", "mobile"), Sub: "value"}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`,
			Path{Attr: AttrPath{URI: enterpriseURN, Name: "manager"}}},
		{`active`, Path{Attr: AttrPath{Name: "active"}}},
		// Okta.
		{`members[value eq "u-222"]`, Path{Attr: AttrPath{Name: "members"}, Filter: eq("value", "u-222")}},
		// Others.
		{`urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value`,
			Path{Attr: AttrPath{URI: userURN, Name: "emails"}, Filter: eq("type", "work"), Sub: "value"}},
		{`members[value eq "x"].$ref`, Path{Attr: AttrPath{Name: "members"}, Filter: eq("value", "x"), Sub: "$ref"}},
		{`emails[primary eq true]`, Path{Attr: AttrPath{Name: "emails"}, Filter: &Compare{Attr: AttrPath{Name: "primary"}, Op: Eq, Value: true}}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePath(tc.in)
			if err != nil {
				t.Fatalf("ParsePath: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParsePath = %#v, want %#v", got, tc.want)
			}
			if s := got.String(); s != tc.in {
				t.Errorf("String() = %s, want %s", s, tc.in)
			}
		})
	}
}

func TestParsePathCanonical(t *testing.T) {
	for in, want := range map[string]string{
		`emails[ TYPE EQ "work" ]`:                  `emails[TYPE eq "work"]`,
		`emails[(type eq "work")].value`:            `emails[type eq "work"].value`,
		`members[value eq "a" OR value eq "b"]`:     `members[value eq "a" or value eq "b"]`,
		`addresses[type eq "w\u006frk"].postalCode`: `addresses[type eq "work"].postalCode`,
	} {
		p, err := ParsePath(in)
		if err != nil {
			t.Errorf("ParsePath(%q): %v", in, err)
			continue
		}
		if got := p.String(); got != want {
			t.Errorf("ParsePath(%q).String() = %s, want %s", in, got, want)
		}
		if p2, err := ParsePath(want); err != nil || !reflect.DeepEqual(p, p2) {
			t.Errorf("ParsePath(%q) = %v, %v; want %#v", want, p2, err, p)
		}
	}
}

func TestFullURN(t *testing.T) {
	p, err := ParsePath(enterpriseURN)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Attr.FullURN(); got != enterpriseURN {
		t.Errorf("FullURN() = %q, want %q", got, enterpriseURN)
	}
	if got := (AttrPath{Name: "userName"}).FullURN(); got != "" {
		t.Errorf("FullURN() of an unqualified path = %q, want empty", got)
	}
}

func TestParsePathErrors(t *testing.T) {
	tests := []struct {
		in     string
		offset int
		reason string
	}{
		{``, 0, "empty path"},
		{` members`, 0, "expected an attribute path"},
		{`members `, 7, `unexpected " " after path`},
		{`members[value eq "x"`, 20, `expected "]" to close "[" at offset 7`},
		{`members[value eqq "x"]`, 14, "expected compareOp"},
		{`members[value eq x]`, 17, "strings must be in double quotes"},
		{`members[value eq "x"].`, 22, "expected an attribute name"},
		{`members[value eq "x"].a.b`, 23, "at most one sub-attribute"},
		{`members[value eq "x"]extra`, 21, `unexpected "extra" after path`},
		{`members[value eq "x"][type pr]`, 21, `unexpected "["`},
		{`members[x[y pr]]`, 9, "value paths cannot be nested"},
		{`name.familyName[type eq "x"]`, 15, "names a sub-attribute"},
		{`name.familyName.x`, 15, "at most one sub-attribute"},
		{`schemas eq "urn:x"`, 7, "unexpected"},
		{`members[]`, 8, "expected an attribute path"},
		// An extension URN whose last segment is not an attribute name.
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0`, 50, "must start with a letter"},
		{strings.Repeat("a", MaxLength+1), MaxLength, "maximum"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			p, err := ParsePath(tc.in)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParsePath(%q) = %v, %v; want a *ParseError", tc.in, p, err)
			}
			if pe.Offset != tc.offset || !strings.Contains(pe.Reason, tc.reason) {
				t.Errorf("offset %d, %q; want offset %d, %q", pe.Offset, pe.Reason, tc.offset, tc.reason)
			}
			if !errors.Is(err, ErrInvalidPath) || errors.Is(err, ErrInvalidFilter) || !pe.IsPath {
				t.Errorf("%#v does not unwrap to ErrInvalidPath alone", pe)
			}
			if se := pe.SCIM(); !errors.Is(se, scim.New(400, scim.InvalidPath, "")) || !strings.HasPrefix(se.Detail, "invalid path at offset") {
				t.Errorf("SCIM() = %v, want 400 invalidPath", se)
			}
		})
	}
}

func TestParseAttrPath(t *testing.T) {
	valid := map[string]AttrPath{
		`userName`:                             {Name: "userName"},
		`name.givenName`:                       {Name: "name", Sub: "givenName"},
		`members.$ref`:                         {Name: "members", Sub: "$ref"},
		`meta.created`:                         {Name: "meta", Sub: "created"},
		userURN + `:name`:                      {URI: userURN, Name: "name"},
		enterpriseURN + `:manager.displayName`: {URI: enterpriseURN, Name: "manager", Sub: "displayName"},
	}
	for in, want := range valid {
		got, err := ParseAttrPath(in)
		if err != nil || got != want {
			t.Errorf("ParseAttrPath(%q) = %#v, %v; want %#v", in, got, err, want)
		}
		if got.String() != in {
			t.Errorf("String() = %s, want %s", got.String(), in)
		}
	}
	invalid := map[string]int{
		``:                    0,
		`emails[type eq "x"]`: 6,
		`userName `:           8,
		`a.b.c`:               3,
		`9lives`:              0,
		`name.`:               5,
		`urn:x:`:              6,
		`userName eq "x"`:     8,
		"user\u00e9Name":      4,
	}
	for in, off := range invalid {
		_, err := ParseAttrPath(in)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Offset != off || !errors.Is(err, ErrInvalidPath) {
			t.Errorf("ParseAttrPath(%q) error %v; want an invalid path at offset %d", in, err, off)
		}
	}
}
