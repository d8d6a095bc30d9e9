package simulator

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/idp"
	"github.com/scimlab/scimlab/simulator/internal/faketarget"
)

// entraUA is the User-Agent of the entra profiles' own requests.
const entraUA = "scimlab-simulator (Entra ID provisioning; real User-Agent undocumented)"

// sent is one request as the target received it, with the run's operation.
type sent struct {
	op, method, uri, ua string
	body                []byte
}

// runIntercepted runs cfg against a fake target whose answer answer may
// replace (handled true): it gets each request and its body. It returns
// the run and every request with its operation, in order (cfg.Concurrency
// should be 1 for the order to be the run's).
func runIntercepted(t *testing.T, cfg Config, opts faketarget.Options, answer func(r *http.Request, body []byte) (status int, resp string, handled bool)) (*reports.Run, []sent) {
	t.Helper()
	ft := faketarget.New(opts)
	var mu sync.Mutex
	var got []sent
	var ops []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, sent{method: r.Method, uri: r.URL.RequestURI(), ua: r.Header.Get("User-Agent"), body: body})
		mu.Unlock()
		if answer != nil {
			if status, resp, ok := answer(r, body); ok {
				w.Header().Set("Content-Type", "application/scim+json")
				w.WriteHeader(status)
				_, _ = io.WriteString(w, resp)
				return
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		ft.ServeHTTP(w, r)
	}))
	defer srv.Close()
	cfg.Target = srv.URL + "/scim/v2"
	cfg.Token = goldenToken
	cfg.trace = func(op string) {
		mu.Lock()
		ops = append(ops, op)
		mu.Unlock()
	}
	run, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != len(got) {
		t.Fatalf("the target saw %d requests, the client sent %d", len(got), len(ops))
	}
	for k := range got {
		got[k].op = ops[k]
	}
	return run, got
}

func checkByID(run *reports.Run, id string) reports.Check {
	for _, c := range run.Checks {
		if c.ID == id {
			return c
		}
	}
	return reports.Check{ID: id, Verdict: "absent"}
}

func entraCfg(name string) Config {
	return Config{IdP: name, Users: 6, Groups: 3, Seed: 7, Concurrency: 1}
}

// TestEntraReadsByIDBeforePatch: Entra reads a user by the id it cached,
// GET /Users/{id} with no query, before each per-attribute PATCH
// (idp-traffic.md §1.2 rows 5 and 6), and a group it pushed earlier, GET
// /Groups/{id}?excludedAttributes=members, before each change of a later
// cycle (row 11): membership churn, a member re-add, a rename. Initial
// sync's member adds to a group it just created are not preceded by a read.
func TestEntraReadsByIDBeforePatch(t *testing.T) {
	for _, name := range []string{"entra", "entra-aadoptscim062020"} {
		t.Run(name, func(t *testing.T) {
			run, reqs := runIntercepted(t, entraCfg(name), faketarget.Options{Token: goldenToken}, nil)
			for _, id := range []string{"SIM-ENTRA-GET-USER", "SIM-ENTRA-GET-GROUP", "SIM-ENTRA-UPDATE-USER", "SIM-ENTRA-MEMBERS", "SIM-ENTRA-MEMBER-READD", "SIM-ENTRA-RENAME-GROUP"} {
				if c := checkByID(run, id); c.Verdict != reports.Pass {
					t.Errorf("%s: %s (%s)", id, c.Verdict, c.Reason)
				}
			}
			var userReads, groupReads, laterGroupPatches int
			pushed := false
			for k, rq := range reqs {
				switch rq.op {
				case string(idp.StepGetUser):
					userReads++
					if rq.method != http.MethodGet || !strings.HasPrefix(rq.uri, "/scim/v2/Users/u") || strings.Contains(rq.uri, "?") || rq.ua != entraUA || len(rq.body) != 0 {
						t.Errorf("get-user request %s %s (User-Agent %q, body %q); want GET /scim/v2/Users/{id} with Entra's headers and nothing else", rq.method, rq.uri, rq.ua, rq.body)
					}
					if next := reqs[k+1]; next.op != string(idp.StepUpdateUser) || next.method != http.MethodPatch || next.uri != rq.uri {
						t.Errorf("GET %s is followed by %s %s (%s); want the update PATCH of that user", rq.uri, next.method, next.uri, next.op)
					}
				case string(idp.StepUpdateUser):
					if prev := reqs[k-1]; prev.op != string(idp.StepGetUser) || prev.uri != rq.uri {
						t.Errorf("%s %s is not preceded by GET %s (got %s %s)", rq.method, rq.uri, rq.uri, prev.method, prev.uri)
					}
				case string(idp.StepGetGroup):
					groupReads++
					path, query, _ := strings.Cut(rq.uri, "?")
					if rq.method != http.MethodGet || !strings.HasPrefix(path, "/scim/v2/Groups/g") || query != "excludedAttributes=members" || rq.ua != entraUA || len(rq.body) != 0 {
						t.Errorf("get-group request %s %s (User-Agent %q); want GET /scim/v2/Groups/{id}?excludedAttributes=members", rq.method, rq.uri, rq.ua)
					}
					if next := reqs[k+1]; next.method != http.MethodPatch || next.uri != path {
						t.Errorf("GET %s is followed by %s %s; want a PATCH of that group", rq.uri, next.method, next.uri)
					}
				case string(idp.StepImport), string(idp.StepDeactivate):
					pushed = true
				case string(idp.StepMembers), string(idp.StepMemberReadd), string(idp.StepRenameGroup):
					if !pushed {
						if reqs[k-1].op == string(idp.StepGetGroup) {
							t.Errorf("initial sync read %s before its first member add", reqs[k-1].uri)
						}
						continue
					}
					laterGroupPatches++
					if prev := reqs[k-1]; prev.op != string(idp.StepGetGroup) && prev.op != rq.op {
						t.Errorf("%s %s (%s) is not preceded by a read of the group (got %s %s)", rq.method, rq.uri, rq.op, prev.method, prev.uri)
					}
				}
			}
			if userReads != 3 || groupReads != 4 || laterGroupPatches == 0 {
				t.Errorf("%d user reads, %d group reads, %d later group PATCHes; want 3 (one per update), 4 (two churned groups, a re-add, a rename) and some", userReads, groupReads, laterGroupPatches)
			}
		})
	}
}

