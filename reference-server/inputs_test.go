package server

import (
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reference-server/store"
)

// incompressible returns n random letters: a value PostgreSQL cannot
// compress below its index entry limit.
func incompressible(n int) string {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + r.IntN(26))
	}
	return string(b)
}

// Indexed values (userName, a Group's displayName, externalId) with a NUL
// or over MaxIndexedBytes are 400 invalidValue naming the attribute, on
// every backend, by POST, PUT, PATCH and Bulk; one at the limit is stored.
func TestIndexedValueRules(t *testing.T) {
	long := incompressible(MaxIndexedBytes + 1)
	atLimit := incompressible(MaxIndexedBytes)
	everyBackend(t, func(t *testing.T, open func(testing.TB) store.Store) {
		e := newEnvOn(t, open(t))
		uid := e.createUser("kept")["id"].(string)
		gid := e.createGroup("Kept")["id"].(string)
		cases := []struct {
			name, method, path string
			body               any
			attr, detail       string
		}{
			{"POST userName NUL", "POST", "/Users", userBody("a\x00b"), "userName", "NUL"},
			{"POST externalId NUL", "POST", "/Users", userBody("nul-ext", "externalId", "x\x00"), "externalId", "NUL"},
			{"POST displayName NUL", "POST", "/Groups", groupBody("g\x00"), "displayName", "NUL"},
			{"POST group externalId NUL", "POST", "/Groups", map[string]any{"schemas": []any{scim.GroupSchema}, "displayName": "G2", "externalId": "\x00"}, "externalId", "NUL"},
			{"PUT userName NUL", "PUT", "/Users/" + uid, userBody("kept\x00"), "userName", "NUL"},
			{"PATCH userName NUL", "PATCH", "/Users/" + uid, patchBody(op("replace", "userName", "k\x00")), "userName", "NUL"},
			{"PATCH externalId NUL", "PATCH", "/Users/" + uid, patchBody(op("add", "externalId", "k\x00")), "externalId", "NUL"},
			{"PATCH displayName NUL", "PATCH", "/Groups/" + gid, patchBody(op("replace", "displayName", "k\x00")), "displayName", "NUL"},
			{"POST userName long", "POST", "/Users", userBody(long), "userName", "2048 bytes"},
			{"POST externalId long", "POST", "/Users", userBody("long-ext", "externalId", long), "externalId", "2048 bytes"},
			{"POST displayName long", "POST", "/Groups", groupBody(long), "displayName", "2048 bytes"},
			{"PUT userName long", "PUT", "/Users/" + uid, userBody(long), "userName", "2048 bytes"},
			{"PATCH userName long", "PATCH", "/Users/" + uid, patchBody(op("replace", "userName", long)), "userName", "2048 bytes"},
			{"PATCH externalId long", "PATCH", "/Groups/" + gid, patchBody(op("add", "externalId", long)), "externalId", "2048 bytes"},
			{"PUT displayName long", "PUT", "/Groups/" + gid, groupBody(long), "displayName", "2048 bytes"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				se := wantError(t, e.do(tc.method, tc.path, tc.body), 400, scim.InvalidValue)
				if !strings.Contains(se.Detail, "'"+tc.attr+"'") || !strings.Contains(se.Detail, tc.detail) {
					t.Errorf("detail %q does not name %s and %q", se.Detail, tc.attr, tc.detail)
				}
			})
		}
		t.Run("bulk", func(t *testing.T) {
			r := e.must(200, "POST", "/Bulk", map[string]any{
				"schemas": []any{scim.BulkRequestSchema},
				"Operations": []any{map[string]any{
					"method": "POST", "path": "/Users", "bulkId": "u", "data": userBody("bulk\x00"),
				}},
			})
			ops, _ := r.obj()["Operations"].([]any)
			if len(ops) != 1 || ops[0].(map[string]any)["status"] != "400" {
				t.Fatalf("bulk POST of a userName with NUL: %s", r)
			}
		})
		t.Run("at the limit", func(t *testing.T) {
			e.must(201, "POST", "/Users", userBody(atLimit, "externalId", atLimit))
			e.must(201, "POST", "/Groups", groupBody(atLimit))
		})
	})
}

// An id that is not valid UTF-8 or holds a NUL names no resource: 404 in a
// path, an unknown member in a member list, an empty result in a filter.
func TestUnstorableIDs(t *testing.T) {
	everyBackend(t, func(t *testing.T, open func(testing.TB) store.Store) {
		e := newEnvOn(t, open(t))
		uid := e.createUser("someone")["id"].(string)
		gid := e.createGroup("Team", uid)["id"].(string)
		for _, ep := range []string{"/Users/", "/Groups/"} {
			for _, id := range []string{"%FF", "%00", "%C3%28", "a%00b"} {
				for _, m := range []string{"GET", "PUT", "PATCH", "DELETE"} {
					var body any
					switch m {
					case "PUT":
						body = userBody("someone")
						if ep == "/Groups/" {
							body = groupBody("Team")
						}
					case "PATCH":
						body = patchBody(op("replace", "externalId", "x"))
					}
					wantError(t, e.do(m, ep+id, body), 404, "")
				}
			}
		}
		for _, v := range []string{"a\x00b", "\x00"} {
			wantError(t, e.do("PATCH", "/Groups/"+gid, patchBody(op("add", "members", []any{map[string]any{"value": v}}))), 400, scim.InvalidValue)
			wantError(t, e.do("POST", "/Groups", groupBody("Other", v)), 400, scim.InvalidValue)
			e.must(200, "PATCH", "/Groups/"+gid, patchBody(op("remove", `members[value eq "`+strings.ReplaceAll(v, "\x00", `\u0000`)+`"]`, nil)))
		}
		g := e.must(200, "GET", "/Groups/"+gid, nil).obj()
		if ms := memberValues(g); len(ms) != 1 || ms[0] != uid {
			t.Fatalf("members = %v, want [%s]", ms, uid)
		}
		filters := map[string][]string{
			"/Users":  {`externalId eq "a\u0000b"`, `id eq "a\u0000b"`, `groups.value eq "a\u0000b"`, `userName eq "some\u0000one"`},
			"/Groups": {`displayName eq "Te\u0000am"`, `externalId eq "\u0000"`, `members.value eq "a\u0000b"`, `members[value eq "\u0000"]`, `id eq "\u0000"`},
		}
		for ep, fs := range filters {
			for _, f := range fs {
				r := e.must(200, "GET", ep+"?filter="+url.QueryEscape(f), nil)
				if total, _ := listOf(t, r); total != 0 {
					t.Errorf("GET %s filter %s: %d results, want none", ep, f, total)
				}
			}
		}
	})
}
