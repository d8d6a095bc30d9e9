package reports

import (
	"bytes"
	"strings"
	"testing"
)

// An evidence URL recorded relative to the SCIM base URL (a replayed
// transcript's "/Groups") is written absolute, resolved against the run's
// target, in every format; an absolute one is left alone, and the run
// itself is not changed.
func TestEvidenceURLsAbsolute(t *testing.T) {
	ex := func(url string) Exchange {
		return Exchange{Request: HTTPMessage{Method: "POST", URL: url}, Response: HTTPMessage{Status: 400}}
	}
	c := check("RPL-0003", IdPLevel("entra"), Fail)
	c.Evidence = []Exchange{ex("/Groups"), ex("Users/42"), ex("https://other.example.test/scim/v2/Me")}
	r := &Run{SchemaVersion: SchemaVersion, Kind: "replay", Target: "http://127.0.0.1:9/scim/v2/", Checks: []Check{c}}
	for _, format := range []string{"json", "junit", "md", "html", "text"} {
		var b bytes.Buffer
		if err := Render(&b, r, format); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if format == "md" || format == "text" {
			continue // they show the reason, not the exchanges
		}
		for _, want := range []string{"http://127.0.0.1:9/scim/v2/Groups", "http://127.0.0.1:9/scim/v2/Users/42", "https://other.example.test/scim/v2/Me"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: want %s in the evidence", format, want)
			}
		}
	}
	if got := r.Checks[0].Evidence[0].Request.URL; got != "/Groups" {
		t.Errorf("rendering changed the run: %s", got)
	}
}
