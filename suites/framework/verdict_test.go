package framework

import (
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/scimlab/scimlab/reports"
)

// The verdict rules of DESIGN.md, "Checks and verdicts": skipped only for a
// declared-unsupported capability (or, marked NotRequested, an input the run
// was not given); error wherever the check could not run to a verdict; fail
// only for a wrong answer.
func TestVerdictRules(t *testing.T) {
	filterBox := types.CodeLocation{FileName: "filter.go", LineNumber: 100}
	limitsBox := types.CodeLocation{FileName: "limits.go", LineNumber: 20}
	spec := func(text string, box types.CodeLocation, state types.SpecState, f types.Failure, entries ...types.ReportEntry) types.SpecReport {
		return types.SpecReport{
			LeafNodeType: types.NodeTypeIt, LeafNodeText: text, State: state, Failure: f,
			ContainerHierarchyTexts:     []string{"area"},
			ContainerHierarchyLocations: []types.CodeLocation{box},
			ContainerHierarchyLabels:    [][]string{{"filter", "needs:filter"}},
			LeafNodeLabels:              []string{"MUST", "rfc7644:3.4.2.2"},
			ReportEntries:               entries,
		}
	}
	inBeforeAll := func(msg string) types.Failure {
		return types.Failure{Message: msg, FailureNodeType: types.NodeTypeBeforeAll,
			FailureNodeContext: types.FailureNodeInContainer, FailureNodeContainerIndex: 0}
	}
	entry := func(name string, v any) types.ReportEntry {
		return types.ReportEntry{Name: name, Value: types.WrapEntryValue(v)}
	}
	msg := func(m string) types.Failure { return types.Failure{Message: m} }
	throttled := Evidence{Exchange: reports.Exchange{Request: reports.HTTPMessage{Method: "POST", URL: "http://127.0.0.1:1/scim/v2/Users"}, Response: reports.HTTPMessage{Status: 429}},
		Err: "rate limited: the target answered 429 Too Many Requests 5 times", RateLimited: true}
	refused := Evidence{Exchange: reports.Exchange{Request: reports.HTTPMessage{Method: "POST", URL: "http://127.0.0.1:1/scim/v2/Groups"}}, Err: "dial tcp 127.0.0.1:1: connect: connection refused"}

	specs := types.SpecReports{
		spec("[FLT-001] eq", filterBox, types.SpecStateFailed, inBeforeAll("POST /scim/v2/Groups: want HTTP 201, got 405")),
		spec("[FLT-002] ne", filterBox, types.SpecStateSkipped, msg(ginkgoBeforeAllFailed)),
		spec("[LIM-001] max", limitsBox, types.SpecStateSkipped, types.Failure{Message: NotRequestedPrefix + "pass --limits FILE", FailureNodeType: types.NodeTypeBeforeAll, FailureNodeContext: types.FailureNodeInContainer}),
		spec("[LIM-002] max+1", limitsBox, types.SpecStateSkipped, msg(ginkgoSkipInSetup+"BeforeAll")),
		spec("[PAT-001] add", filterBox, types.SpecStateFailed, msg("POST /scim/v2/Users: want HTTP 201, got 400"), entry(phaseEntry, phaseSetup)),
		spec("[PAT-002] replace", filterBox, types.SpecStateFailed, msg("PATCH /scim/v2/Users/1: want HTTP 200, got 400"), entry(phaseEntry, phaseSetup), entry(phaseEntry, phaseCheck)),
		spec("[GRP-001] create", filterBox, types.SpecStateFailed, msg("POST /Groups got no response: connection refused"), entry(evidenceEntry, refused)),
		spec("[BLK-001] bulk", filterBox, types.SpecStateSkipped, msg("ServiceProviderConfig.bulk.supported: false")),
		spec("[ME-006] write", filterBox, types.SpecStateSkipped, msg(NotRequestedPrefix+"pass --allow-destructive")),
		spec("[SRT-001] sort", filterBox, types.SpecStateSkipped, msg(ginkgoEarlierFailed)),
		spec("[USR-001] create", filterBox, types.SpecStateFailed, types.Failure{Message: "boom", FailureNodeType: types.NodeTypeBeforeEach}),
		// A request still throttled after the retries: error, whether the
		// check's own assertion or its setup met it, never fail.
		spec("[USR-002] full", filterBox, types.SpecStateFailed, msg("Expected 0 to equal 201"), entry(evidenceEntry, throttled)),
		spec("[USR-003] put", filterBox, types.SpecStateFailed, msg("POST /scim/v2/Users: rate limited: …"), entry(phaseEntry, phaseSetup), entry(evidenceEntry, throttled)),
		spec("[BPK-001] B01", filterBox, types.SpecStateFailed, msg("bug B01 could not be replayed: target unreachable"), entry(phaseEntry, phaseNotRun)),
	}
	v := newVerdicts(types.Report{SpecReports: specs})
	want := map[string]struct {
		verdict      reports.Verdict
		reason       string
		notRequested bool
	}{
		"FLT-001": {reports.Error, "setup failed (BeforeAll): POST /scim/v2/Groups: want HTTP 201, got 405", false},
		"FLT-002": {reports.Error, "not run: the setup it shares with FLT-001 failed (BeforeAll): POST /scim/v2/Groups: want HTTP 201, got 405", false},
		"LIM-001": {reports.Skipped, NotRequestedPrefix + "pass --limits FILE", true},
		"LIM-002": {reports.Skipped, NotRequestedPrefix + "pass --limits FILE", true},
		"PAT-001": {reports.Error, "setup failed: POST /scim/v2/Users: want HTTP 201, got 400", false},
		"PAT-002": {reports.Fail, "PATCH /scim/v2/Users/1: want HTTP 200, got 400", false},
		"GRP-001": {reports.Error, "the target did not answer: POST /Groups got no response: connection refused", false},
		"BLK-001": {reports.Skipped, "ServiceProviderConfig.bulk.supported: false", false},
		"ME-006":  {reports.Skipped, NotRequestedPrefix + "pass --allow-destructive", true},
		"SRT-001": {reports.Error, "not run: an earlier check of its ordered container failed, and the container stops there", false},
		"USR-001": {reports.Error, "setup failed (BeforeEach): boom", false},
		"USR-002": {reports.Error, "POST /scim/v2/Users: rate limited: the target answered 429 Too Many Requests 5 times", false},
		"USR-003": {reports.Error, "POST /scim/v2/Users: rate limited: the target answered 429 Too Many Requests 5 times", false},
		"BPK-001": {reports.Error, "bug B01 could not be replayed: target unreachable", false},
	}
	for _, s := range specs {
		c, ok := v.check(s)
		w := want[c.ID]
		if !ok || c.Verdict != w.verdict || c.Reason != w.reason || c.NotRequested != w.notRequested {
			t.Errorf("%s: %v %s %q notRequested=%v, want %s %q notRequested=%v", c.ID, ok, c.Verdict, c.Reason, c.NotRequested, w.verdict, w.reason, w.notRequested)
		}
	}
}

