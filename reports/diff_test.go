package reports

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func ids(list []CheckChange) []string {
	var out []string
	for _, c := range list {
		out = append(out, c.ID)
	}
	return out
}

func TestDiff(t *testing.T) {
	old := &Run{Checks: []Check{
		{ID: "stays-pass", Verdict: Pass},
		{ID: "regresses", Verdict: Pass},
		{ID: "ubw-regresses", Verdict: UnsupportedButWorks},
		{ID: "fixed", Verdict: Fail},
		{ID: "error-fixed", Verdict: Error},
		{ID: "skip-to-fail", Verdict: Skipped},
		{ID: "waived-to-fail", Verdict: Waived},
		{ID: "fail-to-error", Verdict: Fail},
		{ID: "removed", Verdict: Fail, Reason: "old reason"},
	}}
	cur := &Run{Checks: []Check{
		{ID: "stays-pass", Verdict: Pass},
		{ID: "regresses", Verdict: Fail, Reason: "now broken"},
		{ID: "ubw-regresses", Verdict: Error},
		{ID: "fixed", Verdict: Pass},
		{ID: "error-fixed", Verdict: UnsupportedButWorks},
		{ID: "skip-to-fail", Verdict: Fail},
		{ID: "waived-to-fail", Verdict: Fail},
		{ID: "fail-to-error", Verdict: Error},
		{ID: "added-fail", Verdict: Fail},
		{ID: "added-pass", Verdict: Pass},
	}}
	d := Diff(old, cur)
	for _, tc := range []struct {
		name string
		got  []string
		want string
	}{
		{"NewFailures", ids(d.NewFailures), "added-fail regresses skip-to-fail ubw-regresses waived-to-fail"},
		{"Fixed", ids(d.Fixed), "error-fixed fixed"},
		{"Changed", ids(d.Changed), "error-fixed fail-to-error fixed regresses skip-to-fail ubw-regresses waived-to-fail"},
		{"Added", ids(d.Added), "added-fail added-pass"},
		{"Removed", ids(d.Removed), "removed"},
		{"Regressions", ids(d.Regressions()), "regresses ubw-regresses"},
	} {
		if got := strings.Join(tc.got, " "); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, got, tc.want)
		}
	}
	if !d.Regressed() {
		t.Error("Regressed() = false with a pass that now fails")
	}
	if d.Removed[0].Old != Fail || d.Removed[0].New != "" || d.Removed[0].Reason != "old reason" {
		t.Errorf("removed change = %+v", d.Removed[0])
	}
}

func TestDiffNotRegressed(t *testing.T) {
	old := &Run{Checks: []Check{{ID: "a", Verdict: Skipped}, {ID: "b", Verdict: Waived}, {ID: "c", Verdict: Pass}}}
	cur := &Run{Checks: []Check{{ID: "a", Verdict: Fail}, {ID: "b", Verdict: Fail}, {ID: "c", Verdict: Waived}, {ID: "new", Verdict: Fail}}}
	d := Diff(old, cur)
	if d.Regressed() {
		t.Errorf("Regressed() = true, but no check went from passing to failing: %+v", d.Changed)
	}
	// A check that passed and is waived now does not fail the gate (the
	// baseline accepts it on purpose), but the first line names it.
	var buf bytes.Buffer
	if err := RenderDiff(&buf, d, "text"); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.HasPrefix(out, "No regressions (1 check that passed is now waived by the baseline).\n") {
		t.Errorf("text diff:\n%s", out)
	}
	if len(d.NewFailures) != 3 {
		t.Errorf("NewFailures = %v, want a, b and new", ids(d.NewFailures))
	}
	if same := Diff(old, old); same.Regressed() || len(same.Changed)+len(same.Added)+len(same.Removed) != 0 {
		t.Errorf("a run diffed with itself changed: %+v", same)
	}
}

func TestDiffDuplicateIDs(t *testing.T) {
	old := &Run{Checks: []Check{{ID: "a", Verdict: Pass}, {ID: "a", Verdict: Pass}}}
	cur := &Run{Checks: []Check{{ID: "a", Verdict: Pass}, {ID: "a", Verdict: Fail}}}
	d := Diff(old, cur)
	if !d.Regressed() || len(d.Changed) != 1 || d.Changed[0].ID != "a#2" {
		t.Errorf("the second of two checks named a regressed, got %+v", d.Changed)
	}
}

