package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	server "github.com/scimlab/scimlab/reference-server"
)

// startTarget starts a reference server in-process, to be passed to Run as
// a target of its own.
func startTarget(t *testing.T) *server.Local {
	t.Helper()
	l, err := server.StartLocal(context.Background(), server.LocalOptions{DataDSN: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// held is how many resources of a kind (Users, Groups) the server holds.
func held(t *testing.T, l *server.Local, kind string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", l.BaseURL+"/"+kind+"?count=0", nil)
	req.Header.Set("Authorization", "Bearer "+l.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var lr struct {
		TotalResults *int `json:"totalResults"`
	}
	if err := json.NewDecoder(res.Body).Decode(&lr); err != nil || res.StatusCode != 200 || lr.TotalResults == nil {
		t.Fatalf("GET /%s: status %d, %v", kind, res.StatusCode, err)
	}
	return *lr.TotalResults
}

// proxy puts handle in front of l: it answers a request itself, or returns
// false to have l answer it; edit, when set, may change l's answers.
func proxy(t *testing.T, l *server.Local, handle func(http.ResponseWriter, *http.Request) bool, edit func(*http.Response) error) string {
	t.Helper()
	u, _ := url.Parse(l.BaseURL)
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	rp.ModifyResponse = edit
	rp.ErrorLog = log.New(io.Discard, "", 0) // the interrupted requests
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if handle == nil || !handle(w, r) {
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + u.Path
}

func runTarget(t *testing.T, ctx context.Context, cfg Config) (*Result, string, error) {
	t.Helper()
	cfg.Users, cfg.Concurrency = 30, 3
	res, err := Run(ctx, cfg)
	var out bytes.Buffer
	if res != nil {
		Print(&out, res)
	}
	return res, out.String(), err
}

// TestCleanupTarget: a run against a target leaves on it none of the users
// and the group it created, and says so in one line.
func TestCleanupTarget(t *testing.T) {
	l := startTarget(t)
	res, out, err := runTarget(t, context.Background(), Config{BaseURL: l.BaseURL, Token: l.Token})
	if err != nil {
		t.Fatal(err)
	}
	if res.FirstError != "" || len(res.Workloads) != 9 {
		t.Errorf("the run: %d workloads, first error %q", len(res.Workloads), res.FirstError)
	}
	if u, g := held(t, l, "Users"), held(t, l, "Groups"); u != 0 || g != 0 {
		t.Errorf("the server holds %d users and %d groups after the run", u, g)
	}
	if c := res.Cleanup; c == nil || c.Users != 30 || c.Groups != 1 || c.Failed != 0 || c.Kept {
		t.Errorf("clean-up %+v", c)
	}
	if !strings.HasSuffix(out, "\nclean-up: deleted 30 users and 1 group the bench created\n") {
		t.Errorf("no clean-up line at the end of:\n%s", out)
	}
	// The clean-up's requests are in no workload.
	for _, w := range res.Workloads {
		if w.Ops > 30*20 {
			t.Errorf("%s: %d ops", w.Name, w.Ops)
		}
	}
}

// TestCleanupKeep: Keep leaves them, and the output says where.
func TestCleanupKeep(t *testing.T) {
	l := startTarget(t)
	res, out, err := runTarget(t, context.Background(), Config{BaseURL: l.BaseURL, Token: l.Token, Keep: true})
	if err != nil {
		t.Fatal(err)
	}
	if u, g := held(t, l, "Users"), held(t, l, "Groups"); u != 30 || g != 1 {
		t.Errorf("the server holds %d users and %d groups after a run with Keep, want 30 and 1", u, g)
	}
	if c := res.Cleanup; c == nil || !c.Kept || c.Users != 30 || c.Groups != 1 {
		t.Errorf("clean-up %+v", c)
	}
	if !strings.Contains(out, "clean-up: --keep: left 30 users and 1 group the bench created on "+l.BaseURL+" (userName bench-") {
		t.Errorf("no --keep line in:\n%s", out)
	}
}

// TestCleanupRefusedDelete: a target that refuses DELETE keeps them; the
// run still has its results and its line says why.
func TestCleanupRefusedDelete(t *testing.T) {
	l := startTarget(t)
	base := proxy(t, l, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodDelete {
			return false
		}
		http.Error(w, "no deletes here", http.StatusMethodNotAllowed)
		return true
	}, nil)
	res, out, err := runTarget(t, context.Background(), Config{BaseURL: base, Token: l.Token})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Workloads) != 9 || res.FirstError != "" {
		t.Errorf("the run: %d workloads, first error %q", len(res.Workloads), res.FirstError)
	}
	if !strings.Contains(out, "\nclean-up: deleted 0 users and 0 groups the bench created (31 could not be deleted: DELETE "+base+"/Groups/") ||
		!strings.HasSuffix(out, ": status 405, want 204: no deletes here)\n") {
		t.Errorf("no could-not-be-deleted line in:\n%s", out)
	}
	if u, g := held(t, l, "Users"), held(t, l, "Groups"); u != 30 || g != 1 {
		t.Errorf("the server holds %d users and %d groups", u, g)
	}
}

// TestCleanupWithoutIDs: a user whose create answer carried no id is found
// again by its userName; the failed run still cleans up.
func TestCleanupWithoutIDs(t *testing.T) {
	l := startTarget(t)
	var creates atomic.Int64
	base := proxy(t, l, nil, func(res *http.Response) error {
		if res.Request.Method != http.MethodPost || res.StatusCode != http.StatusCreated || !strings.HasSuffix(res.Request.URL.Path, "/Users") ||
			creates.Add(1)%3 != 0 {
			return nil
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		delete(m, "id")
		b, _ = json.Marshal(m)
		res.Body = io.NopCloser(bytes.NewReader(b))
		res.ContentLength = int64(len(b))
		res.Header.Set("Content-Length", strconv.Itoa(len(b)))
		return nil
	})
	res, out, err := runTarget(t, context.Background(), Config{BaseURL: base, Token: l.Token})
	if err == nil || !strings.Contains(err.Error(), "201 without an id") {
		t.Fatalf("err %v, want the creates' failure", err)
	}
	if u, g := held(t, l, "Users"), held(t, l, "Groups"); u != 0 || g != 0 {
		t.Errorf("the server holds %d users and %d groups after the run", u, g)
	}
	if c := res.Cleanup; c == nil || c.Users != 30 || c.Groups != 0 || c.Failed != 0 {
		t.Errorf("clean-up %+v\n%s", c, out)
	}
}

// TestCleanupInterrupted: a run whose context ends during the creates
// still deletes every user it may have created, those whose answer it
// never saw included.
func TestCleanupInterrupted(t *testing.T) {
	l := startTarget(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var creates atomic.Int64
	base := proxy(t, l, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/Users") && creates.Add(1) == 10 {
			cancel()
		}
		return false
	}, nil)
	res, _, err := runTarget(t, ctx, Config{BaseURL: base, Token: l.Token})
	if err == nil || res == nil || res.Cleanup == nil {
		t.Fatalf("err %v, result %+v; want the interrupted run's, with its clean-up", err, res)
	}
	if u, g := held(t, l, "Users"), held(t, l, "Groups"); u != 0 || g != 0 {
		t.Errorf("the server holds %d users and %d groups after the run", u, g)
	}
	t.Logf("clean-up %+v", res.Cleanup)
	if c := res.Cleanup; c.Users == 0 || c.Failed != 0 {
		t.Errorf("clean-up %+v", c)
	}
}

// TestCleanupInProcess: an in-process run has no clean-up to do or show.
func TestCleanupInProcess(t *testing.T) {
	res, out, err := runTarget(t, context.Background(), Config{DataDSN: ":memory:", Keep: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Cleanup != nil || strings.Contains(out, "clean-up") {
		t.Errorf("clean-up %+v in:\n%s", res.Cleanup, out)
	}
}
