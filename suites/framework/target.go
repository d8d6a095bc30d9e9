package framework

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/brianvoe/gofakeit/v6"
	"go.yaml.in/yaml/v3"

	"github.com/scimlab/scimlab/internal/retry"
)

// Target is the SCIM service provider a run tests, as resolved in BeforeSuite.
type Target struct {
	// BaseURL is the SCIM base URL without a trailing slash.
	BaseURL string
	// Local is true when the target is the in-process reference server.
	Local   bool
	Profile string
	Lenient bool
	// Authorization is the Authorization header value sent on every request
	// ("Bearer …", "Basic …"), or empty when --header carries it.
	Authorization string
	// Scheme is "Bearer", "Basic" or "" (custom header).
	Scheme  string
	Headers map[string]string
	// Insecure skips TLS verification.
	Insecure bool
	// RunID names everything this run creates: "scimlab-<RunID>-…".
	RunID string
	Seed  int64
	Faker *gofakeit.Faker
	// Caps is what the target declares (or the fallback).
	Caps *Capabilities
	// Limits maps an attribute path to its maximum length.
	Limits map[string]int
	// LimitsSource says where Limits came from.
	LimitsSource     string
	ExpiredToken     string
	AllowDestructive bool
	RequestTimeout   time.Duration
	// Retry is how the run answers a throttled request (see Config.Retry).
	Retry retry.Policy

	httpClient *http.Client
	wrap       func(http.RoundTripper) http.RoundTripper
	stop       func() error
	counter    int
	mu         sync.Mutex
	// searchProbed and searchReason keep the answer of the search probe
	// (searchUnsupported) for the rest of the run.
	searchProbed bool
	searchReason string
}

// Prefix is what every name this run creates starts with.
func (t *Target) Prefix() string { return "scimlab-" + t.RunID + "-" }

// next returns a run-unique sequence number.
func (t *Target) next() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.counter++
	return t.counter
}

var (
	target   *Target
	setupErr error
	started  time.Time
)

// Current returns the target of the running suite. In a spec it fails the
// spec when the suite setup failed.
func Current() *Target {
	if target == nil {
		msg := "the suite has no target"
		if setupErr != nil {
			msg = "suite setup failed: " + setupErr.Error()
		}
		panic(msg)
	}
	return target
}

// SetupError returns why the suite setup failed, or nil.
func SetupError() error { return setupErr }

// setup resolves the configuration into a Target: validates it, starts the
// in-process server when no target is given, checks the target answers, and
// discovers its capabilities.
func setup(ctx context.Context, cfg Config) (*Target, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t := &Target{
		Headers:          cfg.Headers,
		Insecure:         cfg.Insecure,
		Seed:             seed,
		Faker:            gofakeit.New(seed),
		ExpiredToken:     cfg.ExpiredToken,
		AllowDestructive: cfg.AllowDestructive,
		RequestTimeout:   cfg.RequestTimeout,
		Retry:            cfg.Retry,
	}
	if t.RequestTimeout <= 0 {
		t.RequestTimeout = 30 * time.Second
	}
	t.RunID = strings.ToLower(t.Faker.Lexify("??????"))
	if cfg.Target == "" {
		local, err := cfg.Local(ctx, cfg.Profile, cfg.Lenient)
		if err != nil {
			return nil, fmt.Errorf("starting the in-process reference server: %w", err)
		}
		t.Local = true
		t.Profile = cfg.Profile
		if t.Profile == "" {
			t.Profile = "rfc"
		}
		t.Lenient = cfg.Lenient
		t.BaseURL = strings.TrimRight(local.BaseURL, "/")
		t.Authorization, t.Scheme = "Bearer "+local.Token, "Bearer"
		t.stop = local.Close
		if len(local.Limits) > 0 {
			t.Limits, t.LimitsSource = local.Limits, "profile "+t.Profile
		}
	} else {
		t.BaseURL = strings.TrimRight(cfg.Target, "/")
		switch {
		case cfg.Token != "":
			t.Authorization, t.Scheme = "Bearer "+cfg.Token, "Bearer"
		case cfg.Basic != "":
			t.Authorization, t.Scheme = "Basic "+base64.StdEncoding.EncodeToString([]byte(cfg.Basic)), "Basic"
		}
	}
	t.httpClient = t.newHTTPClient()
	if t.wrap = cfg.WrapTransport; t.wrap != nil {
		t.httpClient.Transport = t.wrap(t.httpClient.Transport)
	}
	if err := t.checkReachable(ctx); err != nil {
		t.close()
		return nil, err
	}
	caps, err := discover(ctx, t, cfg.CapabilitiesFile)
	if err != nil {
		t.close()
		return nil, err
	}
	t.Caps = caps
	if cfg.LimitsFile != "" {
		lim, err := LoadLimits(cfg.LimitsFile)
		if err != nil {
			t.close()
			return nil, err
		}
		t.Limits, t.LimitsSource = lim, cfg.LimitsFile
	}
	return t, nil
}

