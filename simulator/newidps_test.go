package simulator

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/idp"
	"github.com/scimlab/scimlab/simulator/internal/faketarget"
)

// requestLines runs name's lifecycle against ft and returns the request
// line ("METHOD URI") of each IdP request, with its operation.
func requestLines(t *testing.T, name string, ft *faketarget.Target, users, groups int) (*reports.Run, []string) {
	t.Helper()
	srv := httptest.NewServer(ft)
	defer srv.Close()
	var ops []string
	run, err := Run(context.Background(), Config{
		IdP: name, Target: srv.URL + "/scim/v2", Token: goldenToken,
		Users: users, Groups: groups, Seed: 7, Concurrency: 1,
		trace: func(op string) { ops = append(ops, op) },
	})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for k, rq := range ft.Requests() {
		if !ownOp(ops[k]) && ops[k] != string(idp.StepEndState) {
			lines = append(lines, ops[k]+" "+rq.Method+" "+rq.URI)
		}
	}
	return run, lines
}

func has(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// TestNewIdPsShapes pins the request lines that set each new IdP apart
// (idp-traffic.md §1.3, §1.4, §1.6, §1.7); the golden transcripts pin the
// rest, byte for byte.
func TestNewIdPsShapes(t *testing.T) {
	for name, want := range map[string][]string{
		// §1.3: userName eq, groups found by listing, PUT for users, PATCH for members.
		"pingfederate": {
			"lookup-user GET /scim/v2/Users?filter=userName%20eq%20%22winfield.schiller.0%40example.test%22",
			"lookup-group GET /scim/v2/Groups?startIndex=1",
			"update-user PUT /scim/v2/Users/u0001",
			"deactivate PUT /scim/v2/Users/u0006",
			"members PATCH /scim/v2/Groups/g0001",
		},
		// §1.6: + for spaces and a trailing &, PUT for users, PATCH for members.
		"onelogin": {
			"lookup-user GET /scim/v2/Users?filter=userName+eq+%22winfield.schiller.0%40example.test%22&",
			"update-user PUT /scim/v2/Users/u0001",
			"members PATCH /scim/v2/Groups/g0001",
		},
		// §1.4: discovery on test connection, sw and delta aggregation, PATCH, DELETE.
		"sailpoint": {
			"test-connection GET /scim/v2/ServiceProviderConfig",
			"test-connection GET /scim/v2/ResourceTypes",
			"test-connection GET /scim/v2/Schemas",
			"test-connection GET /scim/v2/ResourceTypes/User",
			"test-connection GET /scim/v2/ResourceTypes/Group",
			"import GET /scim/v2/Users?filter=userName%20sw%20%22winfield.%22&startIndex=1&count=100",
			"import GET /scim/v2/Users?filter=meta.lastModified%20gt%20%222024-01-01T00%3A00%3A00Z%22%20and%20userName%20sw%20%22winfield.%22&startIndex=1&count=100",
			"update-user PATCH /scim/v2/Users/u0001",
			"deactivate PATCH /scim/v2/Users/u0006",
			"delete-user DELETE /scim/v2/Users/u0004",
		},
		// §1.7: a test user and group created, then both deleted.
		"jumpcloud": {
			"test-connection POST /scim/v2/Users",
			"test-connection POST /scim/v2/Groups",
			"test-connection DELETE /scim/v2/Users/u0001",
			"test-connection DELETE /scim/v2/Groups/g0001",
		},
	} {
		t.Run(name, func(t *testing.T) {
			p, _ := idp.LoadIdP(name)
			run, lines := requestLines(t, name, faketarget.New(faketarget.Options{Token: goldenToken, Timestamps: p.Import != nil && p.Import.Delta}), 6, 3)
			for _, w := range want {
				if !has(lines, w) {
					t.Errorf("no %q among:\n%s", w, strings.Join(lines, "\n"))
				}
			}
			for _, c := range run.Checks {
				if c.Verdict == reports.Fail || c.Verdict == reports.Error {
					t.Errorf("%s %s: %s", c.ID, c.Verdict, c.Reason)
				}
				if !strings.HasPrefix(c.ID, p.CheckPrefix+"-") || c.Level != reports.IdPLevel(p.Level) {
					t.Errorf("check %s at level %s; want prefix %s, level IDP:%s", c.ID, c.Level, p.CheckPrefix, p.Level)
				}
			}
		})
	}
}

// TestPingFederateNeverPatchesUsers: PATCH is for groups only (§1.3).
func TestPingFederateNeverPatchesUsers(t *testing.T) {
	_, lines := requestLines(t, "pingfederate", faketarget.New(faketarget.Options{Token: goldenToken}), 6, 3)
	for _, l := range lines {
		if strings.Contains(l, "PATCH /scim/v2/Users") || strings.Contains(l, "GET /scim/v2/Groups?filter") {
			t.Errorf("PingFederate sent %s", l)
		}
	}
}

// TestJumpCloudDeactivatesATestUserItCannotDelete: when the target refuses
// the test user's DELETE, JumpCloud deactivates it and leaves it (§1.7),
// and the test connection passes.
func TestJumpCloudDeactivatesATestUserItCannotDelete(t *testing.T) {
	run, lines := requestLines(t, "jumpcloud", faketarget.New(faketarget.Options{Token: goldenToken, NoUserDelete: true}), 6, 3)
	for _, w := range []string{"test-connection DELETE /scim/v2/Users/u0001", "test-connection PUT /scim/v2/Users/u0001", "test-connection DELETE /scim/v2/Groups/g0001"} {
		if !has(lines, w) {
			t.Errorf("no %q among:\n%s", w, strings.Join(lines, "\n"))
		}
	}
	if c := check(run, "SIM-JUMPCLOUD-TEST-CONNECTION"); c == nil || c.Verdict != reports.Pass {
		t.Fatalf("test connection: %+v", c)
	}
}

// TestSailPointReadsXRateLimitNotRetryAfter: SailPoint waits the seconds of
// x-rate-limit-retry-after-seconds and ignores Retry-After (§1.4).
func TestSailPointReadsXRateLimitNotRetryAfter(t *testing.T) {
	for name, tc := range map[string]struct {
		header, value string
		want          time.Duration
	}{
		"x-rate-limit": {"x-rate-limit-retry-after-seconds", "3", 3 * time.Second},
		"Retry-After":  {"Retry-After", "3", time.Minute}, // ignored: the profile's default wait
	} {
		t.Run(name, func(t *testing.T) {
			n := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n++; n == 1 {
					w.Header().Set(tc.header, tc.value)
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				faketarget.New(faketarget.Options{}).ServeHTTP(w, r)
			}))
			defer srv.Close()
			p, _ := idp.LoadIdP("sailpoint")
			c, waits := retryClient(t, "sailpoint", srv.URL+"/scim/v2", 1)
			res := c.do(context.Background(), "lookup-user", p.LookupUser("a@example.test"))
			if res.status != 200 || len(*waits) != 1 || (*waits)[0] != tc.want {
				t.Fatalf("status %d, waits %v; want one wait of %s", res.status, *waits, tc.want)
			}
		})
	}
}

