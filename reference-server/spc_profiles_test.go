package server

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reference-server/auth"
	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/memory"
)

// TestSPCMatchesBehaviour starts the server with every shipped profile (and
// one with every optional feature off) and checks that what
// /ServiceProviderConfig declares is what the server does.
func TestSPCMatchesBehaviour(t *testing.T) {
	allOff, err := profile.Parse([]byte(`name: all-off
patch: false
bulk: {supported: false}
filter: false
sort: false
etag: false
maxResults: 7
users: {params: {sortBy: reject}}
`), "all-off")
	if err != nil {
		t.Fatal(err)
	}
	profiles := []*profile.Profile{allOff}
	for _, n := range profile.Names() {
		profiles = append(profiles, mustProfile(t, n))
	}
	for _, p := range profiles {
		// Rate limits are faults, not capabilities (TestRateLimit covers them);
		// this test makes more requests a second than zscaler allows.
		p.Faults = profile.Faults{Seed: 1, ErrorStatuses: profile.DefaultErrorStatuses()}
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			st := memory.New()
			e := newEnvOn(t, st, withProfile(p))
			ua := []string{"User-Agent", "scimlab-test"}
			do := func(method, path string, body any, hdr ...string) resp {
				return e.do(method, path, body, append(hdr, ua...)...)
			}
			var spc scim.ServiceProviderConfig
			r := do("GET", "/ServiceProviderConfig", nil)
			if r.Status != 200 || json.Unmarshal(r.Body, &spc) != nil {
				t.Fatalf("GET /ServiceProviderConfig: %s", r)
			}
			newUser := func(name string) string {
				r := do("POST", "/Users", userBody(name, "displayName", name))
				if r.Status != 201 {
					t.Fatalf("create %s: %s", name, r)
				}
				return idOf(t, r)
			}
			uid := newUser("spc@x.test")

			t.Run("bulk", func(t *testing.T) {
				one := map[string]any{"schemas": []any{scim.BulkRequestSchema}, "Operations": []any{
					map[string]any{"method": "POST", "path": "/Users", "bulkId": "b", "data": userBody("bulk@x.test", "displayName", "B")},
				}}
				r := do("POST", "/Bulk", one)
				if spc.Bulk.Supported != (r.Status == 200) {
					t.Fatalf("bulk.supported=%v but POST /Bulk answered %s", spc.Bulk.Supported, r)
				}
				if !spc.Bulk.Supported {
					return
				}
				if !strings.Contains(string(r.Body), `"status":"201"`) {
					t.Errorf("bulk create: %s", r.Body)
				}
				var ops []any
				for range spc.Bulk.MaxOperations + 1 {
					ops = append(ops, map[string]any{"method": "DELETE", "path": "/Users/x"})
				}
				if r := do("POST", "/Bulk", map[string]any{"schemas": []any{scim.BulkRequestSchema}, "Operations": ops}); r.Status != 413 {
					t.Errorf("bulk.maxOperations=%d but %d operations answered %s", spc.Bulk.MaxOperations, len(ops), r)
				}
			})
			t.Run("patch", func(t *testing.T) {
				r := do("PATCH", "/Users/"+uid, patchBody(op("replace", "nickName", "N")))
				if spc.Patch.Supported != (r.Status == 200 || r.Status == 204) {
					t.Fatalf("patch.supported=%v but PATCH answered %s", spc.Patch.Supported, r)
				}
			})
			// A password write works exactly when changePassword says so,
			// by PATCH and by PUT (RFC 7643 §5).
			t.Run("changePassword", func(t *testing.T) {
				works := func(r resp) bool { return r.Status == 200 || r.Status == 204 }
				if spc.Patch.Supported {
					r := do("PATCH", "/Users/"+uid, patchBody(op("replace", "password", "Sc1m!pw-patch")))
					if spc.ChangePassword.Supported != works(r) {
						t.Errorf("changePassword.supported=%v but PATCH replace password answered %s", spc.ChangePassword.Supported, r)
					}
				}
				// A PUT may drop an attribute the server does not support
				// (RFC 7644 §3.3), so a PUT that carries a password the
				// profile lists as unsupported may succeed either way.
				if p.Users.Replace && !slices.Contains(p.Users.Unsupported, "password") {
					r := do("PUT", "/Users/"+uid, userBody("spc@x.test", "displayName", "spc@x.test", "password", "Sc1m!pw-put"))
					if spc.ChangePassword.Supported != works(r) {
						t.Errorf("changePassword.supported=%v but PUT with a password answered %s", spc.ChangePassword.Supported, r)
					}
				}
			})
			t.Run("filter", func(t *testing.T) {
				r := do("GET", "/Users?filter="+url.QueryEscape(`userName eq "spc@x.test"`), nil)
				if !spc.Filter.Supported {
					if r.Status != 400 {
						t.Fatalf("filter.supported=false but a filter answered %s", r)
					}
					return
				}
				if n, _ := listOf(t, r); r.Status != 200 || n != 1 {
					t.Fatalf("filter.supported=true but a filter answered %s", r)
				}
			})
			t.Run("sort", func(t *testing.T) {
				newUser("a-sort@x.test")
				newUser("b-sort@x.test")
				r := do("GET", "/Users?sortBy=userName&sortOrder=descending", nil)
				if p.Users.Params.SortBy == profile.Reject {
					if spc.Sort.Supported || r.Status != 400 {
						t.Errorf("sort.supported=%v and sortBy refused, but it answered %s", spc.Sort.Supported, r)
					}
					return
				}
				names := strings.Split(userNames(t, r), ",")
				a, b := slices.Index(names, "a-sort@x.test"), slices.Index(names, "b-sort@x.test")
				if a < 0 || b < 0 || spc.Sort.Supported != (b < a) {
					t.Errorf("sort.supported=%v but sortBy=userName descending gave %v", spc.Sort.Supported, names)
				}
			})
			t.Run("maxResults", func(t *testing.T) {
				max := spc.Filter.MaxResults
				if max < 1 {
					t.Fatalf("filter.maxResults = %d", max)
				}
				for i := range max + 1 {
					name := fmt.Sprintf("bulkload%05d@x.test", i)
					doc := map[string]any{"schemas": []any{scim.UserSchema}, "userName": name, "displayName": name, "active": true,
						"name": map[string]any{"givenName": "G", "familyName": "F"}}
					if err := st.Create(t.Context(), &store.Resource{Type: "User", ID: newID(), Key: name, Doc: doc}, nil); err != nil {
						t.Fatal(err)
					}
				}
				r := do("GET", fmt.Sprintf("/Users?count=%d", max+5), nil)
				total, res := listOf(t, r)
				if len(res) != max || total < max+1 {
					t.Errorf("filter.maxResults=%d but count=%d returned %d of %d", max, max+5, len(res), total)
				}
			})
			t.Run("etag", func(t *testing.T) {
				r := do("GET", "/Users/"+uid, nil)
				tag := r.Header.Get("ETag")
				meta, _ := r.obj()["meta"].(map[string]any)
				_, hasVersion := meta["version"]
				if spc.ETag.Supported != (tag != "") || spc.ETag.Supported != hasVersion {
					t.Fatalf("etag.supported=%v but ETag %q, meta.version present %v", spc.ETag.Supported, tag, hasVersion)
				}
				if spc.ETag.Supported {
					if r := do("GET", "/Users/"+uid, nil, "If-None-Match", tag); r.Status != 304 {
						t.Errorf("If-None-Match: %s", r)
					}
				}
			})
			t.Run("authenticationSchemes", func(t *testing.T) {
				var bearer, basic bool
				for _, s := range spc.AuthenticationSchemes {
					bearer = bearer || s.Type == "oauthbearertoken"
					basic = basic || s.Type == "httpbasic"
				}
				if !bearer {
					t.Error("no oauthbearertoken scheme, yet bearer tokens work")
				}
				if p.Tokens.Basic != nil {
					m := &auth.Manager{Store: st, Policy: p.Tokens, Profile: p.Name, BcryptCost: 4}
					if err := m.SetBasic(t.Context(), "scim", "Correct-Horse-Battery-9!"); err != nil {
						t.Fatal(err)
					}
				}
				cred := "Basic " + base64.StdEncoding.EncodeToString([]byte("scim:Correct-Horse-Battery-9!"))
				r := e.do("GET", "/Users/"+uid, nil, append([]string{"Authorization", cred}, ua...)...)
				if basic != (r.Status == 200) {
					t.Errorf("httpbasic listed=%v but a Basic request answered %s", basic, r)
				}
			})
		})
	}
}

