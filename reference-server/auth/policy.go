package auth

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/scimlab/scimlab/reference-server/store"
)

// Rotation modes: what creating a token does to the tokens already there.
const (
	// RotationNone leaves other tokens alone.
	RotationNone = "none"
	// RotationReplace revokes the other live tokens of the same scope as soon
	// as the new one exists (Alation, idp-traffic.md §2.2: "Creating a new
	// token immediately revokes the old one"; Atlassian, §2.6: "Regenerating
	// makes the existing key stop working").
	RotationReplace = "replace"
	// RotationOverlap keeps the old tokens, up to MaxActive live ones per
	// scope, so that an IdP can be moved to the new token before the old one
	// is deleted (AWS IAM Identity Center, §2.1: "up to two access tokens at
	// a time").
	RotationOverlap = "overlap"
)

// Rotation scopes: which tokens RotationReplace revokes, MaxActive counts
// and a later token is taken to replace (the admin banner and the notices).
const (
	// ScopeStore puts every token of the store in one group, whatever its
	// account or name: the target has one set of SCIM tokens per directory
	// or instance (AWS, idp-traffic.md §2.1: "a directory supports up to two
	// access tokens at a time"; Alation, §2.2, and Atlassian, §2.6: a new
	// token revokes the old one).
	ScopeStore = "store"
	// ScopeAccount groups tokens by service account (tokens without an
	// account form one group), for targets whose tokens belong to a user
	// account (Resolver, §2.3: tokens are "generated against a user account").
	ScopeAccount = "account"
	// ScopeName groups tokens by account and name.
	ScopeName = "name"
)

// SameScope reports whether t is in the rotation scope of a token for
// account and name.
func (p *Policy) SameScope(t store.Token, account, name string) bool {
	switch p.RotationScope {
	case ScopeStore:
		return true
	case ScopeName:
		return t.Account == account && t.Name == name
	}
	return t.Account == account
}

// Lifespan is one lifespan a token may be created with.
type Lifespan struct {
	TTL   Duration `json:"ttl" yaml:"ttl"`                         // "180d"
	Label string   `json:"label,omitempty" yaml:"label,omitempty"` // "6 months"; TTL's text when empty
}

// String returns the label, or the TTL when there is none.
func (l Lifespan) String() string {
	if l.Label != "" {
		return l.Label
	}
	return l.TTL.String()
}

// NoticeOffset is when an expiry notice is due, relative to the token's
// expiry: positive before it ("15d"), zero on the day of expiry ("0d"),
// negative after it ("-1d"); see Due. In JSON and YAML it is a Duration
// string.
type NoticeOffset Duration

// Before returns a NoticeOffset n days before expiry (negative n: after).
func Before(n int) NoticeOffset { return NoticeOffset(Days(n)) }

// String returns the offset as a Duration string ("15d", "0d", "-1d").
func (o NoticeOffset) String() string { return Duration(o).String() }

// Label describes the offset for people: "15 days before expiry".
func (o NoticeOffset) Label() string {
	d := time.Duration(o)
	abs := d
	if abs < 0 {
		abs = -abs
	}
	amount := abs.String()
	if abs%Day == 0 {
		amount = DaysText(int64(abs / Day))
	}
	switch {
	case d > 0:
		return amount + " before expiry"
	case d < 0:
		return amount + " after expiry"
	}
	return "on the day of expiry"
}

// Due returns when the notice is due for a token created at created that
// expires at expires, and false when the notice is not sent for it:
//   - after expiry (o < 0): expires + |o|;
//   - on the day of expiry (o == 0): the start of the UTC day of the token's
//     last valid instant, so that it arrives while the token still works
//     (idp-traffic.md §2.2: admins are notified "on the day of" expiry),
//     or at creation for a token created later that day;
//   - before expiry (o > 0): expires − o, and not sent when that is before
//     the token was created (a "15 days before" notice for a 10-day token
//     would say something false).
func (o NoticeOffset) Due(created, expires time.Time) (time.Time, bool) {
	switch {
	case o < 0:
		return expires.Add(-time.Duration(o)), true
	case o == 0:
		last := expires.Add(-time.Nanosecond).UTC()
		due := time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, time.UTC)
		if created.After(due) {
			due = created
		}
		return due, true
	}
	due := expires.Add(-time.Duration(o))
	return due, !due.Before(created)
}

