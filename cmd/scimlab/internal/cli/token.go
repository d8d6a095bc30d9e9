package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/scimlab/scimlab/reference-server/auth"
	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/backend"
)

func init() {
	register(command{name: "token", summary: "create, list and revoke bearer tokens; basic and admin credentials", run: runToken})
}

const tokenUsage = `Usage: scimlab token create --data FILE [--ttl 90d] [--name NAME] [--account NAME] [--email-domains a.com,b.com] [--profile NAME]
       scimlab token list   --data FILE [--profile NAME] [--json] [--clock-offset 2160h]
       scimlab token revoke --data FILE NAME|ID
       scimlab token basic set   --data FILE --username NAME --password-file FILE [--profile NAME]
       scimlab token basic clear --data FILE
       scimlab token admin set   --data FILE --password-file FILE
       scimlab token account deactivate|activate --data FILE NAME

FILE is the SQLite database scimlab serve uses, or its postgres:// URL. The
token policy (lifespans, rotation, notices, basic auth) follows --profile, by
default the profile the database was last served with, else rfc. 'create'
prints the token alone on stdout, once:
TOKEN=$(scimlab token create --data scimlab.db --ttl 90d)
`

func runToken(ctx context.Context, e *env, args []string) ExitCode {
	if code, done := groupHelp(e, args, "token", tokenUsage); done {
		return code
	}
	switch args[0] {
	case "create":
		return runTokenCreate(ctx, e, args[1:])
	case "list":
		return runTokenList(ctx, e, args[1:])
	case "revoke":
		return runTokenRevoke(ctx, e, args[1:])
	case "basic":
		return runTokenBasic(ctx, e, args[1:])
	case "admin":
		return runTokenAdmin(ctx, e, args[1:])
	case "account":
		return runTokenAccount(ctx, e, args[1:])
	}
	if strings.HasPrefix(args[0], "-") {
		return fail(e, "token", usagef("flag %s before the subcommand; want 'token create', 'list', 'revoke', 'basic', 'admin' or 'account'", args[0]), ExitUsage)
	}
	return fail(e, "token", usagef("unknown subcommand %q; want create, list, revoke, basic, admin or account", args[0]), ExitUsage)
}

// tokenDB holds the flags every token subcommand shares.
type tokenDB struct {
	data, profile *string
}

func dbFlags(fs *flags, withProfile bool) tokenDB {
	d := tokenDB{data: fs.String("data", "", "the reference server's SQLite database file, or its postgres:// URL (required)")}
	if withProfile {
		d.profile = fs.String("profile", "", "profile whose token policy applies (default: the one the database was last served with, else rfc)")
	}
	return d
}

// open opens the database and the token manager under the chosen profile's
// policy. mustExist refuses a path with no database yet.
func (d tokenDB) open(ctx context.Context, mustExist bool) (*auth.Manager, func(), error) {
	path := strings.TrimSpace(*d.data)
	switch {
	case path == "":
		return nil, nil, usagef("--data is required: the SQLite file scimlab serve uses")
	case inMemoryDSN(path):
		return nil, nil, usagef("--data %s is an in-memory database that vanishes when this command exits: 'scimlab serve --data :memory:' prints a token of its own on stdout at start; for tokens you create and revoke, serve an SQLite file and give it here", path)
	case strings.Contains(path, "://") && !backend.IsPostgres(path):
		return nil, nil, usagef("--data %s: want an SQLite file or a postgres:// URL", backend.Redact(path))
	}
	if mustExist && !strings.HasPrefix(path, "file:") && !backend.IsPostgres(path) {
		if _, err := os.Stat(path); err != nil {
			return nil, nil, usagef("no database at %s (create a token first, or run scimlab serve --data %s)", path, path)
		}
	}
	st, err := backend.Open(path)
	if err != nil {
		return nil, nil, err
	}
	closeFn := func() { _ = st.Close() }
	prof := ""
	if d.profile != nil {
		prof = strings.TrimSpace(*d.profile)
	}
	if prof == "" {
		v, ok, err := st.Setting(ctx, auth.ProfileSettingKey)
		if err != nil {
			closeFn()
			return nil, nil, err
		}
		if ok {
			prof = v
		}
	}
	if prof == "" {
		prof = "rfc"
	}
	pol, name, err := tokenPolicy(prof)
	if err != nil {
		closeFn()
		return nil, nil, usagef("%v", err)
	}
	return &auth.Manager{Store: st, Policy: pol, Profile: name}, closeFn, nil
}

