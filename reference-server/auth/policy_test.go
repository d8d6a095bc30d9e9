package auth

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestBuiltinPoliciesValidate(t *testing.T) {
	for _, name := range PolicyNames() {
		p, err := BuiltinPolicy(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := BuiltinPolicy("nope"); err == nil || !strings.Contains(err.Error(), "alation") {
		t.Errorf("unknown profile: err = %v, want one listing the known ones", err)
	}
	p, err := BuiltinPolicy("rfc+lenient")
	if err != nil || p.Rotation != RotationNone {
		t.Errorf("rfc+lenient: %+v, %v", p, err)
	}
}

// The built-in policies carry the facts of idp-traffic.md Part 2.
func TestBuiltinPolicyFacts(t *testing.T) {
	get := func(n string) Policy {
		p, err := BuiltinPolicy(n)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	al := get("alation")
	if len(al.Lifespans) != 6 || al.Lifespans[0].TTL != Days(30) || al.Lifespans[5].TTL != Days(180) || al.Rotation != RotationReplace ||
		al.Basic == nil || al.Basic.MinLength != 17 || al.NoticeWindow() != 15*Day {
		t.Errorf("alation: %+v", al)
	}
	aws := get("aws")
	if aws.Rotation != RotationOverlap || aws.MaxActive != 2 || !aws.AllowsLifespan(365*Day) || aws.AllowsLifespan(90*Day) || aws.NoticeWindow() != 90*Day {
		t.Errorf("aws: %+v", aws)
	}
	res := get("resolver")
	if !res.RequireAccount || !res.EmailDomains || !res.AllowsLifespan(730*Day) || res.AllowsLifespan(365*Day) {
		t.Errorf("resolver: %+v", res)
	}
	atl := get("atlassian")
	if atl.Rotation != RotationReplace || !atl.AllowsLifespan(365*Day) {
		t.Errorf("atlassian: %+v", atl)
	}
	rfc := DefaultPolicy()
	if rfc.Rotation != RotationNone || rfc.MaxActive != 0 || !rfc.AllowsLifespan(time.Hour) || rfc.Basic != nil ||
		!reflect.DeepEqual(rfc.Notices, DefaultNotices()) {
		t.Errorf("rfc: %+v", rfc)
	}
}

func TestPolicyValidateRefuses(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
		want string
	}{
		{"rotation", Policy{Rotation: "sometimes"}, "rotation must be"},
		{"scope", Policy{RotationScope: "galaxy"}, "rotationScope must be"},
		{"overlap without max", Policy{Rotation: RotationOverlap}, "maxActive of at least 1"},
		{"max without overlap", Policy{Rotation: RotationReplace, MaxActive: 2}, "only to rotation overlap"},
		{"negative max", Policy{MaxActive: -1}, "must not be negative"},
		{"zero lifespan", Policy{Lifespans: []Lifespan{{TTL: 0}}}, "lifespan 0d is not positive"},
		{"lifespan past the maximum", Policy{Lifespans: []Lifespan{{TTL: Days(36501)}}}, "lifespan 36501d is too long: the longest allowed is 36500d"},
		{"duplicate lifespan", Policy{Lifespans: []Lifespan{{TTL: Days(1)}, {TTL: Days(1)}}}, "listed twice"},
		{"default not offered", Policy{Lifespans: []Lifespan{{TTL: Days(1)}}, DefaultLifespan: Days(2)}, "not one of the lifespans"},
		{"duplicate notice", Policy{Notices: []NoticeOffset{Before(1), Before(1)}}, "notice 1d is listed twice"},
		{"basic length", Policy{Basic: &BasicPolicy{MinLength: 100}}, "basic.minLength"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestPolicyValidateFillsDefaults(t *testing.T) {
	p := Policy{Lifespans: []Lifespan{{TTL: Days(30)}, {TTL: Days(60)}}, Notices: []NoticeOffset{Before(-1), Before(15), Before(0)}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.Rotation != RotationNone || p.RotationScope != ScopeAccount || p.DefaultLifespan != Days(60) {
		t.Errorf("defaults not filled: %+v", p)
	}
	if want := []NoticeOffset{Before(15), Before(0), Before(-1)}; !reflect.DeepEqual(p.Notices, want) {
		t.Errorf("notices = %v, want earliest first %v", p.Notices, want)
	}
	var none Policy
	if err := none.Validate(); err != nil || !reflect.DeepEqual(none.Notices, DefaultNotices()) {
		t.Errorf("nil notices: %v %v", none.Notices, err)
	}
	empty := Policy{Notices: []NoticeOffset{}}
	if err := empty.Validate(); err != nil || len(empty.Notices) != 0 || empty.NoticeWindow() != 0 {
		t.Errorf("an explicit empty schedule must stay empty: %v %v", empty.Notices, err)
	}
}

// A profile can be written as YAML (and JSON) with day-based durations.
func TestPolicyYAMLAndJSON(t *testing.T) {
	src := `
lifespans:
  - ttl: 30d
    label: 1 month
  - ttl: 180d
    label: 6 months
defaultLifespan: 180d
rotation: replace
notices: [15d, 1d, 0d, -1d]
emailDomains: true
basic:
  minLength: 17
  requireLetter: true
  requireDigit: true
  requireSpecial: true
`
	var p Policy
	if err := yaml.Unmarshal([]byte(src), &p); err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.DefaultLifespan != Days(180) || p.Lifespans[0].Label != "1 month" || p.Rotation != RotationReplace ||
		!reflect.DeepEqual(p.Notices, DefaultNotices()) || p.Basic.MinLength != 17 || !p.EmailDomains {
		t.Fatalf("decoded %+v", p)
	}
	y, err := yaml.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(y), "ttl: 180d") || !strings.Contains(string(y), "- -1d") {
		t.Errorf("YAML does not write days:\n%s", y)
	}
	var back Policy
	if err := yaml.Unmarshal(y, &back); err != nil || !reflect.DeepEqual(back, p) {
		t.Errorf("YAML round trip: %+v, %v", back, err)
	}
	j, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON Policy
	if err := json.Unmarshal(j, &fromJSON); err != nil || !reflect.DeepEqual(fromJSON, p) {
		t.Errorf("JSON round trip (%s): %+v, %v", j, fromJSON, err)
	}
	if err := yaml.Unmarshal([]byte("defaultLifespan: soon"), &p); err == nil {
		t.Error("a bad duration must not load")
	}
}

func TestDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * Day, "-1d": -Day, "0d": 0, "36h": 36 * time.Hour, "90m": 90 * time.Minute} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "1.5d", "soon", "9999999999d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", bad)
		}
	}
	for d, want := range map[Duration]string{Days(365): "365d", Days(-1): "-1d", 0: "0d", Duration(36 * time.Hour): "36h0m0s"} {
		if d.String() != want {
			t.Errorf("%d.String() = %q, want %q", d, d.String(), want)
		}
	}
	for o, want := range map[NoticeOffset]string{Before(15): "15 days before expiry", Before(1): "1 day before expiry", Before(0): "on the day of expiry", Before(-1): "1 day after expiry"} {
		if o.Label() != want {
			t.Errorf("Label(%s) = %q, want %q", o, o.Label(), want)
		}
	}
}

