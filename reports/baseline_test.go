package reports

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseBaseline(t *testing.T) {
	b, err := ParseBaseline([]byte(`# accepted failures
waivers:
  - id: patch.remove-member
    reason: vendor bug, fix promised for 2.4
    issue: https://example.test/issues/12
    expires: 2025-06-30
  - id: "users.create.201"
    reason: >-
      folded
      reason
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Waiver{
		{ID: "patch.remove-member", Reason: "vendor bug, fix promised for 2.4", Issue: "https://example.test/issues/12",
			Expires: time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC), Line: 3},
		{ID: "users.create.201", Reason: "folded reason", Line: 7},
	}
	if !reflect.DeepEqual(b.Waivers, want) {
		t.Errorf("got  %+v\nwant %+v", b.Waivers, want)
	}
	for _, empty := range []string{"", "# nothing\n", "waivers:\n", "waivers: []\n", "---\n"} {
		b, err := ParseBaseline([]byte(empty))
		if err != nil || len(b.Waivers) != 0 {
			t.Errorf("%q: %v, %+v; want an empty baseline", empty, err, b)
		}
	}
}

func TestParseBaselineErrors(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"bad YAML", "waivers: [\n  - id: a", "not valid YAML"},
		{"tabs", "waivers:\n\t- id: a", "not valid YAML"},
		{"missing id", "waivers:\n  - reason: r\n", "line 2: waiver has no id"},
		{"empty id", "waivers:\n  - id: \"\"\n    reason: r\n", "has no id"},
		{"missing reason", "waivers:\n  - id: a\n", `line 2: waiver for "a" has no reason`},
		{"duplicate", "waivers:\n  - id: a\n    reason: r\n  - id: a\n    reason: s\n", `line 4: waiver for "a" is already listed at line 2`},
		{"bad date", "waivers:\n  - id: a\n    reason: r\n    expires: 30/06/2025\n", "write YYYY-MM-DD"},
		{"impossible date", "waivers:\n  - id: a\n    reason: r\n    expires: 2025-02-30\n", "write YYYY-MM-DD"},
		{"unknown waiver key", "waivers:\n  - id: a\n    reason: r\n    expiry: 2025-01-01\n", `unknown waiver key "expiry"`},
		{"unknown top key", "waiver:\n  - id: a\n", `unknown key "waiver"`},
		{"list at top", "- id: a\n  reason: r\n", "mapping with a waivers: list"},
		{"waivers not a list", "waivers: {id: a}\n", "must be a list"},
		{"waiver not a mapping", "waivers:\n  - a\n", "each waiver is a mapping"},
		{"nested value", "waivers:\n  - id: [a, b]\n    reason: r\n", "single value"},
		{"two documents", "waivers: []\n---\nwaivers: []\n", "more than one YAML document"},
	} {
		_, err := ParseBaseline([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestLoadBaseline(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "baseline.yaml")
	if err := os.WriteFile(path, []byte("waivers:\n  - id: a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadBaseline(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "no reason") {
		t.Errorf("error %v should name the file and the problem", err)
	}
	if err := os.WriteFile(path, []byte("waivers:\n  - id: a\n    reason: r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := LoadBaseline(path)
	if err != nil || b.Path != path || len(b.Waivers) != 1 {
		t.Errorf("LoadBaseline = %+v, %v", b, err)
	}
	if _, err := LoadBaseline(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("loading a missing baseline succeeded")
	}
}

func TestBaselineApply(t *testing.T) {
	b, err := ParseBaseline([]byte(`waivers:
  - {id: failing, reason: vendor bug, issue: "#12"}
  - {id: erroring, reason: flaky network}
  - {id: expired, reason: old excuse, expires: 2025-03-13}
  - {id: last-day, reason: ends today, expires: 2025-03-14}
  - {id: passing, reason: was broken}
  - {id: unsupported, reason: was broken}
  - {id: skipped, reason: n/a}
  - {id: should-fail, reason: known}
  - {id: gone, reason: check renamed}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := &Run{Checks: []Check{
		{ID: "failing", Level: Must, Verdict: Fail, Reason: "got 400"},
		{ID: "erroring", Level: Must, Verdict: Error},
		{ID: "expired", Level: Must, Verdict: Fail, Reason: "got 500"},
		{ID: "last-day", Level: Must, Verdict: Fail, Reason: "got 409"},
		{ID: "passing", Level: Must, Verdict: Pass},
		{ID: "unsupported", Level: Must, Verdict: UnsupportedButWorks},
		{ID: "skipped", Level: Must, Verdict: Skipped, Reason: "bulk unsupported"},
		{ID: "should-fail", Level: Should, Verdict: Fail, Reason: "slow"},
		{ID: "unwaived", Level: Should, Verdict: Fail, Reason: "x"},
	}}
	now := time.Date(2025, 3, 14, 23, 59, 0, 0, time.UTC)
	b.Apply(r, now)

	want := []struct {
		v      Verdict
		reason string
	}{
		{Waived, "waived: vendor bug (was: got 400)"},
		{Waived, "waived: flaky network (was: error)"},
		{Fail, "got 500"},
		{Waived, "waived: ends today (was: got 409)"},
		{Pass, ""},
		{UnsupportedButWorks, ""},
		{Skipped, "bulk unsupported"},
		{Waived, "waived: known (was: slow)"},
		{Fail, "x"},
	}
	for i, w := range want {
		if c := r.Checks[i]; c.Verdict != w.v || c.Reason != w.reason {
			t.Errorf("%s: %s %q, want %s %q", c.ID, c.Verdict, c.Reason, w.v, w.reason)
		}
	}
	wantNotes := []string{
		"waiver for expired expired on 2025-03-13 and no longer applies: fix the check or renew the waiver (old excuse)",
		"waiver for passing is no longer needed: the check passes, so remove it from the baseline",
		"waiver for unsupported is no longer needed: the check passes, so remove it from the baseline",
		"waiver for gone names no check in this run: remove it from the baseline or correct the id",
	}
	if !reflect.DeepEqual(r.Notes, wantNotes) {
		t.Errorf("notes\n got %q\nwant %q", r.Notes, wantNotes)
	}
	if !r.Failed() {
		t.Error("the run should still fail: the expired waiver no longer covers a MUST failure")
	}

	// Applying again changes nothing but repeats the notes.
	before := append([]Check(nil), r.Checks...)
	b.Apply(r, now)
	if !reflect.DeepEqual(before, r.Checks) {
		t.Error("a second Apply changed checks")
	}

	// The day after, the last-day waiver has expired too.
	r2 := &Run{Checks: []Check{{ID: "last-day", Level: Must, Verdict: Fail}}}
	b.Apply(r2, now.Add(time.Minute))
	if r2.Checks[0].Verdict != Fail {
		t.Errorf("waiver expiring 2025-03-14 still applied on 2025-03-15: %+v", r2.Checks[0])
	}

	var nilBaseline *Baseline
	nilBaseline.Apply(r2, now) // must not panic
}

func TestWaiverExpired(t *testing.T) {
	w := Waiver{Expires: time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)}
	for _, tc := range []struct {
		now  time.Time
		want bool
	}{
		{time.Date(2025, 6, 30, 23, 59, 59, 0, time.UTC), false},
		{time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2025, 7, 1, 1, 0, 0, 0, time.FixedZone("CEST", 2*3600)), false}, // 23:00 UTC on the 30th
	} {
		if got := w.Expired(tc.now); got != tc.want {
			t.Errorf("Expired(%v) = %v, want %v", tc.now, got, tc.want)
		}
	}
	if (Waiver{}).Expired(time.Now()) {
		t.Error("a waiver with no date expired")
	}
}