// inMemoryDSN reports whether an SQLite --data names an in-memory database,
// which lives only as long as the process that opened it.
func inMemoryDSN(path string) bool {
	path = strings.TrimSpace(path)
	return path == ":memory:" || strings.Contains(path, "mode=memory") || strings.Contains(path, "vfs=memdb")
}

// tokenPolicy returns the token policy of a profile and its canonical name:
// the profile's own (profiles are data, fixtures/profiles), else auth's
// built-in policy of that name.
func tokenPolicy(name string) (auth.Policy, string, error) {
	p, err := profile.Get(name)
	if err == nil {
		return p.Tokens, p.Name, nil
	}
	if pol, berr := auth.BuiltinPolicy(name); berr == nil {
		return pol, name, nil
	}
	return auth.Policy{}, "", err
}

func runTokenCreate(ctx context.Context, e *env, args []string) ExitCode {
	const name = "token create"
	fs := newFlags(name, "--data FILE [--ttl 90d] [--name NAME] [--account NAME] [--email-domains a.com,b.com] [--profile NAME]", e)
	db := dbFlags(fs, true)
	ttl := fs.String("ttl", "", "lifespan: a Go duration (720h) or days (90d); default: the profile's")
	tokName := fs.String("name", "scim", "name shown in lists and usable with revoke")
	account := fs.String("account", "", "service account the token is bound to (deactivating it invalidates the token)")
	domains := fs.String("email-domains", "", "comma-separated email domains the token may manage users in")
	if code, stop := parse(fs, args, e); stop {
		return code
	}
	if fs.NArg() > 0 {
		return fail(e, name, usagef("unexpected argument %q", fs.Arg(0)), ExitUsage)
	}
	var d time.Duration
	if *ttl != "" {
		var err error
		if d, err = auth.ParseTTL(*ttl); err != nil {
			return fail(e, name, usagef("--ttl: %v", err), ExitUsage)
		}
	}
	m, closeFn, err := db.open(ctx, false)
	if err != nil {
		return fail(e, name, err, ExitUsage)
	}
	defer closeFn()
	var ds []string
	if *domains != "" {
		ds = strings.Split(*domains, ",")
	}
	twins, err := sameNamed(ctx, m, *tokName, *account)
	if err != nil {
		return fail(e, name, err, ExitUsage)
	}
	c, err := m.CreateToken(ctx, auth.CreateRequest{Name: *tokName, Account: *account, TTL: d, EmailDomains: ds})
	if c.Secret == "" && err != nil {
		return fail(e, name, err, ExitUsage)
	}
	fmt.Fprintln(e.stdout, c.Secret)
	fmt.Fprintf(e.stderr, "scimlab token: created %s (id %s, profile %s), expires %s; it is shown only this once\n",
		c.Token.Name, auth.ShortID(c.Token.ID), m.Profile, c.Token.Expires.UTC().Format(time.RFC3339))
	for _, t := range c.Replaced {
		fmt.Fprintf(e.stderr, "scimlab token: revoked %s (id %s): profile %s replaces the old token\n", t.Name, auth.ShortID(t.ID), m.Profile)
	}
	// A token keeps its name's twins live unless the rotation replaced
	// them: the name alone no longer picks one, so say which id to use.
	// (Creating is never refused for it: `token create` prints a token, as
	// the contract says, however many share the default name.)
	var still []store.Token
	for _, t := range twins {
		if !slices.ContainsFunc(c.Replaced, func(r store.Token) bool { return r.ID == t.ID }) {
			still = append(still, t)
		}
	}
	if len(still) > 0 && c.Secret != "" {
		fmt.Fprintf(e.stderr, "scimlab token: %s is now the name of %d live tokens (%s); 'token revoke %s' cannot tell them apart: revoke by id, e.g. scimlab token revoke --data %s %s\n",
			c.Token.Name, len(still)+1, describeLive(still), c.Token.Name, backend.Redact(*db.data), auth.ShortID(still[0].ID))
	}
	if err != nil {
		return fail(e, name, err, ExitUsage)
	}
	return ExitOK
}