// MarshalText implements encoding.TextMarshaler.
func (o NoticeOffset) MarshalText() ([]byte, error) { return Duration(o).MarshalText() }

// UnmarshalText implements encoding.TextUnmarshaler.
func (o *NoticeOffset) UnmarshalText(b []byte) error { return (*Duration)(o).UnmarshalText(b) }

// BasicPolicy allows HTTP Basic authentication (RFC 7617) with one SCIM
// service-account credential and says what its password must look like.
// Passwords are kept as bcrypt hashes, so they are limited to 72 bytes.
type BasicPolicy struct {
	// MinLength is the fewest characters a password may have (Alation,
	// idp-traffic.md §2.2: "longer than 16 characters", so 17).
	MinLength      int  `json:"minLength" yaml:"minLength"`
	RequireLetter  bool `json:"requireLetter" yaml:"requireLetter"`
	RequireDigit   bool `json:"requireDigit" yaml:"requireDigit"`
	RequireSpecial bool `json:"requireSpecial" yaml:"requireSpecial"` // a character that is neither a letter, a digit nor white space
}

// MaxPasswordBytes is the longest password bcrypt can hash.
const MaxPasswordBytes = 72

// PasswordError is a password refused by a BasicPolicy; Rule says which rule
// it broke, in words fit for the user.
type PasswordError struct{ Rule string }

func (e *PasswordError) Error() string { return "password refused: it must " + e.Rule }

// CheckPassword returns a *PasswordError naming the first rule pw breaks, or nil.
func (b *BasicPolicy) CheckPassword(pw string) error {
	if !utf8.ValidString(pw) {
		return &PasswordError{Rule: "be valid UTF-8"}
	}
	if pw != "" && strings.TrimFunc(pw, unicode.IsSpace) == "" {
		return &PasswordError{Rule: "not be only whitespace"}
	}
	if n := utf8.RuneCountInString(pw); n < b.MinLength {
		return &PasswordError{Rule: fmt.Sprintf("be at least %d characters long (it has %d)", b.MinLength, n)}
	}
	if len(pw) > MaxPasswordBytes {
		return &PasswordError{Rule: fmt.Sprintf("be at most %d bytes long (bcrypt's limit; it has %d)", MaxPasswordBytes, len(pw))}
	}
	var letter, digit, special bool
	for _, r := range pw {
		switch {
		case unicode.IsLetter(r):
			letter = true
		case unicode.IsDigit(r):
			digit = true
		case unicode.IsSpace(r), unicode.IsControl(r):
		default:
			special = true
		}
	}
	switch {
	case b.RequireLetter && !letter:
		return &PasswordError{Rule: "contain a letter"}
	case b.RequireDigit && !digit:
		return &PasswordError{Rule: "contain a digit"}
	case b.RequireSpecial && !special:
		return &PasswordError{Rule: "contain a special character (neither a letter, a digit nor a space)"}
	}
	return nil
}

// Describe states the policy in one line: "at least 17 characters, with a
// letter, a digit and a special character".
func (b *BasicPolicy) Describe() string {
	s := fmt.Sprintf("at least %d characters", b.MinLength)
	var with []string
	if b.RequireLetter {
		with = append(with, "a letter")
	}
	if b.RequireDigit {
		with = append(with, "a digit")
	}
	if b.RequireSpecial {
		with = append(with, "a special character")
	}
	switch len(with) {
	case 0:
	case 1:
		s += ", with " + with[0]
	default:
		s += ", with " + strings.Join(with[:len(with)-1], ", ") + " and " + with[len(with)-1]
	}
	return s
}

