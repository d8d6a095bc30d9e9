package simulator

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/internal/faketarget"
)

// TestOktaImportSendsOnlyWhatOktaSends: the import walk pages
// startIndex=1&count=100, then +=100 while below totalResults, and nothing
// more (idp-traffic.md §1.1 row 15): no second read of page one. Every
// request the target sees with Okta's User-Agent is one the run counts as
// Okta's; the simulator's own requests (the clean-up) carry its own
// User-Agent and are not counted.
func TestOktaImportSendsOnlyWhatOktaSends(t *testing.T) {
	ft := faketarget.New(faketarget.Options{Token: goldenToken})
	srv := httptest.NewServer(ft)
	defer srv.Close()
	run, err := Run(context.Background(), Config{
		IdP: "okta-oin", Target: srv.URL + "/scim/v2", Token: goldenToken,
		Users: 205, Groups: 3, Seed: 11, Concurrency: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	lists := map[string]int{}
	okta, own := 0, 0
	for _, rq := range ft.Requests() {
		switch ua := strings.Join(rq.Header["User-Agent"], ","); {
		case ua == "Okta SCIM Client 1.0.0":
			okta++
		case strings.HasPrefix(ua, "scimlab-simulator/"):
			own++
		default:
			t.Errorf("%s %s: User-Agent %q", rq.Method, rq.URI, ua)
		}
		if rq.Method == "GET" && strings.Contains(rq.URI, "count=100") && !strings.Contains(rq.URI, "filter=") {
			lists[strings.TrimPrefix(rq.URI, "/scim/v2")]++
		}
	}
	want := map[string]int{
		"/Users?startIndex=1&count=100":   1,
		"/Users?startIndex=101&count=100": 1,
		"/Users?startIndex=201&count=100": 1,
		"/Groups?startIndex=1&count=100":  1,
	}
	if fmt.Sprint(lists) != fmt.Sprint(want) {
		t.Errorf("import pages = %v, want %v", lists, want)
	}
	if own == 0 {
		t.Error("the clean-up sent no request with the simulator's own User-Agent")
	}
	if counted := countedNote(run); !strings.HasPrefix(counted, fmt.Sprintf("%d requests in ", okta)) {
		t.Errorf("the run counts %q; the target saw %d requests with Okta's User-Agent and %d of the simulator's own", counted, okta, own)
	}
}

// countedNote is the run's note that counts the IdP's requests.
func countedNote(run *reports.Run) string {
	for _, n := range run.Notes {
		if strings.Contains(n, " requests in ") {
			return n
		}
	}
	return ""
}
