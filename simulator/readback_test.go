package simulator

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/simulator/idp"
	"github.com/scimlab/scimlab/simulator/internal/faketarget"
)

// TestReadBackIsNotIdPTraffic: what a run sends under an IdP's User-Agent
// is what that IdP sends. Entra reads groups only with
// excludedAttributes=members (idp-traffic.md §1.2 rows 10 and 11, B10), so
// the end-state read-back, which needs the members, is the simulator's
// own: it carries the User-Agent scimlab-simulator/verify and, like the
// clean-up, is not counted as the IdP's requests.
func TestReadBackIsNotIdPTraffic(t *testing.T) {
	for _, name := range idp.Names() {
		t.Run(name, func(t *testing.T) {
			p, err := idp.LoadIdP(name)
			if err != nil {
				t.Fatal(err)
			}
			ua := ""
			for _, h := range p.Headers {
				if strings.EqualFold(h.Name, "User-Agent") {
					ua = h.Value
				}
			}
			ft := faketarget.New(faketarget.Options{Token: goldenToken})
			srv := httptest.NewServer(ft)
			defer srv.Close()
			run, err := Run(context.Background(), Config{IdP: name, Target: srv.URL + "/scim/v2", Token: goldenToken, Users: 12, Groups: 3, Seed: 4})
			if err != nil {
				t.Fatal(err)
			}
			ours, verify := 0, 0
			for _, rq := range ft.Requests() {
				path, query, _ := strings.Cut(strings.TrimPrefix(rq.URI, "/scim/v2"), "?")
				switch got := strings.Join(rq.Header["User-Agent"], ","); got {
				case ua:
					ours++
					if strings.HasPrefix(name, "entra") && rq.Method == "GET" && strings.HasPrefix(path, "/Groups") && !strings.Contains(query, "excludedAttributes=members") {
						t.Errorf("%s sends %s %s without excludedAttributes=members", name, rq.Method, rq.URI)
					}
				case ownUserAgent(opVerify):
					verify++
					if rq.Method != "GET" {
						t.Errorf("the read-back sent %s %s", rq.Method, rq.URI)
					}
				case ownUserAgent(opCleanup):
				default:
					t.Errorf("%s %s: User-Agent %q", rq.Method, rq.URI, got)
				}
			}
			if verify < 12 {
				t.Errorf("%d requests with the read-back's User-Agent, want one per user and group", verify)
			}
			if c := check(run, p.CheckID(idp.StepEndState)); c == nil || c.Verdict != "pass" {
				t.Errorf("end-state check: %+v", c)
			}
			if counted := countedNote(run); !strings.HasPrefix(counted, fmt.Sprintf("%d requests in ", ours)) {
				t.Errorf("the run counts %q; the target saw %d requests with %s's User-Agent", counted, ours, name)
			}
			for _, op := range run.Operations {
				if op.Operation == string(idp.StepEndState) || op.Operation == opVerify {
					t.Errorf("the read-back is in the IdP's latencies: %+v", op)
				}
			}
		})
	}
}
