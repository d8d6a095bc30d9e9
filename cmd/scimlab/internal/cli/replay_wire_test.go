package cli

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/recorder"
	"github.com/scimlab/scimlab/simulator/replayer"
	"github.com/scimlab/scimlab/simulator/transcript"
)

// recordSimulations records `simulate --idp IDP` runs, one per idp, through
// one recorder in front of a lenient reference server, and returns the
// transcript's path.
func recordSimulations(t *testing.T, idps ...string) string {
	t.Helper()
	up := startReference(t, server.LocalOptions{Lenient: true})
	session := filepath.Join(t.TempDir(), "session.jsonl")
	f, err := os.Create(session)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, err := recorder.New(up.BaseURL, f, recorder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(rec)
	defer proxy.Close()
	for _, idp := range idps {
		if code, out, errs := runCLI(t, "simulate", "--idp", idp, "--target", proxy.URL+"/scim/v2", "--token", up.Token, "--users", "3", "--groups", "1", "--seed", "5"); code != ExitOK {
			t.Fatalf("recording %s: exit %d\n%s\n%s", idp, code, out, errs)
		}
	}
	return session
}

// capture is a recorder in front of a fresh reference server: what a
// replay sends, as the target got it.
func capture(t *testing.T) (*server.Local, *recorder.Recorder, string) {
	t.Helper()
	l := startReference(t, server.LocalOptions{Lenient: true})
	rec, err := recorder.New(l.BaseURL, io.Discard, recorder.Options{KeepExchanges: true})
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(rec)
	t.Cleanup(proxy.Close)
	return l, rec, proxy.URL + "/scim/v2"
}

// TestReplaySendsExactlyTheRecordedRequests: an Entra session recorded
// through `record` and replayed through a capturing proxy reaches the
// target as recorded: the same requests in the same order, each with the
// recorded headers (the credential aside) and no others: no
// Accept-Encoding: gzip of Go's own. The replay's preflight is its own
// request, before them, with the replayer's User-Agent, and not in the
// report.
func TestReplaySendsExactlyTheRecordedRequests(t *testing.T) {
	t.Setenv("SCIM_TOKEN", "")
	session := recordSimulations(t, "entra")
	xs, err := transcript.Load(session)
	if err != nil {
		t.Fatal(err)
	}
	l, rec, target := capture(t)
	dir := t.TempDir()
	if code, out, errs := runCLI(t, "replay", session, "--target", target, "--token", l.Token, "--report-dir", dir); code != ExitOK {
		t.Fatalf("replay: exit %d\n%s\n%s", code, out, errs)
	}
	got := rec.Exchanges()
	var own, replayed []transcript.Exchange
	for _, x := range got {
		if strings.HasPrefix(http.Header(x.RequestHeaders).Get("User-Agent"), "scimlab-replay/") {
			own = append(own, x)
			continue
		}
		replayed = append(replayed, x)
	}
	if len(own) != 1 || own[0].Title() != "GET /ServiceProviderConfig" || got[0].Seq != own[0].Seq ||
		http.Header(own[0].RequestHeaders).Get("User-Agent") != replayer.OwnUserAgent("preflight") {
		t.Errorf("the replay's own requests: %v; want one GET /ServiceProviderConfig first, with User-Agent %s", titles(own), replayer.OwnUserAgent("preflight"))
	}
	if len(replayed) != len(xs) {
		t.Fatalf("the target got %d requests of the recording's %d:\n%v", len(replayed), len(xs), titles(got))
	}
	strip := func(h map[string][]string) http.Header {
		out := http.Header{}
		for k, v := range h {
			if k != "Authorization" && k != "Content-Length" {
				out[k] = v
			}
		}
		return out
	}
	for i, x := range xs {
		y := replayed[i]
		if x.Method != y.Method || strings.Count(x.Path, "/") != strings.Count(y.Path, "/") {
			t.Errorf("request %d: %s, recorded %s", i+1, y.Title(), x.Title())
		}
		if want, have := strip(x.RequestHeaders), strip(y.RequestHeaders); !reflect.DeepEqual(want, have) {
			t.Errorf("%s: the target got headers\n%v\nthe recording has\n%v", x.Title(), have, want)
		}
	}
	run, err := reports.Load(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Checks) != len(xs) {
		t.Errorf("the report has %d checks for %d recorded exchanges", len(run.Checks), len(xs))
	}
}

func titles(xs []transcript.Exchange) []string {
	var out []string
	for _, x := range xs {
		out = append(out, x.Title()+" ["+http.Header(x.RequestHeaders).Get("User-Agent")+"]")
	}
	return out
}

// TestReplayOfTwoIdPsLabelsEachByItsOwn: an Okta session and then an Entra
// one, recorded through one `record`, replay with each exchange labelled
// by the IdP that sent it: Entra's POST /Groups is IDP:entra, not
// IDP:okta; readiness has a line for each IdP, and the report says the
// recording holds more than one.
func TestReplayOfTwoIdPsLabelsEachByItsOwn(t *testing.T) {
	t.Setenv("SCIM_TOKEN", "")
	session := recordSimulations(t, "okta-oin", "entra")
	xs, err := transcript.Load(session)
	if err != nil {
		t.Fatal(err)
	}
	l := startReference(t, server.LocalOptions{Lenient: true})
	dir := t.TempDir()
	code, out, errs := runCLI(t, "replay", session, "--target", l.BaseURL, "--token", l.Token, "--report-dir", dir)
	if code != ExitOK {
		t.Fatalf("replay: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "Okta-ready: yes") || !strings.Contains(out, "Entra-ready: yes") || !strings.Contains(out, "more than one IdP") {
		t.Errorf("want Okta-ready and Entra-ready lines, and a note that the recording holds more than one IdP:\n%s", out)
	}
	run, err := reports.Load(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if run.IdP != "okta, entra" {
		t.Errorf("run IdP %q, want \"okta, entra\"", run.IdP)
	}
	byID := map[string]transcript.Exchange{}
	for _, x := range xs {
		byID[replayer.CheckID(x.Seq)] = x
	}
	seen := map[reports.Level]int{}
	for _, c := range run.Checks {
		ua := http.Header(byID[c.ID].RequestHeaders).Get("User-Agent")
		var want reports.Level
		switch {
		case strings.Contains(ua, "Okta"):
			want = reports.IdPLevel("okta")
		case strings.Contains(ua, "Entra"):
			want = reports.IdPLevel("entra")
		default:
			continue
		}
		seen[want]++
		if c.Level != want {
			t.Errorf("%s %s (User-Agent %q): level %s, want %s", c.ID, c.Title, ua, c.Level, want)
		}
	}
	if seen[reports.IdPLevel("okta")] == 0 || seen[reports.IdPLevel("entra")] == 0 {
		t.Errorf("checks by IdP: %v; want both", seen)
	}
}

// TestReplayOfTheRecordersOwn502: a request recorded while the upstream was
// down got the recorder's own 502. Replayed against a healthy target it is
// not sent and not judged (skipped, with the reason), and the run passes
// (exit 0): the target is never failed against an answer the recorder made.
func TestReplayOfTheRecordersOwn502(t *testing.T) {
	t.Setenv("SCIM_TOKEN", "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String() + "/scim/v2"
	ln.Close()
	session := filepath.Join(t.TempDir(), "down.jsonl")
	f, err := os.Create(session)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := recorder.New(down, f, recorder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(rec)
	req, _ := http.NewRequest("GET", proxy.URL+"/scim/v2/Users?filter=userName%20eq%20%22ana%40example.test%22&startIndex=1&count=100", nil)
	req.Header.Set("User-Agent", "Okta SCIM Client 1.0.0")
	req.Header.Set("Accept", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	proxy.Close()
	f.Close()

	l, capt, target := capture(t)
	dir := t.TempDir()
	code, out, errs := runCLI(t, "replay", session, "--target", target, "--token", l.Token, "--report-dir", dir)
	if code != ExitOK {
		t.Fatalf("replay: exit %d, want 0\n%s\n%s", code, out, errs)
	}
	for _, x := range capt.Exchanges() {
		if !strings.HasPrefix(http.Header(x.RequestHeaders).Get("User-Agent"), "scimlab-replay/") {
			t.Errorf("the target got %s, which the recorded target never saw", x.Title())
		}
	}
	run, err := reports.Load(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Checks) != 1 || run.Checks[0].Verdict != reports.Skipped || !strings.Contains(run.Checks[0].Reason, "scimlab record answered 502 itself") {
		t.Errorf("checks %+v; want RPL-0001 skipped, saying the recorder answered it", run.Checks)
	}
}