// /Schemas describes what the server keeps: an attribute the profile does
// not store (Alation has no title, AWS no password or ims) is not listed,
// while rfc lists it.
func TestSchemasOmitUnsupportedAttributes(t *testing.T) {
	attrs := func(e *env) map[string]bool {
		got := map[string]bool{}
		doc := e.must(200, "GET", "/Schemas/"+scim.UserSchema, nil).obj()
		for _, a := range doc["attributes"].([]any) {
			got[a.(map[string]any)["name"].(string)] = true
		}
		return got
	}
	rfc := attrs(newEnvOn(t, memory.New()))
	for _, name := range []string{"title", "password", "ims"} {
		if !rfc[name] {
			t.Errorf("rfc /Schemas lacks %s", name)
		}
	}
	if attrs(newEnvOn(t, memory.New(), withProfile(mustProfile(t, "alation"))))["title"] {
		t.Error("alation stores no title, yet /Schemas lists it")
	}
	aws := attrs(newEnvOn(t, memory.New(), withProfile(mustProfile(t, "aws-identity-center"))))
	if aws["password"] || aws["ims"] || !aws["userName"] {
		t.Errorf("aws-identity-center /Schemas: password %v ims %v userName %v", aws["password"], aws["ims"], aws["userName"])
	}
}

// TestSchemasMarkProfileRequired: an attribute the profile requires (AWS:
// displayName, name.givenName, name.familyName) is required in /Schemas, its
// parent too; under rfc none of them is.
func TestSchemasMarkProfileRequired(t *testing.T) {
	required := func(e *env) map[string]bool {
		got := map[string]bool{}
		doc := e.must(200, "GET", "/Schemas/"+scim.UserSchema, nil).obj()
		for _, a := range doc["attributes"].([]any) {
			m := a.(map[string]any)
			got[m["name"].(string)] = m["required"] == true
			subs, _ := m["subAttributes"].([]any)
			for _, s := range subs {
				sm := s.(map[string]any)
				got[m["name"].(string)+"."+sm["name"].(string)] = sm["required"] == true
			}
		}
		return got
	}
	want := []string{"displayName", "name", "name.givenName", "name.familyName"}
	aws := required(newEnvOn(t, memory.New(), withProfile(mustProfile(t, "aws-identity-center"))))
	rfc := required(newEnvOn(t, memory.New()))
	for _, n := range want {
		if !aws[n] {
			t.Errorf("aws-identity-center /Schemas: %s not required", n)
		}
		if rfc[n] {
			t.Errorf("rfc /Schemas: %s required", n)
		}
	}
	if !aws["userName"] || aws["name.middleName"] || aws["title"] {
		t.Errorf("aws-identity-center /Schemas: userName %v name.middleName %v title %v", aws["userName"], aws["name.middleName"], aws["title"])
	}
}