// Policy is the token policy of a profile: which lifespans tokens may have,
// what creating a token does to the old ones, what scope a token may carry,
// when expiry notices go out and whether HTTP Basic is allowed. It is plain
// data with JSON/YAML tags so that profiles can be written as YAML; call
// Validate after loading one.
type Policy struct {
	// Lifespans are the allowed choices (empty: any positive ttl).
	Lifespans []Lifespan `json:"lifespans,omitempty" yaml:"lifespans,omitempty"`
	// DefaultLifespan is used when a token is created without a ttl (0: a
	// ttl must be given; with Lifespans, Validate makes it the longest).
	DefaultLifespan Duration `json:"defaultLifespan,omitempty" yaml:"defaultLifespan,omitempty"`
	// Rotation is RotationNone, RotationReplace or RotationOverlap ("" = none).
	Rotation string `json:"rotation" yaml:"rotation"`
	// RotationScope is ScopeStore, ScopeAccount or ScopeName ("" = account).
	RotationScope string `json:"rotationScope,omitempty" yaml:"rotationScope,omitempty"`
	// MaxActive caps the live tokens of one rotation scope under RotationOverlap.
	MaxActive int `json:"maxActive,omitempty" yaml:"maxActive,omitempty"`
	// RequireAccount binds every token to a service account; deactivating
	// the account invalidates its tokens at once (Resolver, idp-traffic.md
	// §2.3: "if the owning user leaves or is deactivated, its tokens become
	// invalid").
	RequireAccount bool `json:"requireAccount" yaml:"requireAccount"`
	// EmailDomains lets a token carry an emailDomains scope: the only email
	// domains it may create or update users in (Resolver, §2.3).
	EmailDomains bool `json:"emailDomains" yaml:"emailDomains"`
	// Notices is the expiry-notice schedule (nil: DefaultNotices; empty: none).
	Notices []NoticeOffset `json:"notices" yaml:"notices"`
	// Basic, when set, allows HTTP Basic with one service-account credential.
	Basic *BasicPolicy `json:"basic,omitempty" yaml:"basic,omitempty"`
}

// DefaultNotices is Alation's schedule (idp-traffic.md §2.2): 15 days before,
// 1 day before, on the day of and the day after expiry.
func DefaultNotices() []NoticeOffset {
	return []NoticeOffset{Before(15), Before(1), Before(0), Before(-1)}
}

// DefaultPolicy is the policy of the rfc profile: any ttl (90 days when none
// is given), no rotation, no cap on live tokens, optional account binding and
// emailDomains scope, the default notice schedule, Bearer only. A token is
// taken as replaced by a later one of the same service account (tokens
// without one form one group): give each IdP its own --account to keep
// their banners and notices apart.
func DefaultPolicy() Policy {
	return Policy{
		DefaultLifespan: Days(90),
		Rotation:        RotationNone,
		RotationScope:   ScopeAccount,
		EmailDomains:    true,
		Notices:         DefaultNotices(),
	}
}

// alationPolicy follows idp-traffic.md §2.2: a lifespan of 1 to 6 months
// chosen at creation (6 months in older versions, so the default), a new
// token revokes the old one, notices 15 days before, 1 day before, on the
// day and the day after, and Basic with a password longer than 16
// characters, alphanumeric with at least one special character.
func alationPolicy() Policy {
	var spans []Lifespan
	for m := 1; m <= 6; m++ {
		label := strconv.Itoa(m) + " months"
		if m == 1 {
			label = "1 month"
		}
		spans = append(spans, Lifespan{TTL: Days(30 * m), Label: label})
	}
	return Policy{
		Lifespans:       spans,
		DefaultLifespan: Days(180),
		Rotation:        RotationReplace,
		RotationScope:   ScopeStore,
		Notices:         DefaultNotices(),
		Basic:           &BasicPolicy{MinLength: 17, RequireLetter: true, RequireDigit: true, RequireSpecial: true},
	}
}

