package framework

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/scimlab/scimlab/reports"
)

// NotRequestedPrefix starts the skip reason of a check that the run was not
// asked to run: it needs an input the run was not given (--limits,
// --expired-token, --allow-destructive). The report marks such a check
// NotRequested, apart from the capabilities a target declares unsupported.
const NotRequestedPrefix = "not requested: "

// NotRequested skips the running check because the run was not given what
// it needs; what says which flag would run it.
func NotRequested(what string) {
	ginkgo.GinkgoHelper()
	ginkgo.Skip(NotRequestedPrefix + what)
}

// Arrange runs fn, the part of a check that builds what the check needs (a
// user to patch, a group to list). A failure inside fn means the check never
// reached what it tests, so its verdict is error ("setup failed: …"), never
// fail: a target is not reported broken in a feature the check did not get
// to exercise.
//
// Arrange nests: a fixture helper that arranges (Create) called inside
// another Arrange leaves the setup phase to the outer one, which ends it.
// It is meant for the spec's own goroutine, as Ginkgo's assertions are.
func Arrange(fn func()) {
	ginkgo.GinkgoHelper()
	if arranging == 0 {
		ginkgo.AddReportEntry(phaseEntry, phaseSetup, ginkgo.ReportEntryVisibilityNever)
	}
	arranging++
	done := false
	defer func() {
		arranging--
		if done && arranging == 0 {
			ginkgo.AddReportEntry(phaseEntry, phaseCheck, ginkgo.ReportEntryVisibilityNever)
		}
	}()
	fn()
	done = true
}

// arranging counts the Arrange calls under way in the running spec.
var arranging int

// CouldNotRun ends the running check with verdict error and the reason
// given: the check could not run to a verdict (the target stopped
// answering, a tool it drives failed), which says nothing about the target.
func CouldNotRun(format string, args ...any) {
	ginkgo.GinkgoHelper()
	ginkgo.AddReportEntry(phaseEntry, phaseNotRun, ginkgo.ReportEntryVisibilityNever)
	ginkgo.Fail(fmt.Sprintf(format, args...))
}

// The report entry that Arrange and CouldNotRun leave, and its values.
const (
	phaseEntry  = "scimlab:phase"
	phaseSetup  = "setup"
	phaseCheck  = "check"
	phaseNotRun = "not run"
)

// Ginkgo's own reasons for specs it did not run.
const (
	ginkgoBeforeAllFailed = "Spec skipped because a BeforeAll node failed"
	ginkgoEarlierFailed   = "Spec skipped because an earlier spec in an ordered container failed"
	ginkgoSkipInSetup     = "Spec skipped because Skip() was called in "
)

// verdicts maps the specs of one Ginkgo report to checks. It knows what the
// whole run knows and one spec does not: why a shared BeforeAll failed,
// which specs the selection left out, and whether the run stopped early.
type verdicts struct {
	// setup maps a container's location to the failure (or skip) of its
	// BeforeAll, as the first spec that ran it recorded it.
	setup map[string]types.SpecReport
	// selected reports whether the label filter and focus chose a spec.
	selected func(types.SpecReport) bool
	// stopped says why the run ended before every selected spec ran, or "".
	stopped string
}

// newVerdicts reads what the mapping needs from the whole report.
func newVerdicts(r types.Report) *verdicts {
	v := &verdicts{setup: map[string]types.SpecReport{}, selected: selector(r.SuiteConfig)}
	for _, s := range r.SpecReports {
		f := s.Failure
		if s.LeafNodeType != types.NodeTypeIt || f.FailureNodeType != types.NodeTypeBeforeAll ||
			f.FailureNodeContext != types.FailureNodeInContainer || f.FailureNodeContainerIndex >= len(s.ContainerHierarchyLocations) {
			continue
		}
		key := s.ContainerHierarchyLocations[f.FailureNodeContainerIndex].String()
		if _, seen := v.setup[key]; !seen {
			v.setup[key] = s
		}
	}
	var reasons []string
	for _, why := range r.SpecialSuiteFailureReasons {
		if why != "Suite skipped in BeforeSuite" {
			reasons = append(reasons, firstLine(why))
		}
	}
	v.stopped = strings.Join(reasons, "; ")
	return v
}

