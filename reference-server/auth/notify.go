package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/scimlab/scimlab/reference-server/store"
)

// noticePrefix starts the settings key of every emitted notice:
// "notice/<tokenID>/<offset>" holds the Notice as JSON.
const noticePrefix = "notice/"

// Notice kinds.
const (
	NoticeExpiring = "token.expiring" // emitted while the token still works
	NoticeExpired  = "token.expired"  // emitted at or after its expiry
)

// Notice is one expiry notice: a token reached one of its policy's notice
// offsets. It never carries the token's secret, hash or prefix.
type Notice struct {
	Kind      string       `json:"kind"` // NoticeExpiring or NoticeExpired
	TokenID   string       `json:"tokenId"`
	TokenName string       `json:"tokenName"`
	Account   string       `json:"account,omitempty"`
	Offset    NoticeOffset `json:"offset"` // "15d": 15 days before expiry; "-1d": a day after
	Expires   time.Time    `json:"expires"`
	Due       time.Time    `json:"due"`     // see NoticeOffset.Due
	Emitted   time.Time    `json:"emitted"` // when this server emitted it (its clock)
	Message   string       `json:"message"`
}

// Notifier emits expiry notices: for each token that is neither revoked,
// bound to a deactivated account nor replaced (Policy.Replaced), and for each offset of the policy's
// schedule, one notice once the offset is reached. Each notice is emitted
// once across restarts and replicas: it is claimed with
// Settings.PutSettingIfAbsent before it is logged, listed and sent. When a
// check finds several offsets of a token reached (the server was down), only
// the latest is emitted.
//
// Emitting means: a structured slog event, an entry that Notices (and
// GET /admin/api/notices) lists, and, when Webhook is set, a JSON POST
// retried with exponential backoff. A webhook delivery that fails every
// attempt is logged and not retried after a restart.
type Notifier struct {
	Store  Store
	Policy Policy
	// Now is the clock (time.Now when nil).
	Now    func() time.Time
	Logger *slog.Logger
	// Interval is the time between checks (0: one minute).
	Interval time.Duration
	// Webhook is a URL that receives each notice as a JSON POST ("" = none).
	Webhook string
	// Client sends webhook requests (nil: a client with a 10s timeout).
	Client *http.Client
	// Attempts bounds the webhook deliveries per notice (0: 5).
	Attempts int
	// Backoff is the wait before the first retry, doubled for each later
	// one and capped at one minute (0: one second).
	Backoff time.Duration
}

func (n *Notifier) now() time.Time {
	if n.Now != nil {
		return n.Now().UTC()
	}
	return time.Now().UTC()
}

