package server

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/memory"
)

// withProfile makes an env run the profile q instead of rfc.
func withProfile(q *profile.Profile) envOpt {
	return func(p *profile.Profile, _ *Config) { *p = *q.Clone() }
}

// frozenClock stops the server's clock, so that a rate limit's bucket does
// not refill while a slow (race-detector) run sends its burst.
func frozenClock(_ *profile.Profile, c *Config) {
	t0 := time.Now()
	c.Now = func() time.Time { return t0 }
}

func mustProfile(t testing.TB, name string) *profile.Profile {
	t.Helper()
	p, err := profile.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// outcome summarises a response for the knob table: the status, and the
// scimType of an error.
func outcome(r resp) string {
	if r.Status < 400 {
		return fmt.Sprint(r.Status)
	}
	var se scim.Error
	json.Unmarshal(r.Body, &se)
	if se.ScimType != "" {
		return fmt.Sprintf("%d %s", r.Status, se.ScimType)
	}
	return fmt.Sprint(r.Status)
}

func idOf(t testing.TB, r resp) string {
	t.Helper()
	id, _ := r.obj()["id"].(string)
	if id == "" {
		t.Fatalf("no id in %s", r)
	}
	return id
}

// knob is one behaviour a profile changes: run does the same requests on a
// server with rfc and on one with the profile, and returns what it saw.
type knob struct {
	name          string
	run           func(t *testing.T, e *env) string
	rfc, profiled string
}

// post creates a resource and returns the outcome.
func post(path string, body any, hdr ...string) func(t *testing.T, e *env) string {
	return func(t *testing.T, e *env) string { return outcome(e.do("POST", path, body, hdr...)) }
}

func get(path string, hdr ...string) func(t *testing.T, e *env) string {
	return func(t *testing.T, e *env) string { return outcome(e.do("GET", path, nil, hdr...)) }
}

func long(n int) string { return strings.Repeat("x", n) }

func emailsOf(doc map[string]any) string {
	var out []string
	list, _ := doc["emails"].([]any)
	for _, e := range list {
		out = append(out, e.(map[string]any)["value"].(string))
	}
	return strings.Join(out, ",")
}

// usersN creates n users and returns their ids.
func usersN(t *testing.T, e *env, n int, hdr ...string) []any {
	var out []any
	for i := range n {
		name := fmt.Sprintf("m%03d@x.test", i)
		id := idOf(t, e.must(201, "POST", "/Users", userBody(name, "displayName", name), hdr...))
		out = append(out, map[string]any{"value": id})
	}
	return out
}

func userNames(t *testing.T, r resp) string {
	_, res := listOf(t, r)
	var out []string
	for _, u := range res {
		out = append(out, u["userName"].(string))
	}
	return strings.Join(out, ",")
}

// patchUser creates a user (with the extra attributes), sends it a PATCH
// of ops and returns the outcome and, read back with GET, the attribute
// attr ("emails": their values).
func patchUser(attr string, extra []any, ops ...map[string]any) func(t *testing.T, e *env) string {
	return func(t *testing.T, e *env) string {
		u := e.createUser("pu@x.test", append([]any{"displayName", "PU"}, extra...)...)
		id := u["id"].(string)
		r := e.do("PATCH", "/Users/"+id, patchBody(ops...))
		doc := e.must(200, "GET", "/Users/"+id, nil).obj()
		if attr == "emails" {
			return outcome(r) + " " + emailsOf(doc)
		}
		return outcome(r) + " " + fmt.Sprint(doc[attr])
	}
}

// putUser creates a user and replaces it with userBody plus extra.
func putUser(extra ...any) func(t *testing.T, e *env) string {
	return func(t *testing.T, e *env) string {
		u := e.createUser("pt@x.test", "displayName", "PT")
		return outcome(e.do("PUT", "/Users/"+u["id"].(string), userBody("pt@x.test", append([]any{"displayName", "PT"}, extra...)...)))
	}
}

var entraGroupSchema = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"

// TestProfileKnobs runs, for every shipped profile, one request per knob it
// sets against the real handler with that profile and with rfc, and checks
// both answers: the table shows how each profile differs from rfc.
func TestProfileKnobs(t *testing.T) {
	table := map[string][]knob{
		"alation": {
			{"userName over 150", post("/Users", userBody(long(151))), "201", "400 invalidValue"},
			{"userName at 150", post("/Users", userBody(long(150), "name", map[string]any{"givenName": "G", "familyName": "F"})), "201", "201"},
			{"givenName over 150", post("/Users", userBody("g@x.test", "name", map[string]any{"givenName": long(151), "familyName": "F"})), "201", "400 invalidValue"},
			{"familyName over 150", post("/Users", userBody("f@x.test", "name", map[string]any{"givenName": "G", "familyName": long(151)})), "201", "400 invalidValue"},
			{"email over 254", post("/Users", userBody("e@x.test", "emails", []any{map[string]any{"value": long(250) + "@x.io"}})), "201", "400 invalidValue"},
			{"user displayName over 200", post("/Users", userBody("d@x.test", "displayName", long(201))), "201", "400 invalidValue"},
			{"group displayName over 1000", post("/Groups", groupBody(long(1001))), "201", "400 invalidValue"},
			{"group displayName at 1000", post("/Groups", groupBody(long(1000))), "201", "201"},
			{"userName case-sensitive", func(t *testing.T, e *env) string {
				e.createUser("Ann@x.test")
				return outcome(e.do("POST", "/Users", userBody("ann@x.test")))
			}, "409 uniqueness", "201"},
			{"userName eq is case-sensitive", func(t *testing.T, e *env) string {
				e.createUser("Ann@x.test")
				n, _ := listOf(t, e.must(200, "GET", "/Users?filter="+url.QueryEscape(`userName eq "ann@x.test"`), nil))
				return fmt.Sprint(n)
			}, "1", "0"},
			{"userName still unique", func(t *testing.T, e *env) string {
				e.createUser("Ann@x.test")
				return outcome(e.do("POST", "/Users", userBody("Ann@x.test")))
			}, "409 uniqueness", "409 uniqueness"},
			{"group displayName case-sensitive", func(t *testing.T, e *env) string {
				e.createGroup("Admins")
				return outcome(e.do("POST", "/Groups", groupBody("admins")))
			}, "409 uniqueness", "201"},
			{"one email: the first alphabetically", func(t *testing.T, e *env) string {
				u := e.createUser("two@x.test", "emails", []any{map[string]any{"value": "zed@x.test"}, map[string]any{"value": "Amy@x.test"}})
				return emailsOf(e.must(200, "GET", "/Users/"+u["id"].(string), nil).obj())
			}, "zed@x.test,Amy@x.test", "Amy@x.test"},
			{"one email: the primary", func(t *testing.T, e *env) string {
				u := e.createUser("two@x.test", "emails", []any{map[string]any{"value": "amy@x.test"}, map[string]any{"value": "zed@x.test", "primary": true}})
				return emailsOf(u)
			}, "amy@x.test,zed@x.test", "zed@x.test"},
			{"one email after PATCH add", func(t *testing.T, e *env) string {
				u := e.createUser("p@x.test")
				r := e.must(200, "PATCH", "/Users/"+u["id"].(string), patchBody(op("add", "emails", []any{map[string]any{"value": "a@x.test"}})))
				return emailsOf(r.obj())
			}, "p@x.test,a@x.test", "p@x.test"},
			{"no title", func(t *testing.T, e *env) string {
				u := e.createUser("t@x.test", "title", "CTO")
				return fmt.Sprint(e.must(200, "GET", "/Users/"+u["id"].(string), nil).obj()["title"])
			}, "CTO", "<nil>"},
			{"nested group member ignored", func(t *testing.T, e *env) string {
				inner := e.createGroup("inner")
				r := e.do("POST", "/Groups", groupBody("outer", inner["id"].(string)))
				if r.Status != 201 {
					return outcome(r)
				}
				return fmt.Sprintf("201 members=%d", len(memberValues(r.obj())))
			}, "400 invalidValue", "201 members=0"},
			{"inactive users hidden from members", func(t *testing.T, e *env) string {
				on := e.createUser("on@x.test")
				off := e.createUser("off@x.test", "active", false)
				g := e.createGroup("g", on["id"].(string), off["id"].(string))
				return fmt.Sprint(len(memberValues(e.must(200, "GET", "/Groups/"+g["id"].(string), nil).obj())))
			}, "2", "1"},
			// The group's member list, as shown, changes when a member's
			// active does: so do its version and lastModified (PATCH, PUT
			// and Bulk alike), and a client's old copy is no longer current.
			{"a member's active change gives the group a new version", func(t *testing.T, e *env) string {
				u := e.createUser("flip@x.test")["id"].(string)
				g := e.createGroup("flip", u)["id"].(string)
				var out []string
				state := func() {
					r := e.must(200, "GET", "/Groups/"+g, nil)
					out = append(out, fmt.Sprintf("%s:%d", r.Header.Get("ETag"), len(memberValues(r.obj()))))
				}
				e.must(200, "PATCH", "/Users/"+u, patchBody(op("replace", "active", false)))
				state()
				e.must(200, "PUT", "/Users/"+u, userBody("flip@x.test", "active", true))
				state()
				e.must(200, "POST", "/Bulk", map[string]any{"schemas": []any{scim.BulkRequestSchema}, "Operations": []any{
					map[string]any{"method": "PATCH", "path": "/Users/" + u, "data": patchBody(op("replace", "active", false))}}})
				state()
				e.must(200, "PATCH", "/Users/"+u, patchBody(op("replace", "title", "T")))
				state()
				return strings.Join(out, " ")
			}, `W/"1":1 W/"1":1 W/"1":1 W/"1":1`, `W/"2":0 W/"3":1 W/"4":0 W/"4":0`},
		},
		"aws-identity-center": {
			// /Bulk is refused (400): a 405 on it offers no method at all.
			{"Allow on /Bulk", func(t *testing.T, e *env) string {
				r := e.do("GET", "/Bulk", nil)
				return outcome(r) + " " + r.Header.Get("Allow")
			}, "405 POST", "405 "},
			{"filter operator co", get("/Users?filter=" + url.QueryEscape(`userName co "a"`)), "200", "400 invalidFilter"},
			{"filter attribute displayName", get("/Users?filter=" + url.QueryEscape(`displayName eq "a"`)), "200", "400 invalidFilter"},
			{"filter or", get("/Users?filter=" + url.QueryEscape(`userName eq "a" or userName eq "b"`)), "200", "400 invalidFilter"},
			{"filter not", get("/Users?filter=" + url.QueryEscape(`not (userName eq "a")`)), "200", "400 invalidFilter"},
			{"filter value path", get("/Users?filter=" + url.QueryEscape(`emails[type eq "work"]`)), "200", "400 invalidFilter"},
			{"filter eq userName", get("/Users?filter=" + url.QueryEscape(`userName eq "a"`)), "200", "200"},
			{"filter id and manager", get("/Users?filter=" + url.QueryEscape(`id eq "a" and manager.value eq "b"`)), "200", "200"},
			{"filter groups.value", get("/Users?filter=" + url.QueryEscape(`groups.value eq "g"`)), "200", "200"},
			{"group filter displayName", get("/Groups?filter=" + url.QueryEscape(`displayName eq "g"`)), "200", "200"},
			{"startIndex on /Users", get("/Users?startIndex=1"), "200", "400 invalidValue"},
			{"attributes on /Users", get("/Users?attributes=userName"), "200", "400 invalidValue"},
			{"excludedAttributes on /Users", get("/Users?excludedAttributes=emails"), "200", "400 invalidValue"},
			{"excludedAttributes on /Groups", get("/Groups?excludedAttributes=members"), "200", "200"},
			{"count over 100 clamped", func(t *testing.T, e *env) string {
				for i := range 101 {
					e.createUser(fmt.Sprintf("c%03d@x.test", i), "displayName", "C")
				}
				r := e.must(200, "GET", "/Users?count=500", nil)
				return fmt.Sprint(r.obj()["itemsPerPage"])
			}, "101", "100"},
			{"sortBy ignored", func(t *testing.T, e *env) string {
				e.createUser("b@x.test", "displayName", "B")
				e.createUser("a@x.test", "displayName", "A")
				return userNames(t, e.must(200, "GET", "/Users?sortBy=userName", nil))
			}, "a@x.test,b@x.test", "b@x.test,a@x.test"},
			{"/Bulk", post("/Bulk", map[string]any{"schemas": []any{scim.BulkRequestSchema}, "Operations": []any{}}), "200", "400"},
			{"/Me", get("/Me"), "501", "400"},
			{"/.search", post("/Users/.search", map[string]any{"schemas": []any{scim.SearchRequestSchema}}), "200", "400"},
			{"two emails", post("/Users", userBody("e@x.test", "displayName", "E", "emails", []any{map[string]any{"value": "a@x.test"}, map[string]any{"value": "b@x.test"}})), "201", "400 invalidValue"},
			{"two phone numbers", post("/Users", userBody("p@x.test", "displayName", "P", "phoneNumbers", []any{map[string]any{"value": "1"}, map[string]any{"value": "2"}})), "201", "400 invalidValue"},
			{"two addresses", post("/Users", userBody("a@x.test", "displayName", "A", "addresses", []any{map[string]any{"locality": "A"}, map[string]any{"locality": "B"}})), "201", "400 invalidValue"},
			{"givenName required", post("/Users", userBody("n@x.test", "name", map[string]any{"familyName": "F"}, "displayName", "N")), "201", "400 invalidValue"},
			{"displayName required", func(t *testing.T, e *env) string {
				b := userBody("d@x.test")
				delete(b, "displayName")
				return outcome(e.do("POST", "/Users", b))
			}, "201", "400 invalidValue"},
			{"displayName removed by PATCH", func(t *testing.T, e *env) string {
				u := e.createUser("r@x.test", "displayName", "R")
				return outcome(e.do("PATCH", "/Users/"+u["id"].(string), patchBody(op("remove", "displayName", nil))))
			}, "200", "400 invalidValue"},
			{"unsupported photos dropped", func(t *testing.T, e *env) string {
				u := e.createUser("ph@x.test", "displayName", "P", "photos", []any{map[string]any{"value": "https://x.test/p.png"}})
				return fmt.Sprint(u["photos"] != nil)
			}, "true", "false"},
			{"101 members on create", func(t *testing.T, e *env) string {
				ms := usersN(t, e, 101)
				return outcome(e.do("POST", "/Groups", map[string]any{"schemas": []any{scim.GroupSchema}, "displayName": "big", "members": ms}))
			}, "201", "400 invalidValue"},
			{"100 members on create", func(t *testing.T, e *env) string {
				ms := usersN(t, e, 100)
				return outcome(e.do("POST", "/Groups", map[string]any{"schemas": []any{scim.GroupSchema}, "displayName": "big", "members": ms}))
			}, "201", "201"},
			{"101 member changes by PATCH", func(t *testing.T, e *env) string {
				ms := usersN(t, e, 101)
				g := e.createGroup("g")
				return outcome(e.do("PATCH", "/Groups/"+g["id"].(string), patchBody(op("add", "members", ms))))
			}, "200", "400 invalidValue"},
			{"replace all members", func(t *testing.T, e *env) string {
				u := e.createUser("u@x.test", "displayName", "U")
				g := e.createGroup("g", u["id"].(string))
				return outcome(e.do("PATCH", "/Groups/"+g["id"].(string), patchBody(op("replace", "members", []any{}))))
			}, "200", "400 invalidValue"},
			{"remove all members", func(t *testing.T, e *env) string {
				u := e.createUser("u@x.test", "displayName", "U")
				g := e.createGroup("g", u["id"].(string))
				return outcome(e.do("PATCH", "/Groups/"+g["id"].(string), patchBody(op("remove", "members", nil))))
			}, "200", "400 invalidValue"},
			{"PATCH group answers 204", func(t *testing.T, e *env) string {
				g := e.createGroup("g")
				return outcome(e.do("PATCH", "/Groups/"+g["id"].(string), patchBody(op("replace", "displayName", "h"))))
			}, "200", "204"},
			{"PUT group not offered", func(t *testing.T, e *env) string {
				g := e.createGroup("g")
				return outcome(e.do("PUT", "/Groups/"+g["id"].(string), groupBody("h")))
			}, "200", "400"},
			{"group members not returned, filter finds them", func(t *testing.T, e *env) string {
				u := e.createUser("u@x.test", "displayName", "U")
				uid := u["id"].(string)
				g := e.createGroup("g", uid)
				gid := g["id"].(string)
				shown := len(memberValues(e.must(200, "GET", "/Groups/"+gid, nil).obj()))
				n, _ := listOf(t, e.must(200, "GET", "/Groups?filter="+url.QueryEscape(fmt.Sprintf(`id eq %q and members eq %q`, gid, uid)), nil))
				return fmt.Sprintf("shown=%d found=%d", shown, n)
			}, "shown=1 found=1", "shown=0 found=1"},
			{"no ETag", func(t *testing.T, e *env) string {
				u := e.createUser("u@x.test", "displayName", "U")
				return fmt.Sprint(e.must(200, "GET", "/Users/"+u["id"].(string), nil).Header.Get("ETag") != "")
			}, "true", "false"},
			{"media type and request id", func(t *testing.T, e *env) string {
				r := e.do("GET", "/Users", nil)
				return r.Header.Get("Content-Type") + " " + fmt.Sprint(r.Header.Get("X-Amzn-Requestid") != "")
			}, "application/scim+json false", "application/json true"},
			{"error media type", func(t *testing.T, e *env) string {
				return e.do("GET", "/Users/nope", nil).Header.Get("Content-Type")
			}, "application/scim+json", "application/json"},
			// users.patch.refused: [password] (AWS-PATCHUSER); POST and PUT
			// drop it as unsupported (AWS-ATTR), so Okta's placeholder
			// password on create (idp-traffic.md §1.1 row 3) does not
			// block provisioning.
			{"password on create", post("/Users", userBody("pw@x.test", "displayName", "P", "password", "Sc1m!pw-1")), "201", "201"},
			{"password by PUT", putUser("password", "Sc1m!pw-1"), "200", "200"},
			{"password by PATCH", patchUser("displayName", nil, op("replace", "password", "Sc1m!pw-2")), "200 PU", "400 invalidValue PU"},
			{"password in a path-less PATCH", patchUser("displayName", nil, op("replace", "", map[string]any{"displayName": "New", "password": "Sc1m!pw-2"})), "200 New", "400 invalidValue PU"},
			// AWS-PATCHUSER's modifiable list leaves ims, photos,
			// entitlements and x509Certificates out too.
			{"photos by PATCH", patchUser("displayName", nil, op("add", "photos", []any{map[string]any{"value": "https://x.test/p.png"}})), "200 PU", "400 invalidValue PU"},
			{"ims by PATCH", patchUser("displayName", nil, op("replace", "ims", []any{map[string]any{"value": "pu", "type": "xmpp"}})), "200 PU", "400 invalidValue PU"},
			{"x509Certificates in a path-less PATCH", patchUser("displayName", nil, op("replace", "", map[string]any{"displayName": "New", "x509Certificates": []any{map[string]any{"value": "TUlJ"}}})), "200 New", "400 invalidValue PU"},
			{"photos on create", post("/Users", userBody("ph@x.test", "displayName", "P", "photos", []any{map[string]any{"value": "https://x.test/p.png"}})), "201", "201"},
			{"password refused as AWS renders errors", func(t *testing.T, e *env) string {
				u := e.createUser("pwr@x.test", "displayName", "P")
				r := e.do("PATCH", "/Users/"+u["id"].(string), patchBody(op("replace", "password", "Sc1m!pw-1")))
				var se scim.Error
				json.Unmarshal(r.Body, &se)
				return fmt.Sprint(r.Status, " ", r.Header.Get("Content-Type"), " ", r.Header.Get("X-Amzn-Requestid") != "", " ", strings.Contains(se.Detail, "password"))
			}, "200 application/scim+json false false", "400 application/json true true"},
			// users.patch.onceOnly: [userName, active] (AWS-PATCHUSER).
			{"two ops on userName", patchUser("userName", nil, op("replace", "userName", "a@x.test"), op("replace", "userName", "b@x.test")), "200 b@x.test", "400 invalidValue pu@x.test"},
			{"two ops on active", patchUser("active", nil, op("replace", "active", false), op("replace", "active", true)), "200 true", "400 invalidValue true"},
			{"active by path and in a value object", patchUser("active", nil, op("replace", "active", false), op("replace", "", map[string]any{"active": true})), "200 true", "400 invalidValue true"},
			{"one op each on userName and active", patchUser("active", nil, op("replace", "userName", "a@x.test"), op("replace", "active", false)), "200 false", "200 false"},
			// users.patch.remove: {userName: reject, active: reject} (AWS-PATCHUSER).
			{"remove active", patchUser("active", nil, op("remove", "active", nil)), "200 <nil>", "400 invalidValue true"},
			{"remove userName", patchUser("userName", nil, op("remove", "userName", nil)), "400 mutability pu@x.test", "400 invalidValue pu@x.test"},
			{"remove another attribute", patchUser("nickName", []any{"nickName", "N"}, op("remove", "nickName", nil)), "200 <nil>", "200 <nil>"},
			// users.patch.pathOperators: [eq] (AWS-PATCHUSER).
			{"eq in a path filter", patchUser("title", nil, op("replace", `emails[type eq "work"].display`, "W"), op("replace", "title", "T")), "200 T", "200 T"},
			{"co in a path filter", patchUser("title", nil, op("replace", `emails[type co "wor"].display`, "W"), op("replace", "title", "T")), "200 T", "400 invalidFilter <nil>"},
			{"ne inside and in a path filter", patchUser("title", nil, op("remove", `emails[type eq "home" and value ne "x"]`, nil), op("replace", "title", "T")), "200 T", "400 invalidFilter <nil>"},
		},
		"resolver": {
			{"group create not offered", post("/Groups", groupBody("g")), "201", "405"},
			{"group create Allow header", func(t *testing.T, e *env) string {
				return e.do("POST", "/Groups", groupBody("g")).Header.Get("Allow")
			}, "", "GET, HEAD"},
			// Another refused method gets the same list: POST is not in it.
			{"PUT on /Groups Allow header", func(t *testing.T, e *env) string {
				r := e.do("PUT", "/Groups", groupBody("g"))
				return outcome(r) + " " + r.Header.Get("Allow")
			}, "405 GET, HEAD, POST", "405 GET, HEAD"},
			{"group delete not offered", func(t *testing.T, e *env) string {
				g := e.createGroupDirect(t, "g")
				r := e.do("DELETE", "/Groups/"+g, nil)
				return outcome(r) + " " + r.Header.Get("Allow")
			}, "204 ", "405 GET, HEAD, PUT, PATCH"},
			{"POST on a group Allow header", func(t *testing.T, e *env) string {
				r := e.do("POST", "/Groups/g", groupBody("g"))
				return outcome(r) + " " + r.Header.Get("Allow")
			}, "405 GET, HEAD, PUT, PATCH, DELETE", "405 GET, HEAD, PUT, PATCH"},
			{"group update still offered", func(t *testing.T, e *env) string {
				g := e.createGroupDirect(t, "g")
				return outcome(e.do("PATCH", "/Groups/"+g, patchBody(op("replace", "displayName", "h"))))
			}, "200", "200"},
			{"user delete offered", func(t *testing.T, e *env) string {
				u := e.createUser("u@x.test")
				return outcome(e.do("DELETE", "/Users/"+u["id"].(string), nil))
			}, "204", "204"},
		},
		"slack": {
			{"DELETE deactivates", func(t *testing.T, e *env) string {
				u := e.createUser("u@x.test")
				id := u["id"].(string)
				e.must(204, "DELETE", "/Users/"+id, nil)
				r := e.do("GET", "/Users/"+id, nil)
				return outcome(r) + " " + fmt.Sprint(r.obj()["active"])
			}, "404 <nil>", "200 false"},
			{"DELETE deactivated user again", func(t *testing.T, e *env) string {
				u := e.createUser("u@x.test")
				e.must(204, "DELETE", "/Users/"+u["id"].(string), nil)
				return outcome(e.do("DELETE", "/Users/"+u["id"].(string), nil))
			}, "404", "204"},
			{"DELETE group removes it", func(t *testing.T, e *env) string {
				g := e.createGroup("g")
				e.must(204, "DELETE", "/Groups/"+g["id"].(string), nil)
				return outcome(e.do("GET", "/Groups/"+g["id"].(string), nil))
			}, "404", "404"},
			{"default page of 10", func(t *testing.T, e *env) string {
				for i := range 12 {
					e.createUser(fmt.Sprintf("p%02d@x.test", i))
				}
				return fmt.Sprint(e.must(200, "GET", "/Users", nil).obj()["itemsPerPage"])
			}, "12", "10"},
			{"write burst of 180, then 429", func(t *testing.T, e *env) string {
				var last resp
				for range 181 {
					last = e.do("DELETE", "/Users/nope", nil)
				}
				return outcome(last) + " " + last.Header.Get("Retry-After")
			}, "404 ", "429 1"},
		},
		"atlassian": {
			{"deactivated user is 404", func(t *testing.T, e *env) string {
				u := e.createUser("u@x.test")
				id := u["id"].(string)
				e.must(200, "PATCH", "/Users/"+id, patchBody(op("replace", "active", false)))
				return outcome(e.do("GET", "/Users/"+id, nil)) + " " + outcome(e.do("PATCH", "/Users/"+id, patchBody(op("replace", "active", true))))
			}, "200 200", "404 404"},
			{"DELETE deactivates, the user stays", func(t *testing.T, e *env) string {
				u := e.createUser("u@x.test")
				e.must(204, "DELETE", "/Users/"+u["id"].(string), nil)
				r := e.must(200, "GET", "/Users?filter="+url.QueryEscape(`userName eq "u@x.test"`), nil)
				n, res := listOf(t, r)
				if n == 0 {
					return "0"
				}
				return fmt.Sprint(n, " ", res[0]["active"])
			}, "0", "1 false"},
			{"filter and", get("/Users?filter=" + url.QueryEscape(`userName eq "a" and externalId eq "b"`)), "200", "400 invalidFilter"},
			{"filter on emails", get("/Users?filter=" + url.QueryEscape(`emails.value eq "a"`)), "200", "400 invalidFilter"},
			{"filter externalId eq", get("/Users?filter=" + url.QueryEscape(`externalId eq "a"`)), "200", "200"},
			{"no sorting", func(t *testing.T, e *env) string {
				e.createUser("b@x.test")
				e.createUser("a@x.test")
				return userNames(t, e.must(200, "GET", "/Users?sortBy=userName", nil))
			}, "a@x.test,b@x.test", "b@x.test,a@x.test"},
		},
		"hcp-terraform": {
			{"101 operations in a group PATCH", func(t *testing.T, e *env) string {
				g := e.createGroup("g")
				var ops []map[string]any
				for i := range 101 {
					ops = append(ops, op("replace", "externalId", fmt.Sprint(i)))
				}
				return outcome(e.do("PATCH", "/Groups/"+g["id"].(string), patchBody(ops...)))
			}, "200", "400 invalidValue"},
			{"filter userName sw", get("/Users?filter=" + url.QueryEscape(`userName sw "a"`)), "200", "400 invalidFilter"},
			{"userName eq is case-insensitive", func(t *testing.T, e *env) string {
				e.createUser("Ann@x.test")
				n, _ := listOf(t, e.must(200, "GET", "/Users?filter="+url.QueryEscape(`userName eq "ann@X.test"`), nil))
				return fmt.Sprint(n)
			}, "1", "1"},
			{"externalId eq is exact", func(t *testing.T, e *env) string {
				e.createUser("x@x.test", "externalId", "AbC")
				n, _ := listOf(t, e.must(200, "GET", "/Users?filter="+url.QueryEscape(`externalId eq "abc"`), nil))
				return fmt.Sprint(n)
			}, "0", "0"},
			// groups.patch.caseInsensitiveOps and users.patch.caseInsensitiveOps (HCP-USERS).
			{"group PATCH Replace", func(t *testing.T, e *env) string {
				g := e.createGroup("g")
				r := e.do("PATCH", "/Groups/"+g["id"].(string), patchBody(op("Replace", "displayName", "h")))
				return outcome(r) + " " + fmt.Sprint(e.must(200, "GET", "/Groups/"+g["id"].(string), nil).obj()["displayName"])
			}, "400 invalidSyntax g", "200 h"},
			{"group PATCH Add and Remove members", func(t *testing.T, e *env) string {
				a, b := e.createUser("a@x.test"), e.createUser("b@x.test")
				g := e.createGroup("g", a["id"].(string))
				r := e.do("PATCH", "/Groups/"+g["id"].(string), patchBody(
					op("Add", "members", []any{map[string]any{"value": b["id"]}}),
					op("Remove", fmt.Sprintf("members[value eq %q]", a["id"]), nil)))
				got := memberValues(e.must(200, "GET", "/Groups/"+g["id"].(string), nil).obj())
				return fmt.Sprint(outcome(r), " ", len(got) == 1 && got[0] == b["id"])
			}, "400 invalidSyntax false", "200 true"},
			{"user PATCH Replace", patchUser("displayName", nil, op("Replace", "displayName", "New")), "400 invalidSyntax PU", "200 New"},
			{"op of no known kind", patchUser("displayName", nil, op("Update", "displayName", "New")), "400 invalidSyntax PU", "400 invalidSyntax PU"},
			// users.patch.addAsReplace (HCP-USERS).
			{"user add emails replaces", patchUser("emails", nil, op("add", "emails", []any{map[string]any{"value": "new@x.test", "type": "work"}})), "200 pu@x.test,new@x.test", "200 new@x.test"},
			{"user path-less add replaces", patchUser("emails", nil, op("add", "", map[string]any{"emails": []any{map[string]any{"value": "new@x.test"}}})), "200 pu@x.test,new@x.test", "200 new@x.test"},
			{"user add on a single-valued attribute", patchUser("displayName", nil, op("add", "displayName", "New")), "200 New", "200 New"},
			// users.patch.remove (HCP-USERS).
			{"user remove displayName", patchUser("displayName", nil, op("remove", "displayName", nil)), "200 <nil>", "400 invalidValue PU"},
			{"user remove name.givenName", patchUser("name", nil, op("remove", "name.givenName", nil)), "200 map[familyName:Family]", "400 invalidValue map[familyName:Family givenName:Given pu@x.test]"},
			{"user remove externalId", patchUser("externalId", []any{"externalId", "ext-1"}, op("remove", "externalId", nil)), "200 <nil>", "200 <nil>"},
			{"user remove active ignored", patchUser("active", nil, op("remove", "active", nil)), "200 <nil>", "200 true"},
			{"user remove a work email ignored", patchUser("emails", nil, op("remove", `emails[type eq "work"]`, nil)), "200 ", "200 pu@x.test"},
			{"user remove ignored, the rest applied", patchUser("active", []any{"externalId", "ext-1"}, op("remove", "active", nil), op("Replace", "active", false)), "400 invalidSyntax true", "200 false"},
		},
		"github-emu": {
			{"no User-Agent", get("/Users"), "200", "400"},
			{"with User-Agent", get("/Users", "User-Agent", "okta-scim/1.0"), "200", "200"},
			{"probe /Users/0", get("/Users/0", "User-Agent", "PingFederate"), "404", "404"},
		},
		"zscaler": {
			{"discovery without a token", get("/ServiceProviderConfig", "Authorization", ""), "401", "200"},
			{"resources still need a token", get("/Users", "Authorization", ""), "401", "401"},
			{"6th request in a second", func(t *testing.T, e *env) string {
				var last resp
				for range 6 {
					last = e.do("GET", "/Users", nil)
				}
				return outcome(last) + " " + last.Header.Get("Retry-After")
			}, "200 ", "429 1"},
		},
		"rfc": {
			{"strict group create with Entra schema", post("/Groups", map[string]any{"schemas": []any{scim.GroupSchema, entraGroupSchema}, "displayName": "g"}), "400 invalidValue", "400 invalidValue"},
		},
	}
	for _, name := range profile.Names() {
		if _, ok := table[name]; !ok {
			t.Errorf("profile %s has no knob table", name)
		}
	}
	for name, knobs := range table {
		prof := mustProfile(t, name)
		for _, k := range knobs {
			t.Run(name+"/"+k.name, func(t *testing.T) {
				t.Parallel()
				if got := k.run(t, newEnvOn(t, memory.New(), frozenClock)); got != k.rfc {
					t.Errorf("rfc: got %q, want %q", got, k.rfc)
				}
				if got := k.run(t, newEnvOn(t, memory.New(), withProfile(prof), frozenClock)); got != k.profiled {
					t.Errorf("%s: got %q, want %q", name, got, k.profiled)
				}
			})
		}
	}
}

// createGroupDirect creates a group in the store, for profiles that do not
// offer group create.
func (e *env) createGroupDirect(t *testing.T, name string) string {
	t.Helper()
	id := newID()
	if err := e.st.Create(t.Context(), &store.Resource{Type: "Group", ID: id, Key: strings.ToLower(name), Doc: map[string]any{"schemas": []any{scim.GroupSchema}, "displayName": name}}, nil); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestLenientKnobs checks each tolerance that --lenient turns on, against
// strict rfc.
func TestLenientKnobs(t *testing.T) {
	cases := []knob{
		{"Entra schema URI on group create", post("/Groups", map[string]any{"schemas": []any{scim.GroupSchema, entraGroupSchema}, "displayName": "g", "externalId": "e"}), "400 invalidValue", "201"},
		{"unknown URN on user create", post("/Users", userBody("u@x.test", "schemas", []any{scim.UserSchema, "urn:ietf:params:scim:schemas:extension:acme:2.0:User"})), "400 invalidValue", "201"},
		{"unknown member id", func(t *testing.T, e *env) string {
			u := e.createUser("u@x.test")
			r := e.do("POST", "/Groups", groupBody("g", u["id"].(string), "no-such-id"))
			if r.Status != 201 {
				return outcome(r)
			}
			return "201 " + strings.Join(memberValues(r.obj()), ",") + "=" + u["id"].(string)
		}, "400 invalidValue", ""},
		{"string boolean", func(t *testing.T, e *env) string {
			u := e.createUser("u@x.test")
			return outcome(e.do("PATCH", "/Users/"+u["id"].(string), patchBody(op("Replace", "active", "False"))))
		}, "400 invalidSyntax", "200"},
		// Not a knob: RFC 7644 §3.5.2.1 already says an add on a single-valued
		// attribute replaces its value, so strict rfc accepts Entra's
		// {"op":"Add","path":"active"} once the op's case is accepted (B4).
		{"add on a set single-valued attribute", func(t *testing.T, e *env) string {
			u := e.createUser("u@x.test", "displayName", "Old")
			r := e.do("PATCH", "/Users/"+u["id"].(string), patchBody(op("add", "displayName", "New")))
			return outcome(r) + " " + fmt.Sprint(r.obj()["displayName"])
		}, "200 New", "200 New"},
		{"remove members by value", func(t *testing.T, e *env) string {
			a, b := e.createUser("a@x.test"), e.createUser("b@x.test")
			g := e.createGroup("g", a["id"].(string), b["id"].(string))
			r := e.must(200, "PATCH", "/Groups/"+g["id"].(string), patchBody(op("remove", "members", []any{map[string]any{"value": a["id"]}})))
			return fmt.Sprint(len(memberValues(r.obj())))
		}, "0", "1"},
	}
	lenient := mustProfile(t, "rfc").WithLenient()
	for _, k := range cases {
		t.Run(k.name, func(t *testing.T) {
			if got := k.run(t, newEnvOn(t, memory.New())); got != k.rfc {
				t.Errorf("rfc: got %q, want %q", got, k.rfc)
			}
			got := k.run(t, newEnvOn(t, memory.New(), withProfile(lenient)))
			if k.profiled == "" {
				// the unknown member is dropped, the known one kept
				parts := strings.SplitN(strings.TrimPrefix(got, "201 "), "=", 2)
				if !strings.HasPrefix(got, "201 ") || len(parts) != 2 || parts[0] != parts[1] {
					t.Errorf("lenient: got %q", got)
				}
				return
			}
			if got != k.profiled {
				t.Errorf("lenient: got %q, want %q", got, k.profiled)
			}
		})
	}
	// --lenient applies to any profile, keeping its target knobs.
	aws := mustProfile(t, "aws").WithLenient()
	e := newEnv(t, withProfile(aws))
	e.must(201, "POST", "/Groups", map[string]any{"schemas": []any{scim.GroupSchema, entraGroupSchema}, "displayName": "g"})
	if got := outcome(e.do("GET", "/Users?startIndex=1", nil)); got != "400 invalidValue" {
		t.Errorf("aws+lenient startIndex: %s", got)
	}
}

// TestLimitTruncate runs a user's own profile that truncates instead of
// refusing, read from YAML as `scimlab serve --profile-file` reads it.
func TestLimitTruncate(t *testing.T) {
	p, err := profile.Parse([]byte(`name: short-names
extends: alation
limitMode: truncate
users:
  limits: {userName: 5}
`), "inline")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, withProfile(p))
	u := e.createUser("abcdefgh", "name", map[string]any{"givenName": long(160), "familyName": "F"})
	if u["userName"] != "abcde" || len(u["name"].(map[string]any)["givenName"].(string)) != 150 {
		t.Fatalf("not truncated: %v", u)
	}
	// The truncated userName is the unique key.
	wantError(t, e.do("POST", "/Users", userBody("abcdeXYZ")), 409, scim.Uniqueness)
	r := e.must(200, "PATCH", "/Users/"+u["id"].(string), patchBody(op("replace", "userName", "zyxwvut")))
	if r.obj()["userName"] != "zyxwv" {
		t.Errorf("PATCH not truncated: %s", r.Body)
	}
}

// TestSurfaceInBulk checks that the surface rules hold for /Bulk operations too.
func TestSurfaceInBulk(t *testing.T) {
	p := mustProfile(t, "resolver")
	e := newEnv(t, withProfile(p))
	r := e.must(200, "POST", "/Bulk", map[string]any{"schemas": []any{scim.BulkRequestSchema}, "Operations": []any{
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "g", "data": groupBody("g")},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "u", "data": userBody("u@x.test")},
	}})
	var br scim.BulkResponse
	if err := json.Unmarshal(r.Body, &br); err != nil {
		t.Fatal(err)
	}
	got := []string{br.Operations[0].Status, br.Operations[1].Status}
	sort.Strings(got)
	if strings.Join(got, ",") != "201,405" {
		t.Errorf("bulk statuses %v: %s", got, r.Body)
	}
}

