package auth

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimlab/scimlab/internal/syncbuf"
	"github.com/scimlab/scimlab/reference-server/store/sqlite"
)

// Each notice is emitted exactly once per threshold, across restarts and
// across two notifiers sharing one SQLite file.
func TestNoticesOncePerThresholdAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "scimlab.db")
	open := func() *sqlite.Store {
		st, err := sqlite.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	st1, st2 := open(), open()
	clk := NewManualClock(t0)
	m := &Manager{Store: st1, Policy: DefaultPolicy(), Now: clk.Now}
	// entra first: a later token that outlives okta would replace it.
	_, other := mustCreate(t, m, CreateRequest{Name: "entra", TTL: 300 * Day})
	clk.Advance(time.Second)
	_, tok := mustCreate(t, m, CreateRequest{Name: "okta", TTL: 30 * Day})
	mustCreate(t, m, CreateRequest{Name: "gone", TTL: 30 * Day})
	if _, err := m.Revoke(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	var logs syncbuf.Buffer
	newNotifier := func(st *sqlite.Store) *Notifier {
		return &Notifier{Store: st, Policy: DefaultPolicy(), Now: clk.Now, Logger: newJSONLogger(&logs)}
	}
	n1, n2 := newNotifier(st1), newNotifier(st2)

	// check runs both notifiers at once and returns what they emitted together.
	check := func() []Notice {
		t.Helper()
		var mu sync.Mutex
		var all []Notice
		var wg sync.WaitGroup
		for _, n := range []*Notifier{n1, n2} {
			wg.Go(func() {
				got, err := n.Check(ctx)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				all = append(all, got...)
				mu.Unlock()
			})
		}
		wg.Wait()
		return all
	}
	if got := check(); len(got) != 0 {
		t.Fatalf("nothing is due at creation: %+v", got)
	}
	steps := []struct {
		at     time.Time
		offset string
		kind   string
	}{
		{tok.Expires.Add(-15 * Day), "15d", NoticeExpiring},
		{tok.Expires.Add(-Day), "1d", NoticeExpiring},
		{tok.Expires.Truncate(Day), "0d", NoticeExpiring}, // the start of the UTC day of expiry
		{tok.Expires.Add(Day), "-1d", NoticeExpired},
	}
	for _, s := range steps {
		clk.Set(s.at.Add(-time.Second))
		if got := check(); len(got) != 0 {
			t.Fatalf("one second before the %s notice: %+v", s.offset, got)
		}
		clk.Set(s.at)
		got := check()
		if len(got) != 1 || got[0].TokenID != tok.ID || got[0].Offset.String() != s.offset || got[0].Kind != s.kind {
			t.Fatalf("at the %s notice: %+v", s.offset, got)
		}
		if got := check(); len(got) != 0 {
			t.Fatalf("the %s notice was emitted twice: %+v", s.offset, got)
		}
		// A restart: a third notifier over a freshly opened store.
		if got, err := newNotifier(open()).Check(ctx); err != nil || len(got) != 0 {
			t.Fatalf("after a restart, the %s notice came again: %+v %v", s.offset, got, err)
		}
	}
	all, err := Notices(ctx, st2)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 {
		t.Fatalf("Notices() has %d entries, want 4: %+v", len(all), all)
	}
	for _, nt := range all {
		if nt.TokenID == other.ID {
			t.Error("a token far from expiry got a notice")
		}
		if !strings.Contains(nt.Message, "okta") {
			t.Errorf("message %q does not name the token", nt.Message)
		}
	}
	if n := strings.Count(logs.String(), `"msg":"token expiry notice"`); n != 4 {
		t.Errorf("%d notice log events, want 4:\n%s", n, logs.String())
	}
}

// A notifier that was down for a while emits only the latest notice reached.
func TestNoticeCatchUpEmitsLatestOnly(t *testing.T) {
	m, clk := newManager(t, "rfc")
	_, tok := mustCreate(t, m, CreateRequest{TTL: 30 * Day})
	n := &Notifier{Store: m.Store, Policy: m.Policy, Now: clk.Now}
	clk.Set(tok.Expires.Add(-13 * time.Hour)) // 23:00 the day before
	got, err := n.Check(context.Background())
	if err != nil || len(got) != 1 || got[0].Offset != Before(1) {
		t.Fatalf("catch-up: %+v, %v; want only the 1d notice", got, err)
	}
	clk.Set(tok.Expires.Add(30 * Day))
	got, _ = n.Check(context.Background())
	if len(got) != 1 || got[0].Offset != Before(-1) || got[0].Kind != NoticeExpired {
		t.Fatalf("long after expiry: %+v", got)
	}
	// Deactivated accounts and an empty schedule get no notices.
	m.Policy.RequireAccount = true
	_, _ = mustCreate(t, m, CreateRequest{Account: "svc", TTL: Day})
	if _, err := m.DeactivateAccount(context.Background(), "svc"); err != nil {
		t.Fatal(err)
	}
	if got, _ := n.Check(context.Background()); len(got) != 0 {
		t.Errorf("a deactivated account's token got %+v", got)
	}
	n.Policy.Notices = []NoticeOffset{}
	if got, err := n.Check(context.Background()); len(got) != 0 || err != nil {
		t.Errorf("empty schedule: %+v %v", got, err)
	}
}

func TestWebhookRetries(t *testing.T) {
	var calls atomic.Int32
	bodies := make(chan []byte, 10)
	var failFirst atomic.Int32
	failFirst.Store(2)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook got %s with %s", r.Method, r.Header.Get("Content-Type"))
		}
		if calls.Add(1) <= failFirst.Load() {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		bodies <- b
	}))
	defer hook.Close()

	m, clk := newManager(t, "rfc")
	secret, tok := mustCreate(t, m, CreateRequest{Name: "okta", TTL: 20 * Day})
	clk.Set(tok.Expires.Add(-15 * Day))
	var logs syncbuf.Buffer
	n := &Notifier{Store: m.Store, Policy: m.Policy, Now: clk.Now, Logger: newJSONLogger(&logs), Webhook: hook.URL, Backoff: time.Millisecond, Attempts: 4}
	if _, err := n.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 {
		t.Fatalf("webhook called %d times, want 3 (two 503s, then success)", calls.Load())
	}
	var nt Notice
	if err := json.Unmarshal(<-bodies, &nt); err != nil || nt.TokenID != tok.ID || nt.Offset != Before(15) || nt.Kind != NoticeExpiring {
		t.Fatalf("webhook body: %+v, %v", nt, err)
	}

	// Bounded: a webhook that always fails is tried Attempts times.
	calls.Store(0)
	failFirst.Store(1000)
	clk.Set(tok.Expires.Add(-Day))
	if _, err := n.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 4 {
		t.Errorf("a failing webhook was called %d times, want 4", calls.Load())
	}
	if !strings.Contains(logs.String(), "gave up after 4 attempts") {
		t.Errorf("the failed delivery is not logged:\n%s", logs.String())
	}
	// A 4xx other than 408/429 is not retried.
	calls.Store(0)
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "no", http.StatusBadRequest)
	}))
	defer bad.Close()
	n.Webhook = bad.URL
	clk.Set(tok.Expires)
	if _, err := n.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 {
		t.Errorf("a 400 was retried: %d calls", calls.Load())
	}
	if strings.Contains(logs.String(), secret) {
		t.Error("the token appears in the notifier's log")
	}
}

