package filter

import "testing"

// benchFilter is a compound filter of the kind IdPs and the suites send:
// grouping, not, a value path, a URN-qualified extension attribute and a
// dateTime comparison.
const benchFilter = `userType eq "Employee" and (emails co "example.com" or emails.value co "example.org") and ` +
	`not (title eq "Intern") and emails[type eq "work" and value ew "@example.com"] and ` +
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984" and ` +
	`meta.lastModified ge "2011-05-13T04:42:34Z"`

func BenchmarkParse(b *testing.B) {
	b.SetBytes(int64(len(benchFilter)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(benchFilter); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	e := mustParse(b, benchFilter)
	d, rt := doc(b, bjensen), userType()
	if !Match(e, d, rt) {
		b.Fatal("benchmark filter does not match")
	}
	b.ReportAllocs()
	for b.Loop() {
		Match(e, d, rt)
	}
}

func BenchmarkParsePath(b *testing.B) {
	const path = `members[value eq "2819c223-7f76-453a-919d-413861904646"].displayName`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePath(path); err != nil {
			b.Fatal(err)
		}
	}
}
