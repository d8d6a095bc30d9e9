// Package directory generates the IdP side of a simulation: a deterministic
// fake directory of users and groups drawn from a seed with gofakeit.
//
// Nothing is stored. User i and group j are pure functions of (seed, i) and
// (seed, j), so a directory of 100,000 users costs a few hundred bytes until a
// caller asks for one of them, and two runs with the same seed push the same
// people with the same identifiers.
package directory

import (
	"fmt"
	"math"
	"math/rand"
	"sort"
	"strconv"
	"strings"

	"github.com/brianvoe/gofakeit/v6"
)

// DefaultDomain is the mail domain of generated users. ".test" is reserved by
// RFC 6761 §6.2, so no generated address can reach a real mailbox.
const DefaultDomain = "example.test"

// Options sizes and seeds a Directory.
type Options struct {
	Seed   int64
	Users  int
	Groups int
	// Domain is the mail domain of userNames and emails (default DefaultDomain).
	Domain string
	// Spread is the share of all users in the largest group; group j holds
	// about Spread·Users/(j+1) members (a Zipf-like spread: a few big groups,
	// many small). Zero means 0.25.
	Spread float64
}

// Directory is a seeded, lazily generated set of users and groups.
type Directory struct {
	seed   uint64
	users  int
	groups int
	domain string
	spread float64
}

// New returns the directory for o. It never fails: negative sizes count as zero.
func New(o Options) *Directory {
	d := &Directory{seed: uint64(o.Seed), users: max(o.Users, 0), groups: max(o.Groups, 0), domain: o.Domain, spread: o.Spread}
	if d.domain == "" {
		d.domain = DefaultDomain
	}
	if d.spread <= 0 || d.spread > 1 {
		d.spread = 0.25
	}
	return d
}

// Users returns the number of users.
func (d *Directory) Users() int { return d.users }

// Groups returns the number of groups.
func (d *Directory) Groups() int { return d.groups }

// Domain returns the mail domain of the directory's users.
func (d *Directory) Domain() string { return d.domain }

// User is one person as the IdP holds them. The identifier fields carry every
// IdP's style; an IdP profile chooses which one becomes externalId.
type User struct {
	Index int
	// UserName is unique in the directory and has the form of an email address.
	UserName    string
	GivenName   string
	FamilyName  string
	DisplayName string
	// Email is the work email; it starts equal to UserName.
	Email  string
	Locale string
	// Title is empty at creation; the update scenario sets it, which Entra
	// sends as an "Add" (idp-traffic.md §1.2 row 6).
	Title      string
	Department string
	// OktaID is an Okta user id ("00u" and 17 characters), Okta's externalId
	// (idp-traffic.md §1.1 row 3).
	OktaID string
	// MailNickname is the local part of UserName, Entra's default externalId
	// (idp-traffic.md §1.2 row 4).
	MailNickname string
	// ObjectID is the user's Entra object id, a GUID.
	ObjectID string
	// Password is the random placeholder Okta sends on create even without
	// password sync (idp-traffic.md §1.1 row 3).
	Password string
	Active   bool
}

// Formatted returns the full name as Entra sends it in name.formatted.
func (u User) Formatted() string { return u.GivenName + " " + u.FamilyName }

// Group is one group as the IdP holds it.
type Group struct {
	Index       int
	DisplayName string
	// OktaID is an Okta group id ("00g" and 17 characters).
	OktaID string
	// ObjectID is the Entra object id, Entra's group externalId (idp-traffic.md §1.2 row 12).
	ObjectID string
	// Members are user indexes, ascending.
	Members []int
}

// Entity kinds mixed into the seed so that user 3 and group 3 draw from
// different streams.
const (
	kindUser uint64 = iota + 1
	kindGroup
	kindMembers
	kindChange
	kindEdge
	kindMisc
)

// faker returns a gofakeit Faker whose stream depends only on (seed, kind, i).
func (d *Directory) faker(kind uint64, i int) *gofakeit.Faker {
	return gofakeit.NewCustom(&splitmix{state: mix64(mix64(d.seed^kind<<56) + uint64(i)*golden)})
}

// User returns user i (0 ≤ i < Users()).
func (d *Directory) User(i int) User {
	f := d.faker(kindUser, i)
	given := f.FirstName()
	if f.IntRange(0, 3) == 0 {
		given = pick(f, givenNames)
	}
	family := f.LastName()
	if f.IntRange(0, 3) == 0 {
		family = pick(f, familyNames)
	}
	local := fold(given) + "." + fold(family) + "." + strconv.Itoa(i)
	u := User{
		Index:        i,
		GivenName:    given,
		FamilyName:   family,
		DisplayName:  given + " " + family,
		Locale:       pick(f, locales),
		Department:   pick(f, departments),
		OktaID:       "00u" + alnum(f, 17),
		ObjectID:     f.UUID(),
		Password:     strings.ToLower(alnum(f, 8)),
		MailNickname: local,
		UserName:     local + "@" + d.domain,
		Active:       true,
	}
	u.Email = u.UserName
	return u
}

