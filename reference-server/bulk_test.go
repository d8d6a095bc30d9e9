package server

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/scim"
)

type bulkResp struct {
	Schemas    []string
	Operations []struct {
		Location string          `json:"location"`
		Method   string          `json:"method"`
		BulkID   string          `json:"bulkId"`
		Version  string          `json:"version"`
		Status   json.RawMessage `json:"status"`
		Response json.RawMessage `json:"response"`
	}
}

func bulkReq(failOnErrors int, ops ...map[string]any) map[string]any {
	list := make([]any, len(ops))
	for i, o := range ops {
		list[i] = o
	}
	m := map[string]any{"schemas": []any{scim.BulkRequestSchema}, "Operations": list}
	if failOnErrors > 0 {
		m["failOnErrors"] = failOnErrors
	}
	return m
}

func bop(method, path, bulkID string, data any) map[string]any {
	m := map[string]any{"method": method, "path": path}
	if bulkID != "" {
		m["bulkId"] = bulkID
	}
	if data != nil {
		m["data"] = data
	}
	return m
}

func (e *env) bulk(body any) bulkResp {
	e.t.Helper()
	r := e.must(200, "POST", "/Bulk", body)
	var br bulkResp
	if err := json.Unmarshal(r.Body, &br); err != nil {
		e.t.Fatalf("bulk response %s: %v", r.Body, err)
	}
	if len(br.Schemas) != 1 || br.Schemas[0] != scim.BulkResponseSchema {
		e.t.Errorf("schemas %v", br.Schemas)
	}
	return br
}

func statusOf(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("status %s is not a string", raw)
	}
	return s
}

func TestBulkReferences(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnvOn(t, b.open(t))
			// The group comes first and names users created later (RFC 7644 §3.7.2).
			br := e.bulk(bulkReq(0,
				bop("POST", "/Groups", "g", map[string]any{"schemas": []any{scim.GroupSchema}, "displayName": "Bulk team",
					"members": []any{map[string]any{"value": "bulkId:u1", "type": "User"}, map[string]any{"value": "bulkId:u2"}}}),
				bop("POST", "/Users", "u1", userBody("b1@example.test")),
				bop("POST", "/Users", "u2", userBody("b2@example.test")),
				bop("PATCH", "/Users/bulkId:u1", "", patchBody(op("replace", "title", "Lead"))),
			))
			if len(br.Operations) != 4 {
				t.Fatalf("%d results", len(br.Operations))
			}
			for i, o := range br.Operations {
				st := statusOf(t, o.Status)
				want := []string{"201", "201", "201", "200"}[i]
				if st != want || o.Location == "" || o.Version == "" {
					t.Errorf("op %d: status %s location %q version %q response %s", i, st, o.Location, o.Version, o.Response)
				}
			}
			if br.Operations[0].BulkID != "g" || br.Operations[0].Method != "POST" {
				t.Errorf("op 0 = %+v", br.Operations[0])
			}
			gid := br.Operations[0].Location[strings.LastIndex(br.Operations[0].Location, "/")+1:]
			u1 := br.Operations[1].Location[strings.LastIndex(br.Operations[1].Location, "/")+1:]
			u2 := br.Operations[2].Location[strings.LastIndex(br.Operations[2].Location, "/")+1:]
			got := memberValues(e.must(200, "GET", "/Groups/"+gid, nil).obj())
			if !slices.Equal(got, []string{u1, u2}) {
				t.Errorf("members %v, want %v", got, []string{u1, u2})
			}
			if e.must(200, "GET", "/Users/"+u1, nil).obj()["title"] != "Lead" {
				t.Error("PATCH through bulkId path not applied")
			}
			// PUT and DELETE, with version (u2 is at 2: joining the group
			// changed its groups).
			br = e.bulk(bulkReq(0,
				map[string]any{"method": "PUT", "path": "/Users/" + u2, "version": `W/"2"`, "data": userBody("b2@example.test", "title", "x")},
				map[string]any{"method": "DELETE", "path": "/Users/" + u1, "version": `W/"9"`},
				bop("DELETE", "/Groups/"+gid, "", nil),
			))
			if s := []string{statusOf(t, br.Operations[0].Status), statusOf(t, br.Operations[1].Status), statusOf(t, br.Operations[2].Status)}; !slices.Equal(s, []string{"200", "412", "204"}) {
				t.Errorf("statuses %v", s)
			}
		})
	}
}