// TestReplaceMembersIgnored reproduces B24 with a user's own profile: a
// PATCH that empties a group answers success and changes nothing, as an
// AWS IAM Identity Center tenant was observed to do.
func TestReplaceMembersIgnored(t *testing.T) {
	p, err := profile.Parse([]byte("name: aws-observed\nextends: aws\ngroups: {replaceMembers: ignore, members: {returned: true}}\n"), "inline")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, withProfile(p))
	u := idOf(t, e.must(201, "POST", "/Users", userBody("u@x.test", "displayName", "U")))
	g := idOf(t, e.must(201, "POST", "/Groups", groupBody("g", u)))
	e.must(204, "PATCH", "/Groups/"+g, patchBody(op("replace", "members", []any{})))
	e.must(204, "PATCH", "/Groups/"+g, patchBody(op("remove", "members", nil)))
	// Mixed with another operation, only the member replace is dropped.
	e.must(204, "PATCH", "/Groups/"+g, patchBody(op("replace", "", map[string]any{"members": []any{}, "displayName": "h"})))
	doc := e.must(200, "GET", "/Groups/"+g, nil).obj()
	if got := memberValues(doc); len(got) != 1 || got[0] != u || doc["displayName"] != "h" {
		t.Errorf("group after ignored replaces: %v", doc)
	}
	e.must(404, "PATCH", "/Groups/nope", patchBody(op("replace", "members", []any{})))
}

