package replayer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/transcript"
)

func TestDDMinFindsTheNeededPair(t *testing.T) {
	c := make([]int, 200)
	for i := range c {
		c[i] = i
	}
	tests := 0
	got, err := ddmin(c, func(s []int) (bool, error) {
		tests++
		has := map[int]bool{}
		for _, v := range s {
			has[v] = true
		}
		return has[3] && has[177], nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []int{3, 177}) {
		t.Fatalf("ddmin = %v, want [3 177]", got)
	}
	if tests > 200 {
		t.Errorf("ddmin ran %d tests for 200 items; it should need far fewer", tests)
	}
}

func TestDDMinEmptyWhenTheFailureStandsAlone(t *testing.T) {
	got, err := ddmin([]int{1, 2, 3}, func(s []int) (bool, error) { return true, nil })
	if err != nil || len(got) != 0 {
		t.Fatalf("ddmin = %v, %v; want empty", got, err)
	}
}

// fakeSCIM is a tiny target: POST /Users creates with a fresh id; GET and
// PATCH /Users/{id} answer 404 for unknown ids; a PATCH whose body contains
// "False" gets a 400 (a strict server refusing Entra's string boolean, B2).
type fakeSCIM struct {
	mu    sync.Mutex
	next  int
	users map[string]map[string]any
}

func (f *fakeSCIM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.users == nil {
		f.users = map[string]map[string]any{}
	}
	if r.Header.Get("Authorization") != "Bearer good" {
		w.WriteHeader(401)
		return
	}
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/scim+json")
	id := strings.TrimPrefix(r.URL.Path, "/scim/v2/Users/")
	switch {
	case r.Method == "POST" && r.URL.Path == "/scim/v2/Users":
		f.next++
		var u map[string]any
		_ = json.Unmarshal(body, &u)
		u["id"] = fmt.Sprintf("new-%d", f.next)
		f.users[u["id"].(string)] = u
		w.Header().Set("Location", "http://x/scim/v2/Users/"+u["id"].(string))
		w.WriteHeader(201)
		_ = json.NewEncoder(w).Encode(u)
	case r.Method == "GET" && r.URL.Path == "/scim/v2/Users":
		_, _ = io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}`)
	case f.users[id] == nil:
		w.WriteHeader(404)
		_, _ = io.WriteString(w, `{"status":"404"}`)
	case r.Method == "PATCH" && strings.Contains(string(body), `"False"`):
		w.WriteHeader(400)
		_, _ = io.WriteString(w, `{"status":"400","scimType":"invalidValue"}`)
	default:
		_ = json.NewEncoder(w).Encode(f.users[id])
	}
}

func freshFake(t *testing.T) Fresh {
	return func(ctx context.Context) (Target, func(), error) {
		srv := httptest.NewServer(&fakeSCIM{})
		return Target{BaseURL: srv.URL + "/scim/v2", Token: "good"}, srv.Close, nil
	}
}

func create(seq int, userName, origID string) transcript.Exchange {
	return transcript.Exchange{Seq: seq, Method: "POST", Path: "/Users",
		RequestHeaders: map[string][]string{"Authorization": {"Bearer [REDACTED]"}},
		RequestBody:    `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + userName + `"}`,
		Status:         201, ResponseBody: `{"id":"` + origID + `","userName":"` + userName + `"}`}
}

func TestReplayMapsIDsAndJudges(t *testing.T) {
	xs := []transcript.Exchange{
		create(1, "ana@example.test", "orig-A"),
		{Seq: 2, Method: "GET", Path: "/Users/orig-A", Status: 200, ResponseBody: `{"id":"orig-A","userName":"ana@example.test"}`},
		{Seq: 3, Method: "PATCH", Path: "/Users/orig-A", RequestBody: `{"Operations":[{"op":"Replace","path":"active","value":"False"}]}`, Status: 200, ResponseBody: `{"id":"orig-A"}`},
		{Seq: 4, Method: "GET", Path: "/Users", Query: "filter=userName+eq+%22nobody%22", Status: 200, ResponseBody: `{"totalResults":0,"Resources":[]}`},
	}
	f := freshFake(t)
	tgt, done, _ := f(context.Background())
	defer done()
	res, err := Replay(context.Background(), tgt, xs)
	if err != nil {
		t.Fatal(err)
	}
	want := []reports.Verdict{reports.Pass, reports.Pass, reports.Fail, reports.Pass}
	for i, r := range res {
		if r.Verdict != want[i] {
			t.Errorf("exchange %d: verdict %s (%s), want %s", i+1, r.Verdict, r.Reason, want[i])
		}
	}
	if got := res[1].Sent.Path; got != "/Users/new-1" {
		t.Errorf("the GET was sent to %s; the recorded id should map to the new one", got)
	}
	if !strings.Contains(res[2].Reason, "status 400") {
		t.Errorf("reason = %q", res[2].Reason)
	}
	run := ToRun(tgt.BaseURL, "entra", res, res[0].Sent.Time)
	if run.Checks[2].ID != "RPL-0003" || run.Checks[2].Level != reports.IdPLevel("entra") || len(run.Checks[2].Evidence) != 1 {
		t.Errorf("run check = %+v", run.Checks[2])
	}
	if h := run.Checks[2].Evidence[0].Request.Headers["Authorization"]; len(h) > 0 && strings.Contains(h[0], "good") {
		t.Errorf("token leaked into evidence: %v", h)
	}
}

