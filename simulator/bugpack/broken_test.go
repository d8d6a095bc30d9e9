package bugpack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/replayer"
)

// brokenServer is a lenient reference server behind a middleware that
// injects one fault: the bug as it was reported against a real server.
type brokenServer struct {
	t     *testing.T
	ref   *server.Local
	proxy *httputil.ReverseProxy
	fault fault

	mu      sync.Mutex
	replica map[string][]any // B19: what a lagging read replica says a group's members are
}

// fault sees each request (body already read) and either answers it itself
// (handled) or returns the body to forward, changed or not.
type fault func(s *brokenServer, w http.ResponseWriter, r *http.Request, body []byte) (forward []byte, handled bool)

// newBroken starts a broken server and returns the target to test; the
// token is the reference server's, which the proxy passes through.
func newBroken(t *testing.T, f fault) replayer.Target {
	ref := startRef(t)
	u, _ := url.Parse(ref.BaseURL)
	s := &brokenServer{t: t, ref: ref, fault: f, replica: map[string][]any{}}
	s.proxy = httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return replayer.Target{BaseURL: srv.URL + server.BasePath, Token: ref.Token}
}

func (s *brokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if s.fault != nil {
		var handled bool
		if body, handled = s.fault(s, w, r, body); handled {
			return
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Del("Content-Length")
	s.proxy.ServeHTTP(w, r)
}

// call sends a request straight to the reference server and decodes the answer.
func (s *brokenServer) call(method, p string, body any) (int, map[string]any) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.ref.BaseURL+p, rd)
	req.Header.Set("Authorization", "Bearer "+s.ref.Token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Errorf("broken server: %s %s: %v", method, p, err)
		return 0, nil
	}
	defer resp.Body.Close()
	var doc map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	return resp.StatusCode, doc
}

func scimError(w http.ResponseWriter, status int, scimType, detail string) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	e := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"}, "status": fmt.Sprint(status), "detail": detail}
	if scimType != "" {
		e["scimType"] = scimType
	}
	_ = json.NewEncoder(w).Encode(e)
}

func writeJSON(w http.ResponseWriter, status int, doc any) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(doc)
}

// resource splits /scim/v2/Groups/abc into ("Groups", "abc").
func resource(r *http.Request) (string, string) {
	rest := strings.TrimPrefix(r.URL.Path, server.BasePath+"/")
	typ, id, _ := strings.Cut(rest, "/")
	return typ, id
}

type patchBody struct {
	Schemas    []string         `json:"schemas"`
	Operations []map[string]any `json:"Operations"`
}

// onPatch runs edit on the operations of a PATCH to typ ("" = any type).
// edit returns the operations to forward; when none are left the server
// answers with the unchanged resource, as the buggy servers did.
func onPatch(typ string, edit func(s *brokenServer, id string, ops []map[string]any) []map[string]any) fault {
	return func(s *brokenServer, w http.ResponseWriter, r *http.Request, body []byte) ([]byte, bool) {
		t, id := resource(r)
		if r.Method != http.MethodPatch || id == "" || (typ != "" && t != typ) {
			return body, false
		}
		var p patchBody
		if json.Unmarshal(body, &p) != nil {
			return body, false
		}
		p.Operations = edit(s, id, p.Operations)
		if len(p.Operations) == 0 {
			status, doc := s.call(http.MethodGet, "/"+t+"/"+id, nil)
			writeJSON(w, status, doc)
			return nil, true
		}
		out, _ := json.Marshal(p)
		return out, false
	}
}

// reject answers every request matching match with a SCIM error.
func reject(match func(r *http.Request, body []byte) bool, status int, scimType, detail string) fault {
	return func(s *brokenServer, w http.ResponseWriter, r *http.Request, body []byte) ([]byte, bool) {
		if match(r, body) {
			scimError(w, status, scimType, detail)
			return nil, true
		}
		return body, false
	}
}

// pathIs reports whether op's path is path (case-insensitive).
func pathIs(op map[string]any, path string) bool {
	p, _ := op["path"].(string)
	return strings.EqualFold(p, path)
}

// opIs reports whether op is the operation name on path ("*": any path, "": none).
func opIs(op map[string]any, name, path string) bool {
	o, _ := op["op"].(string)
	p, _ := op["path"].(string)
	return strings.EqualFold(o, name) && (path == "*" || strings.EqualFold(p, path))
}

func patchOps(r *http.Request, body []byte) []map[string]any {
	if r.Method != http.MethodPatch {
		return nil
	}
	var p patchBody
	_ = json.Unmarshal(body, &p)
	return p.Operations
}

func anyOp(r *http.Request, body []byte, pred func(map[string]any) bool) bool {
	for _, op := range patchOps(r, body) {
		if pred(op) {
			return true
		}
	}
	return false
}