// TestSchemasDescribeNameRules: /Schemas says of userName and Group
// displayName what the server enforces: unique (409 uniqueness) and as
// case-sensitive as the profile compares them.
func TestSchemasDescribeNameRules(t *testing.T) {
	attr := func(e *env, schemaID, name string) map[string]any {
		t.Helper()
		for _, a := range e.must(200, "GET", "/Schemas/"+schemaID, nil).obj()["attributes"].([]any) {
			if m := a.(map[string]any); m["name"] == name {
				return m
			}
		}
		t.Fatalf("%s has no %s", schemaID, name)
		return nil
	}
	for _, c := range []struct {
		profile                 string
		userExact, displayExact bool
	}{
		{"rfc", false, false},
		{"alation", true, true},
	} {
		p := mustProfile(t, c.profile)
		e := newEnv(t, withProfile(p))
		u := attr(e, "urn:ietf:params:scim:schemas:core:2.0:User", "userName")
		g := attr(e, "urn:ietf:params:scim:schemas:core:2.0:Group", "displayName")
		if u["uniqueness"] != "server" || u["caseExact"] != p.UserNameCaseExact || p.UserNameCaseExact != c.userExact {
			t.Errorf("%s: userName %v", c.profile, u)
		}
		if g["uniqueness"] != "server" || g["caseExact"] != p.GroupDisplayNameCaseExact || p.GroupDisplayNameCaseExact != c.displayExact {
			t.Errorf("%s: Group displayName %v", c.profile, g)
		}
	}
}