// checkReachable sends GET /Users?count=1 with the run's credential. A
// transport error is ErrUnreachable; a 401 or 403 means the credential is
// wrong, which is a configuration error: every check would fail for it.
func (t *Target) checkReachable(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.BaseURL+"/Users?count=1", nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	t.decorate(req)
	resp, err := t.httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w: GET %s/Users: %v", ErrUnreachable, t.BaseURL, err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return fmt.Errorf("%w: %s refused the credential (GET /Users?count=1 answered %d): check --token / --basic / --header", ErrConfig, t.BaseURL, resp.StatusCode)
	}
	return nil
}

// Transport returns a new transport for a spec that sends requests to the
// target through a client of its own: http.DefaultTransport's settings,
// without certificate verification under --insecure, wrapped as the run's
// own requests are (Config.WrapTransport), and retrying a throttled answer
// as they do (Retry). A client's Timeout covers those waits: give it
// Retry.Effective().MaxTotal more than one request needs.
func (t *Target) Transport() http.RoundTripper {
	tr := t.baseTransport()
	var rt http.RoundTripper = tr
	if t.wrap != nil {
		rt = t.wrap(tr)
	}
	return &retry.Transport{Next: rt, Policy: t.retryPolicy(), Observe: throttling.add}
}

// IdleConnTimeout is how long the suites keep an idle connection to the
// target: below the keep-alive timeouts of common servers (Node closes an
// idle connection after 5 s, nginx after 75 s), so that the suites drop a
// pooled connection before the server does instead of sending a request on
// one it is closing — which fails a POST with EOF, a request no client may
// replay by itself (RFC 9112 §9.3.1). http.DefaultTransport keeps one 90 s.
const IdleConnTimeout = 3 * time.Second

// newHTTPClient is the client every request of the run goes through, on one
// pool of connections: baseTransport's.
func (t *Target) newHTTPClient() *http.Client {
	return &http.Client{Timeout: t.RequestTimeout, Transport: t.baseTransport()}
}

// baseTransport is a new clone of http.DefaultTransport (proxy from the
// environment, dial and handshake timeouts, HTTP/2) that drops idle
// connections after IdleConnTimeout, without certificate verification under
// --insecure.
func (t *Target) baseTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.IdleConnTimeout = IdleConnTimeout
	if t.Insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for --insecure
	}
	return tr
}

// decorate adds the run's credential and headers to a request.
func (t *Target) decorate(req *http.Request) {
	if t.Authorization != "" {
		req.Header.Set("Authorization", t.Authorization)
	}
	for k, v := range t.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Accept", "application/scim+json")
	req.Header.Set("User-Agent", UserAgent)
}

func (t *Target) close() {
	if t.stop != nil {
		_ = t.stop()
		t.stop = nil
	}
}

// UserAgent is sent on every request except those imitating an IdP.
const UserAgent = "scimlab-suites/1"

// LoadLimits reads a YAML or JSON map of attribute path to maximum length,
// either flat ({"userName": 150}) or under a "limits" key.
func LoadLimits(path string) (map[string]int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: --limits: %v", ErrConfig, err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%w: --limits %s: %v", ErrConfig, path, err)
	}
	if inner, ok := raw["limits"].(map[string]any); ok {
		raw = inner
	}
	out := map[string]int{}
	for k, v := range raw {
		n, ok := v.(int)
		if !ok || n <= 0 {
			return nil, fmt.Errorf("%w: --limits %s: %q must map to a positive integer length, not %v", ErrConfig, path, k, v)
		}
		out[k] = n
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: --limits %s names no attribute", ErrConfig, path)
	}
	return out, nil
}
