package filter

import (
	"errors"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reference-server/schema"
	"github.com/scimlab/scimlab/reference-server/scim"
)

func TestMatchRFCExamples(t *testing.T) {
	docs := map[string]map[string]any{"bjensen": doc(t, bjensen), "jomalley": doc(t, jomalley)}
	for _, rt := range []*schema.ResourceType{userType(), nil} {
		for _, tc := range rfcFilters {
			e := mustParse(t, tc.in)
			if err := Validate(e, userType()); err != nil {
				t.Errorf("Validate(%s): %v", tc.in, err)
			}
			for name, want := range map[string]bool{"bjensen": tc.bjensen, "jomalley": tc.jomalley} {
				if got := Match(e, docs[name], rt); got != want {
					t.Errorf("Match(%s, %s, resource type %v) = %v, want %v", tc.in, name, rt != nil, got, want)
				}
			}
		}
	}
}

func TestMatch(t *testing.T) {
	user := userType()
	b, j := doc(t, bjensen), doc(t, jomalley)
	tests := []struct {
		filter string
		doc    map[string]any
		rt     *schema.ResourceType
		want   bool
	}{
		// Attribute names are case-insensitive (RFC 7643 §2.1).
		{`USERNAME eq "bjensen"`, b, user, true},
		{`NAME.FAMILYNAME eq "jensen"`, b, user, true},
		{`Emails[TYPE eq "work"]`, b, user, true},

		// Strings are case-insensitive unless caseExact; id is caseExact
		// (RFC 7643 §3.1), but not to a caller without the resource type.
		{`userName eq "BJensen"`, b, user, true},
		{`id eq "2819C223-7F76-453A-919D-413861904646"`, b, user, false},
		{`id eq "2819c223-7f76-453a-919d-413861904646"`, b, user, true},
		{`id eq "2819C223-7F76-453A-919D-413861904646"`, b, nil, true},
		{`externalId eq "701984"`, b, user, true},
		// Binary values and references are case exact (RFC 7643 §2.3.6, §2.3.7).
		{`badge eq "QUJD"`, b, user, true},
		{`badge eq "qujd"`, b, user, false},
		{`profileUrl co "BJENSEN"`, b, user, false},
		{`profileUrl co "bjensen"`, b, user, true},

		// co, sw, ew, and ordering of strings.
		{`userName co "JENS"`, b, user, true},
		{`userName sw "bj"`, b, user, true},
		{`userName ew "SEN"`, b, user, true},
		{`userName ew "jens"`, b, user, false},
		{`name.formatted sw "ms."`, b, user, true},
		{`userName gt "BJ"`, b, user, true},
		{`userName lt "C"`, b, user, true},
		{`userName le "bjensen"`, b, user, true},
		{`userName lt "bjensen"`, b, user, false},

		// dateTime compares chronologically, also for eq.
		{`meta.created eq "2010-01-23T04:56:22.000Z"`, b, user, true},
		{`meta.created eq "2010-01-23T05:56:22+01:00"`, b, user, true},
		{`meta.created gt "2010-01-23T05:56:22+01:00"`, b, user, false},
		{`meta.created lt "2010-01-23T04:56:22.001Z"`, b, user, true},
		{`meta.created ge "2010-01-23T04:56:22"`, b, user, true},
		{`lastLogin gt "2024-03-01T04:29:59Z"`, b, user, true},
		{`lastLogin lt "2024-03-01T04:30:00.000000001Z"`, b, user, true},
		{`lastLogin gt "2024-03-01T04:29:59Z"`, b, nil, false}, // no resource type: the extension URN is needed
		{`urn:scimlab:params:scim:schemas:extension:test:2.0:Metrics:lastLogin gt "2024-03-01T04:29:59Z"`, b, nil, true},

		// Numbers compare numerically.
		{`loginCount eq 42`, b, user, true},
		{`loginCount eq 42.0`, b, user, true},
		{`loginCount eq 4.2e1`, b, user, true},
		{`loginCount gt 41`, b, user, true},
		{`loginCount ge 42.5`, b, user, false},
		{`loginCount lt 1e3`, b, user, true},
		{`loginCount eq "42"`, b, user, false},
		{`loginCount co 4`, b, user, false},
		{`score lt 97.51`, b, user, true},
		{`score eq 9.75e1`, b, user, true},
		{`score gt -1`, b, user, true},

		// Booleans: eq and ne only.
		{`active eq true`, b, user, true},
		{`active eq false`, j, user, true},
		{`active ne true`, j, user, true},
		{`active eq "true"`, b, user, false},
		{`active gt false`, b, user, false},
		{`emails[primary eq true]`, b, user, true},
		{`emails[primary eq false]`, b, user, false},

		// Extension attributes live under their URN (RFC 7643 §3.3); an
		// unqualified name the resource type resolves is found there too.
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`, b, user, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`, b, nil, true},
		{`URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:employeeNumber eq "701984"`, b, user, true},
		{`employeeNumber eq "701984"`, b, user, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, b, user, true},
		{`manager.displayName sw "john"`, b, user, true},
		{`employeeNumber pr`, j, user, false},
		{`employeeNumber ne "1"`, j, user, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName eq "bjensen"`, b, user, false},
		// Core attributes, and the common ones, may be qualified.
		{`urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "barbara"`, b, user, true},
		{`urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "barbara"`, b, nil, true},
		{`urn:ietf:params:scim:schemas:core:2.0:User:id pr`, b, user, true},
		{`urn:ietf:params:scim:schemas:core:2.0:User:meta.lastModified pr`, b, user, true},

		// pr: present and not null, "", [] or {}.
		{`title pr`, j, user, false},
		{`nickName pr`, b, user, false},
		{`emails pr`, b, user, true},
		{`emails.value pr`, b, user, true},
		{`emails.display pr`, b, user, false},
		{`name pr`, b, user, true},
		{`active pr`, j, user, true},
		{`emails pr`, doc(t, `{"emails": []}`), user, false},
		{`emails pr`, doc(t, `{"emails": [{}, {"value": ""}]}`), user, false},
		{`emails pr`, doc(t, `{"emails": [{"value": null, "type": "work"}]}`), user, true},
		{`name pr`, doc(t, `{"name": {}}`), user, false},
		{`name pr`, doc(t, `{"name": {"givenName": null}}`), user, false},
		{`nickName pr`, doc(t, `{"nickName": null}`), user, false},

		// null: eq null is "not present", ne null is "present".
		{`nickName eq null`, b, user, true},
		{`title eq null`, j, user, true},
		{`title eq null`, b, user, false},
		{`title ne null`, b, user, true},
		{`title ne null`, j, user, false},
		{`title gt null`, b, user, false},

		// ne: true when absent, else when any value differs.
		{`nickName ne "x"`, b, user, true},
		{`userType ne "employee"`, b, user, false},
		{`emails.type ne "work"`, b, user, true},
		{`ims.type ne "aim"`, b, user, false},
		{`foo ne "x"`, b, user, true},
		{`foo eq "x"`, b, user, false},

		// Multi-valued attributes match if any value does; a complex
		// attribute without a sub-attribute is compared by "value".
		{`emails.value eq "babs@jensen.org"`, b, user, true},
		{`emails co "jensen.org"`, b, user, true},
		{`emails eq "bjensen@example.com"`, b, user, true},
		{`schemas eq "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER"`, b, user, false},
		{`schemas eq "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER"`, b, nil, true},
		{`name eq "Jensen"`, b, user, false},
		// A value path matches within one value; dotted paths may match
		// in different values.
		{`emails.type eq "work" and emails.value co "jensen.org"`, b, user, true},
		{`emails[type eq "work" and value co "jensen.org"]`, b, user, false},
		{`emails[type eq "home" and value co "jensen.org"]`, b, user, true},
		{`emails[not (type eq "work")]`, b, user, true},
		{`name[givenName eq "Barbara"]`, b, user, true}, // a single complex value
		{`userName[value eq "x"]`, b, user, false},
		{`addresses[type eq "work" and streetAddress co "universal"]`, b, user, true},

		{`not (userName eq "bjensen")`, b, user, false},
		{`not (userName eq "bjensen") or title pr`, b, user, true},
		{`userName eq "bjensen" and not (title pr)`, b, user, false},
	}
	for _, tc := range tests {
		e := mustParse(t, tc.filter)
		if got := Match(e, tc.doc, tc.rt); got != tc.want {
			t.Errorf("Match(%s, resource type %v) = %v, want %v", tc.filter, tc.rt != nil, got, tc.want)
		}
	}
}

func TestMatchGoValues(t *testing.T) {
	// Documents built in Go rather than decoded from JSON.
	d := map[string]any{
		"userName":   "bjensen",
		"emails":     []map[string]any{{"value": "b@example.com", "type": "work"}},
		"schemas":    []string{userURN},
		"loginCount": 3,
		"big":        int64(1 << 60),
	}
	for filter, want := range map[string]bool{
		`emails[type eq "work"]`:         true,
		`emails.value ew "example.com"`:  true,
		`schemas eq "` + userURN + `"`:   true,
		`loginCount ge 3`:                true,
		`big eq 1152921504606846976`:     true,
		`big eq 1152921504606846977`:     false,
		`big gt 1152921504606846975`:     true,
		`userName eq "bjensen"`:          true,
		`userName eq "bjensen" and x pr`: false,
	} {
		if got := Match(mustParse(t, filter), d, nil); got != want {
			t.Errorf("Match(%s) = %v, want %v", filter, got, want)
		}
	}
	if !Match(nil, d, nil) || !MatchValue(nil, d, nil) {
		t.Error("a nil filter does not match")
	}
}

func TestMatchValue(t *testing.T) {
	g := doc(t, group)
	members := groupType().Schema.Attr("members")
	elems := g["members"].([]any)
	tests := []struct {
		path      string
		want      []bool // per member
		nilParent []bool // without the schema, if different
	}{
		// RFC 7644 §3.5.2.2 and Okta's group PATCH. members.value is
		// caseExact, which only the schema says.
		{`members[value eq "2819c223-7f76-453a-919d-413861904646"]`, []bool{true, false}, nil},
		{`members[value eq "2819C223-7F76-453A-919D-413861904646"]`, []bool{false, false}, []bool{true, false}},
		{`members[display sw "mandy" or display sw "babs"]`, []bool{true, true}, nil},
		{`members[$ref ew "/902c246b-6245-4190-8e05-00816be7344a"]`, []bool{false, true}, nil},
		{`members[value eq "u-222"]`, []bool{false, false}, nil},
		{`members[type pr]`, []bool{false, false}, nil},
	}
	for _, tc := range tests {
		p, err := ParsePath(tc.path)
		if err != nil {
			t.Fatalf("ParsePath(%q): %v", tc.path, err)
		}
		for i, el := range elems {
			m := el.(map[string]any)
			if got := MatchValue(p.Filter, m, members); got != tc.want[i] {
				t.Errorf("MatchValue(%s, member %d) = %v, want %v", tc.path, i, got, tc.want[i])
			}
			want := tc.want[i]
			if tc.nilParent != nil {
				want = tc.nilParent[i]
			}
			if got := MatchValue(p.Filter, m, nil); got != want {
				t.Errorf("MatchValue(%s, member %d, nil parent) = %v, want %v", tc.path, i, got, want)
			}
		}
		// The whole-resource form agrees.
		vp := &ValuePath{Attr: p.Attr, Filter: p.Filter}
		want := false
		for _, w := range tc.want {
			want = want || w
		}
		if got := Match(vp, g, groupType()); got != want {
			t.Errorf("Match(%s, group) = %v, want %v", vp, got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	user, grp := userType(), groupType()
	valid := []string{
		`userName eq "bjensen"`,
		`USERNAME Eq "bjensen"`,
		`name.givenName sw "B"`,
		`emails co "example.com"`,
		`emails[type eq "work" and value co "@example.com"]`,
		`emails[primary eq true]`,
		`emails pr`,
		`name pr`,
		`nickName eq null`,
		`nickName ne null`,
		`active eq true`,
		`active ne false`,
		`meta.created gt "2011-05-13T04:42:34Z"`,
		`meta.lastModified le "2011-05-13T04:42:34.5+02:00"`,
		`id eq "x"`,
		`externalId sw "70"`,
		`schemas eq "` + enterpriseURN + `"`,
		`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`,
		`urn:ietf:params:scim:schemas:core:2.0:User:id pr`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`,
		`employeeNumber eq "701984"`,
		`manager.$ref pr`,
		`loginCount gt 3 and score le 1.5e2`,
		`profileUrl sw "https://"`,
		`badge eq "QUJD"`,
		`userName gt "a"`,
		`not (title pr) or userType eq "Intern"`,
	}
	for _, f := range valid {
		if err := Validate(mustParse(t, f), user); err != nil {
			t.Errorf("Validate(%s) = %v, want nil", f, err)
		}
	}
	if err := Validate(mustParse(t, `members[value eq "u-222"]`), grp); err != nil {
		t.Errorf("Validate(members[…]) = %v", err)
	}

	invalid := []struct {
		filter  string
		mention string // in Detail
	}{
		{`foo eq "x"`, `unknown attribute "foo"`},
		{`userName.foo eq "x"`, `unknown attribute "userName.foo"`},
		{`name.foo eq "x"`, `unknown attribute "name.foo"`},
		{`emails[foo eq "x"]`, `unknown attribute "emails.foo"`},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName eq "x"`, "unknown attribute"},
		{`urn:example:nope:userName eq "x"`, "unknown attribute"},
		{`members[value eq "x"]`, `unknown attribute "members"`},
		{`active gt true`, `operator "gt" is not defined for boolean attribute "active"`},
		{`active le false`, "boolean"},
		{`badge lt "QUJD"`, `not defined for binary attribute "badge"`},
		{`x509Certificates ge "MII"`, "binary"},
		{`active co "t"`, `operator "co" applies to strings, but attribute "active" is boolean`},
		{`loginCount sw 4`, "applies to strings"},
		{`meta.created ew "Z"`, "dateTime"},
		{`userName eq 1`, `attribute "userName" is a string, but the filter compares it with 1`},
		{`active eq "true"`, `compares it with "true"`},
		{`loginCount eq "3"`, "an integer"},
		{`score gt true`, "decimal"},
		{`meta.lastModified gt "yesterday"`, `"yesterday" is not an RFC 3339 date-time`},
		{`userName gt null`, "cannot take null"},
		{`name eq "Jensen"`, `attribute "name" is complex`},
		{`userName[value eq "x"]`, `"userName" is not complex`},
		{`emails[name.givenName eq "x"]`, "must name one sub-attribute"},
		{`emails[urn:ietf:params:scim:schemas:core:2.0:User:type eq "x"]`, "must name one sub-attribute"},
		{`userName eq "x" and (title pr or foo pr)`, `unknown attribute "foo"`},
		{`not (bar pr)`, `unknown attribute "bar"`},
	}
	for _, tc := range invalid {
		err := Validate(mustParse(t, tc.filter), user)
		var se *scim.Error
		if !errors.As(err, &se) || !errors.Is(err, scim.New(400, scim.InvalidFilter, "")) {
			t.Errorf("Validate(%s) = %v, want a 400 invalidFilter *scim.Error", tc.filter, err)
			continue
		}
		if !strings.Contains(se.Detail, tc.mention) {
			t.Errorf("Validate(%s) detail %q does not mention %q", tc.filter, se.Detail, tc.mention)
		}
	}

	// Trees the parser does not produce.
	for _, e := range []Expr{
		&ValuePath{Attr: AttrPath{Name: "emails"}, Filter: &ValuePath{Attr: AttrPath{Name: "type"}}},
		&Compare{Attr: AttrPath{Name: "userName"}, Op: "like", Value: "x"},
		&Not{},
	} {
		if err := Validate(e, user); err == nil {
			t.Errorf("Validate(%s) = nil, want an error", e)
		}
	}
	if Validate(nil, user) != nil || Validate(mustParse(t, `foo pr`), nil) != nil {
		t.Error("Validate with a nil filter or resource type failed")
	}
}

// TestCoreSchemas runs the RFC examples, and the RFC 7644 §3.5.2 group
// PATCH filter, against the schema package's RFC 7643 resource types rather
// than this package's fixtures.
func TestCoreSchemas(t *testing.T) {
	user, grp := schema.UserResourceType(), schema.GroupResourceType()
	docs := map[string]map[string]any{"bjensen": doc(t, bjensen), "jomalley": doc(t, jomalley)}
	for _, tc := range rfcFilters {
		e := mustParse(t, tc.in)
		if err := Validate(e, user); err != nil {
			t.Errorf("Validate(%s): %v", tc.in, err)
		}
		for name, want := range map[string]bool{"bjensen": tc.bjensen, "jomalley": tc.jomalley} {
			if got := Match(e, docs[name], user); got != want {
				t.Errorf("Match(%s, %s) = %v, want %v", tc.in, name, got, want)
			}
		}
	}
	for f, want := range map[string]bool{
		`id eq "2819C223-7F76-453A-919D-413861904646"`:                                          false,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`: true,
		`employeeNumber eq "701984"`:                                                            true,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value pr`:           true,
		`meta.created lt "2010-01-23T05:56:23+01:00"`:                                           true,
	} {
		e := mustParse(t, f)
		if err := Validate(e, user); err != nil {
			t.Errorf("Validate(%s): %v", f, err)
		}
		if got := Match(e, docs["bjensen"], user); got != want {
			t.Errorf("Match(%s) = %v, want %v", f, got, want)
		}
	}
	for _, f := range []string{`active gt true`, `x509Certificates.value lt "x"`, `name eq "x"`, `nope pr`} {
		if err := Validate(mustParse(t, f), user); err == nil {
			t.Errorf("Validate(%s) = nil, want invalidFilter", f)
		}
	}
	g := doc(t, group)
	p, err := ParsePath(`members[value eq "2819c223-7f76-453a-919d-413861904646"]`)
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(&ValuePath{Attr: p.Attr, Filter: p.Filter}, grp); err != nil {
		t.Errorf("Validate(members[…]): %v", err)
	}
	members := grp.Schema.Attr("members")
	for i, want := range []bool{true, false} {
		if got := MatchValue(p.Filter, g["members"].([]any)[i].(map[string]any), members); got != want {
			t.Errorf("MatchValue(member %d) = %v, want %v", i, got, want)
		}
	}
}
