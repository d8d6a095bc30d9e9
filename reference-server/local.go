package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/scimlab/scimlab/reference-server/auth"
	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/backend"
)

// LocalOptions configures StartLocal.
type LocalOptions struct {
	// Profile is the profile name ("" = "rfc").
	Profile string
	// Lenient turns on every tolerance for IdP request shapes (Profile.WithLenient).
	Lenient bool
	// DataDSN is the SQLite database: a file path or ":memory:" (the default).
	DataDSN string
	// Logger receives the server's logs (nil: discard).
	Logger *slog.Logger
}

// Local is a reference server running in-process on a loopback port, for
// the suites, the simulator and the demo.
type Local struct {
	// BaseURL is the SCIM base, http://127.0.0.1:PORT/scim/v2.
	BaseURL string
	// Token is a bearer token valid for 24 hours.
	Token string
	// Server is the running server.
	Server *Server
	// Store is the server's store (closed by Close).
	Store store.Store

	http     *http.Server
	done     chan struct{}
	closeErr error
	once     sync.Once
}

// StartLocal starts a reference server on 127.0.0.1 at a free port, creates a
// bearer token (ttl 24h) and serves until Close.
func StartLocal(ctx context.Context, opt LocalOptions) (*Local, error) {
	p, err := profile.Get(opt.Profile)
	if err != nil {
		return nil, err
	}
	if opt.Lenient {
		p = p.WithLenient()
	}
	dsn := opt.DataDSN
	if dsn == "" {
		dsn = ":memory:"
	}
	st, err := backend.Open(dsn)
	if err != nil {
		return nil, fmt.Errorf("server: opening the store: %w", err) // err names it
	}
	l, err := startLocal(ctx, st, p, opt.Logger)
	if err != nil {
		st.Close()
		return nil, err
	}
	return l, nil
}

func startLocal(ctx context.Context, st store.Store, p *profile.Profile, logger *slog.Logger) (*Local, error) {
	if logger == nil {
		logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	srv, err := New(Config{Store: st, Profile: p, Logger: logger})
	if err != nil {
		return nil, err
	}
	secret, _, err := auth.Create(ctx, st, "local", 24*time.Hour, time.Now())
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("server: listening on loopback: %w", err)
	}
	hs := newHTTPServer(srv.Handler(), logger)
	l := &Local{
		BaseURL: "http://" + ln.Addr().String() + BasePath,
		Token:   secret,
		Server:  srv,
		Store:   st,
		http:    hs,
		done:    make(chan struct{}),
	}
	go func() {
		defer close(l.done)
		if err := hs.Serve(scimErrorListener{ln}); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("local server stopped", "err", err.Error())
		}
	}()
	logger.Debug("local reference server started", "baseURL", l.BaseURL, "profile", p.Name)
	return l, nil
}

// Close stops the server (finishing in-flight requests for up to 5 seconds)
// and closes the store.
func (l *Local) Close() error {
	l.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := l.http.Shutdown(ctx)
		if err != nil {
			l.http.Close()
		}
		<-l.done
		if cerr := l.Store.Close(); cerr != nil && err == nil {
			err = cerr
		}
		l.closeErr = err
	})
	return l.closeErr
}

// Serve serves cfg on addr until ctx is cancelled, then shuts down
// gracefully: it stops accepting connections and lets every in-flight
// request finish, for as long as the slowest request the server would
// accept can take (shutdownGrace). It logs the base URL once at info
// level. Binding to loopback by default is the caller's job.
func Serve(ctx context.Context, addr string, cfg Config) error {
	srv, err := New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("server: listening on %s: %w", addr, err)
	}
	return srv.serveListener(ctx, ln)
}

func (s *Server) serveListener(ctx context.Context, ln net.Listener) error {
	hs := newHTTPServer(s.Handler(), s.log)
	hs.BaseContext = func(net.Listener) context.Context { return context.WithoutCancel(ctx) }
	base := "http://" + ln.Addr().String() + BasePath
	if s.baseURL != "" {
		base = s.baseURL
	}
	s.log.Info("serving SCIM", "baseURL", base, "profile", s.prof.Name)
	// The expiry notifier runs while the server does and stops before the
	// caller closes the store.
	nctx, stopNotifier := context.WithCancel(ctx)
	notifierDone := make(chan struct{})
	go func() { defer close(notifierDone); s.runNotifier(nctx) }()
	defer func() { stopNotifier(); <-notifierDone }()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(scimErrorListener{ln}) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	grace := s.shutdownGrace()
	s.log.Debug("shutting down", "grace", grace.String())
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	var err error
	if serr := hs.Shutdown(sctx); serr != nil {
		// Only a request slower than any the server accepts is still
		// running (a client that never finishes its body is answered 408
		// before the grace ends): its connection is closed. The shutdown
		// itself went as asked, so it is no error of the run.
		s.log.Warn("requests still in flight when the shutdown grace ended; their connections were closed", "grace", grace.String())
		hs.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = serr
	}
	s.log.Debug("stopped")
	return err
}

// shutdownGrace is how long a shutdown waits for in-flight requests: the
// longest a request the server accepts can take, header fields
// (ReadHeaderTimeout), body (bodyReadTimeout) and the profile's injected
// latency, with ten seconds for the handler itself.
func (s *Server) shutdownGrace() time.Duration {
	if s.grace > 0 {
		return s.grace
	}
	f := s.prof.Faults
	added := f.Latency.D() + f.Jitter.D()
	if t := f.Timeout.D(); t > 0 {
		added = min(added, t)
	}
	return readHeaderTimeout + bodyReadTimeout + added + 10*time.Second
}