// TestEntraReadOfALostUser: a target that answers Entra's read by id with
// 404 and a SCIM Error (its status the string "404", as Entra's docs show
// it, or the number) no longer holds the user it created: the get-user
// check fails saying so, with the status as sent, and no update PATCH is
// sent for that user (idp-traffic.md §1.2 row 5).
func TestEntraReadOfALostUser(t *testing.T) {
	for status, body := range map[string]string{
		`"404"`: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404","detail":"Resource u0001 not found"}`,
		`404`:   `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":404,"detail":"Resource u0001 not found"}`,
	} {
		t.Run(status, func(t *testing.T) {
			run, reqs := runIntercepted(t, entraCfg("entra"), faketarget.Options{Token: goldenToken}, func(r *http.Request, _ []byte) (int, string, bool) {
				if r.Method == http.MethodGet && r.URL.Path == "/scim/v2/Users/u0001" && r.Header.Get("User-Agent") == entraUA {
					return http.StatusNotFound, body, true
				}
				return 0, "", false
			})
			c := checkByID(run, "SIM-ENTRA-GET-USER")
			want := "GET /Users/u0001 answered 404 (SCIM Error, status " + status + "): the target no longer holds the user it created with id u0001"
			if c.Verdict != reports.Fail || !strings.Contains(c.Reason, want) || !strings.Contains(c.Reason, "§1.2 rows 4 and 5") {
				t.Errorf("SIM-ENTRA-GET-USER = %s (%s); want a failure saying %q", c.Verdict, c.Reason, want)
			}
			for _, rq := range reqs {
				if rq.op == string(idp.StepUpdateUser) && rq.uri == "/scim/v2/Users/u0001" {
					t.Errorf("an update PATCH was sent to the user whose read answered 404: %s", rq.body)
				}
			}
			if c := checkByID(run, "SIM-ENTRA-UPDATE-USER"); c.Verdict != reports.Pass {
				t.Errorf("SIM-ENTRA-UPDATE-USER = %s (%s); the other updates were sent and taken", c.Verdict, c.Reason)
			}
		})
	}
}