func (n *Notifier) log() *slog.Logger {
	if n.Logger != nil {
		return n.Logger
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Run checks at once and then every Interval until ctx ends; it returns nil
// then. Errors of a check are logged, and the next check tries again.
// Where the store tells cheaply when tokens change (store.AuthEpoch: a
// token created by `scimlab token create` in another process, or on
// another replica), a change is looked at within a second, so a token whose
// whole life is shorter than Interval still gets its day-of notice while it
// works.
func (n *Notifier) Run(ctx context.Context) error {
	every := n.Interval
	if every <= 0 {
		every = time.Minute
	}
	epochOf, _ := n.Store.(store.AuthEpoch)
	var seen uint64
	poll := every
	if epochOf != nil {
		seen = epochOf.AuthEpoch()
		poll = min(every, epochPoll)
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if _, err := n.Check(ctx); err != nil && ctx.Err() == nil {
			n.log().Error("checking token expiry notices", "err", err.Error())
		}
		last := time.Now()
		if epochOf != nil {
			seen = epochOf.AuthEpoch() // the check's own writes (notices sent) are no news
		}
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
			if time.Since(last) >= every {
				break
			}
			if epochOf != nil {
				if e := epochOf.AuthEpoch(); e != seen {
					seen = e
					break
				}
			}
		}
	}
}

// epochPoll is how often Run looks at the store's auth epoch.
const epochPoll = time.Second

// Check emits the notices due now that no one has emitted yet and returns them.
func (n *Notifier) Check(ctx context.Context) ([]Notice, error) {
	p := n.Policy
	p.Lifespans, p.Notices = slices.Clone(p.Lifespans), slices.Clone(p.Notices)
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if len(p.Notices) == 0 {
		return nil, nil
	}
	tokens, err := n.Store.ListTokens(ctx)
	if err != nil {
		return nil, fmt.Errorf("auth: listing tokens: %w", err)
	}
	accounts, err := n.Store.SettingsWithPrefix(ctx, accountPrefix)
	if err != nil {
		return nil, fmt.Errorf("auth: reading accounts: %w", err)
	}
	now := n.now()
	var out []Notice
	for _, t := range tokens {
		if !t.Revoked.IsZero() || t.Expires.IsZero() || (t.Account != "" && accounts[accountPrefix+t.Account] == AccountInactive) ||
			p.Replaced(t, tokens, now, accounts) {
			continue
		}
		// The latest notice reached (the day-of notice's due time need not
		// follow the order of the offsets, so look at every one).
		reached, due := -1, time.Time{}
		for i, o := range p.Notices {
			d, sent := o.Due(t.Created, t.Expires)
			if sent && !now.Before(d) && !d.Before(due) {
				reached, due = i, d
			}
		}
		if reached < 0 {
			continue
		}
		o := p.Notices[reached]
		nt := Notice{
			Kind:      NoticeExpiring,
			TokenID:   t.ID,
			TokenName: t.Name,
			Account:   t.Account,
			Offset:    o,
			Expires:   t.Expires.UTC(),
			Due:       due.UTC(),
			Emitted:   now,
		}
		nt.Message = noticeMessage(t, now)
		if !now.Before(t.Expires) {
			// Whatever its offset, a notice that goes out once the token no
			// longer works says so.
			nt.Kind = NoticeExpired
		}
		b, err := json.Marshal(nt)
		if err != nil {
			return out, err
		}
		won, err := n.Store.PutSettingIfAbsent(ctx, noticePrefix+t.ID+"/"+o.String(), string(b))
		if err != nil {
			return out, fmt.Errorf("auth: claiming notice %s for token %s: %w", o, t.ID, err)
		}
		if !won {
			continue
		}
		level := slog.LevelWarn
		if nt.Kind == NoticeExpired {
			level = slog.LevelError
		}
		n.log().Log(ctx, level, "token expiry notice", "kind", nt.Kind, "tokenID", nt.TokenID, "name", nt.TokenName,
			"account", nt.Account, "offset", nt.Offset.String(), "expires", nt.Expires, "message", nt.Message)
		if n.Webhook != "" {
			if err := n.deliver(ctx, b); err != nil {
				n.log().Error("token expiry notice not delivered to the webhook", "tokenID", nt.TokenID, "offset", nt.Offset.String(), "err", err.Error())
			}
		}
		out = append(out, nt)
	}
	return out, nil
}

// noticeMessage says when the token expires or expired, counted from now
// (the time the notice goes out, not the schedule's offset).
func noticeMessage(t store.Token, now time.Time) string {
	who := "token " + t.Name
	if t.Account != "" {
		who += " (account " + t.Account + ")"
	}
	at := t.Expires.UTC().Format(time.RFC3339)
	if !now.Before(t.Expires) {
		return fmt.Sprintf("%s expired at %s, %s ago; SCIM requests with it are refused: create a new token and give it to the IdP",
			who, at, agoText(now.Sub(t.Expires)))
	}
	today := ""
	if y, m, d := t.Expires.UTC().Date(); now.UTC().Year() == y && now.UTC().Month() == m && now.UTC().Day() == d {
		today = " today"
	}
	return fmt.Sprintf("%s expires%s at %s, in %s: create a new token and give it to the IdP before then", who, today, at, timeText(t.Expires.Sub(now)))
}

// timeText is a span for people: whole days rounded up from a day on
// ("15 days", "1 day"), else hours and minutes ("5h3m", "12h"), else
// seconds ("20s").
func timeText(d time.Duration) string {
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case d >= Day:
		return DaysText(int64(DaysLeft(d)))
	case h > 0 && m > 0:
		return fmt.Sprintf("%dh%dm", h, m)
	case h > 0:
		return fmt.Sprintf("%dh", h)
	case m > 0:
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%ds", int(d/time.Second))
}

// agoText is a span in the past for people: whole days rounded down from a
// day on (24h5m ago is "1 day", never "2 days"), else as timeText.
func agoText(d time.Duration) string {
	if d >= Day {
		return DaysText(int64(d / Day))
	}
	return timeText(d)
}

// deliver POSTs body to the webhook, retrying network errors, 408, 429 and
// 5xx answers with exponential backoff, at most Attempts times.
func (n *Notifier) deliver(ctx context.Context, body []byte) error {
	attempts := n.Attempts
	if attempts <= 0 {
		attempts = 5
	}
	wait := n.Backoff
	if wait <= 0 {
		wait = time.Second
	}
	client := n.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	var last error
	for i := range attempts {
		if i > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			wait = min(2*wait, time.Minute)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.Webhook, bytes.NewReader(body))
		if err != nil {
			// The parse error would quote the URL whole.
			return fmt.Errorf("webhook URL %s cannot be requested", RedactURL(n.Webhook))
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "scimlab-notifier")
		resp, err := client.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				// net/http masks only a userinfo password; the path or the
				// query may hold the webhook's key.
				err = &url.Error{Op: ue.Op, URL: RedactURL(n.Webhook), Err: ue.Err}
			}
			last = err
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		switch {
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return nil
		case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
			last = fmt.Errorf("webhook answered %s", resp.Status)
		default:
			return fmt.Errorf("webhook answered %s; not retried", resp.Status)
		}
	}
	return fmt.Errorf("gave up after %d attempts: %w", attempts, last)
}

// Notices lists every notice emitted so far, oldest first.
func Notices(ctx context.Context, st Store) ([]Notice, error) {
	kv, err := st.SettingsWithPrefix(ctx, noticePrefix)
	if err != nil {
		return nil, fmt.Errorf("auth: reading notices: %w", err)
	}
	out := make([]Notice, 0, len(kv))
	var bad []string
	for k, v := range kv {
		var nt Notice
		if err := json.Unmarshal([]byte(v), &nt); err != nil {
			bad = append(bad, k)
			continue
		}
		out = append(out, nt)
	}
	slices.SortFunc(out, func(a, b Notice) int {
		if c := a.Emitted.Compare(b.Emitted); c != 0 {
			return c
		}
		return strings.Compare(a.TokenID+a.Offset.String(), b.TokenID+b.Offset.String())
	})
	if len(bad) > 0 {
		return out, fmt.Errorf("auth: unreadable notices: %s", strings.Join(bad, ", "))
	}
	return out, nil
}