// awsPolicy follows idp-traffic.md §2.1: tokens live 1 year, at most two at
// a time (create the second, move the IdP, delete the first), Bearer only.
// The console warns from 90 days before expiry and notices come weekly, then
// daily for the last 15 days.
func awsPolicy() Policy {
	var notices []NoticeOffset
	for d := 90; d > 15; d -= 7 {
		notices = append(notices, Before(d))
	}
	for d := 15; d >= 0; d-- {
		notices = append(notices, Before(d))
	}
	return Policy{
		Lifespans:       []Lifespan{{TTL: Days(365), Label: "1 year"}},
		DefaultLifespan: Days(365),
		Rotation:        RotationOverlap,
		RotationScope:   ScopeStore,
		MaxActive:       2,
		Notices:         notices,
	}
}

// resolverPolicy follows idp-traffic.md §2.3: tokens are generated against a
// user account and die with it, live 2 years, carry an emailDomains list, and
// a lost token is replaced by hand (create, then delete the old one).
func resolverPolicy() Policy {
	return Policy{
		Lifespans:       []Lifespan{{TTL: Days(730), Label: "2 years"}},
		DefaultLifespan: Days(730),
		Rotation:        RotationNone,
		RotationScope:   ScopeAccount,
		RequireAccount:  true,
		EmailDomains:    true,
		Notices:         DefaultNotices(),
	}
}

// atlassianPolicy follows idp-traffic.md §2.6: SCIM keys expire after 1 year
// and regenerating one makes the existing key stop working.
func atlassianPolicy() Policy {
	return Policy{
		Lifespans:       []Lifespan{{TTL: Days(365), Label: "1 year"}},
		DefaultLifespan: Days(365),
		Rotation:        RotationReplace,
		RotationScope:   ScopeStore,
		Notices:         DefaultNotices(),
	}
}

var builtinPolicies = map[string]func() Policy{
	"rfc":       DefaultPolicy,
	"alation":   alationPolicy,
	"aws":       awsPolicy,
	"resolver":  resolverPolicy,
	"atlassian": atlassianPolicy,
}

// PolicyNames lists the profiles with a built-in token policy, sorted.
func PolicyNames() []string {
	out := make([]string, 0, len(builtinPolicies))
	for n := range builtinPolicies {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// BuiltinPolicy returns the built-in token policy of a profile ("" = rfc).
// A profile name with a "+…" suffix ("rfc+lenient") uses its base's policy.
func BuiltinPolicy(name string) (Policy, error) {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(name)), "+")
	if base == "" {
		base = "rfc"
	}
	f, ok := builtinPolicies[base]
	if !ok {
		return Policy{}, fmt.Errorf("auth: no token policy for profile %q (known: %s)", name, strings.Join(PolicyNames(), ", "))
	}
	return f(), nil
}

