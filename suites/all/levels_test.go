package all

import (
	"os"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reports"
)

// TestLevelsClaimNoMoreThanTheRFC pins the level and citation of checks
// whose old ones claimed more than the text they cite (audit J): a level
// may only be as strong as the RFC's own keyword, and a request shape the
// RFC grammar forbids is cited from the IdP facts, not from that grammar.
func TestLevelsClaimNoMoreThanTheRFC(t *testing.T) {
	if os.Getenv(envChild) != "" {
		t.Skip("child process")
	}
	checks, err := Checks()
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]struct {
		level reports.Level
		refs  string
	}{}
	for _, c := range checks {
		byID[c.ID] = struct {
			level reports.Level
			refs  string
		}{c.Level, c.RFC}
	}
	want := []struct {
		id, level, cites, notCites string
	}{
		{"NST-003", "MAY", "RFC7643 §4.2", ""},
		{"NST-004", "MAY", "RFC7643 §4.2", ""},
		{"GRP-014", "MAY", "RFC7644 §3.6", ""},
		{"GRP-027", "MAY", "RFC7644 §3.5.2.1", ""},
		{"ERR-012", "MAY", "RFC9110 §15.5.6", "RFC7644"},
		{"IDP-030", "IDP:entra", "idp-traffic.md §1.2", "RFC7644 §3.4.2.2"},
		{"IDP-034", "IDP:entra", "idp-traffic.md §1.2", "RFC7644 §3.4.2.2"},
		{"USR-003", "MUST", "RFC9110 §10.2.2", ""},
		// audit J2: scimType is OPTIONAL (RFC 7644 §3.12); /Schemas is
		// about resource schemas (RFC 7644 §4); no SHOULD refuses a filter
		// on an undefined attribute; schemas is REQUIRED (RFC 7643 §3).
		{"ERR-008", "MAY", "RFC7644 §3.12", ""},
		{"ERR-016", "MAY", "RFC7644 §3.12", ""},
		{"DSC-024", "MAY", "RFC7644 §4", "RFC7643 §7"},
		{"FLT-054", "MAY", "RFC7644 §3.4.2.2", ""},
		{"PRJ-009", "MUST", "RFC7643 §3", ""},
	}
	for _, id := range []string{"DSC-040", "DSC-041", "DSC-042", "DSC-043", "DSC-044", "DSC-045", "DSC-046", "DSC-047"} {
		want = append(want, struct{ id, level, cites, notCites string }{id, "MAY", "RFC9110 §15.5.6", "RFC7644"})
	}
	for _, w := range want {
		c, ok := byID[w.id]
		switch {
		case !ok:
			t.Errorf("%s: no such check", w.id)
		case string(c.level) != w.level:
			t.Errorf("%s: level %s, want %s", w.id, c.level, w.level)
		case !strings.Contains(c.refs, w.cites):
			t.Errorf("%s cites %q, want %q", w.id, c.refs, w.cites)
		case w.notCites != "" && strings.Contains(c.refs, w.notCites):
			t.Errorf("%s cites %q, which says nothing of it", w.id, c.refs)
		}
	}
}