func runTokenList(ctx context.Context, e *env, args []string) ExitCode {
	const name = "token list"
	fs := newFlags(name, "--data FILE [--profile NAME] [--json] [--clock-offset 2160h]", e)
	db := dbFlags(fs, true)
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	offset := fs.Duration("clock-offset", 0, "show states as a server started with this --clock-offset sees them")
	if code, stop := parse(fs, args, e); stop {
		return code
	}
	if fs.NArg() > 0 {
		return fail(e, name, usagef("unexpected argument %q", fs.Arg(0)), ExitUsage)
	}
	m, closeFn, err := db.open(ctx, true)
	if err != nil {
		return fail(e, name, err, ExitUsage)
	}
	defer closeFn()
	clock := auth.OffsetClock{Offset: *offset}
	m.Now = clock.Now
	ts, err := m.List(ctx)
	if err != nil {
		return fail(e, name, err, ExitUsage)
	}
	if *asJSON {
		return printTokensJSON(e, name, ts)
	}
	if len(ts) == 0 {
		fmt.Fprintf(e.stderr, "scimlab token: no tokens in %s\n", *db.data)
		return ExitOK
	}
	now := clock.Now()
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tACCOUNT\tCREATED (UTC)\tEXPIRES (UTC)\tLAST USED\tSTATE\tID\tNOTICE")
	for _, t := range ts {
		notice := ""
		if t.NoticeDue {
			if t.State == auth.StateExpired {
				notice = "! expired, not replaced"
			} else {
				notice = fmt.Sprintf("! expires in %s", humanDays(t.Expires.Sub(now)))
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, dash(t.Account), stamp(t.Created), stamp(t.Expires),
			stamp(t.LastUsed), t.State, auth.ShortID(t.ID), notice)
	}
	if err := tw.Flush(); err != nil {
		return fail(e, name, err, ExitUsage)
	}
	return ExitOK
}

func printTokensJSON(e *env, name string, ts []auth.TokenInfo) ExitCode {
	type row struct {
		ID           string     `json:"id"`
		Name         string     `json:"name"`
		Account      string     `json:"account,omitempty"`
		Profile      string     `json:"profile,omitempty"`
		EmailDomains []string   `json:"emailDomains,omitempty"`
		Created      time.Time  `json:"created"`
		Expires      *time.Time `json:"expires,omitempty"`
		LastUsed     *time.Time `json:"lastUsed,omitempty"`
		Revoked      *time.Time `json:"revoked,omitempty"`
		State        auth.State `json:"state"`
		NoticeDue    bool       `json:"noticeDue"`
	}
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		u := t.UTC()
		return &u
	}
	rows := make([]row, len(ts))
	for i, t := range ts {
		rows[i] = row{ID: t.ID, Name: t.Name, Account: t.Account, Profile: t.Profile, EmailDomains: t.EmailDomains,
			Created: t.Created.UTC(), Expires: opt(t.Expires), LastUsed: opt(t.LastUsed), Revoked: opt(t.Revoked),
			State: t.State, NoticeDue: t.NoticeDue}
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rows); err != nil {
		return fail(e, name, err, ExitUsage)
	}
	return ExitOK
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// humanDays is the time left until an expiry: whole days rounded up
// ("14d" with 14 days less a second left), or hours and minutes under a day.
func humanDays(d time.Duration) string {
	if d < auth.Day {
		return d.Truncate(time.Minute).String()
	}
	return fmt.Sprintf("%dd", auth.DaysLeft(d))
}

func runTokenRevoke(ctx context.Context, e *env, args []string) ExitCode {
	const name = "token revoke"
	fs := newFlags(name, "--data FILE NAME|ID", e)
	db := dbFlags(fs, false)
	pos, code, stop := parseInterspersed(fs, args, e)
	if stop {
		return code
	}
	if len(pos) != 1 {
		return fail(e, name, usagef("want one token name or id, got %d arguments", len(pos)), ExitUsage)
	}
	m, closeFn, err := db.open(ctx, true)
	if err != nil {
		return fail(e, name, err, ExitUsage)
	}
	defer closeFn()
	t, err := m.Revoke(ctx, pos[0])
	if err != nil {
		return fail(e, name, err, ExitUsage)
	}
	fmt.Fprintf(e.stderr, "scimlab token: revoked %s (id %s); %s\n", t.Name, auth.ShortID(t.ID), revocationReach(*db.data))
	return ExitOK
}

// sameNamed returns the live tokens (neither revoked nor expired) called
// name that creating a token of that name and account leaves live: all of
// them, except under replace rotation, which revokes those in the new
// token's scope (auth.Manager.CreateToken). Two live tokens of one name
// make 'token revoke NAME' refuse as ambiguous.
func sameNamed(ctx context.Context, m *auth.Manager, name, account string) ([]store.Token, error) {
	name, account = strings.TrimSpace(name), strings.TrimSpace(account)
	if name == "" {
		name = "scim"
	}
	all, err := m.Store.ListTokens(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	var out []store.Token
	for _, t := range all {
		switch {
		case t.Name != name || !t.Revoked.IsZero() || !t.Expires.IsZero() && !now.Before(t.Expires):
		case m.Policy.Rotation == auth.RotationReplace && m.Policy.SameScope(t, account, name):
		default:
			out = append(out, t)
		}
	}
	return out, nil
}

// describeLive names tokens by short id and expiry: "id 1a2b3c4d, expires
// 2027-01-02".
func describeLive(ts []store.Token) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = fmt.Sprintf("id %s, expires %s", auth.ShortID(t.ID), t.Expires.UTC().Format("2006-01-02"))
	}
	return strings.Join(parts, "; ")
}