// selector returns whether a spec matches the run's label filter and focus
// and skip expressions, as Ginkgo decides it (internal/focus.go).
func selector(sc types.SuiteConfig) func(types.SpecReport) bool {
	var labels types.LabelFilter
	if sc.LabelFilter != "" {
		labels, _ = types.ParseLabelFilter(sc.LabelFilter)
	}
	compile := func(exprs []string) *regexp.Regexp {
		if len(exprs) == 0 {
			return nil
		}
		re, err := regexp.Compile(strings.Join(exprs, "|"))
		if err != nil {
			return nil
		}
		return re
	}
	focus, skip := compile(sc.FocusStrings), compile(sc.SkipStrings)
	return func(s types.SpecReport) bool {
		if labels != nil && !labels(s.Labels()) {
			return false
		}
		text := s.FullText()
		if focus != nil && !focus.MatchString(text) {
			return false
		}
		return skip == nil || !skip.MatchString(text)
	}
}

// notSelected returns the sorted IDs of the checks the selection left out.
func (v *verdicts) notSelected(specs types.SpecReports) []string {
	var out []string
	for _, s := range specs {
		if s.LeafNodeType != types.NodeTypeIt || s.State != types.SpecStateSkipped || s.Failure.Message != "" || v.selected(s) {
			continue
		}
		if m := textRE.FindStringSubmatch(s.LeafNodeText); m != nil {
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return out
}

// check maps one spec to a check; ok is false for a spec the label filter or
// focus left out. The verdict follows DESIGN.md: skipped only where the
// target declares the capability unsupported (or the run was not asked to
// run the check: NotRequested), error wherever the check could not run to
// a verdict (its setup failed, the target did not answer, the run stopped),
// fail only when the target answered and the answer was wrong.
func (v *verdicts) check(s types.SpecReport) (reports.Check, bool) {
	ci, _ := InfoFromSpec(s)
	c := reports.Check{
		ID: ci.ID, Title: ci.Title, Area: ci.Area, RFC: ci.RFC, Level: ci.Level,
		Duration: s.RunTime, Labels: ci.Labels, Capability: ci.Capability,
	}
	if c.ID == "" {
		c.ID = "UNREGISTERED"
	}
	msg := s.Failure.Message
	switch s.State {
	case types.SpecStatePassed:
		c.Verdict = reports.Pass
		for _, e := range s.ReportEntries {
			if e.Name == verdictEntry {
				c.Verdict = reports.Verdict(e.StringRepresentation())
				c.Reason = "declared unsupported in ServiceProviderConfig, yet it works"
			}
		}
	case types.SpecStateSkipped:
		switch {
		case msg == "" && !v.selected(s):
			return c, false
		case msg == "" && setupErr != nil:
			c.Verdict, c.Reason = reports.Error, "not run: suite setup failed: "+firstLine(setupErr.Error())
		case msg == "" && v.stopped != "":
			c.Verdict, c.Reason = reports.Error, "not run: the run stopped before it ("+v.stopped+")"
		case msg == "":
			c.Verdict, c.Reason = reports.Error, "not run: Ginkgo skipped it without a reason"
		case msg == ginkgoEarlierFailed:
			c.Verdict, c.Reason = reports.Error, "not run: an earlier check of its ordered container failed, and the container stops there"
		case msg == ginkgoBeforeAllFailed || strings.HasPrefix(msg, ginkgoSkipInSetup):
			c = v.sharedSetup(c, s)
		default:
			skip(&c, msg)
		}
	case types.SpecStatePending:
		c.Verdict, c.Reason = reports.Skipped, "pending: "+firstLine(msg)
		if msg == "" {
			c.Reason = "pending"
		}
	case types.SpecStateFailed:
		switch why := firstLine(msg); {
		case rateLimited(s) != "":
			c.Verdict, c.Reason = reports.Error, rateLimited(s)
		case isSetupNode(s.Failure.FailureNodeType):
			c.Verdict, c.Reason = reports.Error, fmt.Sprintf("setup failed (%s): %s", s.Failure.FailureNodeType, why)
		case phase(s) == phaseSetup:
			c.Verdict, c.Reason = reports.Error, "setup failed: "+why
		case phase(s) == phaseNotRun:
			c.Verdict, c.Reason = reports.Error, why
		case noResponse(s) != "":
			c.Verdict, c.Reason = reports.Error, "the target did not answer: "+why
		default:
			c.Verdict, c.Reason = reports.Fail, why
		}
	default: // panicked, interrupted, aborted, timedout
		c.Verdict = reports.Error
		c.Reason = fmt.Sprintf("%s: %s", s.State, firstLine(msg))
	}
	if c.Verdict != reports.Pass || current.Verbose {
		for _, e := range s.ReportEntries {
			if e.Name != evidenceEntry {
				continue
			}
			if ev, ok := e.GetRawValue().(Evidence); ok {
				c.Evidence = append(c.Evidence, ev.Exchange)
			}
		}
	}
	return c, true
}

// skip sets a skipped verdict with the reason msg, marking it not requested
// when msg says so.
func skip(c *reports.Check, msg string) {
	c.Verdict, c.Reason = reports.Skipped, firstLine(msg)
	c.NotRequested = strings.HasPrefix(c.Reason, NotRequestedPrefix)
}

// sharedSetup gives the verdict of a spec Ginkgo did not run because the
// BeforeAll of one of its containers failed or skipped: error with the
// failure's cause, or the skip's own reason.
func (v *verdicts) sharedSetup(c reports.Check, s types.SpecReport) reports.Check {
	var cause *types.SpecReport
	for i := len(s.ContainerHierarchyLocations) - 1; i >= 0 && cause == nil; i-- {
		if first, ok := v.setup[s.ContainerHierarchyLocations[i].String()]; ok {
			cause = &first
		}
	}
	switch {
	case cause != nil && cause.State == types.SpecStateSkipped:
		skip(&c, cause.Failure.Message)
	case cause != nil:
		first, _ := InfoFromSpec(*cause)
		c.Verdict, c.Reason = reports.Error, fmt.Sprintf("not run: the setup it shares with %s failed (BeforeAll): %s", first.ID, firstLine(cause.Failure.Message))
	default:
		c.Verdict, c.Reason = reports.Error, "not run: "+s.Failure.Message
	}
	return c
}

// isSetupNode reports whether a failure in a node of type t happened before
// the check's own body ran.
func isSetupNode(t types.NodeType) bool {
	return t.Is(types.NodeTypeBeforeAll | types.NodeTypeBeforeEach | types.NodeTypeJustBeforeEach)
}

// phase returns the last phase Arrange or CouldNotRun recorded in the
// spec, or "".
func phase(s types.SpecReport) string {
	p := ""
	for _, e := range s.ReportEntries {
		if e.Name == phaseEntry {
			p = e.StringRepresentation()
		}
	}
	return p
}

// rateLimited says which request of the spec the target was still
// throttling after the retries (429, or 503 with Retry-After), or "": the
// check could not run, so its verdict is error, never fail.
func rateLimited(s types.SpecReport) string {
	for _, e := range s.ReportEntries {
		if ev, ok := e.GetRawValue().(Evidence); ok && e.Name == evidenceEntry && ev.RateLimited {
			return fmt.Sprintf("%s %s: %s", ev.Exchange.Request.Method, pathOf(ev.Exchange.Request.URL), ev.Err)
		}
	}
	return ""
}

// noResponse returns the error of an exchange of the spec that got no
// response at all (connection refused, reset, timed out), or "".
func noResponse(s types.SpecReport) string {
	for _, e := range s.ReportEntries {
		if ev, ok := e.GetRawValue().(Evidence); ok && e.Name == evidenceEntry && ev.Err != "" {
			return ev.Err
		}
	}
	return ""
}
