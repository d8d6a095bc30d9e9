package reports

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParseOrphan(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Orphan
	}{
		{"https://h.test/scim/v2/Users/1", Orphan{URL: "https://h.test/scim/v2/Users/1"}},
		{"https://h.test/scim/v2/Users/1 (DELETE answered 405)", Orphan{URL: "https://h.test/scim/v2/Users/1", Reason: "DELETE answered 405"}},
		{"Users/1 (delete: 500 (twice))", Orphan{URL: "Users/1", Reason: "delete: 500 (twice)"}},
		// What older reports hold: the whole line went through RedactURL.
		{"http://127.0.0.1:18300/scim/v2/Users/01a2%20%28DELETE%20answered%20429%29", Orphan{URL: "http://127.0.0.1:18300/scim/v2/Users/01a2", Reason: "DELETE answered 429"}},
		{"https://h.test/scim/v2/Users/a%20b", Orphan{URL: "https://h.test/scim/v2/Users/a%20b"}},
	} {
		if got := ParseOrphan(tc.in); got != tc.want {
			t.Errorf("ParseOrphan(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		if o := tc.want; ParseOrphan(o.String()) != o {
			t.Errorf("%+v does not survive String and ParseOrphan", o)
		}
	}
}

func TestOrphanList(t *testing.T) {
	var r Run
	if r.OrphanList() != nil {
		t.Fatal("a run without orphans lists some")
	}
	r.AddOrphan("https://h.test/Users/1", "DELETE answered 429")
	r.AddOrphan("https://h.test/Users/1", "listed twice")
	// A producer that knows only Orphans appends the glued form.
	r.Orphans = append(r.Orphans, "https://h.test/Groups/2 (DELETE answered 405)")
	want := []Orphan{
		{URL: "https://h.test/Users/1", Reason: "DELETE answered 429"},
		{URL: "https://h.test/Users/1", Reason: "listed twice"},
		{URL: "https://h.test/Groups/2", Reason: "DELETE answered 405"},
	}
	if got := r.OrphanList(); !reflect.DeepEqual(got, want) {
		t.Fatalf("OrphanList = %+v, want %+v", got, want)
	}
	// Every output holds both fields, in step, without the glued form.
	out := r.Redacted()
	if !reflect.DeepEqual(out.OrphanDetails, want) || !reflect.DeepEqual(out.Orphans, []string{"https://h.test/Users/1", "https://h.test/Users/1", "https://h.test/Groups/2"}) {
		t.Fatalf("redacted: %q %+v", out.Orphans, out.OrphanDetails)
	}
}

// TestOrphansInOlderReports: a report.json from before orphanDetails, whose
// reasons are glued onto the URLs (some percent-encoded), renders each
// orphan as a URL and a reason, in every format.
func TestOrphansInOlderReports(t *testing.T) {
	old := `{"schemaVersion": 1, "kind": "test", "target": "http://127.0.0.1:18300/scim/v2", "checks": [],
  "orphans": ["http://127.0.0.1:18300/scim/v2/Users/01a2%20%28DELETE%20answered%20429%29", "http://127.0.0.1:18300/scim/v2/Groups/g1 (DELETE answered 405)"]}`
	r, err := ReadJSON(strings.NewReader(old))
	if err != nil {
		t.Fatal(err)
	}
	want := []Orphan{
		{URL: "http://127.0.0.1:18300/scim/v2/Users/01a2", Reason: "DELETE answered 429"},
		{URL: "http://127.0.0.1:18300/scim/v2/Groups/g1", Reason: "DELETE answered 405"},
	}
	if got := r.OrphanList(); !reflect.DeepEqual(got, want) {
		t.Fatalf("OrphanList = %+v, want %+v", got, want)
	}
	for _, f := range Formats() {
		var buf bytes.Buffer
		if err := Render(&buf, r, f); err != nil {
			t.Fatal(err)
		}
		s := buf.String()
		if strings.Contains(s, "%20%28") || strings.Contains(s, "01a2 (") {
			t.Errorf("%s shows the glued form:\n%s", f, s)
		}
		if !strings.Contains(s, "DELETE answered 429") || !strings.Contains(s, "/Users/01a2") {
			t.Errorf("%s lacks the orphan or its reason:\n%s", f, s)
		}
	}
}

// TestOrphansForOlderReaders: the JSON keeps "orphans" a list of URLs, so a
// version-1 reader that knows nothing of orphanDetails reads the URLs.
func TestOrphansForOlderReaders(t *testing.T) {
	var r Run
	r.AddOrphan("https://h.test/scim/v2/Users/1", "DELETE answered 204 but the user is still listed by userName, active=false")
	var buf bytes.Buffer
	if err := WriteJSON(&buf, &r); err != nil {
		t.Fatal(err)
	}
	var older struct {
		Orphans []string `json:"orphans"`
	}
	if err := json.Unmarshal(buf.Bytes(), &older); err != nil || !reflect.DeepEqual(older.Orphans, []string{"https://h.test/scim/v2/Users/1"}) {
		t.Fatalf("older reader: %v %q", err, older.Orphans)
	}
	back, err := ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.OrphanList(); len(got) != 1 || got[0].Reason != r.OrphanDetails[0].Reason {
		t.Fatalf("read back %+v", got)
	}
}

func TestOrphanReasonIsRedacted(t *testing.T) {
	var r Run
	r.AddOrphan("https://u:hunter2@h.test/scim/v2/Users/1?access_token=abc123secret", "GET answered 401 with Bearer abcdefabcdef123456")
	out := r.Redacted()
	s := out.OrphanDetails[0].URL + " " + out.OrphanDetails[0].Reason + " " + out.Orphans[0]
	for _, secret := range []string{"hunter2", "abc123secret", "abcdefabcdef123456"} {
		if strings.Contains(s, secret) {
			t.Errorf("%q shows %q", s, secret)
		}
	}
}