func memberValues(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, m := range list {
		if mm, ok := m.(map[string]any); ok {
			if s, ok := mm["value"].(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

var filteredPath = regexp.MustCompile(`^(\w+)\[type eq "(\w+)"\]`)

// faults holds one injected fault per bug: the behaviour the source reported.
var faults = map[string]fault{
	// B1: dotted keys in a path-less replace are ignored.
	"B01": onPatch("Users", func(s *brokenServer, id string, ops []map[string]any) []map[string]any {
		for _, op := range ops {
			if v, ok := op["value"].(map[string]any); ok && op["path"] == nil {
				for k := range v {
					if strings.Contains(k, ".") {
						delete(v, k)
					}
				}
			}
		}
		return ops
	}),
	// B2: string booleans refused.
	"B02": reject(func(r *http.Request, b []byte) bool {
		return anyOp(r, b, func(op map[string]any) bool {
			_, isString := op["value"].(string)
			return isString && pathIs(op, "active")
		})
	}, 400, "invalidValue", "active must be a boolean"),
	// B3: op must be lower case.
	"B03": reject(func(r *http.Request, b []byte) bool {
		return anyOp(r, b, func(op map[string]any) bool { o, _ := op["op"].(string); return o != strings.ToLower(o) })
	}, 400, "invalidSyntax", "op must be one of add, remove, replace"),
	// B4: only replace may set active.
	"B04": reject(func(r *http.Request, b []byte) bool {
		return anyOp(r, b, func(op map[string]any) bool { return opIs(op, "add", "active") })
	}, 400, "invalidValue", "use replace to change active"),
	// B5: RFC-literal noTarget on a filtered replace that matches nothing.
	"B05": func(s *brokenServer, w http.ResponseWriter, r *http.Request, body []byte) ([]byte, bool) {
		typ, id := resource(r)
		for _, op := range patchOps(r, body) {
			p, _ := op["path"].(string)
			m := filteredPath.FindStringSubmatch(p)
			if m == nil || !opIs(op, "replace", p) {
				continue
			}
			_, doc := s.call(http.MethodGet, "/"+typ+"/"+id, nil)
			found := false
			list, _ := doc[m[1]].([]any)
			for _, e := range list {
				if em, ok := e.(map[string]any); ok && em["type"] == m[2] {
					found = true
				}
			}
			if !found {
				scimError(w, 400, "noTarget", p+" matches no value")
				return nil, true
			}
		}
		return body, false
	},
	// B6: a value list on remove members is ignored: every member goes.
	"B06": onPatch("Groups", func(s *brokenServer, id string, ops []map[string]any) []map[string]any {
		for _, op := range ops {
			if opIs(op, "remove", "members") {
				delete(op, "value")
			}
		}
		return ops
	}),
	// B7: single-valued attributes want a list of {value}.
	"B07": reject(func(r *http.Request, b []byte) bool {
		return anyOp(r, b, func(op map[string]any) bool {
			_, isString := op["value"].(string)
			return isString && opIs(op, "replace", "displayName")
		})
	}, 400, "invalidValue", "value must be an array of {value}"),
	// B9: no filtering on group displayName.
	"B09": reject(func(r *http.Request, b []byte) bool {
		typ, id := resource(r)
		return r.Method == http.MethodGet && typ == "Groups" && id == "" && strings.Contains(r.URL.Query().Get("filter"), "displayName")
	}, 400, "invalidFilter", "filtering groups is not supported"),
	// B11: members without type are dropped, and the answer is still 200.
	"B11": onPatch("Groups", func(s *brokenServer, id string, ops []map[string]any) []map[string]any {
		var keep []map[string]any
		for _, op := range ops {
			if opIs(op, "add", "members") {
				var typed []any
				for _, m := range op["value"].([]any) {
					if mm, _ := m.(map[string]any); mm["type"] != nil {
						typed = append(typed, m)
					}
				}
				if len(typed) == 0 {
					continue
				}
				op["value"] = typed
			}
			keep = append(keep, op)
		}
		return keep
	}),
	// B12: only add and remove on members.
	"B12": reject(func(r *http.Request, b []byte) bool {
		return anyOp(r, b, func(op map[string]any) bool { return opIs(op, "replace", "members") })
	}, 400, "invalidSyntax", "replace is not supported on members"),
	// B13: a filtered remove answers 200 and is not applied.
	"B13": onPatch("Groups", func(s *brokenServer, id string, ops []map[string]any) []map[string]any {
		keep := []map[string]any{}
		for _, op := range ops {
			if p, _ := op["path"].(string); opIs(op, "remove", "*") && strings.HasPrefix(p, "members[") {
				continue
			}
			keep = append(keep, op)
		}
		return keep
	}),
	// B14: a PUT's displayName conflicts with the group itself.
	"B14": reject(func(r *http.Request, b []byte) bool {
		typ, id := resource(r)
		return r.Method == http.MethodPut && typ == "Groups" && id != ""
	}, 409, "uniqueness", "displayName already exists"),
	// B15: externalId treated as unique, inactive users included.
	"B15": func(s *brokenServer, w http.ResponseWriter, r *http.Request, body []byte) ([]byte, bool) {
		typ, id := resource(r)
		var u map[string]any
		if r.Method != http.MethodPost || typ != "Users" || id != "" || json.Unmarshal(body, &u) != nil || u["externalId"] == nil {
			return body, false
		}
		_, list := s.call(http.MethodGet, "/Users?filter="+url.QueryEscape(fmt.Sprintf("externalId eq %q", u["externalId"])), nil)
		if n, _ := list["totalResults"].(float64); n > 0 {
			scimError(w, 409, "uniqueness", "SCIM User externalId already exists")
			return nil, true
		}
		return body, false
	},
	// B16: deduplication on email: 409 for a create whose email another account has.
	"B16": func(s *brokenServer, w http.ResponseWriter, r *http.Request, body []byte) ([]byte, bool) {
		typ, id := resource(r)
		var u struct{ Emails []struct{ Value string } }
		if r.Method != http.MethodPost || typ != "Users" || id != "" || json.Unmarshal(body, &u) != nil {
			return body, false
		}
		for _, e := range u.Emails {
			_, list := s.call(http.MethodGet, "/Users?filter="+url.QueryEscape(fmt.Sprintf("emails.value eq %q", e.Value)), nil)
			if n, _ := list["totalResults"].(float64); n > 0 {
				scimError(w, 409, "", "a user with this email already exists")
				return nil, true
			}
		}
		return body, false
	},
	// B17: a case-sensitive userName check lets a case variant in as a second user.
	"B17": func(s *brokenServer, w http.ResponseWriter, r *http.Request, body []byte) ([]byte, bool) {
		typ, id := resource(r)
		var u map[string]any
		if r.Method != http.MethodPost || typ != "Users" || id != "" || json.Unmarshal(body, &u) != nil {
			return body, false
		}
		name, _ := u["userName"].(string)
		_, list := s.call(http.MethodGet, "/Users?filter="+url.QueryEscape(fmt.Sprintf("userName eq %q", name)), nil)
		res, _ := list["Resources"].([]any)
		for _, e := range res {
			if other, _ := e.(map[string]any)["userName"].(string); other != name {
				u["userName"] = name + ".case" // the reference server would refuse it otherwise
				b, _ := json.Marshal(u)
				return b, false
			}
		}
		return body, false
	},
	// B18: re-adding a member is a 409.
	"B18": func(s *brokenServer, w http.ResponseWriter, r *http.Request, body []byte) ([]byte, bool) {
		typ, id := resource(r)
		if typ != "Groups" {
			return body, false
		}
		for _, op := range patchOps(r, body) {
			if !opIs(op, "add", "members") {
				continue
			}
			_, g := s.call(http.MethodGet, "/Groups/"+id, nil)
			have := map[string]bool{}
			for _, v := range memberValues(g["members"]) {
				have[v] = true
			}
			for _, v := range memberValues(op["value"]) {
				if have[v] {
					scimError(w, 409, "uniqueness", "duplicate reference "+v)
					return nil, true
				}
			}
		}
		return body, false
	},
	// B19: an add is applied as "replace members with (replica's members +
	// the new ones)", and the replica lags one write behind.
	"B19": onPatch("Groups", func(s *brokenServer, id string, ops []map[string]any) []map[string]any {
		s.mu.Lock()
		defer s.mu.Unlock()
		_, g := s.call(http.MethodGet, "/Groups/"+id, nil)
		current, _ := g["members"].([]any)
		stale, ok := s.replica[id]
		if !ok {
			stale = current
		}
		s.replica[id] = current
		out := make([]map[string]any, 0, len(ops))
		for _, op := range ops {
			if opIs(op, "add", "members") {
				vals, _ := op["value"].([]any)
				merged := append(append([]any{}, stale...), vals...)
				op = map[string]any{"op": "replace", "path": "members", "value": merged}
			}
			out = append(out, op)
		}
		return out
	}),
	// B20: one unknown member fails the whole request (the reference
	// server's own "reject" policy does this too).
	"B20": func(s *brokenServer, w http.ResponseWriter, r *http.Request, body []byte) ([]byte, bool) {
		for _, op := range patchOps(r, body) {
			if !opIs(op, "add", "members") {
				continue
			}
			for _, v := range memberValues(op["value"]) {
				if st, _ := s.call(http.MethodGet, "/Users/"+url.PathEscape(v), nil); st == http.StatusNotFound {
					scimError(w, 400, "invalidValue", "Bad Request. Invalid parameters provided in request")
					return nil, true
				}
			}
		}
		return body, false
	},
	// B21: any path-less replace on a group also replaces members with [].
	"B21": onPatch("Groups", func(s *brokenServer, id string, ops []map[string]any) []map[string]any {
		for _, op := range ops {
			if opIs(op, "replace", "") {
				ops = append(ops, map[string]any{"op": "replace", "path": "members", "value": []any{}})
				break
			}
		}
		return ops
	}),
	// B22: no PATCH on groups.
	"B22": reject(func(r *http.Request, b []byte) bool {
		typ, _ := resource(r)
		return r.Method == http.MethodPatch && typ == "Groups"
	}, 405, "", "method not allowed"),
	// B23: PATCH is not implemented and crashes.
	"B23": reject(func(r *http.Request, b []byte) bool {
		typ, _ := resource(r)
		return r.Method == http.MethodPatch && typ == "Users"
	}, 500, "", "internal error"),
	// B24: replace members [] answers 200 and changes nothing.
	"B24": onPatch("Groups", func(s *brokenServer, id string, ops []map[string]any) []map[string]any {
		keep := []map[string]any{}
		for _, op := range ops {
			if v, _ := op["value"].([]any); opIs(op, "replace", "members") && len(v) == 0 {
				continue
			}
			keep = append(keep, op)
		}
		return keep
	}),
	// B25: PUT ignores active (a PATCH-only server's PUT path).
	"B25": func(s *brokenServer, w http.ResponseWriter, r *http.Request, body []byte) ([]byte, bool) {
		typ, id := resource(r)
		var u map[string]any
		if r.Method != http.MethodPut || typ != "Users" || id == "" || json.Unmarshal(body, &u) != nil {
			return body, false
		}
		_, cur := s.call(http.MethodGet, "/Users/"+id, nil)
		u["active"] = cur["active"]
		b, _ := json.Marshal(u)
		return b, false
	},
}

// chain applies faults in order until one answers.
func chain(fs ...fault) fault {
	return func(s *brokenServer, w http.ResponseWriter, r *http.Request, body []byte) ([]byte, bool) {
		for _, f := range fs {
			var handled bool
			if body, handled = f(s, w, r, body); handled {
				return nil, true
			}
		}
		return body, false
	}
}

// TestEachBugFailsOnAServerWithThatBug replays each bug against a server
// broken with that bug's fault: the check must fail, and on an exchange that
// decides it (one with an expect), not on setup. With
// TestPackPassesOnTheReferenceServer this shows each check fails exactly
// when the server has the bug.
func TestEachBugFailsOnAServerWithThatBug(t *testing.T) {
	bugs := mustLoad(t)
	for _, b := range bugs {
		if faults[b.ID] == nil {
			t.Errorf("%s has no fault: nothing shows that its check can fail", b.ID)
		}
	}
	for _, b := range bugs {
		f := faults[b.ID]
		if f == nil {
			continue
		}
		t.Run(b.ID, func(t *testing.T) {
			t.Parallel()
			if g, ok := knownGaps[b.ID]; ok {
				// Control: with the gap's compat shim alone the bug passes,
				// so the failure below is the fault's.
				run, err := RunBugs(context.Background(), newBroken(t, g.compat), []Bug{b})
				if err != nil {
					t.Fatal(err)
				}
				if c := run.Checks[0]; c.Verdict != reports.Pass {
					t.Fatalf("%s fails even with the compat shim for its known gap: %s", b.ID, c.Reason)
				}
				f = chain(f, g.compat)
			}
			run, err := RunBugs(context.Background(), newBroken(t, f), []Bug{b})
			if err != nil {
				t.Fatal(err)
			}
			c := run.Checks[0]
			if c.ID != b.CheckID() || c.Verdict != reports.Fail {
				t.Fatalf("%s is %s against a server with its bug", c.ID, c.Verdict)
			}
			if strings.Contains(c.Reason, "): setup exchange") {
				t.Errorf("%s failed on setup, not on the exchange that decides it: %s", c.ID, c.Reason)
			}
			if !strings.Contains(c.Reason, b.ID+" (") || !strings.Contains(c.Reason, b.Correct) || len(c.Evidence) == 0 {
				t.Errorf("%s: the reason must name the bug and what a correct server does, with evidence: %q", c.ID, c.Reason)
			}
			t.Logf("%s", c.Reason)
		})
	}
}
