package reports

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func check(id string, level Level, v Verdict, labels ...string) Check {
	return Check{ID: id, Title: "title of " + id, Area: "area", RFC: "RFC7644 §3", Level: level, Verdict: v, Labels: labels}
}

func TestFailed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		check Check
		want  bool
	}{
		{"MUST fail", check("a", Must, Fail), true},
		{"MUST error", check("a", Must, Error), true},
		{"IdP fail", check("a", IdPLevel("okta"), Fail), true},
		{"IdP variant error", check("a", "IDP:entra-aadOptscim062020", Error), true},
		{"MUST waived", check("a", Must, Waived), false},
		{"MUST skipped", check("a", Must, Skipped), false},
		{"MUST unsupported-but-works", check("a", Must, UnsupportedButWorks), false},
		{"MUST pass", check("a", Must, Pass), false},
		{"SHOULD fail", check("a", Should, Fail), false},
		{"MAY error", check("a", May, Error), false},
		{"SHOULD fail labelled for an IdP", check("a", Should, Fail, "idp:okta"), false},
	} {
		r := &Run{Checks: []Check{check("ok", Must, Pass), tc.check}}
		if got := r.Failed(); got != tc.want {
			t.Errorf("%s: Failed() = %v, want %v", tc.name, got, tc.want)
		}
	}
	if (&Run{}).Failed() {
		t.Error("an empty run failed")
	}
}

func TestCounts(t *testing.T) {
	r := &Run{Checks: []Check{
		{ID: "1", Area: "users", Level: Must, Verdict: Pass},
		{ID: "2", Area: "users", Level: Must, Verdict: Fail},
		{ID: "3", Area: "filter", Level: Should, Verdict: Skipped},
		{ID: "4", Area: "filter", Level: May, Verdict: Waived},
		{ID: "5", Area: "bulk", Level: IdPLevel("okta"), Verdict: Error},
		{ID: "6", Area: "bulk", Level: Must, Verdict: UnsupportedButWorks},
	}}
	sum := r.Summary()
	want := Tally{Pass: 1, Fail: 1, Skipped: 1, Waived: 1, Error: 1, UnsupportedButWorks: 1}
	if sum != want || sum.Total() != 6 {
		t.Errorf("Summary() = %+v, want %+v", sum, want)
	}
	levels := r.ByLevel()
	var names []string
	for _, g := range levels {
		names = append(names, g.Name)
	}
	if want := []string{"MUST", "IDP:okta", "SHOULD", "MAY"}; !reflect.DeepEqual(names, want) {
		t.Errorf("ByLevel order = %v, want %v", names, want)
	}
	if levels[0].Pass != 1 || levels[0].Fail != 1 || levels[0].UnsupportedButWorks != 1 || levels[0].Total() != 3 {
		t.Errorf("MUST group = %+v", levels[0])
	}
	areas := r.ByArea()
	names = nil
	for _, g := range areas {
		names = append(names, g.Name)
	}
	if want := []string{"bulk", "filter", "users"}; !reflect.DeepEqual(names, want) {
		t.Errorf("ByArea order = %v, want %v", names, want)
	}
	if areas[1].Skipped != 1 || areas[1].Waived != 1 {
		t.Errorf("filter group = %+v", areas[1])
	}
	var other Tally
	other.Add("bogus")
	if other.Other != 1 || other.Total() != 1 || other.Of("bogus") != 1 {
		t.Errorf("unknown verdict tallied as %+v", other)
	}
}

func TestReadiness(t *testing.T) {
	var checks []Check
	for i := 0; i < 143; i++ {
		checks = append(checks, check("m", Must, Pass))
	}
	checks = append(checks,
		check("m-fail", Must, Fail),
		check("m-ubw", Must, UnsupportedButWorks),
		check("m-waived", Must, Waived),
		check("m-skip1", Must, Skipped), check("m-skip2", Must, Skipped), check("m-skip3", Must, Skipped),
		check("s1", Should, Pass), check("s2", Should, Skipped),
		Check{ID: "schema", RFC: "RFC 7643 §4.1", Level: Must, Verdict: Pass},
		check("okta1", IdPLevel("okta"), Fail),
		check("okta2", "IDP:okta-aiw", Error),
		check("okta3", Should, Pass, "idp:okta"),
		check("okta4", IdPLevel("okta"), Skipped),
		check("entra1", IdPLevel("entra"), Pass),
		check("entra2", Must, Pass, "idp:entra", "idp:azure"),
	)
	r := &Run{Checks: checks}
	var got []string
	for _, l := range r.Readiness() {
		got = append(got, l.String())
	}
	want := []string{
		"RFC 7643 MUST: 1/1",
		"RFC 7644 MUST: 145/147 (1 waived, 3 skipped)",
		"RFC 7644 SHOULD: 2/2 (1 skipped)",
		"Entra-ready: yes",
		"Okta-ready: no (1 failure, 1 error, 1 skipped)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Readiness()\n got %q\nwant %q", got, want)
	}
	// RFC 7644 MUST counts 143 pass + the IdP-labelled entra2 + one
	// unsupported-but-works as passed; skips are left out of the total.
	for _, l := range r.Readiness() {
		if l.Key == "idp-okta" && (l.Ready() || l.Failed != 1 || l.Errors != 1) {
			t.Errorf("Okta line = %+v", l)
		}
	}

	one := &Run{Checks: []Check{check("o", IdPLevel("okta"), Fail)}}
	if got := one.Readiness()[0].String(); got != "Okta-ready: no (1 failure)" {
		t.Errorf("single failure: %q", got)
	}
	// An error alone (a check that could not run) keeps the IdP from being
	// ready, and is called an error, not a failure.
	errored := &Run{Checks: []Check{check("o", IdPLevel("okta"), Error)}}
	if l := errored.Readiness()[0]; l.Ready() || l.String() != "Okta-ready: no (1 error)" {
		t.Errorf("single error: %q", l.String())
	}
	if lines := (&Run{Checks: []Check{check("m", Must, Pass)}}).Readiness(); len(lines) != 1 || lines[0].IdP {
		t.Errorf("a run with no IdP checks printed IdP lines: %v", lines)
	}
}