func TestMinimizeShrinks500ToTheCause(t *testing.T) {
	var xs []transcript.Exchange
	seq := 0
	for i := 0; i < 250; i++ {
		seq++
		id := fmt.Sprintf("orig-%d", i)
		xs = append(xs, create(seq, fmt.Sprintf("u%d@example.test", i), id))
		seq++
		xs = append(xs, transcript.Exchange{Seq: seq, Method: "GET", Path: "/Users/" + id, Status: 200, ResponseBody: `{"id":"` + id + `"}`})
	}
	// One failure-inducing request, which needs user 137 to exist.
	bad := transcript.Exchange{Seq: 301, Method: "PATCH", Path: "/Users/orig-137", RequestBody: `{"Operations":[{"op":"Replace","path":"active","value":"False"}]}`, Status: 204}
	xs = append(xs[:300], append([]transcript.Exchange{bad}, xs[300:]...)...)
	for i := range xs {
		xs[i].Seq = i + 1
	}
	if len(xs) != 501 {
		t.Fatalf("setup: %d exchanges", len(xs))
	}
	min, id, err := Minimize(context.Background(), freshFake(t), xs, "")
	if err != nil {
		t.Fatal(err)
	}
	if id != "RPL-0301" {
		t.Errorf("minimised check = %s, want RPL-0301", id)
	}
	if len(min) > 5 {
		t.Fatalf("minimised to %d exchanges, want at most 5", len(min))
	}
	var titles []string
	for _, x := range min {
		titles = append(titles, x.Title())
	}
	if len(min) != 2 || !strings.Contains(min[0].RequestBody, "u137@") || min[1].Method != "PATCH" {
		t.Errorf("minimal transcript = %v; want the create of user 137 and the PATCH", titles)
	}
	if _, _, err := Minimize(context.Background(), freshFake(t), xs[:10], ""); err == nil {
		t.Error("a transcript without failures should say so")
	}
}

// TestRefusedCredential: a 401 or 403 on the first exchange is the
// credential's fault (ErrCredential), unless the recording shows the same
// refusal or the exchange expects it.
func TestRefusedCredential(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) }))
	defer srv.Close()
	tests := []struct {
		name   string
		first  transcript.Exchange
		refuse bool
	}{
		{"recorded 200", transcript.Exchange{Seq: 1, Method: "GET", Path: "/Users", Status: 200}, true},
		{"recorded 201", transcript.Exchange{Seq: 1, Method: "POST", Path: "/Users", RequestBody: `{}`, Status: 201}, true},
		{"recorded 401", transcript.Exchange{Seq: 1, Method: "GET", Path: "/Users", Status: 401}, false},
		{"expects 401", transcript.Exchange{Seq: 1, Method: "GET", Path: "/Users", Expect: &transcript.Expect{Status: []int{401}}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			second := transcript.Exchange{Seq: 2, Method: "GET", Path: "/Users", Status: 200}
			res, err := Replay(context.Background(), Target{BaseURL: srv.URL, Token: "t"}, []transcript.Exchange{tc.first, second})
			if got := errors.Is(err, ErrCredential); got != tc.refuse {
				t.Fatalf("err %v, want ErrCredential %v", err, tc.refuse)
			}
			if !tc.refuse && len(res) != 2 {
				t.Fatalf("%d results, want 2", len(res))
			}
		})
	}
}

// TestListsDoNotOverrideCreatedIDs: two servers need not list resources in
// the same order (concurrent creates are recorded in the order they were
// answered), so a list never overrides a pair a create showed, and pairs
// the resources it adds by userName or displayName before position.
func TestListsDoNotOverrideCreatedIDs(t *testing.T) {
	m := newIDMap()
	m.learn(create(1, "a@x.test", "A"), transcript.Exchange{ResponseBody: `{"id":"A2","userName":"a@x.test"}`})
	m.learn(create(2, "b@x.test", "B"), transcript.Exchange{ResponseBody: `{"id":"B2","userName":"b@x.test"}`})
	list := func(entries ...string) transcript.Exchange {
		return transcript.Exchange{ResponseBody: `{"totalResults":3,"Resources":[` + strings.Join(entries, ",") + `]}`}
	}
	m.learn(
		list(`{"id":"B","userName":"b@x.test"}`, `{"id":"A","userName":"a@x.test"}`, `{"id":"C","userName":"c@x.test"}`),
		list(`{"id":"C2","userName":"C@x.test"}`, `{"id":"A2","userName":"a@x.test"}`, `{"id":"B2","userName":"b@x.test"}`),
	)
	for old, want := range map[string]string{"A": "A2", "B": "B2", "C": "C2"} {
		if got := m.replace("/Users/" + old); got != "/Users/"+want {
			t.Errorf("%s maps to %s, want /Users/%s", old, got, want)
		}
	}
}
