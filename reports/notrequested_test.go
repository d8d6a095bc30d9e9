package reports

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

// A skip the run was not asked to run (no --limits, no --expired-token, no
// --allow-destructive) keeps verdict skipped, but every view counts it apart
// from the capabilities the target declares unsupported.
func TestNotRequestedSkipsKeptApart(t *testing.T) {
	notRequested := func(id string) Check {
		c := check(id, Must, Skipped)
		c.Reason, c.NotRequested = "not requested: pass --limits FILE to run the limits checks", true
		return c
	}
	declared := check("BLK-001", Must, Skipped)
	declared.Reason = "ServiceProviderConfig.bulk.supported: false"
	r := &Run{SchemaVersion: SchemaVersion, Kind: "test", Target: "http://127.0.0.1:1/scim/v2", Checks: []Check{
		check("USR-001", Must, Pass), declared, notRequested("LIM-001"), notRequested("LIM-002"),
	}}

	sum := r.Summary()
	if sum.Skipped != 3 || sum.NotRequested != 2 || sum.DeclaredSkipped() != 1 {
		t.Errorf("Summary() = %+v: want 3 skipped, 2 of them not requested", sum)
	}
	lines := r.Readiness()
	if len(lines) != 1 || lines[0].String() != "RFC 7644 MUST: 1/1 (1 skipped, 2 not requested)" {
		t.Errorf("Readiness() = %v", lines)
	}

	for _, tc := range []struct{ format, want string }{
		{"text", "3 skipped (2 not requested)"},
		{"md", "| 3 (2 not requested) |"},
		{"html", `id="summary-not-requested">2</span> not requested`},
		{"json", `"notRequested": true`},
	} {
		var b bytes.Buffer
		if err := Render(&b, r, tc.format); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tc.want) {
			t.Errorf("%s: want %q in\n%s", tc.format, tc.want, b.String())
		}
		if tc.format == "html" && strings.Count(b.String(), `data-not-requested="true"`) != 2 {
			t.Errorf("html: want the two not-requested rows marked data-not-requested")
		}
		if tc.format == "json" {
			back, err := ReadJSON(&b)
			if err != nil {
				t.Fatal(err)
			}
			if got := back.Summary(); got.NotRequested != 2 {
				t.Errorf("json round trip: %+v", got)
			}
		}
	}

	var b bytes.Buffer
	if err := Render(&b, r, "junit"); err != nil {
		t.Fatal(err)
	}
	var suites xTestsuites
	if err := xml.Unmarshal(b.Bytes(), &suites); err != nil {
		t.Fatal(err)
	}
	marked := 0
	for _, tc := range suites.Suites[0].Cases {
		if tc.prop("notRequested") == "true" {
			marked++
			if tc.Skipped == nil || !strings.HasPrefix(tc.Skipped.Message, "not requested: ") {
				t.Errorf("junit %s: want <skipped message=\"not requested: …\">, got %+v", tc.Name, tc.Skipped)
			}
		}
	}
	if marked != 2 {
		t.Errorf("junit: %d testcases with notRequested=true, want 2", marked)
	}
}