func TestBulkErrors(t *testing.T) {
	e := newEnv(t)
	// failOnErrors=1: processing stops after the first error.
	br := e.bulk(bulkReq(1,
		bop("POST", "/Users", "a", userBody("dup@example.test")),
		bop("POST", "/Users", "b", userBody("dup@example.test")),
		bop("POST", "/Users", "c", userBody("c@example.test")),
	))
	if len(br.Operations) != 2 || statusOf(t, br.Operations[1].Status) != "409" {
		t.Fatalf("failOnErrors: %+v", br.Operations)
	}
	var se scim.Error
	if err := json.Unmarshal(br.Operations[1].Response, &se); err != nil || se.ScimType != scim.Uniqueness {
		t.Errorf("response %s", br.Operations[1].Response)
	}
	// Without failOnErrors every operation runs; errors are per operation.
	br = e.bulk(bulkReq(0,
		bop("POST", "/Users", "x", map[string]any{"schemas": []any{scim.UserSchema}}),
		bop("POST", "/Users", "", userBody("nobulkid@example.test")),
		bop("GET", "/Users", "g", nil),
		bop("POST", "/Groups", "y", groupBody("G", "bulkId:undefined")),
		bop("POST", "/Groups", "z", groupBody("Z", "bulkId:x")),
		bop("POST", "/Users", "ok", userBody("ok@example.test")),
		bop("POST", "/Schemas", "s", map[string]any{}),
	))
	want := []string{"400", "400", "400", "400", "409", "201", "400"}
	var got []string
	for _, o := range br.Operations {
		got = append(got, statusOf(t, o.Status))
	}
	if !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	// Circular references: 409 on each.
	e2 := newEnv(t, func(p *profile.Profile, _ *Config) { p.NestedGroups = profile.Allow })
	br = e2.bulk(bulkReq(0,
		bop("POST", "/Groups", "A", map[string]any{"schemas": []any{scim.GroupSchema}, "displayName": "A", "members": []any{map[string]any{"value": "bulkId:B", "type": "Group"}}}),
		bop("POST", "/Groups", "B", map[string]any{"schemas": []any{scim.GroupSchema}, "displayName": "B", "members": []any{map[string]any{"value": "bulkId:A", "type": "Group"}}}),
		bop("POST", "/Users", "U", userBody("cyc@example.test")),
	))
	got = nil
	for _, o := range br.Operations {
		got = append(got, statusOf(t, o.Status))
	}
	if !slices.Equal(got, []string{"409", "409", "201"}) {
		t.Errorf("circular: %v", got)
	}
	// A self-reference is refused too.
	br = e2.bulk(bulkReq(0, bop("POST", "/Groups", "S", groupBody("Self", "bulkId:S"))))
	if statusOf(t, br.Operations[0].Status) != "409" {
		t.Errorf("self reference: %s", br.Operations[0].Status)
	}
}

func TestBulkLimits(t *testing.T) {
	e := newEnv(t, func(p *profile.Profile, _ *Config) { p.Bulk.MaxOperations = 2; p.Bulk.MaxPayloadSize = 4096 })
	ops := []map[string]any{}
	for i := range 3 {
		ops = append(ops, bop("POST", "/Users", fmt.Sprint(i), userBody(fmt.Sprintf("l%d@example.test", i))))
	}
	se := wantError(t, e.do("POST", "/Bulk", bulkReq(0, ops...)), 413, "")
	if !strings.Contains(se.Detail, "maxOperations") {
		t.Errorf("detail %q", se.Detail)
	}
	big := bulkReq(0, bop("POST", "/Users", "big", userBody(strings.Repeat("x", 5000))))
	se = wantError(t, e.do("POST", "/Bulk", big), 413, "")
	if !strings.Contains(se.Detail, "maxPayloadSize") {
		t.Errorf("detail %q", se.Detail)
	}
	wantError(t, e.do("POST", "/Bulk", map[string]any{"schemas": []any{scim.BulkRequestSchema}}), 400, scim.InvalidSyntax)
	e.bulk(map[string]any{"schemas": []any{scim.BulkRequestSchema}, "Operations": []any{}})
	wantError(t, e.do("POST", "/Bulk", map[string]any{"schemas": []any{scim.BulkRequestSchema}, "failOnErrors": 0, "Operations": []any{}}), 400, scim.InvalidValue)

	off := newEnv(t, func(p *profile.Profile, _ *Config) { p.Bulk.Supported = false })
	wantError(t, off.do("POST", "/Bulk", bulkReq(0)), 501, "")
	spc := off.must(200, "GET", "/ServiceProviderConfig", nil).obj()
	if spc["bulk"].(map[string]any)["supported"] != false {
		t.Errorf("SPC bulk %v", spc["bulk"])
	}
}