// revocationReach says when a running server refuses a token revoked in
// the database data: each request compares the store's auth epoch with the
// one its cached token was verified at (store.AuthEpoch). With SQLite that
// is a counter in the database's shared-memory sidecar, which this command
// bumped: the very next request. With PostgreSQL each server LISTENs for
// the NOTIFY this command's commit sent, and re-reads tokens on every
// request while it is not listening: the next request once the notice has
// arrived, which takes milliseconds. Where there is no sidecar (not Unix),
// a server learns of it when its token cache entry ages out (2 seconds).
func revocationReach(data string) string {
	switch {
	case backend.IsPostgres(data):
		return "every server on this database refuses it as soon as PostgreSQL's LISTEN/NOTIFY delivers the change, within milliseconds"
	case runtime.GOOS == "windows" || runtime.GOOS == "plan9":
		return "a server running on this file refuses it within 2 seconds (when its token cache entry expires)"
	}
	return "a server running on this file refuses it from its very next request"
}

func runTokenBasic(ctx context.Context, e *env, args []string) ExitCode {
	const usage = "Usage: scimlab token basic set --data FILE --username NAME --password-file FILE [--profile NAME]\n       scimlab token basic clear --data FILE\n"
	if code, done := groupHelp(e, args, "token basic", usage); done {
		return code
	}
	switch args[0] {
	case "set":
		const name = "token basic set"
		fs := newFlags(name, "--data FILE --username NAME --password-file FILE [--profile NAME]", e)
		db := dbFlags(fs, true)
		user := fs.String("username", "", "the SCIM service account's username (required)")
		pwFile := fs.String("password-file", "", "file holding the password (required; never give it on the command line)")
		if code, stop := parse(fs, args[1:], e); stop {
			return code
		}
		if fs.NArg() > 0 {
			return fail(e, name, usagef("unexpected argument %q", fs.Arg(0)), ExitUsage)
		}
		if *user == "" || *pwFile == "" {
			return fail(e, name, usagef("--username and --password-file are required"), ExitUsage)
		}
		pw, err := readPasswordFile(*pwFile)
		if err != nil {
			return fail(e, name, err, ExitUsage)
		}
		m, closeFn, err := db.open(ctx, false)
		if err != nil {
			return fail(e, name, err, ExitUsage)
		}
		defer closeFn()
		if err := m.SetBasic(ctx, *user, pw); err != nil {
			return fail(e, name, err, ExitUsage)
		}
		fmt.Fprintf(e.stderr, "scimlab token: basic credential set for %s (profile %s)\n", *user, m.Profile)
		return ExitOK
	case "clear":
		const name = "token basic clear"
		fs := newFlags(name, "--data FILE", e)
		db := dbFlags(fs, false)
		if code, stop := parse(fs, args[1:], e); stop {
			return code
		}
		if fs.NArg() > 0 {
			return fail(e, name, usagef("unexpected argument %q", fs.Arg(0)), ExitUsage)
		}
		m, closeFn, err := db.open(ctx, true)
		if err != nil {
			return fail(e, name, err, ExitUsage)
		}
		defer closeFn()
		if err := m.ClearBasic(ctx); err != nil {
			return fail(e, name, err, ExitUsage)
		}
		fmt.Fprintln(e.stderr, "scimlab token: basic credential cleared")
		return ExitOK
	}
	return fail(e, "token basic", usagef("unknown subcommand %q; want set or clear", args[0]), ExitUsage)
}

