package bugpack

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/bugpack"
	"github.com/scimlab/scimlab/simulator/replayer"
	"github.com/scimlab/scimlab/suites/framework"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

// The transcripts of the known-bug pack (fixtures/bugs), one check each:
// BPK-0nn replays bug Bnn byte for byte as its IdP sent it and passes when
// the target answers as a correct server does. `scimlab test --bug-pack`
// runs these alone.
var _ = Describe("Known-bug pack transcripts", lbl.Of(lbl.BugPack), func() {
	bugs, err := bugpack.Load()
	if err != nil {
		panic(fmt.Sprintf("loading the known-bug pack: %v", err))
	}
	for _, b := range bugs {
		args := []any{bugLevel(b.IdP), lbl.Tolerance}
		if ref, ok := rfcRef(b.RFC); ok {
			args = append(args, lbl.RFC(ref))
		}
		args = append(args, func(ctx SpecContext) {
			t := framework.Current()
			target := replayer.Target{BaseURL: t.BaseURL, Headers: map[string]string{}}
			for k, v := range t.Headers {
				target.Headers[k] = v
			}
			if t.Authorization != "" {
				target.Headers["Authorization"] = t.Authorization
			}
			// The bug pack deletes what its replay created; the log lets the
			// check see that it is gone, as the suites' own clean-up does.
			var created framework.CreationLog
			left := map[string]bool{}
			DeferCleanup(func(ctx SpecContext) {
				created.CheckGone(ctx, "deleted by the bug pack's clean-up", left)
			})
			target.Client = &http.Client{Timeout: 60*time.Second + t.Retry.Effective().MaxTotal, Transport: created.Wrap(t.Transport())}
			run, err := bugpack.RunBugs(ctx, target, []bugpack.Bug{b})
			if run != nil {
				// What the replay could not remove is the run's orphan, not
				// the bug's failure (the target may have gone away after the bug).
				for _, o := range run.OrphanList() {
					framework.AddOrphan(o.URL, o.Reason)
					u := o.URL
					if !strings.Contains(u, "://") {
						u = t.BaseURL + "/" + strings.TrimLeft(u, "/")
					}
					left[u] = true
				}
			}
			if err != nil {
				framework.CouldNotRun("bug %s could not be replayed: %v", b.ID, err)
			}
			Expect(run.Checks).To(HaveLen(1))
			c := run.Checks[0]
			for _, ev := range c.Evidence {
				framework.Attach(ev)
			}
			if c.Verdict == reports.Pass {
				return
			}
			why, setup := failure(b, c)
			if setup || c.Verdict == reports.Error {
				framework.CouldNotRun("%s", why)
			}
			if refusalAccepted(b, c) {
				GinkgoWriter.Printf("%s: the target refused the request with 400: %s\n", b.ID, refusalOK[b.ID])
				return
			}
			Fail(why)
		})
		framework.It(checkID(b.ID), b.ID+": "+b.Title, args...)
	}
})

// refusalOK lists the bugs whose deciding request a correct server may
// also refuse as a whole with 400, and why. B20 (one unknown member in an
// Okta membership add): the pack's transcript asks for 200 or 204, but the
// only ground for calling a 400 an Okta failure is the reporter's claim that
// Okta does not retry it (idp-traffic.md Part 3, B20, graded C), while RFC
// 7644 §3.5.2 makes a PATCH atomic and lets the server refuse it. BUG-014
// checks the same add and accepts either answer, provided a refusal changes
// nothing; so does this check, and BUG-014 is the one that reads the group
// back after the refusal.
var refusalOK = map[string]string{
	"B20": "RFC 7644 §3.5.2 allows refusing the whole PATCH; Okta's need to have it accepted rests on a C-graded report (idp-traffic.md B20); BUG-014 checks that the refusal changed nothing",
}

// refusalAccepted reports whether the failed replay c of bug b ended on a
// 400 to its deciding request that refusalOK accepts.
func refusalAccepted(b bugpack.Bug, c reports.Check) bool {
	if refusalOK[b.ID] == "" || c.Verdict != reports.Fail || len(c.Evidence) == 0 {
		return false
	}
	step, _ := strings.CutPrefix(c.Reason, fmt.Sprintf("%s (%s): ", b.ID, b.Title))
	return strings.HasPrefix(step, "exchange ") && c.Evidence[len(c.Evidence)-1].Response.Status == http.StatusBadRequest
}

// failure says why a bug's replay failed: which exchange, its status and
// what the server said, on the first line (the report's reason), then what
// a correct server does and where the bug was reported. setup is true when
// an exchange before the bug's own request failed: the check never got to
// the bug.
func failure(b bugpack.Bug, c reports.Check) (why string, setup bool) {
	step, _ := strings.CutPrefix(c.Reason, fmt.Sprintf("%s (%s): ", b.ID, b.Title))
	step, _, _ = strings.Cut(step, ". A correct server: ")
	setup = strings.HasPrefix(step, "setup exchange ")
	if n := len(c.Evidence); n > 0 {
		if said := serverSaid(c.Evidence[n-1].Response); said != "" {
			step += "; the server said: " + said
		}
	}
	return step + "\nA correct server: " + b.Correct + "\nReported: " + b.Source, setup
}

// serverSaid is the scimType and detail of a SCIM error response, or "".
func serverSaid(m reports.HTTPMessage) string {
	var e struct {
		ScimType string `json:"scimType"`
		Detail   string `json:"detail"`
	}
	switch {
	case json.Unmarshal([]byte(m.Body), &e) != nil || e.Detail == "":
		return e.ScimType
	case e.ScimType == "":
		return e.Detail
	}
	return e.ScimType + ": " + e.Detail
}

// checkID maps bug B07 to check BPK-007.
func checkID(bug string) string {
	n, err := strconv.Atoi(strings.TrimPrefix(bug, "B"))
	if err != nil {
		panic(fmt.Sprintf("bug id %q: want Bnn", bug))
	}
	return fmt.Sprintf("BPK-%03d", n)
}

func bugLevel(idp string) lbl.Label {
	switch idp {
	case "okta":
		return lbl.Okta
	case "entra":
		return lbl.Entra
	case "onelogin":
		return lbl.OneLogin
	}
	panic(fmt.Sprintf("bug pack: no level label for IdP %q", idp))
}

// rfcRef turns "RFC7644 §3.5.2.3" into "7644:3.5.2.3".
func rfcRef(s string) (string, bool) {
	num, sec, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(s), "RFC"), " §")
	if !ok || num == "" || sec == "" {
		return "", false
	}
	return num + ":" + sec, true
}
