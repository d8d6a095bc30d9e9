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
				n, err := strconv.Atoi(r.URL.Query().Get("count"))
				if err != nil || n <= 0 {
					n = 100
				}
				doc["itemsPerPage"], changed = n, true
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
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
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

// checksByID indexes a run's checks by ID.
func checksByID(run *reports.Run) map[string]reports.Check {
	m := make(map[string]reports.Check, len(run.Checks))
	for _, c := range run.Checks {
		m[c.ID] = c
	}
	return m
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
	if os.Getenv(envChild) != "" {
		t.Skip("child process")
	}
	if testing.Short() {
		t.Skip("runs part of the suite again")
	}
	run, out, _ := runChild(t, "shapes")
	byID := checksByID(run)
	want := func(id string, v reports.Verdict, reason ...string) {
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
	// itemsPerPage must count the page, on partial and empty pages.
	for _, id := range []string{"PAG-010", "PAG-014", "PAG-016"} {
		want(id, reports.Fail, "itemsPerPage")
	}
	for _, id := range []string{"PAG-001", "PAG-002", "PAG-003", "PAG-005", "PAG-007", "PAG-009"} {
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
	run, out2, _ := runChild(t, "toomany")
	out += out2
	byID = checksByID(run)
	want("SRC-003", reports.Skipped, "400 tooMany")
	for _, id := range []string{"SRC-001", "SRC-006", "SRC-007", "SRC-009"} {
		want(id, reports.Pass)
	}
	if t.Failed() {
		t.Logf("child output:\n%s", tail(out, 80))
	}
}