// TestCaseExactNamesInEveryFilter: a profile that compares userName and a
// group's displayName case-exactly (alation) does so in every filter
// operator and in sortBy, as its /Schemas says (caseExact true), not only in
// a lone `eq`; under rfc the same filters ignore case.
func TestCaseExactNamesInEveryFilter(t *testing.T) {
	names := func(e *env, path string) []string {
		t.Helper()
		out := []string{}
		for _, r := range e.must(200, "GET", path, nil).obj()["Resources"].([]any) {
			m := r.(map[string]any)
			if n, ok := m["userName"].(string); ok {
				out = append(out, n)
			} else {
				out = append(out, m["displayName"].(string))
			}
		}
		return out
	}
	q := func(filter string, extra ...string) string {
		v := url.Values{"filter": {filter}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return v.Encode()
	}

	exact := newEnv(t, withProfile(mustProfile(t, "alation")))
	for _, n := range []string{"Kase", "kase"} {
		exact.must(201, "POST", "/Users", userBody(n))
	}
	for _, n := range []string{"Grp", "grp"} {
		exact.must(201, "POST", "/Groups", groupBody(n))
	}
	rfc := newEnv(t, withProfile(mustProfile(t, "rfc")))
	rfc.must(201, "POST", "/Users", userBody("Kase"))
	rfc.must(201, "POST", "/Groups", groupBody("Grp"))

	for _, c := range []struct {
		path    string
		want    []string // alation: Kase and kase, Grp and grp
		wantRFC []string // rfc: Kase, Grp
	}{
		{"/Users?" + q(`userName eq "kase" or userName eq "nobody"`), []string{"kase"}, []string{"Kase"}},
		{"/Users?" + q(`not (userName eq "kase") and userName ew "ase"`), []string{"Kase"}, []string{}},
		{"/Users?" + q(`userName sw "k"`), []string{"kase"}, []string{"Kase"}},
		{"/Users?" + q(`userName ew "ase"`, "sortBy", "userName"), []string{"Kase", "kase"}, []string{"Kase"}},
		{"/Users?" + q(`userName ew "ase"`, "sortBy", "userName", "sortOrder", "descending"), []string{"kase", "Kase"}, []string{"Kase"}},
		{"/Users?" + q(`userName gt "Kase"`), []string{"kase"}, []string{}},
		{"/Groups?" + q(`displayName eq "grp" or displayName eq "zz"`), []string{"grp"}, []string{"Grp"}},
		{"/Groups?" + q(`displayName co "G"`), []string{"Grp"}, []string{"Grp"}},
	} {
		if got := names(exact, c.path); !slices.Equal(got, c.want) {
			t.Errorf("alation %s = %v, want %v", c.path, got, c.want)
		}
		if got := names(rfc, c.path); !slices.Equal(got, c.wantRFC) {
			t.Errorf("rfc %s = %v, want %v", c.path, got, c.wantRFC)
		}
	}
}

// TestPatchRulesOwnProfile runs the PATCH rules and a refused attribute from
// a user's own profile, read as `scimlab serve --profile-file` reads it:
// discovery follows the refused attribute, /Bulk refuses it too, and a
// PATCH whose every operation is an ignored remove is still a conditional
// request on an existing resource.
func TestPatchRulesOwnProfile(t *testing.T) {
	p, err := profile.Parse([]byte(`name: mine
users:
  refused: [password, nickName, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter"]
  patch:
    onceOnly: [emails]
    remove: {"*": ignore, title: reject}
`), "inline")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, withProfile(p))
	var spc scim.ServiceProviderConfig
	if err := json.Unmarshal(e.must(200, "GET", "/ServiceProviderConfig", nil).Body, &spc); err != nil || spc.ChangePassword.Supported {
		t.Errorf("changePassword with password refused: %+v (%v)", spc.ChangePassword, err)
	}
	for _, a := range e.must(200, "GET", "/Schemas/"+scim.UserSchema, nil).obj()["attributes"].([]any) {
		if n := a.(map[string]any)["name"]; n == "password" || n == "nickName" {
			t.Errorf("/Schemas lists the refused %s", n)
		}
	}
	wantError(t, e.do("POST", "/Users", userBody("n@x.test", "nickName", "N")), 400, scim.InvalidValue)

	r := e.must(200, "POST", "/Bulk", map[string]any{"schemas": []any{scim.BulkRequestSchema}, "Operations": []any{
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "u", "data": userBody("b@x.test", "password", "Sc1m!pw-1")},
	}})
	var br scim.BulkResponse
	if err := json.Unmarshal(r.Body, &br); err != nil || len(br.Operations) != 1 || br.Operations[0].Status != "400" {
		t.Errorf("bulk create with a password: %s", r.Body)
	}

	u := e.createUser("u@x.test", "title", "T")
	id := u["id"].(string)
	tag := e.must(200, "GET", "/Users/"+id, nil).Header.Get("ETag")
	ignored := patchBody(op("remove", "displayName", nil), op("remove", "active", nil))
	e.must(412, "PATCH", "/Users/"+id, ignored, "If-Match", `W/"999"`)
	e.must(404, "PATCH", "/Users/nope", ignored)
	r = e.must(200, "PATCH", "/Users/"+id, ignored, "If-Match", tag)
	if r.Header.Get("ETag") != tag || r.obj()["active"] != true {
		t.Errorf("ignored removes changed the user: %s %s", r.Header.Get("ETag"), r.Body)
	}
	wantError(t, e.do("PATCH", "/Users/"+id, patchBody(op("remove", "title", nil))), 400, scim.InvalidValue)
	// The rules are judged against a resource found: an unknown id is 404
	// whatever the operations, as for any other PATCH.
	for _, body := range []map[string]any{
		patchBody(op("remove", "title", nil)),
		patchBody(op("replace", "nickName", "N")),
		patchBody(op("add", "emails", []any{map[string]any{"value": "a@x.test"}}), op("add", "emails", []any{map[string]any{"value": "b@x.test"}})),
	} {
		wantError(t, e.do("PATCH", "/Users/nope", body), 404, "")
	}
	two := patchBody(op("add", "emails", []any{map[string]any{"value": "a@x.test"}}), op("remove", `emails[value eq "u@x.test"]`, nil))
	se := wantError(t, e.do("PATCH", "/Users/"+id, two), 400, scim.InvalidValue)
	if !strings.Contains(se.Detail, "Operations[0] and Operations[1] both address emails") {
		t.Errorf("detail: %s", se.Detail)
	}
	ext := "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	wantError(t, e.do("PATCH", "/Users/"+id, patchBody(op("replace", "", map[string]any{"nickName": "N"}))), 400, scim.InvalidValue)
	wantError(t, e.do("PATCH", "/Users/"+id, patchBody(op("replace", "", map[string]any{ext: map[string]any{"costCenter": "C"}}))), 400, scim.InvalidValue)
	wantError(t, e.do("PATCH", "/Users/"+id, patchBody(op("add", ext+":costCenter", "C"))), 400, scim.InvalidValue)
	e.must(200, "PATCH", "/Users/"+id, patchBody(op("replace", "", map[string]any{ext: map[string]any{"department": "D"}})))
}