// A spec Ginkgo skipped without a reason is one the selection left out (not
// in the report, listed in NotSelected), or, when the selection chose it and
// the run stopped early, a check that could not run.
func TestVerdictNotSelectedOrStopped(t *testing.T) {
	spec := func(text string, labels ...string) types.SpecReport {
		return types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: text, State: types.SpecStateSkipped, LeafNodeLabels: labels}
	}
	specs := types.SpecReports{spec("[BLK-001] bulk", "bulk", "MUST", "rfc7644:3.7"), spec("[USR-001] create", "users", "MUST", "rfc7644:3.3")}
	r := types.Report{SpecReports: specs, SuiteConfig: types.SuiteConfig{LabelFilter: "bulk"}}
	v := newVerdicts(r)
	if got := v.notSelected(specs); len(got) != 1 || got[0] != "USR-001" {
		t.Errorf("notSelected = %v, want [USR-001]", got)
	}
	if _, ok := v.check(specs[1]); ok {
		t.Errorf("USR-001 is outside the label filter: it must not be a check of the run")
	}
	r.SpecialSuiteFailureReasons = []string{"Interrupted by User"}
	c, ok := newVerdicts(r).check(specs[0])
	if !ok || c.Verdict != reports.Error || !strings.Contains(c.Reason, "Interrupted by User") {
		t.Errorf("BLK-001 after an interrupt: %v %s %q, want error naming the interrupt", ok, c.Verdict, c.Reason)
	}
}

// A capability is reported broken only by checks that ran and failed: a
// check in error (its setup failed, the target went away) says nothing.
func TestGatedTallyIgnoresErrors(t *testing.T) {
	checks := []reports.Check{
		{ID: "FLT-001", Capability: "filter", Verdict: reports.Error},
		{ID: "FLT-002", Capability: "filter", Verdict: reports.Error},
		{ID: "FLT-003", Capability: "filter", Verdict: reports.Fail},
		{ID: "FLT-004", Capability: "filter", Verdict: reports.Pass},
	}
	if pass, fail := gatedTally(checks, "filter"); pass != 1 || fail != 1 {
		t.Errorf("gatedTally = %d pass, %d fail; want 1, 1", pass, fail)
	}
	run := &reports.Run{Capabilities: capabilityTable(&Capabilities{Declared: map[string]bool{"filter": true}}, checks[:2]), Checks: checks[:2]}
	for _, row := range run.CapabilityMatrix() {
		if row.Name == "filter" && row.Status == reports.DeclaredButBroken {
			t.Errorf("filter is declared but broken on two checks that could not run")
		}
	}
}