// TestEntraGroupReadWithMembers: excludedAttributes=members leaves the
// members out (RFC 7644 §3.4.2.5); a target that sends them anyway fails
// SIM-ENTRA-GET-GROUP.
func TestEntraGroupReadWithMembers(t *testing.T) {
	run, _ := runIntercepted(t, entraCfg("entra"), faketarget.Options{Token: goldenToken}, func(r *http.Request, _ []byte) (int, string, bool) {
		if r.Method == http.MethodGet && r.URL.Path == "/scim/v2/Groups/g0001" && r.URL.RawQuery == "excludedAttributes=members" {
			return http.StatusOK, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g0001","displayName":"x","members":[{"value":"u0001"}]}`, true
		}
		return 0, "", false
	})
	c := checkByID(run, "SIM-ENTRA-GET-GROUP")
	if c.Verdict != reports.Fail || !strings.Contains(c.Reason, "GET /Groups/g0001?excludedAttributes=members answered the group with its 1 members") || !strings.Contains(c.Reason, "RFC 7644 §3.4.2.5") {
		t.Errorf("SIM-ENTRA-GET-GROUP = %s (%s)", c.Verdict, c.Reason)
	}
}

// TestEntraDeactivateAddB4: the default entra profile sends its first
// deactivation as {"op":"Add","path":"active","value":"False"} (B4) and
// the others with Replace (§1.2 row 7). A target that refuses Add on
// active fails SIM-ENTRA-DEACTIVATE-ADD, whose reason names B4, and
// SIM-ENTRA-DEACTIVATE still passes; the flag profile sends no Add.
func TestEntraDeactivateAddB4(t *testing.T) {
	const add = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"active","value":"False"}]}`
	const replace = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`
	run, reqs := runIntercepted(t, entraCfg("entra"), faketarget.Options{Token: goldenToken}, func(r *http.Request, body []byte) (int, string, bool) {
		if r.Method == http.MethodPatch && strings.Contains(string(body), `"op":"Add","path":"active"`) {
			return http.StatusBadRequest, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidPath","detail":"active can only be replaced"}`, true
		}
		return 0, "", false
	})
	var adds, replaces []string
	for _, rq := range reqs {
		switch rq.op {
		case string(idp.StepDeactivateAdd):
			adds = append(adds, rq.method+" "+rq.uri+" "+string(rq.body))
		case string(idp.StepDeactivate):
			replaces = append(replaces, rq.method+" "+rq.uri+" "+string(rq.body))
		}
	}
	if len(adds) != 1 || adds[0] != "PATCH /scim/v2/Users/u0006 "+add {
		t.Errorf("deactivate-add sent %q; want one PATCH /scim/v2/Users/u0006 %s", adds, add)
	}
	if len(replaces) != 1 || replaces[0] != "PATCH /scim/v2/Users/u0002 "+replace {
		t.Errorf("deactivate sent %q; want one PATCH /scim/v2/Users/u0002 %s", replaces, replace)
	}
	c := checkByID(run, "SIM-ENTRA-DEACTIVATE-ADD")
	if c.Verdict != reports.Fail || !strings.Contains(c.Reason, "PATCH /Users/u0006 answered 400") || !strings.Contains(c.Reason, "B4") || !strings.Contains(c.Reason, "RFC 7644 §3.5.2.1") {
		t.Errorf("SIM-ENTRA-DEACTIVATE-ADD = %s (%s); want a failure naming B4", c.Verdict, c.Reason)
	}
	if c := checkByID(run, "SIM-ENTRA-DEACTIVATE"); c.Verdict != reports.Pass {
		t.Errorf("SIM-ENTRA-DEACTIVATE = %s (%s)", c.Verdict, c.Reason)
	}

	flag, reqs := runIntercepted(t, entraCfg("entra-aadoptscim062020"), faketarget.Options{Token: goldenToken}, nil)
	for _, rq := range reqs {
		if rq.op == string(idp.StepDeactivateAdd) || bytes.Contains(rq.body, []byte(`"op":"add","path":"active"`)) {
			t.Errorf("the flag profile sent %s %s %s", rq.method, rq.uri, rq.body)
		}
	}
	if c := checkByID(flag, "SIM-ENTRA-DEACTIVATE-ADD"); c.Verdict != "absent" {
		t.Errorf("the flag profile's report has SIM-ENTRA-DEACTIVATE-ADD: %s", c.Verdict)
	}
}