func runTokenAdmin(ctx context.Context, e *env, args []string) ExitCode {
	const usage = "Usage: scimlab token admin set --data FILE --password-file FILE\n"
	if code, done := groupHelp(e, args, "token admin", usage); done {
		return code
	}
	if args[0] != "set" {
		return fail(e, "token admin", usagef("unknown subcommand %q; want set", args[0]), ExitUsage)
	}
	const name = "token admin set"
	fs := newFlags(name, "--data FILE --password-file FILE", e)
	db := dbFlags(fs, false)
	pwFile := fs.String("password-file", "", "file holding the admin page's password (required)")
	if code, stop := parse(fs, args[1:], e); stop {
		return code
	}
	if fs.NArg() > 0 {
		return fail(e, name, usagef("unexpected argument %q", fs.Arg(0)), ExitUsage)
	}
	if *pwFile == "" {
		return fail(e, name, usagef("--password-file is required"), ExitUsage)
	}
	pw, err := readPasswordFile(*pwFile)
	if err != nil {
		return fail(e, name, err, ExitUsage)
	}
	m, closeFn, err := db.open(ctx, false)
	if err != nil {
		return fail(e, name, err, ExitUsage)
	}
	defer closeFn()
	if err := m.SetAdminPassword(ctx, pw); err != nil {
		return fail(e, name, err, ExitUsage)
	}
	fmt.Fprintln(e.stderr, "scimlab token: admin password set; log in at /admin")
	return ExitOK
}

func runTokenAccount(ctx context.Context, e *env, args []string) ExitCode {
	const usage = "Usage: scimlab token account deactivate|activate --data FILE NAME\n"
	if code, done := groupHelp(e, args, "token account", usage); done {
		return code
	}
	action := args[0]
	if action != "deactivate" && action != "activate" {
		return fail(e, "token account", usagef("unknown subcommand %q; want deactivate or activate", action), ExitUsage)
	}
	name := "token account " + action
	fs := newFlags(name, "--data FILE NAME", e)
	db := dbFlags(fs, false)
	pos, code, stop := parseInterspersed(fs, args[1:], e)
	if stop {
		return code
	}
	if len(pos) != 1 {
		return fail(e, name, usagef("want one account name, got %d arguments", len(pos)), ExitUsage)
	}
	m, closeFn, err := db.open(ctx, true)
	if err != nil {
		return fail(e, name, err, ExitUsage)
	}
	defer closeFn()
	var n int
	if action == "deactivate" {
		n, err = m.DeactivateAccount(ctx, pos[0])
	} else {
		n, err = m.ActivateAccount(ctx, pos[0])
	}
	if err != nil {
		return fail(e, name, err, ExitUsage)
	}
	fmt.Fprintf(e.stderr, "scimlab token: account %s %sd; it has %d unrevoked tokens\n", pos[0], action, n)
	return ExitOK
}

// readPasswordFile reads a password from a file, without its final line break.
func readPasswordFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return "", err
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if pw == "" {
		return "", errors.New("the password file is empty")
	}
	return pw, nil
}
