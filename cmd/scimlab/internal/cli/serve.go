package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"time"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reference-server/auth"
	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/backend"
)

func init() {
	register(command{name: "serve", summary: "run the SCIM 2.0 reference server", run: runServe})
}

// serveFlags are the flags shared by serve and demo that pick the server's behaviour.
type serveFlags struct {
	profile string
	lenient bool
}

func (sf *serveFlags) register(fs *flags) {
	fs.StringVar(&sf.profile, "profile", "rfc", "target profile: "+strings.Join(profile.Names(), ", "))
	fs.BoolVar(&sf.lenient, "lenient", false, "accept IdP dialects (string booleans, dotted keys, Entra member removal, …) on top of the profile")
}

func (sf *serveFlags) resolve() (*profile.Profile, error) {
	p, err := profile.Resolve(sf.profile, "", sf.lenient, profile.FaultFlags{})
	if err != nil {
		return nil, usagef("%v", err)
	}
	return p, nil
}

func runServe(ctx context.Context, e *env, args []string) ExitCode {
	fs := newFlags("serve", "[--addr 127.0.0.1:8080] [--data scimlab.db|:memory:|postgres://…] [--profile NAME] [--lenient]", e)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (loopback unless --public)")
	data := fs.String("data", "scimlab.db", "SQLite database file, :memory: for a throwaway store, or a postgres:// URL shared by several replicas")
	public := fs.Bool("public", false, "allow a non-loopback --addr")
	baseURL := fs.String("base-url", "", "absolute SCIM base URL used in meta.location when behind a proxy")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	profileFile := fs.String("profile-file", "", "a profile YAML of your own (extends --profile, rfc by default)")
	var faults profile.FaultFlags
	fs.StringVar(&faults.ErrorRate, "fault-rate", "", "answer this share of requests with a 5xx (\"0.05\" or \"5%\")")
	fs.StringVar(&faults.RateLimit, "rate-limit", "", "token-bucket rate limit answering 429 with Retry-After (\"600/m:180\"; \"off\" removes the profile's)")
	fs.StringVar(&faults.Latency, "latency", "", "added latency per request (\"200ms\")")
	fs.StringVar(&faults.Timeout, "timeout", "", "answer 503 when a request takes longer than this (\"2s\")")
	fs.StringVar(&faults.Seed, "fault-seed", "", "seed of the fault injection (same seed, same faults)")
	adminPW := fs.String("admin-password-file", "", "file holding the /admin password (or set it with 'scimlab token admin set')")
	hook := fs.String("notify-webhook", "", "URL that receives token expiry notices as JSON POSTs")
	offset := fs.Duration("clock-offset", 0, "move the server's clock (e.g. 2160h) to demonstrate token expiry and notices")
	var sf serveFlags
	sf.register(fs)
	if code, stop := parse(fs, args, e); stop {
		return code
	}
	if fs.NArg() > 0 {
		return fail(e, "serve", usagef("unexpected argument %q", fs.Arg(0)), ExitUsage)
	}
	if *hook != "" {
		if u, err := url.Parse(*hook); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fail(e, "serve", usagef("--notify-webhook %s is not an http(s) URL", auth.RedactURL(*hook)), ExitUsage)
		}
	}
	var adminPassword string
	if *adminPW != "" {
		// The policy of 'token admin set' (auth.AdminPasswordPolicy) applies here too.
		pw, err := readPasswordFile(*adminPW)
		if err == nil {
			err = auth.AdminPasswordPolicy.CheckPassword(pw)
		}
		if err != nil {
			return fail(e, "serve", usagef("--admin-password-file %s: %v", *adminPW, err), ExitUsage)
		}
		adminPassword = pw
	}
	if err := checkLoopback(*addr, *public); err != nil {
		return fail(e, "serve", err, ExitUsage)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fail(e, "serve", usagef("--log-level %q: want debug, info, warn or error", *logLevel), ExitUsage)
	}
	prof, err := profile.Resolve(sf.profile, *profileFile, sf.lenient, faults)
	if err != nil {
		return fail(e, "serve", usagef("%v", err), ExitUsage)
	}
	st, err := backend.Open(*data)
	if err != nil {
		return fail(e, "serve", err, ExitUsage)
	}
	defer st.Close()
	// One server per SQLite file: it caches what it reads as the only writer.
	if sa, ok := st.(interface{ ServeAlone() error }); ok {
		if err := sa.ServeAlone(); err != nil {
			return fail(e, "serve", err, ExitUsage)
		}
	}
	tuneServerGC()
	// Token commands default to the profile the store was last served with.
	if err := st.PutSetting(ctx, "server/profile", prof.Name); err != nil {
		return fail(e, "serve", err, ExitUsage)
	}
	logger := slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	if inMemoryDSN(*data) {
		// 'scimlab token create' cannot reach this store, which lives in
		// this process only: the server makes the one token, printed once
		// on stdout and never logged.
		c, err := memoryToken(ctx, st, prof, logger)
		if err != nil {
			return fail(e, "serve", err, ExitUsage)
		}
		fmt.Fprintln(e.stdout, c.Secret)
		fmt.Fprintf(e.stderr, "scimlab serve: --data %s holds no tokens, and 'scimlab token create' cannot reach it, so this server created one (%s, id %s, profile %s, expires %s) and printed it once on stdout, alone: use it as the bearer token\n",
			strings.TrimSpace(*data), c.Token.Name, auth.ShortID(c.Token.ID), prof.Name, c.Token.Expires.UTC().Format(time.RFC3339))
	}
	cfg := server.Config{Store: st, Profile: prof, Logger: logger, BaseURL: *baseURL, AdminPassword: adminPassword, NotifyWebhook: *hook}
	if *offset != 0 {
		cfg.Now = auth.OffsetClock{Offset: *offset}.Now
	}
	if err := server.Serve(ctx, *addr, cfg); err != nil {
		return fail(e, "serve", err, ExitUsage)
	}
	return ExitOK
}