// FuzzParseBaseline checks that the baseline parser never panics and that
// whatever it accepts is a valid baseline.
func FuzzParseBaseline(f *testing.F) {
	f.Add([]byte("waivers:\n  - id: a\n    reason: r\n    expires: 2025-01-01\n"))
	f.Add([]byte("waivers: [{id: a, reason: r}, {id: b, reason: s, issue: x}]"))
	f.Add([]byte("a: &x [*x]"))
	f.Add([]byte("waivers:\n  - &w {id: a, reason: r}\n  - *w\n"))
	f.Add([]byte("- - - -"))
	f.Add([]byte("waivers: !!binary aGVsbG8="))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBaseline(data)
		if err != nil {
			if b != nil {
				t.Fatal("ParseBaseline returned a baseline with an error")
			}
			return
		}
		seen := map[string]bool{}
		for _, w := range b.Waivers {
			if w.ID == "" || w.Reason == "" {
				t.Fatalf("accepted a waiver without id or reason: %+v", w)
			}
			if seen[w.ID] {
				t.Fatalf("accepted the id %q twice", w.ID)
			}
			seen[w.ID] = true
		}
	})
}

// A waiver for a check that exists but that the run's label filter left out
// is not a wrong id: it is listed once as not applied, never as "remove it".
func TestBaselineApplyOutsideSelection(t *testing.T) {
	b, err := ParseBaseline([]byte(`waivers:
  - {id: USR-060, reason: entra string boolean}
  - {id: IDP-003, reason: entra capitalised op}
  - {id: BLK-001, reason: vendor bug}
  - {id: USR-999, reason: typo}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := &Run{
		Checks:      []Check{{ID: "BLK-001", Level: Must, Verdict: Fail, Reason: "got 500"}},
		NotSelected: []string{"IDP-003", "USR-001", "USR-060"},
	}
	b.Apply(r, time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC))
	if r.Checks[0].Verdict != Waived {
		t.Errorf("BLK-001: %s, want waived", r.Checks[0].Verdict)
	}
	want := []string{
		"waiver for USR-999 names no check in this run: remove it from the baseline or correct the id",
		"2 waivers for checks this run did not select (label filter): not applied: USR-060, IDP-003",
	}
	if !reflect.DeepEqual(r.Notes, want) {
		t.Errorf("notes\n got %q\nwant %q", r.Notes, want)
	}
}
