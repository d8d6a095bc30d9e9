package filter_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/scimlab/scimlab/reference-server/filter"
)

func ExampleParse() {
	e, err := filter.Parse(`userType EQ "Employee" AND (emails CO "example.com" OR emails.value co "example.org")`)
	if err != nil {
		panic(err)
	}
	fmt.Println(e)
	// Output: userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")
}

// Precedence is "not", then "and", then "or"; String writes only the
// parentheses that precedence needs.
func ExampleParse_precedence() {
	for _, in := range []string{
		`title pr or userType eq "Intern" and active eq true`,
		`(title pr or userType eq "Intern") and active eq true`,
		`((title pr)) and not(active eq false)`,
		`emails[(type eq "work") and value ew "@example.com"]`,
	} {
		e, _ := filter.Parse(in)
		fmt.Println(e)
	}
	// Output:
	// title pr or userType eq "Intern" and active eq true
	// (title pr or userType eq "Intern") and active eq true
	// title pr and not (active eq false)
	// emails[type eq "work" and value ew "@example.com"]
}

// Comparison values are JSON: strings are decoded and written back with the
// escapes JSON needs, and numbers keep their lexeme.
func ExampleParse_values() {
	e, _ := filter.Parse(`displayName eq "Andr\u00e9 \"Dre\"" or loginCount ge 1E3 or manager eq NULL`)
	fmt.Println(e)
	// Output: displayName eq "André \"Dre\"" or loginCount ge 1E3 or manager eq null
}

func ExampleParse_error() {
	_, err := filter.Parse(`userName eq akadmin`)
	fmt.Println(errors.Is(err, filter.ErrInvalidFilter))
	var pe *filter.ParseError
	if errors.As(err, &pe) {
		fmt.Println(pe.Offset)
		fmt.Println(pe.SCIM().Status, pe.SCIM().ScimType)
	}
	// Output:
	// true
	// 12
	// 400 invalidFilter
}

func ExampleParsePath() {
	p, err := filter.ParsePath(`members[value eq "2819c223-7f76-453a-919d-413861904646"].displayName`)
	if err != nil {
		panic(err)
	}
	fmt.Printf("attribute %s, filter %s, sub-attribute %s\n", p.Attr, p.Filter, p.Sub)

	p, _ = filter.ParsePath("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
	fmt.Printf("URI %s, name %s, FullURN %s\n", p.Attr.URI, p.Attr.Name, p.Attr.FullURN())
	// Output:
	// attribute members, filter value eq "2819c223-7f76-453a-919d-413861904646", sub-attribute displayName
	// URI urn:ietf:params:scim:schemas:extension:enterprise:2.0, name User, FullURN urn:ietf:params:scim:schemas:extension:enterprise:2.0:User
}

func ExampleMatch() {
	var user map[string]any
	_ = json.Unmarshal([]byte(`{
		"userName": "bjensen",
		"emails": [
			{"value": "bjensen@example.com", "type": "work"},
			{"value": "babs@jensen.org", "type": "home"}
		],
		"meta": {"lastModified": "2011-05-13T04:42:34Z"}
	}`), &user)
	for _, f := range []string{
		`emails co "jensen.org"`,
		`emails.type eq "work" and emails.value co "jensen.org"`,
		`emails[type eq "work" and value co "jensen.org"]`,
		`meta.lastModified gt "2011-05-13T06:00:00+02:00"`,
	} {
		e, _ := filter.Parse(f)
		fmt.Println(filter.Match(e, user, nil), f)
	}
	// Output:
	// true emails co "jensen.org"
	// true emails.type eq "work" and emails.value co "jensen.org"
	// false emails[type eq "work" and value co "jensen.org"]
	// true meta.lastModified gt "2011-05-13T06:00:00+02:00"
}

func ExampleMatchValue() {
	p, _ := filter.ParsePath(`members[value eq "u-222"]`)
	var members []map[string]any
	_ = json.Unmarshal([]byte(`[{"value": "u-111"}, {"value": "u-222"}]`), &members)
	for i, m := range members {
		fmt.Println(i, filter.MatchValue(p.Filter, m, nil))
	}
	// Output:
	// 0 false
	// 1 true
}
