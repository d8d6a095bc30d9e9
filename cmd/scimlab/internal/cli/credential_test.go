package cli

import (
	"flag"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
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

// TestCredentialWithAControlCharacterIsAUsageError: a token, a --basic
// credential or a header value with a control character (a token read from
// a file with Windows line endings) cannot be sent; test, simulate, replay
// and bench say which flag holds it, in one line and exit 2, without the
// value and before any request, instead of calling the target unreachable.
func TestCredentialWithAControlCharacterIsAUsageError(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	target := srv.URL + "/scim/v2"
	session := listSession(t, 1)
	const secret = "CTRLSECRET42"
	t.Setenv("SCIM_TOKEN", "")
	t.Setenv("SCIM_BASIC", "")
	cases := []struct {
		name string
		env  string // SCIM_TOKEN
		args []string
		want string
	}{
		{"test token CR", "", []string{"test", "--target", target, "--token", secret + "\r"}, "--token holds a control character (U+000D, a carriage return"},
		{"test token from the environment", secret + "\n", []string{"test", "--target", target}, "SCIM_TOKEN (the default of --token) holds a control character (U+000A, a newline"},
		{"test basic", "", []string{"test", "--target", target, "--basic", "svc:" + secret + "\r"}, "--basic holds a control character"},
		{"test expired token", "", []string{"test", "--target", target, "--token", secret, "--expired-token", secret + "\x7f"}, "--expired-token holds a control character (U+007F)"},
		{"test header", "", []string{"test", "--target", target, "--header", "X-Api-Key: " + secret + "\x01x"}, "the value of --header X-Api-Key holds a control character (U+0001)"},
		{"simulate", "", []string{"simulate", "--target", target, "--token", secret + "\r"}, "--token holds a control character"},
		{"replay token", "", []string{"replay", session, "--target", target, "--token", secret + "\r"}, "--token holds a control character"},
		{"replay basic", "", []string{"replay", session, "--target", target, "--basic", "svc:" + secret + "\n"}, "--basic holds a control character"},
		{"bench", "", []string{"bench", "--target", target, "--token", secret + "\r"}, "--token holds a control character"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SCIM_TOKEN", tc.env)
			code, out, errs := runCLI(t, tc.args...)
			if code != ExitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "scimlab "+tc.args[0]+": "+tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and one line holding %q", code, out, errs, tc.want)
			}
			if strings.Contains(errs, secret) {
				t.Errorf("the error shows the credential: %q", errs)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached the target", n)
	}
}

// TestTabInAHeaderValueIsAllowed: RFC 7230 §3.2 lets a tab stand between
// the visible characters of a field value, so a --header holding one is
// sent, not refused; the other controls still are.
func TestTabInAHeaderValueIsAllowed(t *testing.T) {
	for v, bad := range map[string]bool{"a\tb": false, "a b": false, "a\rb": true, "a\x00": true, "\x1b[0m": true} {
		if _, got := controlChar(v); got != bad {
			t.Errorf("controlChar(%q) = %v, want %v", v, got, bad)
		}
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	h := headerFlag{}
	fs.Var(h, "header", "")
	if err := fs.Parse([]string{"--header", "X-Trace: a\tb"}); err != nil {
		t.Fatal(err)
	}
	if err := checkCredentialFlags(fs); err != nil {
		t.Errorf("a tab in a header value: %v", err)
	}
}
