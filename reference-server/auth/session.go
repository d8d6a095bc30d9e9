package auth

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"
)

// Admin sessions and failed admin password checks live in the store's
// settings, so that every replica sharing the store (PostgreSQL) sees the
// same ones: a cookie from one replica is good on another, and the lockout
// counts every replica's failures.
//
//	admin/session/<hex SHA-256 of the cookie>  {"csrf","created","expires","cred"} (JSON), "" once ended
//	admin/failure/<unix minute>/<0..9>         the failure's time, Unix nanoseconds
//
// A session records the fingerprint of the admin credential it was opened
// with (credential): a new admin password, set by any process, ends every
// session on its next request. The cookie itself is never stored.
const (
	sessionPrefix = "admin/session/"
	failurePrefix = "admin/failure/"
)

// sessionRecord is a stored admin session. Times are wall-clock Unix
// nanoseconds.
type sessionRecord struct {
	CSRF    string `json:"csrf"`
	Created int64  `json:"created"`
	Expires int64  `json:"expires"`
	Cred    string `json:"cred"`
}

func sessionKey(cookie string) string {
	h := sha256.Sum256([]byte(cookie))
	return sessionPrefix + hex.EncodeToString(h[:])
}

// plainFingerprint derives the fingerprint of a password given with
// --admin-password-file: PBKDF2, so that the value kept in the store is as
// slow to guess from as a bcrypt hash. Replicas given the same file agree.
func plainFingerprint(pw string) string {
	k, err := pbkdf2.Key(sha256.New, pw, []byte("scimlab admin session"), 200_000, 32)
	if err != nil {
		panic(err) // only for parameters out of FIPS bounds, fixed here
	}
	return "plain:" + hex.EncodeToString(k)
}

// credential returns the fingerprint of the admin credential now in force
// ("" when none is set): the plain password's, or a hash of the stored bcrypt
// hash, which changes with every `scimlab token admin set`.
func (a *admin) credential(ctx context.Context) (string, error) {
	if a.cfg.Password != "" {
		return a.plainFP, nil
	}
	h, ok, err := a.cfg.Store.Setting(ctx, adminKey)
	if err != nil {
		return "", fmt.Errorf("auth: reading the admin password: %w", err)
	}
	if !ok || h == "" {
		return "", nil
	}
	sum := sha256.Sum256([]byte(h))
	return "stored:" + hex.EncodeToString(sum[:]), nil
}

// loadSession returns the stored session of cookie when it is live: not
// ended, not expired, and opened with the credential now in force.
func (a *admin) loadSession(ctx context.Context, cookie string) (sessionRecord, bool, error) {
	v, ok, err := a.cfg.Store.Setting(ctx, sessionKey(cookie))
	if err != nil || !ok || v == "" {
		return sessionRecord{}, false, err
	}
	var rec sessionRecord
	if json.Unmarshal([]byte(v), &rec) != nil || time.Now().UnixNano() >= rec.Expires {
		return sessionRecord{}, false, nil
	}
	cred, err := a.credential(ctx)
	if err != nil || cred == "" || cred != rec.Cred {
		return sessionRecord{}, false, err
	}
	return rec, true, nil
}

// openSession stores a new session for cookie, first ending expired ones
// and, past maxSessions live ones, the oldest.
func (a *admin) openSession(ctx context.Context, cookie, cred string) (sessionRecord, error) {
	all, err := a.cfg.Store.SettingsWithPrefix(ctx, sessionPrefix)
	if err != nil {
		return sessionRecord{}, fmt.Errorf("auth: reading admin sessions: %w", err)
	}
	now := time.Now()
	type live struct {
		key     string
		created int64
	}
	var lives []live
	for k, v := range all {
		if v == "" {
			continue
		}
		var rec sessionRecord
		if json.Unmarshal([]byte(v), &rec) != nil || now.UnixNano() >= rec.Expires || rec.Cred != cred {
			if err := a.cfg.Store.PutSetting(ctx, k, ""); err != nil {
				return sessionRecord{}, fmt.Errorf("auth: ending an admin session: %w", err)
			}
			continue
		}
		lives = append(lives, live{k, rec.Created})
	}
	sort.Slice(lives, func(i, j int) bool { return lives[i].created < lives[j].created })
	for len(lives) >= maxSessions {
		if err := a.cfg.Store.PutSetting(ctx, lives[0].key, ""); err != nil {
			return sessionRecord{}, fmt.Errorf("auth: ending an admin session: %w", err)
		}
		lives = lives[1:]
	}
	rec := sessionRecord{CSRF: randomString(32), Created: now.UnixNano(), Expires: now.Add(a.cfg.SessionTTL).UnixNano(), Cred: cred}
	b, _ := json.Marshal(rec)
	if err := a.cfg.Store.PutSetting(ctx, sessionKey(cookie), string(b)); err != nil {
		return sessionRecord{}, fmt.Errorf("auth: storing the admin session: %w", err)
	}
	return rec, nil
}

// endSession ends the stored session of cookie (logout).
func (a *admin) endSession(ctx context.Context, cookie string) error {
	if err := a.cfg.Store.PutSetting(ctx, sessionKey(cookie), ""); err != nil {
		return fmt.Errorf("auth: ending the admin session: %w", err)
	}
	return nil
}

// failureKey is the prefix of the failures recorded in the minute of t.
func failureKey(t time.Time) string {
	return failurePrefix + strconv.FormatInt(t.Unix()/60, 10) + "/"
}

// recentFailures returns the times of the failed checks in the last
// loginWindow, oldest first: those recorded in this minute and the last.
func (a *admin) recentFailures(ctx context.Context, now time.Time) ([]time.Time, error) {
	var out []time.Time
	for _, p := range []string{failureKey(now.Add(-time.Minute)), failureKey(now)} {
		kv, err := a.cfg.Store.SettingsWithPrefix(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("auth: reading failed admin logins: %w", err)
		}
		for _, v := range kv {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				continue
			}
			if f := time.Unix(0, n); now.Sub(f) < loginWindow {
				out = append(out, f)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out, nil
}

// recordFailure stores a failed check in one of the maxLoginFailures slots
// of its minute; each slot is taken at most once (PutSettingIfAbsent), so
// replicas failing at the same time never lose a count. With every slot of
// the minute taken the lockout is on anyway.
func (a *admin) recordFailure(ctx context.Context, now time.Time) error {
	p := failureKey(now)
	for i := range maxLoginFailures {
		ok, err := a.cfg.Store.PutSettingIfAbsent(ctx, p+strconv.Itoa(i), strconv.FormatInt(now.UnixNano(), 10))
		if err != nil {
			return fmt.Errorf("auth: recording a failed admin login: %w", err)
		}
		if ok {
			return nil
		}
	}
	return nil
}