// TestOktaReprovisionFailsOnA409DeadEnd: Okta OIN brings a deactivated
// user back with a fresh POST carrying the same externalId (B15); a target
// that refuses the externalId answers 409 and the reprovision check fails,
// while an RFC target (externalId not unique) passes it.
func TestOktaReprovisionFailsOnA409DeadEnd(t *testing.T) {
	run, lines := requestLines(t, "okta-oin", faketarget.New(faketarget.Options{Token: goldenToken, UniqueExternalID: true}), 40, 2)
	var post string
	for _, l := range lines {
		if strings.HasPrefix(l, "reprovision POST ") {
			post = l
		}
	}
	if post == "" {
		t.Fatalf("no reprovision POST among:\n%s", strings.Join(lines, "\n"))
	}
	c := check(run, "SIM-OKTA-REPROVISION")
	if c == nil || c.Verdict != reports.Fail || !strings.Contains(c.Reason, "409") || !strings.Contains(c.Reason, "B15") {
		t.Fatalf("reprovision check: %+v", c)
	}
	run, _ = requestLines(t, "okta-oin", faketarget.New(faketarget.Options{Token: goldenToken}), 40, 2)
	if c := check(run, "SIM-OKTA-REPROVISION"); c == nil || c.Verdict != reports.Pass {
		t.Fatalf("reprovision against a target without externalId uniqueness: %+v", c)
	}
}

// TestOktaRenamesAfterReplaceMembers: the same-name rename follows the
// whole-list replace too (§1.1 row 13).
func TestOktaRenamesAfterReplaceMembers(t *testing.T) {
	_, lines := requestLines(t, "okta-oin", faketarget.New(faketarget.Options{Token: goldenToken}), 6, 3)
	for k, l := range lines {
		if strings.HasPrefix(l, "replace-members PATCH ") {
			if k+1 >= len(lines) || lines[k+1] != "rename-group"+strings.TrimPrefix(l, "replace-members") {
				t.Fatalf("after %q came %q, want the rename", l, lines[min(k+1, len(lines)-1)])
			}
			return
		}
	}
	t.Fatal("no replace-members request")
}
