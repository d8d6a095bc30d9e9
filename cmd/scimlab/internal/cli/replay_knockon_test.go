package cli

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/recorder"
	"github.com/scimlab/scimlab/simulator/transcript"
)

// TestReplayOnAStricterTargetBlamesTheFailedCreate: an Entra run recorded
// against the lenient reference server and replayed against the strict one
// fails on POST /Groups (Entra's extension schema URN); the later exchanges
// that use that group's recorded id are errors naming the POST, never sent
// and never scored as 404 failures, and --minimize on one of them is refused
// in one line (exit 2), pointing at the POST.
func TestReplayOnAStricterTargetBlamesTheFailedCreate(t *testing.T) {
	t.Setenv("SCIM_TOKEN", "")
	session := recordEntra(t, filepath.Join(t.TempDir(), "entra.jsonl"), "6")

	strict := startReference(t, server.LocalOptions{})
	dir := t.TempDir()
	code, out, errs := runCLI(t, "replay", session, "--target", strict.BaseURL, "--token", strict.Token, "--report-dir", dir)
	if code != ExitFailures {
		t.Fatalf("replay: exit %d, want 1\n%s\n%s", code, out, errs)
	}
	run, err := reports.Load(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	xs, err := transcript.Load(session)
	if err != nil {
		t.Fatal(err)
	}
	failedPosts := map[string]bool{}
	var blocked []reports.Check
	for _, c := range run.Checks {
		switch {
		case strings.HasPrefix(c.Title, "POST /Groups") && c.Verdict == reports.Fail:
			failedPosts[c.ID] = true
		case c.Verdict == reports.Fail && strings.Contains(c.Reason, "status 404"):
			t.Errorf("%s is scored a failure for an id this target never had: %s", c.ID, c.Reason)
		case c.Verdict == reports.Error:
			blocked = append(blocked, c)
		}
	}
	if len(failedPosts) == 0 || len(blocked) == 0 {
		t.Fatalf("want a failed POST /Groups and errors after it; got %d and %d\n%s", len(failedPosts), len(blocked), out)
	}
	for _, c := range blocked {
		named := false
		for id := range failedPosts {
			named = named || strings.Contains(c.Reason, id+" (POST /Groups)")
		}
		if !named || !strings.HasPrefix(c.Reason, "not sent: ") || len(c.Evidence) != 0 {
			t.Errorf("%s: %q, %d evidence; want an unsent error naming the failed POST /Groups", c.ID, c.Reason, len(c.Evidence))
		}
	}
	if len(xs) != len(run.Checks) {
		t.Errorf("%d exchanges, %d checks", len(xs), len(run.Checks))
	}

	// Minimising a blocked exchange is refused; the in-process server here is
	// the strict one too.
	code, out, errs = runCLI(t, "replay", session, "--lenient=false", "--minimize", blocked[len(blocked)-1].ID, "--out", filepath.Join(dir, "min.jsonl"))
	if code != ExitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "cannot minimise a check that was not sent: "+blocked[len(blocked)-1].ID) || !strings.Contains(errs, " instead") {
		t.Errorf("--minimize %s: exit %d\nstdout %q\nstderr %q", blocked[len(blocked)-1].ID, code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "min.jsonl")); err == nil {
		t.Error("a refused minimisation wrote a transcript")
	}
}

// TestReplayTakesTheTargetsOwnCredentialHeader: a target that wants an API
// key header is replayed with --header, and the recording's redacted key is
// never sent in its place; --basic is a credential too.
func TestReplayTakesTheTargetsOwnCredentialHeader(t *testing.T) {
	t.Setenv("SCIM_TOKEN", "")
	t.Setenv("SCIM_BASIC", "")
	var sent []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent = append(sent, r.Header.Get("X-Api-Key")+"|"+r.Header.Get("Authorization"))
		user, pass, basic := r.BasicAuth()
		if r.Header.Get("X-Api-Key") != "live-key" && !(basic && user == "svc" && pass == "pw:1") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/scim+json")
		io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}`)
	}))
	defer srv.Close()
	session := filepath.Join(t.TempDir(), "key.jsonl")
	x := transcript.Exchange{Seq: 1, Method: "GET", Path: "/Users", Query: "count=1", Status: 200,
		RequestHeaders: map[string][]string{"X-Api-Key": {"recorded-key"}, "User-Agent": {"Okta SCIM Client 1.0.0"}},
		ResponseBody:   `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}`}
	if err := transcript.Save(session, []transcript.Exchange{x}); err != nil { // Save redacts the key
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(session); strings.Contains(string(b), "recorded-key") {
		t.Fatalf("the transcript keeps the key: %s", b)
	}
	if code, out, errs := runCLI(t, "replay", session, "--target", srv.URL, "--header", "X-Api-Key: live-key"); code != ExitOK {
		t.Fatalf("--header X-Api-Key: exit %d\n%s\n%s", code, out, errs)
	}
	if code, out, errs := runCLI(t, "replay", session, "--target", srv.URL, "--basic", "svc:pw:1"); code != ExitOK {
		t.Fatalf("--basic: exit %d\n%s\n%s", code, out, errs)
	}
	for _, s := range sent {
		if strings.Contains(s, "REDACTED") || strings.Contains(s, "recorded-key") {
			t.Errorf("sent %q", s)
		}
	}
	runUsageCases(t, []usageCase{
		{"no credential", []string{"replay", session, "--target", srv.URL, "--header", "X-Trace: 1"}, "no credential for " + srv.URL},
		{"token and basic", []string{"replay", session, "--target", srv.URL, "--token", "t", "--basic", "u:p"}, "give either --token or --basic, not both"},
		{"basic without a password", []string{"replay", session, "--target", srv.URL, "--basic", "svc"}, "--basic must be user:password"},
	})
	code, _, errs := runCLI(t, "replay", session, "--target", srv.URL, "--token", "wrong")
	if code != ExitUsage || !strings.Contains(errs, "the recording's X-Api-Key header was redacted and is not replayed: pass it with --header") {
		t.Errorf("a refused token: exit %d: %s", code, errs)
	}
}

// recordEntra records an Entra simulation of users users and 2 groups
// against a lenient in-process reference server into session, through the
// recorder, and returns session.
func recordEntra(t *testing.T, session, users string) string {
	t.Helper()
	lenient := startReference(t, server.LocalOptions{Lenient: true})
	f, err := os.Create(session)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := recorder.New(lenient.BaseURL, f, recorder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(rec)
	if code, out, errs := runCLI(t, "simulate", "--idp", "entra", "--target", proxy.URL+"/scim/v2", "--token", lenient.Token, "--users", users, "--groups", "2", "--seed", "3"); code != ExitOK {
		t.Fatalf("recording: exit %d\n%s\n%s", code, out, errs)
	}
	proxy.Close()
	f.Close()
	return session
}
