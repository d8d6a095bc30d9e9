// Package faketarget is a small in-memory SCIM target for the simulator's
// tests: deterministic ids ("u0001", "g0001"), no timestamps unless asked
// for (then deterministic ones), and switches for the strict readings that
// real IdP dialects trip over. It is not a SCIM
// implementation; the reference server is.
package faketarget

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Options choose how strict the target is.
type Options struct {
	// Token is the bearer token it requires ("" accepts any).
	Token string
	// StrictOps refuses PATCH op names that are not lower-case (B3).
	StrictOps bool
	// StrictBooleans refuses "True"/"False" strings for active (B2).
	StrictBooleans bool
	// LiteralRemove reads a remove of "members" with a value list as "remove
	// every member", as RFC 7644 §3.5.2.2 literally says (B6).
	LiteralRemove bool
	// GroupPatchStatus is the status of a successful group PATCH (default 204).
	GroupPatchStatus int
	// Timestamps sets meta.lastModified on every write: one second after
	// the previous write, from 2024-01-01T00:00:00Z.
	Timestamps bool
	// UniqueExternalID refuses a create whose externalId a user already
	// has with 409, as better-auth did (idp-traffic.md B15).
	UniqueExternalID bool
	// NoUserDelete answers DELETE /Users/{id} with 405.
	NoUserDelete bool
}

// Request is one request as the target received it.
type Request struct {
	Method string
	URI    string
	Header http.Header
	Body   []byte
}

// Target is the fake; it is an http.Handler.
type Target struct {
	opts Options

	mu       sync.Mutex
	next     map[string]int
	docs     map[string]map[string]any // id → resource
	order    []string                  // ids in creation order
	requests []Request
	writes   int
}

// New returns an empty target.
func New(o Options) *Target {
	if o.GroupPatchStatus == 0 {
		o.GroupPatchStatus = http.StatusNoContent
	}
	return &Target{opts: o, next: map[string]int{}, docs: map[string]map[string]any{}}
}

// Requests returns every request received so far, in order.
func (t *Target) Requests() []Request {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Request(nil), t.requests...)
}

// ServeHTTP serves /scim/v2/Users and /scim/v2/Groups.
func (t *Target) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.requests = append(t.requests, Request{Method: r.Method, URI: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body})
	if t.opts.Token != "" && r.Header.Get("Authorization") != "Bearer "+t.opts.Token {
		writeError(w, 401, "", "bad token")
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/scim/v2/")
	if !ok {
		writeError(w, 404, "", "not found")
		return
	}
	kind, id, _ := strings.Cut(rest, "/")
	if r.Method == http.MethodGet && discovery(w, kind, id) {
		return
	}
	if kind != "Users" && kind != "Groups" {
		writeError(w, 404, "", "not found")
		return
	}
	switch {
	case id == "" && r.Method == http.MethodGet:
		t.list(w, r, kind)
	case id == "" && r.Method == http.MethodPost:
		t.create(w, kind, body)
	case id != "":
		doc, ok := t.docs[id]
		if !ok || resourceKind(id) != kind {
			writeError(w, 404, "", "no resource "+id)
			return
		}
		switch r.Method {
		case http.MethodGet:
			write(w, 200, view(doc, r.URL.Query().Get("excludedAttributes")))
		case http.MethodPut:
			t.put(w, id, body)
		case http.MethodPatch:
			t.patch(w, id, doc, body)
		case http.MethodDelete:
			if t.opts.NoUserDelete && kind == "Users" {
				writeError(w, 405, "", "users are not deleted here")
				return
			}
			delete(t.docs, id)
			for k, o := range t.order {
				if o == id {
					t.order = append(t.order[:k], t.order[k+1:]...)
					break
				}
			}
			t.dropMember(id)
			w.WriteHeader(http.StatusNoContent)
		default:
			writeError(w, 405, "", "method not allowed")
		}
	default:
		writeError(w, 405, "", "method not allowed")
	}
}

func resourceKind(id string) string {
	if strings.HasPrefix(id, "u") {
		return "Users"
	}
	return "Groups"
}

func (t *Target) newID(kind string) string {
	t.next[kind]++
	return fmt.Sprintf("%s%04d", strings.ToLower(kind[:1]), t.next[kind])
}

func (t *Target) create(w http.ResponseWriter, kind string, body []byte) {
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		writeError(w, 400, "invalidSyntax", err.Error())
		return
	}
	key := uniqueKey(kind)
	if v, _ := doc[key].(string); v != "" {
		for _, id := range t.order {
			if o, _ := t.docs[id][key].(string); resourceKind(id) == kind && strings.EqualFold(o, v) {
				writeError(w, 409, "uniqueness", key+" is taken")
				return
			}
		}
	}
	if ext, _ := doc["externalId"].(string); ext != "" && t.opts.UniqueExternalID {
		for _, id := range t.order {
			if o, _ := t.docs[id]["externalId"].(string); resourceKind(id) == kind && o == ext {
				writeError(w, 409, "uniqueness", "externalId already exists")
				return
			}
		}
	}
	id := t.newID(kind)
	delete(doc, "password")
	doc["id"] = id
	doc["meta"] = map[string]any{"resourceType": strings.TrimSuffix(kind, "s"), "location": "https://target.test/scim/v2/" + kind + "/" + id}
	t.touch(doc)
	if kind == "Groups" && doc["members"] == nil {
		doc["members"] = []any{}
	}
	t.docs[id] = doc
	t.order = append(t.order, id)
	write(w, 201, doc)
}

