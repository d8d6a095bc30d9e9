package all

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/suites/framework"
)

// absUserLocation is an absolute URL of a user, in a Location header or a
// JSON "location" value.
var absUserLocation = regexp.MustCompile(`https?://[^"\s]*/Users/`)

// startShapes starts the strict reference server behind a proxy that
// answers the way a server built on a SCIM library (elimity-com/scim, audit
// J) does where the RFC leaves room, or where it is wrong:
//
//   - the Location header and meta.location of a user are relative
//     references, "Users/<id>" (RFC 9110 §10.2.2, RFC 7643 §2.3.7: allowed);
//   - every POST …/.search is 501 Not Implemented with a SCIM error (RFC
//     7644 §3.4.3 makes /.search optional, §3.12 gives 501 for it); in mode
//     "toomany" only the root POST /.search is refused, with 400 tooMany
//     (§3.12: allowed for a search too broad), and the rest passes through;
//   - itemsPerPage is the count asked for (100 when none, or not positive),
//     not the number of resources on the page (RFC 7644 §3.4.2: wrong);
//   - a user read by id has no groups attribute (RFC 7643 §4.1.2: optional);
//   - the ServiceProviderConfig declares changePassword unsupported, while a
//     PATCH of password is still answered 200.
func startShapes(t *testing.T, mode string) (baseURL, token string) {
	t.Helper()
	local, up := startUpstream(t, false)
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: up.Scheme, Host: up.Host})
	rp.ModifyResponse = func(resp *http.Response) error {
		if mode == "toomany" {
			return nil
		}
		r := resp.Request
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); loc != "" {
			resp.Header.Set("Location", absUserLocation.ReplaceAllString(loc, "Users/"))
		}
		body = absUserLocation.ReplaceAllFunc(body, func([]byte) []byte { return []byte("Users/") })
		var doc map[string]any
		if json.Unmarshal(body, &doc) == nil {
			changed := false
			if _, ok := doc["itemsPerPage"]; ok && r.Method == http.MethodGet {
				doc["itemsPerPage"], changed = countAsked(r, 100), true
			}
			if _, ok := doc["groups"]; ok && strings.Contains(r.URL.Path, "/Users/") {
				delete(doc, "groups")
				changed = true
			}
			if cp, ok := doc["changePassword"].(map[string]any); ok && strings.HasSuffix(r.URL.Path, "/ServiceProviderConfig") {
				cp["supported"], changed = false, true
			}
			if changed {
				body, _ = json.Marshal(doc)
			}
		}
		setBody(resp, body)
		return nil
	}
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/.search") {
			root := strings.TrimSuffix(r.URL.Path, "/.search") == up.Path
			switch {
			case mode == "toomany" && root:
				scimError(w, http.StatusBadRequest, string(scim.TooMany), "a search of every resource type is too broad")
				return
			case mode != "toomany":
				scimError(w, http.StatusNotImplemented, "", "Search is not supported for this resource type.")
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	return proxy.URL + up.Path, local.Token
}

// setBody replaces a proxied response's body.
func setBody(resp *http.Response, body []byte) {
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
}

// countAsked is the count a request asked for, or dflt when it asked for
// none or for one that is not positive: what a library that echoes it as
// itemsPerPage answers.
func countAsked(r *http.Request, dflt int) int {
	n, err := strconv.Atoi(r.URL.Query().Get("count"))
	if err != nil || n <= 0 {
		return dflt
	}
	return n
}

// checksByID indexes a run's checks by ID.
func checksByID(run *reports.Run) map[string]reports.Check {
	m := make(map[string]reports.Check, len(run.Checks))
	for _, c := range run.Checks {
		m[c.ID] = c
	}
	return m
}

// shapesChild runs the suite in a child process of the given mode (not in
// a child itself, nor under -short) and returns its report, its output and
// a want that checks one check's verdict and reason.
func shapesChild(t *testing.T, mode string) (*reports.Run, string, func(string, reports.Verdict, ...string)) {
	t.Helper()
	if os.Getenv(envChild) != "" {
		t.Skip("child process")
	}
	if testing.Short() {
		t.Skip("runs part of the suite again")
	}
	run, out, _ := runChild(t, mode)
	byID := checksByID(run)
	return run, out, func(id string, v reports.Verdict, reason ...string) {
		t.Helper()
		wantVerdict(t, byID, id, v, reason...)
	}
}