// Group returns group j (0 ≤ j < Groups()) with its members.
func (d *Directory) Group(j int) Group {
	f := d.faker(kindGroup, j)
	g := Group{
		Index:       j,
		DisplayName: pick(f, departments) + " " + pick(f, cities) + " " + strconv.Itoa(j+1),
		OktaID:      "00g" + alnum(f, 17),
		ObjectID:    f.UUID(),
	}
	g.Members = d.sample(d.faker(kindMembers, j).Rand, d.GroupSize(j))
	return g
}

// GroupSize returns how many members group j has: about Spread·Users/(j+1),
// at least one when there are users.
func (d *Directory) GroupSize(j int) int {
	if d.users == 0 {
		return 0
	}
	s := int(math.Round(d.spread * float64(d.users) / float64(j+1)))
	return min(max(s, 1), d.users)
}

// sample draws k distinct user indexes with Floyd's algorithm, ascending.
func (d *Directory) sample(r *rand.Rand, k int) []int {
	chosen := make(map[int]struct{}, k)
	for n := d.users - k; n < d.users; n++ {
		t := r.Intn(n + 1)
		if _, dup := chosen[t]; dup {
			t = n
		}
		chosen[t] = struct{}{}
	}
	out := make([]int, 0, k)
	for i := range chosen {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

// Change names an attribute change the update scenario makes.
type Change int

// The changes of the update scenario.
const (
	// ProfileChange gives the user a new family name and sets a title for the
	// first time.
	ProfileChange Change = iota
	// Rename changes the userName (the user moves to another mail domain).
	Rename
	// EmailChange changes the work email only.
	EmailChange
)

// String returns the change's name as it appears in reports.
func (c Change) String() string {
	switch c {
	case ProfileChange:
		return "profile"
	case Rename:
		return "rename"
	case EmailChange:
		return "email"
	}
	return "change(" + strconv.Itoa(int(c)) + ")"
}

// Changed returns u after change c. The new values depend only on the seed,
// u.Index and c.
func (d *Directory) Changed(u User, c Change) User {
	f := d.faker(kindChange, u.Index*4+int(c))
	switch c {
	case ProfileChange:
		fam := f.LastName()
		if fam == u.FamilyName {
			fam += "-" + pick(f, familyNames)
		}
		u.FamilyName = fam
		u.DisplayName = u.GivenName + " " + u.FamilyName
		u.Title = f.JobTitle()
	case Rename:
		local, _, _ := strings.Cut(u.UserName, "@")
		u.UserName = local + "@eu." + d.domain
	case EmailChange:
		local, _, _ := strings.Cut(u.Email, "@")
		u.Email = local + "@mail." + d.domain
	}
	return u
}

// CaseTwin returns a new user whose userName differs from u's only in case.
// RFC 7643 §4.1.1 makes userName caseExact=false, so a target should refuse it
// with 409 uniqueness (idp-traffic.md B17).
func (d *Directory) CaseTwin(u User) User {
	t := d.edgeUser(u.Index)
	local, domain, _ := strings.Cut(u.UserName, "@")
	t.UserName = strings.ToUpper(local[:1]) + local[1:] + "@" + strings.ToUpper(domain)
	t.Email = t.UserName
	t.MailNickname = strings.ToUpper(local[:1]) + local[1:]
	return t
}

// LongName returns a new user whose given name is n characters long, to probe
// a target's length limits.
func (d *Directory) LongName(n int) User {
	u := d.edgeUser(d.users + n)
	u.GivenName = "Ł" + strings.Repeat("a", max(n-1, 0))
	u.DisplayName = u.GivenName + " " + u.FamilyName
	return u
}

// edgeUser returns a fresh user outside the directory's index range, with its
// own identifiers, for edge-case probes.
func (d *Directory) edgeUser(seedIndex int) User {
	u := d.User(d.users + 1 + seedIndex)
	u.Index = -1
	f := d.faker(kindEdge, seedIndex)
	local := "edge." + strings.ToLower(alnum(f, 10))
	u.MailNickname = local
	u.UserName = local + "@" + d.domain
	u.Email = u.UserName
	return u
}

// TestUser returns the user an IdP's test connection creates and deletes
// again (JumpCloud, idp-traffic.md §1.7): outside the directory, with a
// userName on the directory's domain, as the admin's "Test User Email" is
// on a domain the target accepts.
func (d *Directory) TestUser() User {
	u := d.edgeUser(-1)
	u.MailNickname = "test." + strings.TrimPrefix(u.MailNickname, "edge.")
	u.UserName = u.MailNickname + "@" + d.domain
	u.Email = u.UserName
	return u
}

// TestGroup returns the group an IdP's test connection creates and deletes
// again (JumpCloud, idp-traffic.md §1.7), outside the directory.
func (d *Directory) TestGroup() Group {
	f := d.faker(kindEdge, -2)
	return Group{Index: -1, DisplayName: "scimlab test group " + strings.ToLower(alnum(f, 8)), OktaID: "00g" + alnum(f, 17), ObjectID: f.UUID()}
}

// GUID returns a GUID drawn from the seed and n, for requests that carry a
// random identifier (Entra's test connection, idp-traffic.md §1.2 row 1).
func (d *Directory) GUID(n int) string { return d.faker(kindMisc, n).UUID() }

// splitmix is SplitMix64, a tiny rand.Source64: seeding a gofakeit Faker
// with it costs one small allocation, unlike math/rand's 4.9 KiB source.
type splitmix struct{ state uint64 }

// golden is SplitMix64's increment, 2^64 divided by the golden ratio.
const golden = 0x9e3779b97f4a7c15

func (s *splitmix) Uint64() uint64 {
	s.state += golden
	return mix64(s.state)
}

// mix64 is SplitMix64's finaliser: a bijection that spreads every input bit
// over the output, used both for the stream and to derive a stream's start
// from (seed, kind, index).
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (s *splitmix) Int63() int64    { return int64(s.Uint64() >> 1) }
func (s *splitmix) Seed(seed int64) { s.state = uint64(seed) }

func pick(f *gofakeit.Faker, from []string) string { return from[f.IntRange(0, len(from)-1)] }

const alnumChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func alnum(f *gofakeit.Faker, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alnumChars[f.IntRange(0, len(alnumChars)-1)]
	}
	return string(b)
}

// Names with letters outside ASCII and with apostrophes and spaces, mixed into
// gofakeit's English names so that every run exercises UTF-8 and quoting.
var (
	givenNames  = []string{"Zoë", "Łukasz", "Søren", "José", "Chloé", "Björn", "Anaïs", "Małgorzata", "François", "Núria", "Jürgen", "Siobhán", "Žarko", "Þórunn", "Dağhan", "Ngọc"}
	familyNames = []string{"O'Brien", "D'Angelo", "Müller", "Łukaszewicz", "García", "Nguyễn", "Østergaard", "Žukauskas", "O'Connor", "Dvořák", "Ní Bhriain", "Çelik", "van der Berg", "Şahin", "Kovačević", "Ørsted"}
	locales     = []string{"en-US", "en-GB", "de-DE", "fr-FR", "pl-PL", "da-DK", "es-ES", "pt-BR"}
	departments = []string{"Engineering", "Sales", "R&D", "Finance", "Support", "Legal", "Marketing", "Operations", "People", "Security"}
	cities      = []string{"Zürich", "Kraków", "São Paulo", "Malmö", "Dublin", "Austin", "Osaka", "Lyon", "Aarhus", "Toronto"}
)

// folding maps the non-ASCII letters of the name lists (and their neighbours)
// to ASCII for the local part of a userName.
var folding = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'ą': "a", 'æ': "ae",
	'ç': "c", 'ć': "c", 'č': "c", 'ď': "d", 'ð': "d", 'đ': "d",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ę': "e", 'ė': "e", 'ě': "e", 'ễ': "e",
	'ğ': "g", 'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ı': "i", 'ł': "l", 'ñ': "n", 'ń': "n", 'ň': "n",
	'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o", 'ø': "o", 'ọ': "o", 'ř': "r",
	'ś': "s", 'š': "s", 'ş': "s", 'ß': "ss", 'ť': "t", 'þ': "th",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ů': "u", 'ý': "y", 'ÿ': "y", 'ź': "z", 'ż': "z", 'ž': "z",
}

// fold lower-cases s, maps its letters to ASCII and drops everything else
// (apostrophes, spaces, hyphens), so "Ní Bhriain" becomes "nibhriain".
func fold(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteString(folding[r])
		}
	}
	if b.Len() == 0 {
		return "user"
	}
	return b.String()
}

// String describes the directory for logs and reports.
func (d *Directory) String() string {
	return fmt.Sprintf("%d users, %d groups, seed %d, domain %s", d.users, d.groups, int64(d.seed), d.domain)
}
