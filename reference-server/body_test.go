package server

import (
	"bytes"
	"compress/gzip"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reference-server/scim"
)

// TestAmbiguousOrMisencodedBodies: a body with a key given twice, or bytes
// that are not UTF-8, is a 400 invalidSyntax on every endpoint that takes
// one, and nothing is stored.
func TestAmbiguousOrMisencodedBodies(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("existing")["id"].(string)
	const u = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]`
	for _, c := range []struct{ name, method, path, body string }{
		{"POST duplicate key", "POST", "/Users", `{` + u + `,"userName":"dupA","userName":"dupB"}`},
		{"POST nested duplicate", "POST", "/Users", `{` + u + `,"userName":"n","name":{"givenName":"a","givenName":"b"}}`},
		{"POST bad UTF-8", "POST", "/Users", "{" + u + ",\"userName\":\"bad\xff\xfe\"}"},
		{"PUT duplicate key", "PUT", "/Users/" + id, `{` + u + `,"userName":"existing","active":true,"active":false}`},
		{"PATCH duplicate key", "PATCH", "/Users/" + id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","op":"add","path":"active","value":false}]}`},
		{"PATCH bad UTF-8", "PATCH", "/Users/" + id, "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[{\"op\":\"replace\",\"path\":\"displayName\",\"value\":\"\xc3\x28\"}]}"},
		{"search duplicate key", "POST", "/Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName pr","filter":"id pr"}`},
		{"bulk duplicate key", "POST", "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","path":"/Users","bulkId":"a","bulkId":"b","data":{` + u + `,"userName":"bulk"}}]}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, e.do(c.method, c.path, c.body), 400, scim.InvalidSyntax)
		})
	}
	r := e.must(200, "GET", "/Users", nil)
	if n := r.obj()["totalResults"]; n != float64(1) {
		t.Errorf("%v users after refused writes, want 1: %s", n, r.Body)
	}
	if got := e.must(200, "GET", "/Users/"+id, nil).obj(); got["active"] == false || got["displayName"] != nil {
		t.Errorf("a refused write changed the user: %v", got)
	}
}

// TestNumberOutOfRange: a number no float64 holds is valid JSON, so the
// answer is 400 invalidValue naming the number, never a claim that the
// body is not a JSON object; nothing is stored.
func TestNumberOutOfRange(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("existing")["id"].(string)
	const u = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]`
	for _, c := range []struct{ name, method, path, body string }{
		{"POST attribute", "POST", "/Users", `{` + u + `,"userName":"n","title":1e999}`},
		{"POST unknown attribute", "POST", "/Users", `{` + u + `,"userName":"n","x":-1e999}`},
		{"PUT", "PUT", "/Users/" + id, `{` + u + `,"userName":"existing","x":1e400}`},
		{"PATCH value", "PATCH", "/Users/" + id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":1e999}]}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			se := wantError(t, e.do(c.method, c.path, c.body), 400, scim.InvalidValue)
			if !strings.Contains(se.Detail, "out of range") || strings.Contains(se.Detail, "not a valid JSON object") {
				t.Errorf("detail %q", se.Detail)
			}
		})
	}
	if n := e.must(200, "GET", "/Users", nil).obj()["totalResults"]; n != float64(1) {
		t.Errorf("%v users after refused writes, want 1", n)
	}
}

// TestContentEncoding: a gzip-coded body is read decoded, with the size
// limit on the decoded bytes; any other coding is 415, never bytes read as
// JSON.
func TestContentEncoding(t *testing.T) {
	e := newEnv(t)
	gz := func(s string) string {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.String()
	}
	const u = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]`
	r := e.do("POST", "/Users", gz(`{`+u+`,"userName":"zipped"}`), "Content-Encoding", "gzip")
	if r.Status != 201 || r.obj()["userName"] != "zipped" {
		t.Fatalf("gzip POST: %s", r)
	}
	id := r.obj()["id"].(string)
	e.must(200, "PATCH", "/Users/"+id, gz(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"T"}]}`), "Content-Encoding", "GZIP")
	e.must(200, "POST", "/Bulk", gz(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"DELETE","path":"/Users/`+id+`"}]}`), "Content-Encoding", "x-gzip")
	e.must(404, "GET", "/Users/"+id, nil)

	r415 := e.do("POST", "/Users", `{`+u+`,"userName":"br"}`, "Content-Encoding", "br")
	wantError(t, r415, 415, "")
	if r415.Header.Get("Accept-Encoding") != "gzip" {
		t.Errorf("415 without Accept-Encoding: %v", r415.Header)
	}
	e.must(201, "POST", "/Users", `{`+u+`,"userName":"ident"}`, "Content-Encoding", "identity")
	send := func(body string, length int64, enc ...string) resp {
		req := httptest.NewRequest("POST", BasePath+"/Users", strings.NewReader(body))
		req.ContentLength = length
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("Content-Type", scim.MediaType)
		for _, v := range enc {
			req.Header.Add("Content-Encoding", v)
		}
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, req)
		return resp{Status: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
	}
	// Content-Encoding on two lines is one list (RFC 7230 §3.2.2).
	if r := send(gz(`{`+u+`,"userName":"lines"}`), -1, "identity", "gzip"); r.Status != 201 {
		t.Errorf("identity and gzip on two lines: %s", r)
	}
	if r := send(gz(gz(`{`+u+`,"userName":"twice"}`)), -1, "gzip", "gzip"); r.Status != 415 {
		t.Errorf("gzip twice: %s", r)
	}
	// A coded body over the limit, sent without a length, is 413 too.
	var stored bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&stored, gzip.NoCompression)
	zw.Write([]byte(`{` + u + `,"userName":"big0","title":"` + strings.Repeat("x", 1<<20+100) + `"}`))
	zw.Close()
	if r := send(stored.String(), -1, "gzip"); r.Status != 413 {
		t.Errorf("a stored gzip body over the limit, chunked: %s", r)
	}
	e.must(204, "DELETE", "/Users/"+e.must(200, "GET", "/Users?filter="+url.QueryEscape(`userName eq "ident"`), nil).obj()["Resources"].([]any)[0].(map[string]any)["id"].(string), nil)
	e.must(204, "DELETE", "/Users/"+e.must(200, "GET", "/Users?filter="+url.QueryEscape(`userName eq "lines"`), nil).obj()["Resources"].([]any)[0].(map[string]any)["id"].(string), nil)
	wantError(t, e.do("POST", "/Users", gz(`{`+u+`,"userName":"two"}`), "Content-Encoding", "gzip, br"), 415, "")
	wantError(t, e.do("POST", "/Users", `{`+u+`,"userName":"plain"}`, "Content-Encoding", "gzip"), 400, scim.InvalidSyntax)
	bomb := gz(`{` + u + `,"userName":"big","title":"` + strings.Repeat("x", 2<<20) + `"}`)
	if len(bomb) > 1<<20 {
		t.Fatalf("the compressed body is %d bytes; it should be small", len(bomb))
	}
	wantError(t, e.do("POST", "/Users", bomb, "Content-Encoding", "gzip"), 413, "")
	if n := e.must(200, "GET", "/Users", nil).obj()["totalResults"]; n != float64(0) {
		t.Errorf("%v users, want 0", n)
	}
}