// wantVerdict fails t unless check id ran with verdict v and a reason
// holding every one of reason.
func wantVerdict(t *testing.T, byID map[string]reports.Check, id string, v reports.Verdict, reason ...string) {
	t.Helper()
	c, ok := byID[id]
	if !ok {
		t.Errorf("%s did not run", id)
		return
	}
	if c.Verdict != v {
		t.Errorf("%s is %s (%s), want %s", id, c.Verdict, c.Reason, v)
	}
	for _, r := range reason {
		if !strings.Contains(c.Reason, r) {
			t.Errorf("%s: reason %q lacks %q", id, c.Reason, r)
		}
	}
}

func scimError(w http.ResponseWriter, status int, scimType, detail string) {
	doc := map[string]any{"schemas": []string{scim.ErrorSchema}, "status": strconv.Itoa(status), "detail": detail}
	if scimType != "" {
		doc["scimType"] = scimType
	}
	w.Header().Set("Content-Type", scim.MediaType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(doc)
}

// TestLibraryShapes runs the user, group, paging and search checks against the
// shapes of startShapes: what the RFC allows passes or is skipped with the
// reason (relative locations, /.search not implemented, a password change
// that cannot be read back), and what it does not (itemsPerPage that is not
// the size of the page) fails.
func TestLibraryShapes(t *testing.T) {
	run, out, want := shapesChild(t, "shapes")
	// Relative Location and meta.location name the user: RFC 9110 §10.2.2,
	// RFC 7643 §2.3.7.
	want("USR-003", reports.Pass)
	want("USR-004", reports.Pass)
	// So does a Bulk operation's relative location.
	for _, id := range []string{"BLK-001", "BLK-002", "BLK-009"} {
		want(id, reports.Pass)
	}
	// /.search answered 501: its checks are skipped, naming the 501.
	for _, id := range []string{"SRC-001", "SRC-002", "SRC-003", "SRC-004", "SRC-005", "SRC-006", "SRC-007", "SRC-009", "SRC-010", "PAG-018"} {
		want(id, reports.Skipped, framework.SearchUnsupportedPrefix+"501 Not Implemented", "Search is not supported for this resource type.")
	}
	want("SRC-008", reports.Pass)
	// itemsPerPage must count the page, on partial and empty pages: one
	// check says so; the checks of other things pass.
	want("PAG-019", reports.Fail, "itemsPerPage")
	for _, id := range []string{"PAG-001", "PAG-002", "PAG-003", "PAG-005", "PAG-007", "PAG-009", "PAG-010", "PAG-014", "PAG-016"} {
		want(id, reports.Pass)
	}
	// User.groups not returned is no failure; returned, it is checked.
	want("GRP-030", reports.Skipped, "does not return User.groups")
	// An accepted password change declared unsupported proves nothing.
	want("USR-071", reports.Skipped, "accepted a password change it declares unsupported", "cannot be read back")
	for _, c := range run.Checks {
		if (c.Area == "users" || c.Area == "groups") && c.Verdict.Failing() {
			t.Errorf("users check %s is %s: %s", c.ID, c.Verdict, c.Reason)
		}
		if c.Verdict == reports.UnsupportedButWorks {
			t.Errorf("%s is unsupported-but-works: %s", c.ID, c.Reason)
		}
	}

	// A root search refused as too broad (400 tooMany) is no failure of the
	// MAY check; the other searches pass.
	_, out2, want := shapesChild(t, "toomany")
	out += out2
	want("SRC-003", reports.Skipped, "400 tooMany")
	for _, id := range []string{"SRC-001", "SRC-006", "SRC-007", "SRC-009"} {
		want(id, reports.Pass)
	}
	if t.Failed() {
		t.Logf("child output:\n%s", tail(out, 80))
	}
}

// parenDepth is the deepest nesting of parentheses in a filter, outside
// quoted strings.
func parenDepth(filter string) int {
	depth, max, quoted := 0, 0, false
	for i := 0; i < len(filter); i++ {
		switch ch := filter[i]; {
		case ch == '\\' && quoted:
			i++
		case ch == '"':
			quoted = !quoted
		case ch == '(' && !quoted:
			depth++
			if depth > max {
				max = depth
			}
		case ch == ')' && !quoted:
			depth--
		}
	}
	return max
}

// startScimmy starts the strict reference server behind a proxy that
// answers as the npm SCIMMY library did in audit J2, where it is allowed
// and where it is wrong:
//
//   - GET /Me is 404 with a SCIM error ("Resource admin not found"): /Me is
//     implemented, the token's subject has no User (RFC 7644 §3.11 asks for
//     501 only when the feature is not supported);
//   - a filter with no comparison value (`userName eq`) is answered 200 with
//     an empty list (wrong: FLT-050), so ERR-003's 400 cannot be provoked;
//   - a filter with nested parentheses is 400 invalidFilter (wrong: RFC 7644
//     §3.4.2.2's grammar allows them), while `userName sw … and (…)` with
//     one level is answered;
//   - itemsPerPage is the count asked for (wrong, RFC 7644 §3.4.2);
//   - attributes=… or excludedAttributes naming schemas drops schemas from
//     the resources (wrong, RFC 7643 §3: REQUIRED);
//   - a request-target over 8 KiB has its connection closed with no answer,
//     as Node's 431 sometimes reads (header limit, not the filter parser).
func startScimmy(t *testing.T) (baseURL, token string) {
	t.Helper()
	local, up := startUpstream(t, false)
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: up.Scheme, Host: up.Host})
	rp.ModifyResponse = func(resp *http.Response) error {
		r := resp.Request
		q := r.URL.Query()
		dropSchemas := q.Get("attributes") != "" || strings.Contains(q.Get("excludedAttributes"), "schemas")
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		resp.Body.Close()
		var doc map[string]any
		if json.Unmarshal(body, &doc) == nil {
			if _, ok := doc["itemsPerPage"]; ok && r.Method == http.MethodGet {
				doc["itemsPerPage"] = countAsked(r, 20)
			}
			if dropSchemas && resp.StatusCode < 300 {
				if res, ok := doc["Resources"].([]any); ok {
					for _, r := range res {
						if m, ok := r.(map[string]any); ok {
							delete(m, "schemas")
						}
					}
				} else {
					delete(doc, "schemas")
				}
			}
			body, _ = json.Marshal(doc)
		}
		setBody(resp, body)
		return nil
	}
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.RequestURI) > 8*1024 {
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
		}
		filter := r.URL.Query().Get("filter")
		switch {
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/Me") && r.Header.Get("Authorization") != "":
			scimError(w, http.StatusNotFound, "", "Resource admin not found")
			return
		case r.Method == http.MethodGet && strings.TrimSpace(filter) == "userName eq":
			w.Header().Set("Content-Type", scim.MediaType)
			_ = json.NewEncoder(w).Encode(map[string]any{"schemas": []string{scim.ListResponseSchema}, "totalResults": 0, "Resources": []any{}, "startIndex": 1, "itemsPerPage": 20})
			return
		case parenDepth(filter) >= 2:
			scimError(w, http.StatusBadRequest, string(scim.InvalidFilter), "Unexpected token ')' in filter")
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	return proxy.URL + up.Path, local.Token
}

