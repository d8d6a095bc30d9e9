package all

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/suites/framework"
)

// brokenServer is the reference server behind a proxy that breaks four
// things on purpose: (a) a filter that matches nothing answers 404, (b) the
// count parameter is dropped, (c) error bodies carry status as a number, and
// (d) every userName is lower-cased on the way out.
type brokenServer struct {
	BaseURL string
	Token   string
}

// startUpstream starts the in-process reference server (rfc profile,
// lenient or strict) for a test proxy to stand in front of, and returns it
// and its parsed base URL.
func startUpstream(t *testing.T, lenient bool) (*framework.LocalServer, *url.URL) {
	t.Helper()
	local, err := LocalStarter(context.Background(), "rfc", lenient)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = local.Close() })
	up, err := url.Parse(local.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	return local, up
}

func startBroken(t *testing.T) brokenServer {
	t.Helper()
	local, up := startUpstream(t, false)
	var proxyHost string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		hasFilter := q.Get("filter") != ""
		q.Del("count") // (b)
		u := *r.URL
		u.Scheme, u.Host, u.RawQuery = up.Scheme, up.Host, framework.EncodeQuery(q)
		body, _ := io.ReadAll(r.Body)
		req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		out = bytes.ReplaceAll(out, []byte(up.Host), []byte(proxyHost))
		status := resp.StatusCode
		var doc map[string]any
		if json.Unmarshal(out, &doc) == nil {
			changed := false
			if r.Method == http.MethodGet && hasFilter && status == 200 && doc["totalResults"] == float64(0) { // (a)
				status = http.StatusNotFound
				doc = map[string]any{"schemas": []any{scim.ErrorSchema}, "status": "404", "detail": "no resource matches the filter"}
				changed = true
			}
			if s, ok := doc["status"].(string); ok && isErrorDoc(doc) { // (c)
				if n, err := strconv.Atoi(s); err == nil {
					doc["status"] = n
					changed = true
				}
			}
			if lowerUserNames(doc) { // (d)
				changed = true
			}
			if changed {
				out, _ = json.Marshal(doc)
			}
		}
		for k, vs := range resp.Header {
			if strings.EqualFold(k, "Content-Length") {
				continue
			}
			for _, v := range vs {
				w.Header().Add(k, strings.ReplaceAll(v, up.Host, proxyHost))
			}
		}
		w.WriteHeader(status)
		_, _ = w.Write(out)
	}))
	t.Cleanup(proxy.Close)
	pu, _ := url.Parse(proxy.URL)
	proxyHost = pu.Host
	return brokenServer{BaseURL: proxy.URL + up.Path, Token: local.Token}
}

func isErrorDoc(doc map[string]any) bool {
	schemas, _ := doc["schemas"].([]any)
	for _, s := range schemas {
		if s == scim.ErrorSchema {
			return true
		}
	}
	return false
}

// lowerUserNames lower-cases every "userName" string in v.
func lowerUserNames(v any) bool {
	changed := false
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && strings.EqualFold(k, "userName") && s != strings.ToLower(s) {
				x[k] = strings.ToLower(s)
				changed = true
				continue
			}
			if lowerUserNames(e) {
				changed = true
			}
		}
	case []any:
		for _, e := range x {
			if lowerUserNames(e) {
				changed = true
			}
		}
	}
	return changed
}

// brokenMustFail are the checks each break must fail, by break.
var brokenMustFail = map[string][]string{
	"(a) 404 for a filter with no match": {"FLT-030", "IDP-001", "IDP-002", "IDP-010"},
	"(b) count ignored":                  {"PAG-002", "PAG-003", "PAG-010"},
	"(c) status as a number":             {"ERR-002"},
	"(d) userName lower-cased":           {"USR-005"},
}

// brokenMustPass are areas the four breaks do not touch: every check there
// must pass or be skipped exactly as against the unbroken server.
var brokenMustPass = []string{"discovery", "patch", "etag", "projection", "search", "me", "bugpack"}

// TestBrokenServer runs the suite against the broken proxy in a child
// process and checks that exactly the checks aimed at each break fail.
func TestBrokenServer(t *testing.T) {
	if os.Getenv(envChild) != "" {
		t.Skip("child process")
	}
	if testing.Short() {
		t.Skip("runs the whole suite again")
	}
	run, out, _ := runChild(t, "broken")
	byID := map[string]reports.Check{}
	for _, c := range run.Checks {
		byID[c.ID] = c
	}
	for why, ids := range brokenMustFail {
		for _, id := range ids {
			c, ok := byID[id]
			switch {
			case !ok:
				t.Errorf("%s: check %s did not run", why, id)
			case c.Verdict != reports.Fail:
				t.Errorf("%s: check %s is %s, want fail", why, id, c.Verdict)
			}
		}
	}
	unrelated := 0
	for _, c := range run.Checks {
		if !slices.Contains(brokenMustPass, c.Area) {
			continue
		}
		unrelated++
		if c.Verdict.Failing() {
			t.Errorf("unrelated check %s (%s) is %s: %s", c.ID, c.Area, c.Verdict, c.Reason)
		}
	}
	if unrelated < 50 {
		t.Errorf("only %d checks in the unrelated areas ran", unrelated)
	}
	var failed []string
	for _, c := range run.Checks {
		if c.Verdict.Failing() {
			failed = append(failed, c.ID)
		}
	}
	t.Logf("against the broken server %d of %d checks fail: %s", len(failed), len(run.Checks), strings.Join(failed, " "))
	if t.Failed() {
		t.Logf("child output:\n%s", tail(out, 100))
	}
}