func TestRenderDiff(t *testing.T) {
	old := &Run{Checks: []Check{{ID: "users.create", Title: "creates", Level: Must, Verdict: Pass}}}
	cur := &Run{Checks: []Check{{ID: "users.create", Title: "creates", Level: Must, Verdict: Fail, Reason: "got 500 with Bearer abcDEF123456"}}}
	d := Diff(old, cur)
	for _, format := range []string{"text", "md", "json"} {
		var buf bytes.Buffer
		if err := RenderDiff(&buf, d, format); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		out := buf.String()
		if !strings.Contains(out, "users.create") {
			t.Errorf("%s diff does not name the check:\n%s", format, out)
		}
		if strings.Contains(out, "abcDEF123456") {
			t.Errorf("%s diff shows a token:\n%s", format, out)
		}
		switch format {
		case "text":
			if !strings.HasPrefix(out, "REGRESSED: 1 check that passed now fail") || !strings.Contains(out, "pass → fail") {
				t.Errorf("text diff:\n%s", out)
			}
		case "md":
			if !strings.Contains(out, "**REGRESSED**") || !strings.Contains(out, "### New failures (1)") {
				t.Errorf("markdown diff:\n%s", out)
			}
		case "json":
			var v struct {
				Regressed   bool
				NewFailures []CheckChange
				Fixed       []CheckChange
			}
			if err := json.Unmarshal(buf.Bytes(), &v); err != nil || !v.Regressed || len(v.NewFailures) != 1 || v.Fixed == nil {
				t.Errorf("json diff (%v):\n%s", err, out)
			}
		}
	}
	var buf bytes.Buffer
	if err := RenderDiff(&buf, d, "pdf"); err == nil || !strings.Contains(err.Error(), "text, md, json") {
		t.Errorf("unknown format error = %v", err)
	}
	buf.Reset()
	if err := RenderDiff(&buf, Diff(old, old), "text"); err != nil || !strings.HasPrefix(buf.String(), "No regressions.") {
		t.Errorf("unchanged diff: %v\n%s", err, buf.String())
	}
}

// TestDiffMissingPassingChecksRegress: a check that passed and is not in the
// new run at all (a run with no checks, a narrower selection) regresses, as
// one that now fails does; one that failed before and is gone does not.
func TestDiffMissingPassingChecksRegress(t *testing.T) {
	old := &Run{Kind: "test", Checks: []Check{
		{ID: "USR-001", Level: Must, Verdict: Pass},
		{ID: "USR-002", Level: Should, Verdict: UnsupportedButWorks},
		{ID: "USR-003", Level: Must, Verdict: Fail},
		{ID: "USR-004", Level: Must, Verdict: Skipped},
	}}
	empty := Diff(old, &Run{Kind: "test"})
	if !empty.Regressed() {
		t.Fatal("Regressed() = false for a new run with no checks at all")
	}
	if got := strings.Join(ids(empty.Regressions()), " "); got != "USR-001 USR-002" {
		t.Errorf("Regressions() = %q, want the two checks that passed", got)
	}
	var buf bytes.Buffer
	if err := RenderDiff(&buf, empty, "text"); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.HasPrefix(out, "REGRESSED: 2 checks that passed are missing from the new run\n") || !strings.Contains(out, "removed, was pass") {
		t.Errorf("text diff:\n%s", out)
	}

	both := Diff(old, &Run{Kind: "test", Checks: []Check{{ID: "USR-002", Verdict: Fail}}})
	buf.Reset()
	if err := RenderDiff(&buf, both, "md"); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, "**REGRESSED**: 1 check that passed now fails; 1 that passed is missing from the new run") {
		t.Errorf("markdown diff:\n%s", out)
	}

	onlyFailedGone := Diff(old, &Run{Kind: "test", Checks: []Check{old.Checks[0], old.Checks[1]}})
	if onlyFailedGone.Regressed() {
		t.Errorf("Regressed() = true when only a failing and a skipped check are gone: %+v", onlyFailedGone.Removed)
	}
}

