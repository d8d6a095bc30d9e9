package cli

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/suites/all"
)

// TestTargetMustServeSCIM: test or simulate against a URL that serves no
// SCIM (a web server, a wrong path) is one line naming what it tried and exit
// 2, before any check runs; a closed port is exit 3.
func TestTargetMustServeSCIM(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "<html><body>404 Not Found</body></html>")
	}))
	defer web.Close()
	l := startReference(t, server.LocalOptions{})
	v1 := strings.Replace(l.BaseURL, "/scim/v2", "/scim/v1", 1)
	runUsageCases(t, []usageCase{
		{"web server", []string{"test", "--target", web.URL + "/scim/v2", "--token", "x"},
			"no SCIM service at " + web.URL + "/scim/v2: GET " + web.URL + "/scim/v2/ServiceProviderConfig answered 404 (text/html); GET " + web.URL + "/scim/v2/Users?count=1 answered 404 (text/html): check --target"},
		{"wrong version path", []string{"test", "--target", v1, "--token", l.Token}, "answered 404 (no endpoint at /scim/v1/Users; SCIM is served under /scim/v2)"},
		{"refused credential", []string{"test", "--target", l.BaseURL, "--token", "wrong"}, "refused the credential (GET /Users?count=1 answered 401"},
		{"not an http URL", []string{"test", "--target", "ftp://127.0.0.1/scim/v2", "--token", "x"}, "must start with http:// or https://"},
		{"simulate, web server", []string{"simulate", "--target", web.URL + "/scim/v2", "--token", "x"}, "no SCIM service at " + web.URL + "/scim/v2: GET /Users?"},
		{"simulate, wrong version path", []string{"simulate", "--target", v1, "--token", l.Token}, "and GET /Users?count=1 both answered 404: scim 404: no endpoint at /scim/v1/Users; SCIM is served under /scim/v2"},
	})

	closed := "http://" + closedAddr(t) + "/scim/v2"
	if code, _, errs := runCLI(t, "test", "--target", closed, "--token", "x"); code != ExitUnreachable || strings.Count(errs, "\n") != 1 {
		t.Errorf("closed port: exit %d, want 3 and one line: %q", code, errs)
	}
}

// TestPreflightTakesASCIMTargetWithoutDiscovery: a target that serves no
// /ServiceProviderConfig but answers /Users with a ListResponse is a SCIM
// target (the suites assume every feature), as is one whose capabilities
// come from --capabilities.
func TestPreflightTakesASCIMTargetWithoutDiscovery(t *testing.T) {
	l := startReference(t, server.LocalOptions{})
	up, err := http.NewRequest(http.MethodGet, l.BaseURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	noSPC := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/ServiceProviderConfig") {
			http.NotFound(w, r)
			return
		}
		r.URL.Scheme, r.URL.Host, r.RequestURI = up.URL.Scheme, up.URL.Host, ""
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer noSPC.Close()
	base := noSPC.URL + up.URL.Path
	for _, skip := range []bool{false, true} {
		if err := preflight(context.Background(), newProbe(base, l.Token, "", nil, false), skip); err != nil {
			t.Errorf("skip discovery %v: %v", skip, err)
		}
	}
	if err := preflight(context.Background(), newProbe(l.BaseURL, l.Token, "", nil, false), false); err != nil {
		t.Errorf("reference server: %v", err)
	}
	if err := preflight(context.Background(), newProbe(base, "wrong", "", nil, false), false); !errors.Is(err, all.ErrConfig) {
		t.Errorf("wrong token: %v, want ErrConfig", err)
	}
}

// TestPreflightTakesAFailingOrThrottlingSCIMTarget: a target that answers
// every request with a SCIM Error and a 5xx, a 429 or a 4xx such as 400 ("a
// filter is required", a target that only answers lookups) serves SCIM,
// badly or in its own way: the run goes ahead and reports it (exit 1),
// rather than calling --target wrong (exit 2). A 404 SCIM Error stays a
// wrong base path.
func TestPreflightTakesAFailingOrThrottlingSCIMTarget(t *testing.T) {
	for _, tc := range []struct {
		status int
		ok     bool
	}{{500, true}, {503, true}, {429, true}, {400, true}, {501, true}, {404, false}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/scim+json")
			w.WriteHeader(tc.status)
			io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"`+http.StatusText(tc.status)[:0]+`","detail":"boom"}`)
		}))
		err := preflight(context.Background(), newProbe(srv.URL+"/scim/v2", "x", "", nil, false), false)
		srv.Close()
		if (err == nil) != tc.ok || !tc.ok && !errors.Is(err, all.ErrConfig) {
			t.Errorf("SCIM Error %d: preflight %v, want accepted %v", tc.status, err, tc.ok)
		}
	}
}