func uniqueKey(kind string) string {
	if kind == "Users" {
		return "userName"
	}
	return "displayName"
}

func (t *Target) list(w http.ResponseWriter, r *http.Request, kind string) {
	q := r.URL.Query()
	var clauses []clause
	if f := q.Get("filter"); f != "" {
		var err error
		if clauses, err = parseFilter(f); err != nil {
			writeError(w, 400, "invalidFilter", err.Error())
			return
		}
	}
	var match []map[string]any
	for _, id := range t.order {
		if resourceKind(id) != kind || !matches(t.docs[id], clauses) {
			continue
		}
		doc := t.docs[id]
		match = append(match, view(doc, q.Get("excludedAttributes")))
	}
	start, count := 1, len(match)
	if s, err := strconv.Atoi(q.Get("startIndex")); err == nil && s > 1 {
		start = s
	}
	if c, err := strconv.Atoi(q.Get("count")); err == nil && c >= 0 {
		count = c
	}
	page := []map[string]any{}
	for k := start - 1; k < len(match) && len(page) < count; k++ {
		page = append(page, match[k])
	}
	write(w, 200, map[string]any{
		"schemas":      []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
		"totalResults": len(match),
		"startIndex":   start,
		"itemsPerPage": len(page),
		"Resources":    page,
	})
}

func view(doc map[string]any, excluded string) map[string]any {
	if excluded == "" {
		return doc
	}
	out := map[string]any{}
	for k, v := range doc {
		if !strings.EqualFold(k, excluded) {
			out[k] = v
		}
	}
	return out
}

func (t *Target) put(w http.ResponseWriter, id string, body []byte) {
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		writeError(w, 400, "invalidSyntax", err.Error())
		return
	}
	if msg := t.checkActive(doc["active"]); msg != "" {
		writeError(w, 400, "invalidValue", msg)
		return
	}
	delete(doc, "password")
	doc["id"] = id
	doc["meta"] = t.docs[id]["meta"]
	t.touch(doc)
	t.docs[id] = doc
	write(w, 200, doc)
}

func (t *Target) checkActive(v any) string {
	switch v.(type) {
	case nil, bool:
		return ""
	case string:
		if t.opts.StrictBooleans {
			return "active must be a boolean"
		}
	}
	return ""
}

type operation struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