// TestComparable: runs that do not run the same checks cannot be diffed.
func TestComparable(t *testing.T) {
	for _, tc := range []struct {
		old, cur *Run
		want     string
	}{
		{&Run{Kind: "test"}, &Run{Kind: "test"}, ""},
		{&Run{Kind: "simulate", IdP: "okta-oin"}, &Run{Kind: "simulate", IdP: "okta-oin"}, ""},
		{&Run{Kind: "test"}, &Run{Kind: "simulate", IdP: "okta-oin"}, "the old run is a test run and the new one a simulate run"},
		{&Run{Kind: "simulate", IdP: "okta-oin"}, &Run{Kind: "simulate", IdP: "entra"}, "the old run simulates okta-oin and the new one entra"},
		{&Run{Kind: "simulate", IdP: "entra", Scenario: "lifecycle"}, &Run{Kind: "simulate", IdP: "entra", Scenario: "initial-sync"}, "the old run simulates the lifecycle scenario and the new one initial-sync"},
		{&Run{Kind: "simulate", IdP: "entra", Scenario: "lifecycle"}, &Run{Kind: "simulate", IdP: "entra"}, ""}, // nothing says which
		// A report older than the scenario field says it in a note.
		{&Run{Kind: "simulate", IdP: "entra", Notes: []string{"IdP profile entra", "scenario lifecycle: test-connection, create-users"}},
			&Run{Kind: "simulate", IdP: "entra", Scenario: "initial-sync", Notes: []string{"scenario initial-sync: test-connection, initial-sync"}},
			"the old run simulates the lifecycle scenario and the new one initial-sync"},
		// One name, other steps (a scenario file of one's own).
		{&Run{Kind: "simulate", IdP: "entra", Scenario: "lifecycle", Notes: []string{"scenario lifecycle: test-connection, create-users, verify"}},
			&Run{Kind: "simulate", IdP: "entra", Scenario: "lifecycle", Notes: []string{"scenario lifecycle: test-connection, initial-sync, verify"}},
			"the old run's scenario runs the steps test-connection, create-users, verify and the new one's test-connection, initial-sync, verify"},
		{&Run{Kind: "simulate", IdP: "entra", Scenario: "lifecycle", Notes: []string{"scenario lifecycle: a, b"}},
			&Run{Kind: "simulate", IdP: "entra", Scenario: "lifecycle", Notes: []string{"scenario lifecycle: a, b"}}, ""},
	} {
		err := Comparable(tc.old, tc.cur)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s/%s vs %s/%s: %v", tc.old.Kind, tc.old.IdP, tc.cur.Kind, tc.cur.IdP, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s/%s vs %s/%s: error %v, want %q", tc.old.Kind, tc.old.IdP, tc.cur.Kind, tc.cur.IdP, err, tc.want)
		}
	}
}

// TestDiffNotSelectedIsNoRegression: a check the new run lists as not
// selected (a narrower --label-filter) is left out of the comparison, not
// counted as missing; a check missing without being deselected still is.
func TestDiffNotSelectedIsNoRegression(t *testing.T) {
	old := &Run{Kind: "test", Checks: []Check{
		{ID: "USR-001", Level: Must, Verdict: Pass},
		{ID: "GRP-001", Level: Must, Verdict: Pass},
		{ID: "BLK-001", Level: Must, Verdict: Pass},
	}}
	narrow := &Run{Kind: "test", Checks: []Check{{ID: "USR-001", Level: Must, Verdict: Pass}}, NotSelected: []string{"GRP-001", "BLK-001"}}
	d := Diff(old, narrow)
	if d.Regressed() || len(d.Removed) != 0 || len(d.NotSelected) != 2 {
		t.Fatalf("a narrower selection: regressed %v, removed %v, not selected %v", d.Regressed(), ids(d.Removed), ids(d.NotSelected))
	}
	var buf bytes.Buffer
	if err := RenderDiff(&buf, d, "text"); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.HasPrefix(out, "No regressions.") || !strings.Contains(out, "2 checks of the old run not selected") {
		t.Errorf("text diff:\n%s", out)
	}
	buf.Reset()
	if err := RenderDiff(&buf, d, "json"); err != nil || !strings.Contains(buf.String(), `"notSelected": [`) {
		t.Errorf("json diff (%v):\n%s", err, buf.String())
	}
	narrow.NotSelected = []string{"GRP-001"}
	if d := Diff(old, narrow); !d.Regressed() || strings.Join(ids(d.Regressions()), " ") != "BLK-001" {
		t.Errorf("a check missing without being deselected: regressions %v", ids(d.Regressions()))
	}
}

// A check that passed and is skipped now no longer runs (the target
// stopped declaring its capability, or the run lacked an input): the gate
// must not read "No regressions." (reports/README.md).
func TestDiffPassedNowSkippedRegresses(t *testing.T) {
	old := &Run{Checks: []Check{{ID: "a", Verdict: Pass}, {ID: "b", Verdict: UnsupportedButWorks}, {ID: "c", Verdict: Pass}}}
	cur := &Run{Checks: []Check{{ID: "a", Verdict: Skipped}, {ID: "b", Verdict: Skipped}, {ID: "c", Verdict: Fail}}}
	d := Diff(old, cur)
	if got := strings.Join(ids(d.Regressions()), " "); got != "c a b" {
		t.Errorf("Regressions() = %q, want the failure first, then the two skipped", got)
	}
	var buf bytes.Buffer
	if err := RenderDiff(&buf, d, "text"); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.HasPrefix(out, "REGRESSED: 1 check that passed now fails; 2 that passed are now skipped (no longer run)\n") {
		t.Errorf("text diff:\n%s", out)
	}
	skippedOnly := Diff(old, &Run{Checks: []Check{{ID: "a", Verdict: Skipped}, {ID: "b", Verdict: Pass}, {ID: "c", Verdict: Pass}}})
	buf.Reset()
	if err := RenderDiff(&buf, skippedOnly, "json"); err != nil {
		t.Fatal(err)
	}
	if !skippedOnly.Regressed() || !strings.Contains(buf.String(), `"regressed": true`) {
		t.Errorf("one check that passed and is skipped now: %s", buf.String())
	}
}
