package idp

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimlab/scimlab/simulator/directory"
)

func TestBuiltInProfilesLoad(t *testing.T) {
	want := []string{"entra", "entra-aadoptscim062020", "jumpcloud", "okta-aiw", "okta-oin", "onelogin", "pingfederate", "sailpoint"}
	if got := Names(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	for _, n := range want {
		p, err := LoadIdP(n)
		if err != nil {
			t.Fatalf("LoadIdP(%q): %v", n, err)
		}
		if p.Name != n || p.Level == "" || !strings.HasPrefix(p.CheckPrefix, "SIM-") {
			t.Fatalf("%s: name %q level %q prefix %q", n, p.Name, p.Level, p.CheckPrefix)
		}
	}
	for alias, want := range map[string]string{"okta": "okta-oin", "OKTA-OIN": "okta-oin", "entra-flag": "entra-aadoptscim062020", "entra-aadOptscim062020": "entra-aadoptscim062020", "azure": "entra"} {
		p, err := LoadIdP(alias)
		if err != nil || p.Name != want {
			t.Fatalf("LoadIdP(%q) = %v, %v; want %s", alias, p, err, want)
		}
	}
	if _, err := LoadIdP("google"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("LoadIdP(google) = %v, want ErrUnknown", err)
	}
}

func TestLoadIdPFile(t *testing.T) {
	b, err := os.ReadFile("../../fixtures/idps/okta-oin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	own := strings.Replace(string(b), "name: okta-oin", "name: my-okta", 1)
	own = strings.Replace(own, "batchSize: 100", "batchSize: 2", 1)
	path := filepath.Join(t.TempDir(), "my.yaml")
	if err := os.WriteFile(path, []byte(own), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := LoadIdPFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "my-okta" || p.Groups.BatchSize != 2 {
		t.Fatalf("got %s with batch size %d", p.Name, p.Groups.BatchSize)
	}
}

func TestProfileValidation(t *testing.T) {
	base, err := os.ReadFile("../../fixtures/idps/entra.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct{ from, to, want string }{
		"unknown family":     {"family: entra", "family: google", `family is "google"`},
		"bad op case":        {"opCase: capitalised", "opCase: shouty", "patch.opCase"},
		"unknown field":      {"title:", "colour: blue\ntitle:", "colour"},
		"unknown step":       {"expect:\n", "expect:\n  teleport: [200]\n", "unknown step"},
		"PUT is not entra's": {"update: patch        # §1.2 row 6: one op per attribute", "update: get-put", "PATCH only"},
	} {
		y := strings.Replace(string(base), tc.from, tc.to, 1)
		if y == string(base) {
			t.Fatalf("%s: %q is not in entra.yaml", name, tc.from)
		}
		if _, err := Parse([]byte(y), "test.yaml"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", name, err, tc.want)
		}
	}
}

func TestDefaultsFillExpect(t *testing.T) {
	p, err := LoadIdP("entra")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Accepts(StepImport, 200) || p.Accepts(StepLookupUser, 404) || !p.Accepts(StepMembers, 204) {
		t.Fatal("expectations: want import 200 by default, no 404 on entra lookups, 204 on members")
	}
	o, _ := LoadIdP("okta-oin")
	if !o.Accepts(StepLookupUser, 404) {
		t.Fatal("okta takes a 404 lookup as no match (idp-traffic.md §1.1 row 2)")
	}
}

func TestOktaRetryPolicy(t *testing.T) {
	p, err := LoadIdP("okta-oin")
	if err != nil {
		t.Fatal(err)
	}
	// idp-traffic.md §1.1: an integer Retry-After is honoured exactly; any
	// other form, or none, means 5 minutes, then each further 429 (without
	// a usable Retry-After) doubles the previous pause; the 10th attempt is
	// the last.
	for name, seq := range map[string][]struct {
		retryAfter string
		want       time.Duration
	}{
		"no header": {{"", 5 * time.Minute}, {"", 10 * time.Minute}, {"", 20 * time.Minute}},
		"integer":   {{"2", 2 * time.Second}, {"7", 7 * time.Second}},
		"mixed":     {{"2", 2 * time.Second}, {"", 4 * time.Second}, {"Wed, 21 Oct 2015 07:28:00 GMT", 8 * time.Second}, {"1.5", 16 * time.Second}, {"0", 0}},
		// The reading chosen where the doc is silent (retry.go): a further
		// 429 with an integer Retry-After is honoured, not doubled.
		"same integer again":   {{"60", time.Minute}, {"60", time.Minute}, {"", 2 * time.Minute}},
		"default then integer": {{"", 5 * time.Minute}, {"30", 30 * time.Second}, {"", time.Minute}},
	} {
		prev := time.Duration(0)
		for k, s := range seq {
			got, ok := p.Retry.Wait(k+1, prev, s.retryAfter)
			if !ok || got != s.want {
				t.Fatalf("%s: attempt %d, Retry-After %q: wait %s (retry %v), want %s", name, k+1, s.retryAfter, got, ok, s.want)
			}
			prev = got
		}
	}
	if _, ok := p.Retry.Wait(9, time.Hour, ""); !ok {
		t.Fatal("the 9th 429 must still be retried")
	}
	if _, ok := p.Retry.Wait(10, time.Hour, ""); ok {
		t.Fatal("the 10th 429 must end the retries")
	}
	e, _ := LoadIdP("entra")
	if _, ok := e.Retry.Wait(1, 0, "1"); ok {
		t.Fatal("entra does not retry a 429")
	}
}

func TestExpandEscapesFilterValues(t *testing.T) {
	p := &Profile{Lookup: Lookup{Spaces: "%20"}}
	got := p.expand("filter=userName%20eq%20%22{userName}%22", map[string]string{"userName": `o'brien "x"@example.test`})
	want := `filter=userName%20eq%20%22o%27brien%20%5C%22x%5C%22%40example.test%22`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	// OneLogin's log: form encoding, + for a space (idp-traffic.md §1.6).
	p.Lookup.Spaces = "+"
	got = p.expand("filter=userName+eq+%22{userName}%22&", map[string]string{"userName": "ana lee@example.test"})
	if want := "filter=userName+eq+%22ana+lee%40example.test%22&"; got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestMembershipBatches(t *testing.T) {
	ms := func(n int) []Member {
		out := make([]Member, n)
		for i := range out {
			out[i] = Member{ID: "u" + string(rune('a'+i)), Display: "x"}
		}
		return out
	}
	okta, _ := LoadIdP("okta-oin")
	okta.Groups.BatchSize = 3
	reqs := okta.MembershipPatches("g1", ms(4), ms(2))
	if len(reqs) != 2 {
		t.Fatalf("okta: %d requests for 6 changes in batches of 3, want 2", len(reqs))
	}
	first := string(reqs[0].Body)
	if !strings.Contains(first, `{"op":"remove","path":"members[value eq \"ua\"]"}`) || !strings.Contains(first, `{"op":"add","path":"members","value":[{"value":"ua","display":"x"}]}`) {
		t.Fatalf("okta mixes removes then adds in one request: %s", first)
	}
	entra, _ := LoadIdP("entra")
	entra.Groups.BatchSize = 3
	reqs = entra.MembershipPatches("g1", ms(4), ms(2))
	if len(reqs) != 3 {
		t.Fatalf("entra: %d requests, want 2 adds and 1 remove", len(reqs))
	}
	if got := string(reqs[2].Body); !strings.Contains(got, `{"op":"Remove","path":"members","value":[{"value":"ua"},{"value":"ub"}]}`) {
		t.Fatalf("entra removes with a value list (B6): %s", got)
	}
}

func TestEntraPatchForms(t *testing.T) {
	d := directory.New(directory.Options{Seed: 1, Users: 3})
	old := d.User(1)
	next := d.Changed(old, directory.ProfileChange)
	next.Email = "new@mail.example.test"
	plain, _ := LoadIdP("entra")
	r, err := plain.UpdateUser("u1", old, next, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@mail.example.test"}`, `{"op":"Replace","path":"name.familyName"`, `{"op":"Add","path":"title"`} {
		if !strings.Contains(string(r.Body), frag) {
			t.Errorf("entra update lacks %s:\n%s", frag, r.Body)
		}
	}
	flag, _ := LoadIdP("entra-aadoptscim062020")
	r, _ = flag.UpdateUser("u1", old, next, nil)
	for _, frag := range []string{`{"op":"replace","path":"emails[type eq \"work\"].value"`, `{"op":"add","path":"title"`, `{"op":"replace","value":{"name.familyName":`} {
		if !strings.Contains(string(r.Body), frag) {
			t.Errorf("flag update lacks %s:\n%s", frag, r.Body)
		}
	}
	if _, err := plain.UpdateUser("u1", old, old, nil); !errors.Is(err, ErrNoChange) {
		t.Fatalf("an update without change: %v, want ErrNoChange", err)
	}
}

func TestOktaPutMergesIntoReadBack(t *testing.T) {
	p, _ := LoadIdP("okta-oin")
	d := directory.New(directory.Options{Seed: 1, Users: 2})
	u := d.Changed(d.User(0), directory.ProfileChange)
	u.Active = false
	readBack := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"], "id":"x1","userName":"old","name":{"formatted":"F","givenName":"G"},` +
		`"emails":[{"value":"home@x","type":"home"},{"value":"old@x","type":"work","primary":true}],"active":true,"meta":{"version":"W/\"3\""}}`
	r, err := p.UpdateUser("x1", d.User(0), u, []byte(readBack))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"x1","userName":"` + u.UserName + `","name":{"formatted":"F","givenName":"` + u.GivenName + `","familyName":"` + u.FamilyName + `"},` +
		`"emails":[{"value":"home@x","type":"home"},{"value":"` + u.Email + `","type":"work","primary":true}],"active":false,"meta":{"version":"W/\"3\""},"displayName":"` + u.DisplayName + `","title":"` + u.Title + `"}`
	if r.Method != "PUT" || string(r.Body) != want {
		t.Fatalf("got  %s %s\nwant %s", r.Method, r.Body, want)
	}
	if _, err := p.UpdateUser("x1", u, u, []byte("[]")); err == nil {
		t.Fatal("merging into a body that is not an object must fail")
	}
}