// TestScimmyShapes runs the /Me, error, filter, paging and projection checks
// against startScimmy (audit J2): what the RFC allows is skipped with the
// reason or passes, each defect fails the checks about it and no other, and
// the check of a long filter is not decided by a header limit.
func TestScimmyShapes(t *testing.T) {
	run, out, want := shapesChild(t, "scimmy")
	// 1. /Me answered 404 with a SCIM error: implemented, no subject.
	want("ME-001", reports.Pass)
	want("ME-004", reports.Pass)
	for _, id := range []string{"ME-002", "ME-003"} {
		want(id, reports.Skipped, "/Me is implemented, but the credential's subject has no resource here: GET /Me answered 404", "Resource admin not found")
	}
	// 2. The 400 leg could not be provoked; the 404 and 409 legs are judged.
	want("ERR-003", reports.Pass)
	want("FLT-050", reports.Fail)
	// 5. A long filter under 8 KiB reaches the filter parser.
	want("ERR-019", reports.Pass)
	// 7. Nested parentheses refused: the checks of not (…) and grouping fail.
	for _, id := range []string{"FLT-021", "FLT-023", "FLT-042"} {
		want(id, reports.Fail, "though it takes `userName sw … and userName pr`")
	}
	for _, id := range []string{"FLT-001", "FLT-006", "FLT-022"} {
		want(id, reports.Pass)
	}
	// 4. A wrong itemsPerPage fails the itemsPerPage check only.
	want("PAG-019", reports.Fail, "itemsPerPage")
	for _, id := range []string{"PAG-002", "PAG-003", "PAG-006", "PAG-007", "PAG-008", "PAG-010", "PAG-011", "PAG-014", "PAG-015", "PAG-016", "PAG-017"} {
		want(id, reports.Pass)
	}
	// 8. schemas dropped by projection.
	want("PRJ-001", reports.Fail, "schemas")
	want("PRJ-008", reports.Fail, "schemas")
	want("PRJ-009", reports.Fail)
	for _, c := range run.Checks {
		if c.Verdict == reports.Error {
			t.Errorf("%s is error: %s", c.ID, c.Reason)
		}
	}
	if t.Failed() {
		t.Logf("child output:\n%s", tail(out, 120))
	}
}
