package filter

import (
	"errors"
	"reflect"
	"testing"
)

// fuzzSeeds are inputs for both fuzz targets: every filter and path the
// unit tests use is in the corpus through these and the RFC examples.
var fuzzSeeds = []string{
	`userName eq "bjensen"`,
	`not (a pr) and b pr or c pr`,
	`emails[type eq "work" or (type eq "home" and value ew "@example.com")]`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`,
	`members[value eq "2819c223-7f76-453a-919d-413861904646"].displayName`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`,
	`a eq "\ud83d\ude00 \u00e9 \"\\\/"`,
	`a eq -1.5e+10 or b ne true or c eq NULL`,
	`NOT(A PR)`,
	`emails[type[value eq 1]]`,
	`userName eq akadmin`,
	`(userName eq "x"`,
	`a eq "\ud800\udc00\udc00"`,
	`members.$ref pr`,
	"",
}

// FuzzParse checks that Parse never panics, that its errors are
// *ParseErrors within the input, and that the canonical form of any filter
// it accepts parses back to the same tree and the same canonical form.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	for _, tc := range rfcFilters {
		f.Add(tc.in)
	}
	user, b := userType(), doc(f, bjensen)
	f.Fuzz(func(t *testing.T, in string) {
		e, err := Parse(in)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidFilter) || pe.Offset < 0 || pe.Offset > len(in) {
				t.Fatalf("Parse(%q) error %#v", in, err)
			}
			_ = pe.Error()
			return
		}
		s := e.String()
		// "not(" becomes "not (", so the canonical form can outgrow the cap.
		if len(s) > MaxLength {
			return
		}
		e2, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q, which does not parse: %v", in, s, err)
		}
		if s2 := e2.String(); s2 != s || !reflect.DeepEqual(e, e2) {
			t.Fatalf("Parse(%q).String() = %q, which parses to %q", in, s, s2)
		}
		// Evaluation and validation must not panic either.
		_ = Validate(e, user)
		_ = Match(e, b, user)
		_ = Match(e, b, nil)
	})
}

// FuzzParsePath checks ParsePath and ParseAttrPath the same way.
func FuzzParsePath(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if a, err := ParseAttrPath(in); err == nil {
			if a2, err := ParseAttrPath(a.String()); err != nil || a2 != a {
				t.Fatalf("ParseAttrPath(%q) = %#v, whose String %q parses to %#v, %v", in, a, a.String(), a2, err)
			}
		} else if !errors.Is(err, ErrInvalidPath) {
			t.Fatalf("ParseAttrPath(%q) error %#v", in, err)
		}
		p, err := ParsePath(in)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidPath) || pe.Offset < 0 || pe.Offset > len(in) {
				t.Fatalf("ParsePath(%q) error %#v", in, err)
			}
			return
		}
		s := p.String()
		if len(s) > MaxLength {
			return
		}
		p2, err := ParsePath(s)
		if err != nil {
			t.Fatalf("ParsePath(%q).String() = %q, which does not parse: %v", in, s, err)
		}
		if p2.String() != s || !reflect.DeepEqual(p, p2) {
			t.Fatalf("ParsePath(%q).String() = %q, which parses to %q", in, s, p2.String())
		}
		if p.Filter != nil {
			_ = MatchValue(p.Filter, map[string]any{"value": "x", "type": "work"}, nil)
		}
	})
}

// FuzzParseDialect: the Entra dialect parser never panics, its errors carry
// an offset inside the input, and what it accepts prints as a filter the
// strict parser reads back.
func FuzzParseDialect(f *testing.F) {
	f.Add(`emails[type eq "work"].value eq "a@x"`)
	f.Add(`emails[type eq "work"].value pr`)
	f.Add(`userName eq "x" and emails[type eq "work"].value co "@x"`)
	f.Fuzz(func(t *testing.T, in string) {
		e, err := ParseDialect(in)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Offset < 0 || pe.Offset > len(in) {
				t.Fatalf("ParseDialect(%q) error %#v", in, err)
			}
			return
		}
		if s := e.String(); len(s) <= MaxLength {
			if _, err := Parse(s); err != nil {
				t.Fatalf("ParseDialect(%q).String() = %q, which Parse refuses: %v", in, s, err)
			}
		}
	})
}