// memoryToken creates the bearer token of a server whose store is in
// memory, under the profile's token policy: its default lifespan (else the
// first it offers), bound to the account "serve" when the policy binds
// every token to one.
func memoryToken(ctx context.Context, st store.Store, prof *profile.Profile, logger *slog.Logger) (auth.Created, error) {
	m := &auth.Manager{Store: st, Policy: prof.Tokens, Profile: prof.Name, Logger: logger}
	req := auth.CreateRequest{Name: "serve"}
	if prof.Tokens.RequireAccount {
		req.Account = "serve"
	}
	if prof.Tokens.DefaultLifespan <= 0 && len(prof.Tokens.Lifespans) > 0 {
		req.TTL = prof.Tokens.Lifespans[0].TTL.D()
	}
	c, err := m.CreateToken(ctx, req)
	if err != nil {
		return auth.Created{}, fmt.Errorf("creating the token of the in-memory store: %w", err)
	}
	return c, nil
}

// serverGCPercent is the garbage collector's target (GOGC) for a process
// that serves, unless GOGC is set. The read cache keeps each resource as
// rendered (about 1 KiB for a user), most of a serving heap's live data, and
// at Go's default of 100 the heap grows to twice that before a collection:
// about 8 MiB more peak resident memory at 10,000 users (VmHWM of `scimlab
// serve` through `scimlab bench`: 67 MiB at 100, 57 MiB at 50). The cached
// bodies hold no pointers, so a collection marks little, and the bench
// ratios did not move measurably.
const serverGCPercent = 50

// tuneServerGC applies serverGCPercent unless the GOGC environment variable
// says otherwise.
func tuneServerGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(serverGCPercent)
	}
}

// checkLoopback refuses a non-loopback listen address unless allowed.
func checkLoopback(addr string, allowPublic bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("listen address %q: %v", addr, err)
	}
	if allowPublic || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return usagef("listen address %s is not loopback; pass --public to listen on it", addr)
}
