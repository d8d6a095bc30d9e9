package simulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/idp"
	"github.com/scimlab/scimlab/simulator/internal/faketarget"
)

const oktaUA = "Okta SCIM Client 1.0.0"

// lookupOf is the Okta lookup of userName (idp-traffic.md §1.1 row 2), as
// the target receives it.
func lookupOf(userName string) string {
	return "/scim/v2/Users?filter=userName%20eq%20%22" + strings.ReplaceAll(url.QueryEscape(userName), "+", "%20") + "%22&startIndex=1&count=100"
}

func userNameOf(t *testing.T, body []byte) string {
	t.Helper()
	var u struct{ UserName string }
	if err := json.Unmarshal(body, &u); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return u.UserName
}

func edgeCfg(t *testing.T) Config {
	return Config{IdP: "okta-oin", Users: 3, Seed: 7, Concurrency: 1, Scenario: writeScenario(t, "initial-sync", "edge-cases", "verify")}
}

// TestEdgeCasesFollowOktasSequence: with Okta's User-Agent the edge cases
// send only what Okta sends: the case twin's lookup finds the user, which
// Okta links, so no POST of the twin carries Okta's User-Agent; each
// long-value user is looked up before its POST. The duplicate create of
// the twin is scimlab's own probe, with User-Agent
// scimlab-simulator/edge-probe, and the read-back of a long-value user is
// the simulator's read-back (scimlab-simulator/verify).
func TestEdgeCasesFollowOktasSequence(t *testing.T) {
	run, reqs := runIntercepted(t, edgeCfg(t), faketarget.Options{Token: goldenToken}, nil)
	if c := checkByID(run, "SIM-OKTA-EDGE-CASES"); c.Verdict != reports.Pass {
		t.Fatalf("SIM-OKTA-EDGE-CASES = %s (%s)", c.Verdict, c.Reason)
	}
	var twinLookup string
	var probes, oktaPosts, readBacks int
	for k, rq := range reqs {
		switch {
		case rq.op == string(idp.StepEdgeCases) && rq.ua != oktaUA:
			t.Errorf("edge-cases request %s %s carries User-Agent %q, not Okta's", rq.method, rq.uri, rq.ua)
		case rq.op == string(idp.StepEdgeCases) && rq.method == http.MethodGet && twinLookup == "":
			twinLookup = rq.uri
		case rq.op == string(idp.StepEdgeCases) && rq.method == http.MethodPost:
			oktaPosts++
			name := userNameOf(t, rq.body)
			if prev := reqs[k-1]; prev.op != string(idp.StepEdgeCases) || prev.ua != oktaUA || prev.method != http.MethodGet || prev.uri != lookupOf(name) {
				t.Errorf("Okta's POST of %s follows %s %s (%s), not its lookup GET %s", name, prev.method, prev.uri, prev.ua, lookupOf(name))
			}
			if lookupOf(name) == twinLookup {
				t.Errorf("Okta POSTed the case twin %s although its lookup found the user", name)
			}
		case rq.op == opEdgeProbe:
			probes++
			if rq.ua != "scimlab-simulator/edge-probe" || rq.method != http.MethodPost || rq.uri != "/scim/v2/Users" {
				t.Errorf("the own probe: %s %s with User-Agent %q", rq.method, rq.uri, rq.ua)
			}
			if lookupOf(userNameOf(t, rq.body)) != twinLookup {
				t.Errorf("the own probe POSTed %s; want the case twin looked up by %s", userNameOf(t, rq.body), twinLookup)
			}
		case rq.op == opVerify && strings.HasPrefix(rq.uri, "/scim/v2/Users/u000") && k > 0 && reqs[k-1].op == string(idp.StepEdgeCases):
			readBacks++
			if rq.ua != "scimlab-simulator/verify" {
				t.Errorf("the read-back of a long-value user carries User-Agent %q", rq.ua)
			}
		}
	}
	if twinLookup == "" || probes != 1 || oktaPosts != 3 || readBacks != 3 {
		t.Errorf("twin lookup %q, %d own probes, %d Okta POSTs, %d read-backs; want the lookup, 1, 3 (one per long value) and 3", twinLookup, probes, oktaPosts, readBacks)
	}
	if counted := countedNote(run); strings.Contains(counted, "edge-probe") {
		t.Errorf("the count names the own probe: %s", counted)
	}
}

// TestEdgeCasesCaseSensitiveLookup: a target whose userName filter is
// case-sensitive finds nothing for the case twin; Okta then POSTs the twin
// as it would (its own User-Agent), and scimlab sends no probe of its own.
// The check fails on the lookup.
func TestEdgeCasesCaseSensitiveLookup(t *testing.T) {
	run, reqs := runIntercepted(t, edgeCfg(t), faketarget.Options{Token: goldenToken}, func(r *http.Request, _ []byte) (int, string, bool) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.RawQuery, "%40EXAMPLE.TEST") {
			return http.StatusOK, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}`, true
		}
		return 0, "", false
	})
	c := checkByID(run, "SIM-OKTA-EDGE-CASES")
	if c.Verdict != reports.Fail || !strings.Contains(c.Reason, "found nothing, but a user with this userName in another case exists") {
		t.Errorf("SIM-OKTA-EDGE-CASES = %s (%s)", c.Verdict, c.Reason)
	}
	var twinPost bool
	for k, rq := range reqs {
		if rq.op == opEdgeProbe {
			t.Errorf("an own probe was sent although Okta's lookup found nothing: %s", rq.body)
		}
		if rq.op == string(idp.StepEdgeCases) && rq.method == http.MethodPost && strings.Contains(userNameOf(t, rq.body), "@EXAMPLE.TEST") {
			twinPost = true
			if rq.ua != oktaUA || reqs[k-1].uri != lookupOf(userNameOf(t, rq.body)) {
				t.Errorf("the twin's POST: User-Agent %q after %s", rq.ua, reqs[k-1].uri)
			}
		}
	}
	if !twinPost {
		t.Error("Okta did not POST the twin its lookup did not find")
	}
}

// TestEdgeProbeLabelled: a wrong answer to scimlab's own duplicate create
// fails the edge-cases check with a reason that says the request was
// scimlab's, not Okta's.
func TestEdgeProbeLabelled(t *testing.T) {
	run, _ := runIntercepted(t, edgeCfg(t), faketarget.Options{Token: goldenToken}, func(r *http.Request, _ []byte) (int, string, bool) {
		if r.Method == http.MethodPost && r.Header.Get("User-Agent") == "scimlab-simulator/edge-probe" {
			return http.StatusConflict, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","detail":"exists"}`, true
		}
		return 0, "", false
	})
	c := checkByID(run, "SIM-OKTA-EDGE-CASES")
	want := "scimlab's own probe (User-Agent scimlab-simulator/edge-probe; okta-oin links the user its lookup found and sends no POST): POST /Users answered 409 without scimType \"uniqueness\""
	if c.Verdict != reports.Fail || !strings.Contains(c.Reason, want) {
		t.Errorf("SIM-OKTA-EDGE-CASES = %s (%s); want %q", c.Verdict, c.Reason, want)
	}
}