func (t *Target) patch(w http.ResponseWriter, id string, doc map[string]any, body []byte) {
	var req struct {
		Operations []operation `json:"Operations"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, 400, "invalidSyntax", err.Error())
		return
	}
	next := clone(doc)
	for _, o := range req.Operations {
		if t.opts.StrictOps && o.Op != strings.ToLower(o.Op) {
			writeError(w, 400, "invalidSyntax", "op must be add, remove or replace, got "+o.Op)
			return
		}
		if err := t.apply(next, strings.ToLower(o.Op), o.Path, o.Value); err != "" {
			writeError(w, 400, "invalidValue", err)
			return
		}
	}
	t.touch(next)
	t.docs[id] = next
	if resourceKind(id) == "Groups" && t.opts.GroupPatchStatus == http.StatusNoContent {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	write(w, 200, next)
}

// apply runs one operation on doc and returns an error text, or "".
func (t *Target) apply(doc map[string]any, op, path string, value any) string {
	if path == "" {
		obj, ok := value.(map[string]any)
		if !ok {
			return "a path-less operation needs an object value"
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := t.apply(doc, op, k, obj[k]); err != "" {
				return err
			}
		}
		return ""
	}
	switch {
	case path == "members":
		return t.members(doc, op, value)
	case strings.HasPrefix(path, "members[value eq "):
		v, _ := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(path, "members[value eq "), "]"))
		doc["members"] = without(doc["members"], map[string]bool{v: true})
		return ""
	case path == `emails[type eq "work"].value`:
		list, _ := doc["emails"].([]any)
		for _, e := range list {
			if m, _ := e.(map[string]any); m["type"] == "work" {
				m["value"] = value
				return ""
			}
		}
		doc["emails"] = append(list, map[string]any{"type": "work", "value": value})
		return ""
	case path == "active":
		if msg := t.checkActive(value); msg != "" {
			return msg
		}
		if s, ok := value.(string); ok {
			value = strings.EqualFold(s, "true")
		}
	}
	if op == "remove" {
		delete(doc, path)
		return ""
	}
	if i := strings.LastIndex(path, ":"); i > 0 {
		ext, _ := doc[path[:i]].(map[string]any)
		if ext == nil {
			ext = map[string]any{}
		}
		ext[path[i+1:]] = value
		doc[path[:i]] = ext
		return ""
	}
	if parent, sub, ok := strings.Cut(path, "."); ok {
		obj, _ := doc[parent].(map[string]any)
		if obj == nil {
			obj = map[string]any{}
		}
		obj[sub] = value
		doc[parent] = obj
		return ""
	}
	doc[path] = value
	return ""
}

func (t *Target) members(doc map[string]any, op string, value any) string {
	list, _ := value.([]any)
	switch op {
	case "replace":
		doc["members"] = list
	case "add":
		cur, _ := doc["members"].([]any)
		have := map[string]bool{}
		for _, m := range cur {
			have[memberValue(m)] = true
		}
		for _, m := range list {
			if v := memberValue(m); !have[v] {
				cur = append(cur, map[string]any{"value": v})
				have[v] = true
			}
		}
		doc["members"] = cur
	case "remove":
		if t.opts.LiteralRemove || list == nil {
			doc["members"] = []any{}
			return ""
		}
		drop := map[string]bool{}
		for _, m := range list {
			drop[memberValue(m)] = true
		}
		doc["members"] = without(doc["members"], drop)
	}
	return ""
}

func memberValue(m any) string {
	o, _ := m.(map[string]any)
	v, _ := o["value"].(string)
	return v
}

func without(members any, drop map[string]bool) []any {
	list, _ := members.([]any)
	out := []any{}
	for _, m := range list {
		if !drop[memberValue(m)] {
			out = append(out, m)
		}
	}
	return out
}

// dropMember removes a deleted user from every group.
func (t *Target) dropMember(id string) {
	for _, gid := range t.order {
		if resourceKind(gid) == "Groups" {
			t.docs[gid]["members"] = without(t.docs[gid]["members"], map[string]bool{id: true})
		}
	}
}

func clone(doc map[string]any) map[string]any {
	b, _ := json.Marshal(doc)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

func write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, scimType, detail string) {
	e := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"}, "status": strconv.Itoa(status), "detail": detail}
	if scimType != "" {
		e["scimType"] = scimType
	}
	write(w, status, e)
}

// clause is one comparison of a filter: attr op value.
type clause struct{ attr, op, value string }

// parseFilter reads the filters the simulator's IdPs send: comparisons
// with eq, sw or gt of a string value, joined by "and".
func parseFilter(f string) ([]clause, error) {
	var out []clause
	for _, part := range strings.Split(f, " and ") {
		attr, rest, ok := strings.Cut(part, " ")
		op, val, ok2 := strings.Cut(rest, " ")
		if !ok || !ok2 || (op != "eq" && op != "sw" && op != "gt") {
			return nil, fmt.Errorf("only eq, sw and gt joined by and are supported: %q", part)
		}
		var v string
		if err := json.Unmarshal([]byte(val), &v); err != nil {
			return nil, err
		}
		out = append(out, clause{attr, op, v})
	}
	return out, nil
}

// matches reports whether doc satisfies every clause: eq and sw without
// case, gt on the text (meta.lastModified timestamps of one format).
func matches(doc map[string]any, cs []clause) bool {
	for _, c := range cs {
		var v string
		if c.attr == "meta.lastModified" {
			meta, _ := doc["meta"].(map[string]any)
			v, _ = meta["lastModified"].(string)
		} else {
			v, _ = doc[c.attr].(string)
		}
		switch c.op {
		case "eq":
			if !strings.EqualFold(v, c.value) {
				return false
			}
		case "sw":
			if !strings.HasPrefix(strings.ToLower(v), strings.ToLower(c.value)) {
				return false
			}
		case "gt":
			if v <= c.value {
				return false
			}
		}
	}
	return true
}

// touch sets doc's meta.lastModified when the target keeps timestamps.
func (t *Target) touch(doc map[string]any) {
	if !t.opts.Timestamps {
		return
	}
	t.writes++
	meta, _ := doc["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		doc["meta"] = meta
	}
	meta["lastModified"] = fmt.Sprintf("2024-01-01T%02d:%02d:%02dZ", t.writes/3600%24, t.writes/60%60, t.writes%60)
}

// discovery answers the discovery endpoints (RFC 7644 §4) with the least
// a client reads, and reports whether the request was one of them.
func discovery(w http.ResponseWriter, kind, id string) bool {
	rt := func(name string) map[string]any {
		return map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"}, "id": name, "name": name,
			"endpoint": "/" + name + "s", "schema": "urn:ietf:params:scim:schemas:core:2.0:" + name}
	}
	list := func(rs ...any) map[string]any {
		return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"}, "totalResults": len(rs), "Resources": append([]any{}, rs...)}
	}
	switch {
	case kind == "ServiceProviderConfig" && id == "":
		write(w, 200, map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"}, "patch": map[string]any{"supported": true}})
	case kind == "ResourceTypes" && id == "":
		write(w, 200, list(rt("User"), rt("Group")))
	case kind == "ResourceTypes" && (id == "User" || id == "Group"):
		write(w, 200, rt(id))
	case kind == "Schemas" && id == "":
		write(w, 200, list())
	default:
		return false
	}
	return true
}
