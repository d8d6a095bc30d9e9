package server

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/memory"
)

var renderDocs = []string{
	`{}`,
	`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bjensen@example.com","name":{"givenName":"Barbara","familyName":"Jensen"},"emails":[{"value":"b@example.com","type":"work","primary":true}],"active":true,"externalId":"x"}`,
	`{"userName":"R&D <x>","title":"line\nbreak \u2028 \"q\"","a":1e21,"b":-0,"c":[null,false,{}]}`,
	`{"id":"other","meta":{"version":"W/\"9\""},"members":[{"value":"kept"}],"groups":[{"value":"kept"}],"$ref":"x","zzz":"last","AAA":"first"}`,
	`{"schemas":null,"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"7"}}`,
}

// renderCases are the members and groups render is given: none, empty and
// some, with and without display, type Group and a value to escape.
var renderCases = []struct {
	members []store.Member
	groups  []store.GroupRef
}{
	{nil, nil},
	{[]store.Member{}, nil},
	{nil, []store.GroupRef{}},
	{[]store.Member{{Value: "u1"}, {Value: "g1", Type: "Group", Display: "Tour \"Guides\""}, {Value: "u/2", Type: "User", Display: "B"}}, nil},
	{nil, []store.GroupRef{{ID: "g1", Display: "Admins"}, {ID: "g2"}}},
}

// renderViews are attributes/excludedAttributes pairs: the full view, views
// the direct path takes and views that need render's map.
var renderViews = []view{
	{},
	{excluded: []string{"members"}},
	{excluded: []string{"groups"}},
	{excluded: []string{"emails.type", "NAME", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}},
	{excluded: []string{"id", "schemas", "nosuchattribute", "c"}},
	{excluded: []string{"meta.version"}},
	{excluded: []string{"Meta"}},
	{excluded: []string{"urn:ietf:params:scim:schemas:core:2.0:User:meta.lastModified"}},
	{attrs: []string{"userName"}},
	{attrs: []string{"displayName"}, excluded: []string{"members"}},
}

// TestRenderBodyMatchesRender checks that renderBody writes exactly what
// encoding the projection of render's map writes, for every view, with ETags
// on and off.
func TestRenderBodyMatchesRender(t *testing.T) {
	srvs := etagServers(t)
	for _, d := range renderDocs {
		for _, v := range renderViews {
			checkRenderBody(t, srvs, []byte(d), "http://localhost/scim/v2", v)
		}
	}
	checkRenderBody(t, srvs, []byte(renderDocs[1]), "https://h\u00e9st:8443/\"x\"\xff/scim/v2", view{})
}

// FuzzRenderBody compares renderBody with render, project and marshal for
// any stored document, base URL and view.
func FuzzRenderBody(f *testing.F) {
	for _, d := range renderDocs {
		f.Add([]byte(d), "http://localhost/scim/v2", "", "")
		f.Add([]byte(d), "http://localhost/scim/v2", "", "members,emails.value")
		f.Add([]byte(d), "http://localhost/scim/v2", "userName", "meta.created")
	}
	srvs := etagServers(f)
	f.Fuzz(func(t *testing.T, doc []byte, base, attributes, excluded string) {
		v, err := parseView(map[string][]string{"attributes": {attributes}, "excludedAttributes": {excluded}})
		if err != nil {
			if len(attributes) <= maxViewBytes && len(excluded) <= maxViewBytes {
				t.Fatalf("parseView: %v", err)
			}
			return
		}
		checkRenderBody(t, srvs, doc, base, v)
	})
}

// etagServers returns a server with ETags and one without.
func etagServers(t testing.TB) []*Server {
	var out []*Server
	for _, etags := range []bool{true, false} {
		p, err := profile.Get("rfc")
		if err != nil {
			t.Fatal(err)
		}
		p.ETag = etags
		srv, err := New(Config{Store: memory.New(), Profile: p})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, srv)
	}
	return out
}

func checkRenderBody(t *testing.T, srvs []*Server, raw []byte, base string, v view) {
	t.Helper()
	var doc map[string]any
	if json.Unmarshal(raw, &doc) != nil {
		return
	}
	for _, srv := range srvs {
		for _, k := range []*resourceKind{srv.users, srv.groups} {
			for _, c := range renderCases {
				r := &store.Resource{Type: k.name, ID: "2819c223-7f76", Version: 12, Doc: doc,
					Created:  time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.FixedZone("x", 3600)),
					Modified: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
				want, werr := marshal(srv.project(k, srv.render(k, r, base, srv.memberView(c.members), c.groups), v))
				got, gerr := srv.renderBody(k, r, base, c.members, c.groups, v)
				if (werr != nil) != (gerr != nil) || !bytes.Equal(got, want) {
					t.Fatalf("etag %v, %s, %+v, view %+v:\n got %s %v\nwant %s %v", srv.prof.ETag, raw, c, v, got, gerr, want, werr)
				}
			}
		}
	}
}

// The direct path takes views that exclude no part of meta and list no
// attributes to return.
func TestLeavesServerAttrs(t *testing.T) {
	srv := etagServers(t)[0]
	for i, want := range []bool{true, true, true, true, true, false, false, false, false, false} {
		if got := renderViews[i].leavesServerAttrs(srv.users); got != want {
			t.Errorf("view %+v: leavesServerAttrs = %v, want %v", renderViews[i], got, want)
		}
	}
}
