package cli

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/simulator/transcript"
)

// TestReplayOfAWrongTargetIsOneLine: replay, like test and simulate, checks
// that --target serves SCIM before it sends the recording: a web server
// that is no SCIM service, or a SCIM server under the wrong base path, is
// one line on stderr and exit 2, with no exchange sent and no report; a
// target that refuses the credential is still exit 2, in the replay's words.
func TestReplayOfAWrongTargetIsOneLine(t *testing.T) {
	t.Setenv("SCIM_TOKEN", "")
	var mu sync.Mutex
	var seen []string
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.RequestURI())
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html;charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "<html><body>Error response: File not found</body></html>")
	}))
	defer web.Close()
	l := startReference(t, server.LocalOptions{Lenient: true})
	session := filepath.Join(t.TempDir(), "session.jsonl")
	xs := []transcript.Exchange{
		{Seq: 1, Method: "POST", Path: "/Users", Status: 201, RequestBody: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ana@example.test"}`,
			ResponseBody: `{"id":"u1","userName":"ana@example.test"}`},
		{Seq: 2, Method: "GET", Path: "/Users", Query: "count=1", Status: 200,
			ResponseBody: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"Resources":[]}`},
	}
	if err := transcript.Save(session, xs); err != nil {
		t.Fatal(err)
	}
	v1 := strings.Replace(l.BaseURL, "/scim/v2", "/scim/v1", 1)
	for _, tc := range []struct {
		name, target, token, want string
	}{
		{"a web server", web.URL + "/scim/v2", "t0ken-for-a-web-server", "configuration error: no SCIM service at " + web.URL + "/scim/v2: GET " + web.URL + "/scim/v2/ServiceProviderConfig answered 404 (text/html;charset=utf-8)"},
		{"the wrong base path", v1, l.Token, "configuration error: no SCIM service at " + v1},
		{"a refused credential", l.BaseURL, "wrong-token", "the target refused the credential: " + l.BaseURL + " answered 401 to POST /Users"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "reports")
			code, out, errs := runCLI(t, "replay", session, "--target", tc.target, "--token", tc.token, "--report-dir", dir)
			if code != ExitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "scimlab replay: "+tc.want) {
				t.Errorf("exit %d, want 2, no stdout and one line starting %q\nstdout %q\nstderr %q", code, tc.want, out, errs)
			}
			if _, err := os.Stat(filepath.Join(dir, "report.json")); err == nil {
				t.Error("a report was written")
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range seen {
		if !strings.HasPrefix(s, "GET ") {
			t.Errorf("the web server was sent %s, an exchange of the recording", s)
		}
	}
}
