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

// TestAppendResourceMatchesRender checks that the direct renderer writes
// exactly what encoding render's map writes, with ETags on and off.
func TestAppendResourceMatchesRender(t *testing.T) {
	srvs := etagServers(t)
	for _, d := range renderDocs {
		checkAppendResource(t, srvs, []byte(d), "http://localhost/scim/v2")
	}
	checkAppendResource(t, srvs, []byte(renderDocs[1]), "https://h\u00e9st:8443/\"x\"\xff/scim/v2")
}

// FuzzAppendResource compares the direct renderer with render and marshal
// for any stored document and base URL.
func FuzzAppendResource(f *testing.F) {
	for _, d := range renderDocs {
		f.Add([]byte(d), "http://localhost/scim/v2")
	}
	srvs := etagServers(f)
	f.Fuzz(func(t *testing.T, doc []byte, base string) {
		checkAppendResource(t, srvs, doc, base)
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

func checkAppendResource(t *testing.T, srvs []*Server, raw []byte, base string) {
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
				want, werr := marshal(srv.render(k, r, base, c.members, c.groups))
				got, gerr := srv.appendResource(nil, k, r, base, c.members, c.groups)
				if (werr != nil) != (gerr != nil) || !bytes.Equal(got, want) {
					t.Fatalf("etag %v, %s, %+v:\n got %s %v\nwant %s %v", srv.prof.ETag, raw, c, got, gerr, want, werr)
				}
			}
		}
	}
}