// Validate checks the policy and fills defaults: rotation none, scope
// account, the default notice schedule when Notices is nil, and the longest
// lifespan as DefaultLifespan when Lifespans are given without one. Notices
// are sorted earliest first.
func (p *Policy) Validate() error {
	var errs []error
	switch p.Rotation {
	case "":
		p.Rotation = RotationNone
	case RotationNone, RotationReplace, RotationOverlap:
	default:
		errs = append(errs, fmt.Errorf("rotation must be %s, %s or %s, not %q", RotationNone, RotationReplace, RotationOverlap, p.Rotation))
	}
	switch p.RotationScope {
	case "":
		p.RotationScope = ScopeAccount
	case ScopeStore, ScopeAccount, ScopeName:
	default:
		errs = append(errs, fmt.Errorf("rotationScope must be %s, %s or %s, not %q", ScopeStore, ScopeAccount, ScopeName, p.RotationScope))
	}
	switch {
	case p.MaxActive < 0:
		errs = append(errs, fmt.Errorf("maxActive must not be negative (got %d)", p.MaxActive))
	case p.Rotation == RotationOverlap && p.MaxActive < 1:
		errs = append(errs, errors.New("rotation overlap needs maxActive of at least 1"))
	case p.Rotation != RotationOverlap && p.MaxActive != 0:
		errs = append(errs, fmt.Errorf("maxActive applies only to rotation overlap (rotation is %s)", p.Rotation))
	}
	seen := map[Duration]bool{}
	var longest Duration
	for _, l := range p.Lifespans {
		if err := CheckTTL(l.TTL.D()); err != nil {
			errs = append(errs, fmt.Errorf("lifespan %s %w", l.TTL, err))
		}
		if seen[l.TTL] {
			errs = append(errs, fmt.Errorf("lifespan %s is listed twice", l.TTL))
		}
		seen[l.TTL] = true
		longest = max(longest, l.TTL)
	}
	switch {
	case p.DefaultLifespan < 0:
		errs = append(errs, fmt.Errorf("defaultLifespan must not be negative (got %s)", p.DefaultLifespan))
	case len(p.Lifespans) > 0 && p.DefaultLifespan == 0:
		p.DefaultLifespan = longest
	case len(p.Lifespans) > 0 && !seen[p.DefaultLifespan]:
		errs = append(errs, fmt.Errorf("defaultLifespan %s is not one of the lifespans (%s)", p.DefaultLifespan, p.describeLifespans()))
	}
	if p.Notices == nil {
		p.Notices = DefaultNotices()
	}
	p.Notices = slices.Clone(p.Notices)
	slices.SortFunc(p.Notices, func(a, b NoticeOffset) int { return -cmpDur(a, b) })
	for i := 1; i < len(p.Notices); i++ {
		if p.Notices[i] == p.Notices[i-1] {
			errs = append(errs, fmt.Errorf("notice %s is listed twice", p.Notices[i]))
		}
	}
	if p.Basic != nil && (p.Basic.MinLength < 0 || p.Basic.MinLength > MaxPasswordBytes) {
		errs = append(errs, fmt.Errorf("basic.minLength must be between 0 and %d (got %d)", MaxPasswordBytes, p.Basic.MinLength))
	}
	if len(errs) > 0 {
		return fmt.Errorf("auth: token policy: %w", errors.Join(errs...))
	}
	return nil
}

func cmpDur(a, b NoticeOffset) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// AllowsLifespan reports whether a token may be created with ttl.
func (p *Policy) AllowsLifespan(ttl time.Duration) bool {
	if ttl <= 0 {
		return false
	}
	if len(p.Lifespans) == 0 {
		return true
	}
	for _, l := range p.Lifespans {
		if l.TTL.D() == ttl {
			return true
		}
	}
	return false
}

// LifespanChoices lists the lifespans to offer in a form: the policy's, or
// common choices (30, 90, 180 and 365 days plus the default) when any is allowed.
func (p *Policy) LifespanChoices() []Lifespan {
	if len(p.Lifespans) > 0 {
		return slices.Clone(p.Lifespans)
	}
	out := []Lifespan{{TTL: Days(30), Label: "30 days"}, {TTL: Days(90), Label: "90 days"}, {TTL: Days(180), Label: "180 days"}, {TTL: Days(365), Label: "1 year"}}
	if p.DefaultLifespan > 0 && !slices.ContainsFunc(out, func(l Lifespan) bool { return l.TTL == p.DefaultLifespan }) {
		out = append(out, Lifespan{TTL: p.DefaultLifespan})
		slices.SortFunc(out, func(a, b Lifespan) int { return int((a.TTL - b.TTL) / Duration(time.Second)) })
	}
	return out
}

// NoticeWindow is how long before expiry a token counts as expiring: the
// earliest notice offset (0 when no notice comes before expiry). Alation
// shows its banner from 15 days before (idp-traffic.md §2.2); the AWS
// console warns from 90 days before (§2.1).
func (p *Policy) NoticeWindow() time.Duration {
	var w time.Duration
	for _, o := range p.Notices {
		w = max(w, time.Duration(o))
	}
	return w
}

func (p *Policy) describeLifespans() string {
	parts := make([]string, len(p.Lifespans))
	for i, l := range p.Lifespans {
		parts[i] = l.TTL.String()
		if l.Label != "" && l.Label != l.TTL.String() {
			parts[i] += " (" + l.Label + ")"
		}
	}
	return strings.Join(parts, ", ")
}