// Alation (idp-traffic.md §2.2): longer than 16 characters, letters and
// digits, at least one special character.
func TestBasicPasswordPolicy(t *testing.T) {
	p, _ := BuiltinPolicy("alation")
	tests := []struct {
		pw   string
		rule string // "" = accepted
	}{
		{"Abcdefgh12345678!", ""},
		{"short1!", "at least 17 characters"},
		{"Abcdefgh1234567!", "at least 17 characters long (it has 16)"},
		{"12345678901234567!", "contain a letter"},
		{"Abcdefghijklmnopq!", "contain a digit"},
		{"Abcdefgh123456789", "contain a special character"},
		{"Abcdefgh 12345678", "contain a special character"}, // a space is not special
		{"Äbcdefgh12345678€", ""},
		{strings.Repeat("a1!", 25), "at most 72 bytes"},
		{"Abcdefgh12345678\xff", "valid UTF-8"},
	}
	for _, pw := range []string{strings.Repeat(" ", 12), strings.Repeat("\t \u00a0\u3000", 6)} {
		var pe *PasswordError
		if err := AdminPasswordPolicy.CheckPassword(pw); !errors.As(err, &pe) || pe.Rule != "not be only whitespace" {
			t.Errorf("admin policy, %q: %v; want it refused as only whitespace", pw, err)
		}
	}
	if err := AdminPasswordPolicy.CheckPassword("  twelve chars  "); err != nil {
		t.Errorf("a password with spaces around text: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.pw, func(t *testing.T) {
			err := p.Basic.CheckPassword(tc.pw)
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var pe *PasswordError
			if err == nil || !errors.As(err, &pe) || !strings.Contains(pe.Rule, tc.rule) {
				t.Fatalf("CheckPassword = %v, want the rule %q", err, tc.rule)
			}
		})
	}
	if got := p.Basic.Describe(); got != "at least 17 characters, with a letter, a digit and a special character" {
		t.Errorf("Describe() = %q", got)
	}
}

