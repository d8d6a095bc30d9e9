package bugpack

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/replayer"
	"github.com/scimlab/scimlab/simulator/transcript"
)

// knownGaps are bugs the lenient reference server still fails, each with
// why and a compat shim that stands in for the fix, so the broken-server
// test can still show that the bug's check tells a fixed server from one
// with the bug. The pass test asserts they still fail on the plain server,
// so an entry has to go when the server is fixed.
var knownGaps = map[string]gap{}

type gap struct {
	why    string
	compat fault
}

func startRef(t *testing.T) *server.Local {
	t.Helper()
	l, err := server.StartLocal(context.Background(), server.LocalOptions{Profile: "rfc", Lenient: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func mustLoad(t *testing.T) []Bug {
	t.Helper()
	bugs, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return bugs
}

func TestLoadShipsTheBugs(t *testing.T) {
	bugs := mustLoad(t)
	if len(bugs) < 20 {
		t.Fatalf("the pack has %d bugs, want at least 20 of B1–B25", len(bugs))
	}
	uuid := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	for _, b := range bugs {
		t.Run(b.ID, func(t *testing.T) {
			if !regexp.MustCompile(`^B[0-2][0-9]$`).MatchString(b.ID) {
				t.Errorf("ID %q is not Bnn", b.ID)
			}
			switch b.IdP {
			case "okta", "entra", "onelogin":
			default:
				t.Errorf("IdP %q: want okta, entra or onelogin", b.IdP)
			}
			if got := transcript.IdP(b.Exchanges); got != "" && got != b.IdP {
				t.Errorf("README says %s, the User-Agent says %s", b.IdP, got)
			}
			if b.RFC != "" && !regexp.MustCompile(`^RFC76(43|44) §\d+(\.\d+)*$`).MatchString(b.RFC) {
				t.Errorf("RFC %q is not in report form (RFC7644 §3.5.2)", b.RFC)
			}
			// Every id a request names must come from an earlier recorded
			// response, or the replayer cannot map it onto the target's.
			known := map[string]bool{}
			for i, x := range b.Exchanges {
				if x.Seq != i+1 {
					t.Errorf("exchange %d has seq %d", i+1, x.Seq)
				}
				for _, id := range uuid.FindAllString(x.Path+" "+x.Query+" "+x.RequestBody, -1) {
					if !known[id] {
						t.Errorf("exchange %d (%s) names %s before any response returned it", i+1, x.Title(), id)
					}
				}
				if !strings.Contains(x.RequestBody+x.Query, Namespace) && x.Method == http.MethodPost {
					t.Errorf("exchange %d creates a resource whose names lack %q: it would collide across runs", i+1, Namespace)
				}
				for _, id := range uuid.FindAllString(x.ResponseBody, -1) {
					known[id] = true
				}
				if strings.Contains(x.RequestBody, "placeholder-Pa55word") || strings.Contains(strings.Join(x.RequestHeaders["Authorization"], ""), "Bearer ey") {
					t.Errorf("exchange %d carries an unredacted secret", i+1)
				}
			}
		})
	}
}

func TestLoadRefusesInconsistentPacks(t *testing.T) {
	row := "| B02 | entra | `B02-x.jsonl` | s | src | – | c |\n"
	line := `{"seq":1,"method":"GET","path":"/Users","status":200,"expect":{"status":[200]}}` + "\n"
	for name, fsys := range map[string]fstest.MapFS{
		"no file":          {"b/README.md": {Data: []byte(row)}},
		"no row":           {"b/README.md": {Data: []byte(row)}, "b/B02-x.jsonl": {Data: []byte(line)}, "b/B03-y.jsonl": {Data: []byte(line)}},
		"no expect":        {"b/README.md": {Data: []byte(row)}, "b/B02-x.jsonl": {Data: []byte(`{"seq":1,"method":"GET","path":"/Users","status":200}`)}},
		"file not the id":  {"b/README.md": {Data: []byte(strings.Replace(row, "B02-x", "B03-x", 1))}, "b/B03-x.jsonl": {Data: []byte(line)}},
		"short row":        {"b/README.md": {Data: []byte("| B02 | entra | `B02-x.jsonl` |\n")}},
		"no rows":          {"b/README.md": {Data: []byte("# nothing\n")}},
		"bad json":         {"b/README.md": {Data: []byte(row)}, "b/B02-x.jsonl": {Data: []byte("{")}},
		"row listed twice": {"b/README.md": {Data: []byte(row + row)}, "b/B02-x.jsonl": {Data: []byte(line)}},
	} {
		if _, err := load(fsys, "b"); err == nil {
			t.Errorf("%s: load accepted it", name)
		}
	}
	bugs, err := load(fstest.MapFS{"b/README.md": {Data: []byte(row)}, "b/B02-x.jsonl": {Data: []byte(line)}}, "b")
	if err != nil || len(bugs) != 1 || bugs[0].RFC != "" || bugs[0].IdP != "entra" {
		t.Fatalf("load = %+v, %v", bugs, err)
	}
}

// TestPackPassesOnTheReferenceServer: a lenient reference server is what a
// correct server does, so every bug passes, except the known gaps, which
// must still fail (delete the entry when the server is fixed).
func TestPackPassesOnTheReferenceServer(t *testing.T) {
	l := startRef(t)
	run, err := Run(context.Background(), replayer.Target{BaseURL: l.BaseURL, Token: l.Token})
	if err != nil {
		t.Fatal(err)
	}
	bugs := mustLoad(t)
	if len(run.Checks) != len(bugs) {
		t.Fatalf("%d checks for %d bugs", len(run.Checks), len(bugs))
	}
	for _, c := range run.Checks {
		id := strings.TrimPrefix(c.ID, "BUG-")
		if c.Area != "bugpack" || !strings.HasPrefix(string(c.Level), "IDP:") || len(c.Labels) == 0 || c.Labels[0] != "bugpack" {
			t.Errorf("%s: area %q level %q labels %v", c.ID, c.Area, c.Level, c.Labels)
		}
		if g, ok := knownGaps[id]; ok {
			if c.Verdict == reports.Pass {
				t.Errorf("%s passes now; remove it from knownGaps (%s)", c.ID, g.why)
			} else {
				t.Logf("known gap %s: %s\n\t%s", c.ID, g.why, c.Reason)
			}
			continue
		}
		if c.Verdict != reports.Pass {
			t.Errorf("%s %s: %s", c.ID, c.Verdict, c.Reason)
			for _, ev := range c.Evidence {
				b, _ := json.Marshal(ev)
				t.Logf("evidence: %s", b)
			}
		}
	}
	if len(run.Orphans) > 0 {
		t.Errorf("cleanup left %v", run.Orphans)
	}
}

// TestPackRunsTwiceAgainstOneServer: the per-run namespace keeps a second
// run from colliding with the first, and cleanup leaves nothing behind.
func TestPackRunsTwiceAgainstOneServer(t *testing.T) {
	l := startRef(t)
	tgt := replayer.Target{BaseURL: l.BaseURL, Token: l.Token}
	var first []reports.Check
	for i := 0; i < 2; i++ {
		run, err := Run(context.Background(), tgt)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = run.Checks
			continue
		}
		for j, c := range run.Checks {
			if c.Verdict != first[j].Verdict {
				t.Errorf("%s: %s on the first run, %s on the second: %s", c.ID, first[j].Verdict, c.Verdict, c.Reason)
			}
		}
	}
	for _, p := range []string{"/Users", "/Groups"} {
		req, _ := http.NewRequest(http.MethodGet, l.BaseURL+p, nil)
		req.Header.Set("Authorization", "Bearer "+l.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var list struct{ TotalResults int }
		_ = json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if list.TotalResults != 0 {
			t.Errorf("GET %s: %d resources left after two runs", p, list.TotalResults)
		}
	}
}

func TestNamespacedRewritesEverywhereButIDs(t *testing.T) {
	b := Bug{Exchanges: []transcript.Exchange{{
		Method: "POST", Path: "/Users", Query: "filter=userName%20eq%20%22a%40bugpack.test%22",
		RequestBody:  `{"userName":"a@bugpack.test"}`,
		ResponseBody: `{"id":"0b0a7c1e-0000-4000-8000-00000000bad0","userName":"a@bugpack.test"}`,
		Expect:       &transcript.Expect{Attributes: map[string]any{"userName": "a@bugpack.test", "emails.value": []any{"a@bugpack.test"}, "active": true}},
	}}}
	x := b.namespaced("-t1")[0]
	for _, s := range []string{x.Query, x.RequestBody, x.ResponseBody, x.Expect.Attributes["userName"].(string), x.Expect.Attributes["emails.value"].([]any)[0].(string)} {
		if !strings.Contains(s, "bugpack-t1.test") {
			t.Errorf("not rewritten: %s", s)
		}
	}
	if !strings.Contains(x.ResponseBody, "0b0a7c1e-0000-4000-8000-00000000bad0") {
		t.Errorf("the id changed: %s", x.ResponseBody)
	}
	if b.Exchanges[0].Expect.Attributes["userName"] != "a@bugpack.test" {
		t.Error("namespaced changed the loaded bug")
	}
	if x.Expect.Attributes["active"] != true {
		t.Error("a non-string expectation changed")
	}
}

func TestRunOnAnUnreachableTarget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	run, err := Run(context.Background(), replayer.Target{BaseURL: "http://" + addr + "/scim/v2", Token: "x"})
	if !errors.Is(err, replayer.ErrUnreachable) {
		t.Fatalf("err = %v, want one wrapping replayer.ErrUnreachable", err)
	}
	if run == nil || len(run.Checks) != 0 {
		t.Fatalf("run = %+v, want an empty run", run)
	}
}

func TestRunStopsWhenTheContextEnds(t *testing.T) {
	l := startRef(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, replayer.Target{BaseURL: l.BaseURL, Token: l.Token})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