func TestCapabilityMatrix(t *testing.T) {
	yes, no := true, false
	r := &Run{
		Capabilities: []Capability{
			{Name: "patch", Declared: true, Observed: &yes},
			{Name: "bulk", Declared: false},
			{Name: "etag", Declared: false, Observed: &yes},
			{Name: "changePassword", Declared: true, Observed: &no},
			{Name: "sort", Declared: true},
			{Name: "filter", Declared: false, Observed: &no},
		},
		Checks: []Check{
			{ID: "s", Capability: "sort", Verdict: Pass},
			{ID: "b", Capability: "bulk", Verdict: Skipped},
			{ID: "b2", Capability: "bulk", Verdict: Fail},
		},
	}
	want := map[string]CapabilityStatus{
		"patch": AsDeclared, "bulk": NotObserved, "etag": WorksUndeclared,
		"changePassword": DeclaredButBroken, "sort": AsDeclared, "filter": AsDeclared,
	}
	rows := r.CapabilityMatrix()
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(rows), len(want))
	}
	for _, row := range rows {
		if row.Status != want[row.Name] {
			t.Errorf("%s: status %q, want %q", row.Name, row.Status, want[row.Name])
		}
	}
	if rows[4].Observed == nil || !*rows[4].Observed {
		t.Error("sort: a passing gated check should show it works")
	}
	if rows[1].Checks.Total() != 2 || rows[1].Checks.Skipped != 1 {
		t.Errorf("bulk checks = %+v", rows[1].Checks)
	}
	if r.Capabilities[4].Observed != nil {
		t.Error("CapabilityMatrix modified the run")
	}
}

func TestPercentiles(t *testing.T) {
	var samples []time.Duration
	for i := 100; i >= 1; i-- {
		samples = append(samples, time.Duration(i)*time.Millisecond)
	}
	st := Percentiles("createUser", samples)
	if st.Operation != "createUser" || st.Count != 100 || st.P50 != 50*time.Millisecond || st.P95 != 95*time.Millisecond || st.P99 != 99*time.Millisecond {
		t.Errorf("Percentiles = %+v", st)
	}
	if samples[0] != 100*time.Millisecond {
		t.Error("Percentiles sorted its argument")
	}
	st = Percentiles("one", []time.Duration{7})
	if st.P50 != 7 || st.P99 != 7 || st.Count != 1 {
		t.Errorf("one sample: %+v", st)
	}
	if st := Percentiles("none", nil); st.Count != 0 || st.P99 != 0 {
		t.Errorf("no samples: %+v", st)
	}
	st = Percentiles("three", []time.Duration{3, 1, 2})
	if st.P50 != 2 || st.P95 != 3 {
		t.Errorf("three samples: %+v", st)
	}
}

func TestLevel(t *testing.T) {
	if idp, ok := Level("IDP:Okta").IdP(); !ok || idp != "okta" {
		t.Errorf("IDP:Okta → %q, %v", idp, ok)
	}
	if _, ok := Must.IdP(); ok {
		t.Error("MUST is not an IdP level")
	}
	if _, ok := Level("IDP:").IdP(); ok {
		t.Error("IDP: with no name is not an IdP level")
	}
	if !Must.Required() || !IdPLevel("entra").Required() || Should.Required() || May.Required() {
		t.Error("Required is wrong")
	}
}

// The checks needing attention list every fail before any error, whatever
// their levels: the errors are often the fail's knock-on ("setup failed"),
// and the terminal and Markdown lists are cut short.
func TestAttentionListsFailsBeforeErrors(t *testing.T) {
	r := &Run{Checks: []Check{
		{ID: "e-must", Verdict: Error, Level: "MUST"},
		{ID: "skip", Verdict: Skipped, Level: "MUST"},
		{ID: "f-should", Verdict: Fail, Level: "SHOULD"},
		{ID: "pass", Verdict: Pass, Level: "MUST"},
		{ID: "e-should", Verdict: Error, Level: "SHOULD"},
		{ID: "f-must", Verdict: Fail, Level: "MUST"},
		{ID: "ubw", Verdict: UnsupportedButWorks, Level: "MUST"},
	}}
	var got []string
	for _, c := range r.attention() {
		got = append(got, c.ID)
	}
	if want := "f-must f-should e-must e-should ubw skip"; strings.Join(got, " ") != want {
		t.Errorf("attention order %v, want %s", got, want)
	}
	var b strings.Builder
	if err := WriteText(&b, r, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "UNSUPPORTED-BUT-WORKS") {
		t.Errorf("the terminal summary does not name the verdict unsupported-but-works:\n%s", b.String())
	}
}