// TestBulkLocations: every result carries the resource's location except a
// failed POST's (RFC 7644 §3.7: "location ... REQUIRED in a response, except
// in the event of a POST failure"), so a client can tell which of several
// untagged operations failed.
func TestBulkLocations(t *testing.T) {
	e := newEnv(t)
	created := e.createUser("loc@example.test")
	u := created["id"].(string)
	base := strings.TrimSuffix(created["meta"].(map[string]any)["location"].(string), "/Users/"+u)
	gone := e.createUser("gone@example.test")["id"].(string)
	br := e.bulk(bulkReq(0,
		map[string]any{"method": "PATCH", "path": "/Users/" + u, "version": `W/"99"`, "data": patchBody(op("replace", "title", "x"))},
		bop("PUT", "/Users/nope", "", userBody("nope@example.test")),
		bop("DELETE", "/Users/"+gone, "", nil),
		bop("PATCH", "/Users/bulkId:undefined", "", patchBody(op("replace", "title", "x"))),
		bop("POST", "/Users", "dup", userBody("loc@example.test")),
		bop("DELETE", "/Users/nope?x=1", "", nil),
	))
	want := []struct{ status, loc string }{
		{"412", base + "/Users/" + u},
		{"404", base + "/Users/nope"},
		{"204", base + "/Users/" + gone},
		{"400", base + "/Users/bulkId:undefined"},
		{"409", ""},
		{"404", base + "/Users/nope"},
	}
	if len(br.Operations) != len(want) {
		t.Fatalf("%d results", len(br.Operations))
	}
	for i, w := range want {
		o := br.Operations[i]
		if st := statusOf(t, o.Status); st != w.status || o.Location != w.loc {
			t.Errorf("op %d (%s): status %s location %q, want %s %q", i, o.Method, st, o.Location, w.status, w.loc)
		}
	}
}

// TestBulkReferenceInPatchFilter: a bulkId quoted in a PATCH path's value
// filter is replaced too (RFC 7644 §3.7.2), and orders the PATCH after the
// POST that defines it; an undefined one is refused, not silently ignored
// (a 200 that changes nothing is idp-traffic.md B13).
func TestBulkReferenceInPatchFilter(t *testing.T) {
	e := newEnv(t)
	keep := e.createUser("keep@example.test")["id"].(string)
	gid := e.createGroup("Filtered", keep)["id"].(string)
	br := e.bulk(bulkReq(0,
		bop("PATCH", "/Groups/"+gid, "", patchBody(op("add", "members", []any{map[string]any{"value": "bulkId:m"}}))),
		bop("POST", "/Users", "m", userBody("m@example.test")),
		bop("PATCH", "/Groups/"+gid, "", patchBody(op("remove", `members[value eq "bulkId:m"]`, nil))),
		bop("PATCH", "/Groups/"+gid, "", patchBody(op("remove", `members[value eq "bulkId:nobody"]`, nil))),
	))
	var got []string
	for _, o := range br.Operations {
		got = append(got, statusOf(t, o.Status))
	}
	if len(got) != 4 || got[0][0] != '2' || got[1] != "201" || got[2][0] != '2' || got[3] != "400" {
		t.Fatalf("statuses %v (last: %s)", got, br.Operations[len(br.Operations)-1].Response)
	}
	if members := memberValues(e.must(200, "GET", "/Groups/"+gid, nil).obj()); !slices.Equal(members, []string{keep}) {
		t.Errorf("members %v, want only %s: the member added by bulkId was not removed by it", members, keep)
	}
	// Refused for its undefined filter reference, the PATCH still names the
	// group it addressed, which the request's POST created.
	br = e.bulk(bulkReq(0,
		bop("PATCH", "/Groups/bulkId:g2", "", patchBody(op("remove", `members[value eq "bulkId:undefinedX"]`, nil))),
		bop("POST", "/Groups", "g2", groupBody("G2")),
	))
	if statusOf(t, br.Operations[0].Status) != "400" || statusOf(t, br.Operations[1].Status) != "201" || br.Operations[0].Location != br.Operations[1].Location {
		t.Errorf("refused PATCH: status %s location %q; the group's POST: %s %q", br.Operations[0].Status, br.Operations[0].Location, br.Operations[1].Status, br.Operations[1].Location)
	}
}
