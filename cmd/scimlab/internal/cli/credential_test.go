package cli

import (
	"path/filepath"
	"testing"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/simulator/transcript"
)

// listSession writes a transcript of n list requests that answered 200.
func listSession(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "session.jsonl")
	var xs []transcript.Exchange
	for i := 1; i <= n; i++ {
		xs = append(xs, transcript.Exchange{Seq: i, Method: "GET", Path: "/Users", Query: "count=1", Status: 200,
			ResponseBody: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}`})
	}
	if err := transcript.Save(path, xs); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMissingOrRefusedCredentialIsAConfigError: simulate and replay, like
// test, end with exit 2 and a one-line reason when there is no credential or
// the target refuses it on the first request; they do not report the target
// as failing every check.
func TestMissingOrRefusedCredentialIsAConfigError(t *testing.T) {
	t.Setenv("SCIM_TOKEN", "")
	l := startReference(t, server.LocalOptions{Lenient: true})
	session := listSession(t, 3)
	runUsageCases(t, []usageCase{
		{"simulate without a token", []string{"simulate", "--target", l.BaseURL, "--users", "2", "--groups", "1"}, "scimlab simulate: no credential for " + l.BaseURL},
		{"simulate with a refused token", []string{"simulate", "--target", l.BaseURL, "--token", "wrong-token", "--users", "2", "--groups", "1"},
			"scimlab simulate: invalid simulation config: " + l.BaseURL + " refused the credential (GET /Users?"},
		{"replay without a token", []string{"replay", session, "--target", l.BaseURL}, "scimlab replay: no credential for " + l.BaseURL},
		{"replay with a refused token", []string{"replay", session, "--target", l.BaseURL, "--token", "wrong-token"},
			"scimlab replay: the target refused the credential: " + l.BaseURL + " answered 401 to GET /Users?count=1"},
	})
}