func TestNotifierRun(t *testing.T) {
	m, clk := newManager(t, "rfc")
	_, tok := mustCreate(t, m, CreateRequest{TTL: 30 * Day})
	n := &Notifier{Store: m.Store, Policy: m.Policy, Now: clk.Now, Interval: time.Millisecond}
	runUntilDayOf(t, n, m, func() { clk.Set(tok.Expires) })
}

// runUntilDayOf runs n, calls then, and waits until the store holds exactly
// one notice, a day-of one; then it stops n.
func runUntilDayOf(t *testing.T, n *Notifier, m *Manager, then func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	then()
	deadline := time.After(30 * time.Second)
	for {
		ns, _ := Notices(context.Background(), m.Store)
		if len(ns) == 1 && ns[0].Offset == Before(0) {
			break
		}
		select {
		case <-deadline:
			cancel()
			t.Fatalf("no day-of notice; Run emitted %+v", ns)
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run returned %v", err)
	}
}

// A token that a later one replaced gets no more notices; the replacement's
// own notices are due in turn.
func TestNoNoticesForAReplacedToken(t *testing.T) {
	ctx := context.Background()
	m, clk := newManager(t, "aws")
	_, old := mustCreate(t, m, CreateRequest{Name: "okta"})
	n := &Notifier{Store: m.Store, Policy: m.Policy, Now: clk.Now}
	clk.Set(old.Expires.Add(-20 * Day))
	if got, _ := n.Check(ctx); len(got) != 1 || got[0].TokenID != old.ID {
		t.Fatalf("20 days before expiry: %+v", got)
	}
	_, repl := mustCreate(t, m, CreateRequest{Name: "okta-2"})
	for _, at := range []time.Time{old.Expires.Add(-15 * Day), old.Expires.Add(-Day), old.Expires.Add(Day)} {
		clk.Set(at)
		if got, err := n.Check(ctx); err != nil || len(got) != 0 {
			t.Fatalf("at %v, after the replacement: %+v %v", at, got, err)
		}
	}
	clk.Set(repl.Expires.Add(-Day))
	if got, _ := n.Check(ctx); len(got) != 1 || got[0].TokenID != repl.ID {
		t.Errorf("the replacement's notice: %+v", got)
	}
}

// When each notice goes out, what it is called and what it says: the day-of
// notice arrives on the UTC day of expiry while the token still works, a
// "before" notice due before the token existed is not sent, and a notice
// that goes out once the token has expired says so.
func TestNoticeSchedule(t *testing.T) {
	day := func(s string) time.Time { return rfc3339(t, s) }
	tests := []struct {
		name      string
		notices   []NoticeOffset // nil: DefaultNotices
		created   string
		ttl       time.Duration
		at        string // when the notifier first runs after creation
		offset    string // "" when nothing is due
		kind      string
		due       string
		has, hasn []string // in the message, not in it
	}{
		{name: "10-day token: no 15-days-before notice", created: "2026-03-01T12:00:00Z", ttl: 10 * Day, at: "2026-03-01T12:00:00Z"},
		{name: "10-day token: the 1-day notice", created: "2026-03-01T12:00:00Z", ttl: 10 * Day, at: "2026-03-10T12:00:00Z",
			offset: "1d", kind: NoticeExpiring, due: "2026-03-10T12:00:00Z", has: []string{"in 1 day", "before then"}},
		{name: "day of: at the start of the UTC day", created: "2026-03-01T12:00:00Z", ttl: 30 * Day, at: "2026-03-31T00:00:00Z",
			offset: "0d", kind: NoticeExpiring, due: "2026-03-31T00:00:00Z", has: []string{"expires today at 2026-03-31T12:00:00Z, in 12h:", "before then"}},
		{name: "day of, one second early", created: "2026-03-01T12:00:00Z", ttl: 30 * Day, at: "2026-03-30T23:59:59Z",
			offset: "1d", kind: NoticeExpiring, due: "2026-03-30T12:00:00Z"},
		{name: "day of a token expiring at midnight: the day before", created: "2026-03-01T00:00:00Z", ttl: 30 * Day, at: "2026-03-30T00:00:00Z",
			offset: "0d", kind: NoticeExpiring, due: "2026-03-30T00:00:00Z", has: []string{"expires at 2026-03-31T00:00:00Z, in 1 day"}},
		{name: "20-second token: the day-of notice at creation", created: "2026-03-01T02:56:07Z", ttl: 20 * time.Second, at: "2026-03-01T02:56:07Z",
			offset: "0d", kind: NoticeExpiring, due: "2026-03-01T02:56:07Z", has: []string{"expires today", "in 20s"}, hasn: []string{"day before", "15 days"}},
		{name: "20-second token seen after expiry", created: "2026-03-01T02:56:07Z", ttl: 20 * time.Second, at: "2026-03-01T02:57:07Z",
			offset: "0d", kind: NoticeExpired, due: "2026-03-01T02:56:07Z", has: []string{"expired at 2026-03-01T02:56:27Z, 40s ago", "refused"}, hasn: []string{"before then", "expires"}},
		{name: "the day after", created: "2026-03-01T12:00:00Z", ttl: 30 * Day, at: "2026-04-01T12:00:00Z",
			offset: "-1d", kind: NoticeExpired, due: "2026-04-01T12:00:00Z", has: []string{"1 day ago"}},
		{name: "the day after, a few seconds late", created: "2026-03-01T12:00:00Z", ttl: 30 * Day, at: "2026-04-01T12:00:05Z",
			offset: "-1d", kind: NoticeExpired, due: "2026-04-01T12:00:00Z", has: []string{"1 day ago"}, hasn: []string{"2 days"}},
		{name: "two days and 23 hours after", created: "2026-03-01T12:00:00Z", ttl: 30 * Day, at: "2026-04-03T11:00:00Z",
			offset: "-1d", kind: NoticeExpired, due: "2026-04-01T12:00:00Z", has: []string{"2 days ago"}, hasn: []string{"3 days"}},
		{name: "a before-only schedule, first run after expiry", notices: []NoticeOffset{Before(15), Before(1)}, created: "2026-03-01T12:00:00Z", ttl: 30 * Day, at: "2026-03-31T13:00:00Z",
			offset: "1d", kind: NoticeExpired, due: "2026-03-30T12:00:00Z", has: []string{"expired at", "1h ago"}, hasn: []string{"before then"}},
		{name: "late 15-day notice tells the real time left", created: "2026-03-01T12:00:00Z", ttl: 30 * Day, at: "2026-03-21T12:00:00Z",
			offset: "15d", kind: NoticeExpiring, due: "2026-03-16T12:00:00Z", has: []string{"in 10 days"}, hasn: []string{"15 days"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, clk := newManager(t, "rfc")
			if tc.notices != nil {
				m.Policy.Notices = tc.notices
			}
			clk.Set(day(tc.created))
			_, tok := mustCreate(t, m, CreateRequest{Name: "okta", TTL: tc.ttl})
			clk.Set(day(tc.at))
			got, err := (&Notifier{Store: m.Store, Policy: m.Policy, Now: clk.Now}).Check(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tc.offset == "" {
				if len(got) != 0 {
					t.Fatalf("want no notice, got %+v", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("want one notice, got %+v", got)
			}
			nt := got[0]
			if nt.Offset.String() != tc.offset || nt.Kind != tc.kind || !nt.Due.Equal(day(tc.due)) {
				t.Errorf("offset %s, kind %s, due %s; want %s, %s, %s", nt.Offset, nt.Kind, nt.Due.Format(time.RFC3339), tc.offset, tc.kind, tc.due)
			}
			if nt.Kind == NoticeExpiring && !nt.Emitted.Before(tok.Expires) {
				t.Errorf("an expiring notice emitted at %v, at or after expiry %v", nt.Emitted, tok.Expires)
			}
			for _, s := range tc.has {
				if !strings.Contains(nt.Message, s) {
					t.Errorf("message %q lacks %q", nt.Message, s)
				}
			}
			for _, s := range tc.hasn {
				if strings.Contains(nt.Message, s) {
					t.Errorf("message %q says %q", nt.Message, s)
				}
			}
		})
	}
}

// A webhook that cannot be reached is logged without its password, the
// secret in its path or the values of its query string.
func TestWebhookURLNeverLogged(t *testing.T) {
	m, clk := newManager(t, "rfc")
	_, tok := mustCreate(t, m, CreateRequest{Name: "okta", TTL: 30 * Day})
	clk.Set(tok.Expires.Add(-Day))
	var logs syncbuf.Buffer
	n := &Notifier{Store: m.Store, Policy: m.Policy, Now: clk.Now, Logger: newJSONLogger(&logs), Attempts: 1,
		Webhook: "http://user:hooksecret@127.0.0.1:1/services/T0PATH/B0PATH/pathsecret?key=qsecret&token=tsecret"}
	if _, err := n.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, "not delivered") || !strings.Contains(out, "127.0.0.1:1/services/***?key=***&token=***") {
		t.Fatalf("the failed delivery is not logged with the redacted URL:\n%s", out)
	}
	for _, secret := range []string{"hooksecret", "T0PATH", "B0PATH", "pathsecret", "qsecret", "tsecret"} {
		if strings.Contains(out, secret) {
			t.Errorf("%q is in the log:\n%s", secret, out)
		}
	}
}

// A token created while Run waits out a long Interval (by another process,
// through the store) is looked at once the store's auth epoch moves: a
// token that lives less than the Interval still gets its day-of notice
// while it works.
func TestNotifierRunSeesNewTokens(t *testing.T) {
	m, clk := newManager(t, "rfc")
	n := &Notifier{Store: m.Store, Policy: m.Policy, Now: clk.Now, Interval: time.Hour}
	runUntilDayOf(t, n, m, func() {
		time.Sleep(50 * time.Millisecond)               // Run has made its first check
		mustCreate(t, m, CreateRequest{TTL: time.Hour}) // its day-of notice is due at once
	})
}