func TestLifespanChoices(t *testing.T) {
	p := DefaultPolicy()
	p.DefaultLifespan = Days(45)
	got := p.LifespanChoices()
	var ttls []string
	for _, l := range got {
		ttls = append(ttls, l.TTL.String())
	}
	if strings.Join(ttls, ",") != "30d,45d,90d,180d,365d" {
		t.Errorf("choices = %v", ttls)
	}
	al, _ := BuiltinPolicy("alation")
	if len(al.LifespanChoices()) != 6 || al.LifespanChoices()[5].String() != "6 months" {
		t.Errorf("alation choices = %v", al.LifespanChoices())
	}
}

func TestNoticeDue(t *testing.T) {
	at := func(s string) time.Time { return rfc3339(t, s) }
	tests := []struct {
		offset           NoticeOffset
		created, expires string
		due              string // "" = not sent
	}{
		{Before(15), "2026-03-01T12:00:00Z", "2026-03-31T12:00:00Z", "2026-03-16T12:00:00Z"},
		{Before(15), "2026-03-01T12:00:00Z", "2026-03-11T12:00:00Z", ""},
		{Before(10), "2026-03-01T12:00:00Z", "2026-03-11T12:00:00Z", "2026-03-01T12:00:00Z"},
		{Before(1), "2026-03-01T12:00:00Z", "2026-03-01T12:00:20Z", ""},
		{Before(0), "2026-03-01T12:00:00Z", "2026-03-31T12:00:00Z", "2026-03-31T00:00:00Z"},
		{Before(0), "2026-03-01T00:00:00Z", "2026-03-31T00:00:00Z", "2026-03-30T00:00:00Z"},
		{Before(0), "2026-03-01T00:00:00Z", "2026-03-31T00:00:01Z", "2026-03-31T00:00:00Z"},
		{Before(0), "2026-03-01T12:00:00Z", "2026-03-01T12:00:20Z", "2026-03-01T12:00:00Z"},
		{Before(0), "2026-03-01T12:00:00+02:00", "2026-03-02T01:00:00+02:00", "2026-03-01T12:00:00+02:00"},
		{Before(-1), "2026-03-01T12:00:00Z", "2026-03-01T12:00:20Z", "2026-03-02T12:00:20Z"},
	}
	for _, tc := range tests {
		due, sent := tc.offset.Due(at(tc.created), at(tc.expires))
		if tc.due == "" {
			if sent {
				t.Errorf("%s for %s–%s: due %v, want not sent", tc.offset, tc.created, tc.expires, due)
			}
			continue
		}
		if !sent || !due.Equal(at(tc.due)) {
			t.Errorf("%s for %s–%s: due %v (sent %v), want %s", tc.offset, tc.created, tc.expires, due, sent, tc.due)
		}
	}
}
