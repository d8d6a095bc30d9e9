// Package framework is what the conformance specs stand on: the target
// configuration (resolved in BeforeSuite, never at package init), an HTTP
// client that records every exchange as evidence, capability discovery and
// gating, matchers for SCIM responses, helpers that create resources and
// remove them with DeferCleanup, the check registry, and the conversion of
// Ginkgo's report into a reports.Run.
package framework

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/scimlab/scimlab/internal/retry"
	"github.com/scimlab/scimlab/reports"
)

// Sentinel errors that the CLI maps to exit codes.
var (
	// ErrConfig wraps every configuration or usage error.
	ErrConfig = errors.New("configuration error")
	// ErrUnreachable wraps every failure to reach the target.
	ErrUnreachable = errors.New("target unreachable")
	// ErrThrottled wraps a discovery request the target was still
	// throttling after the retries: it answers, so it is reachable, but
	// what it declares could not be read, so no check can run.
	ErrThrottled = errors.New("the target throttled discovery")
)

// Environment variables read when a field is not set otherwise.
const (
	EnvBaseURL = "SCIM_BASE_URL"
	EnvToken   = "SCIM_TOKEN"
	EnvBasic   = "SCIM_BASIC" // user:password
)

// Config is everything a run needs to know about its target. The zero value
// runs against an in-process reference server (Local must then be set).
type Config struct {
	// Target is the SCIM base URL (e.g. https://host/scim/v2); empty starts
	// the in-process reference server through Local.
	Target string
	// Token is a bearer token; Basic is "user:password". At most one is set.
	Token string
	Basic string
	// Headers are extra request headers ("X-Tenant": "a").
	Headers map[string]string
	// Insecure skips TLS certificate verification.
	Insecure bool
	// CapabilitiesFile is a JSON ServiceProviderConfig used instead of the
	// target's own /ServiceProviderConfig.
	CapabilitiesFile string
	// LimitsFile is a YAML or JSON map of attribute path to maximum length.
	LimitsFile string
	// ExpiredToken is a bearer token known to be expired, for the auth checks.
	ExpiredToken string
	// AllowDestructive lets checks touch data the run did not create.
	AllowDestructive bool
	// Profile and Lenient configure the in-process reference server.
	Profile string
	Lenient bool
	// ReportDir, when set, receives the reports (absolute path recommended).
	ReportDir string
	// BaselineFile turns known failures into waived checks.
	BaselineFile string
	// Seed seeds the fake data and the run id (0: derived from the clock).
	Seed int64
	// Verbose attaches the evidence of passing checks to the report too.
	Verbose bool
	// RequestTimeout bounds each HTTP request (0: 30s).
	RequestTimeout time.Duration
	// Retry bounds how the run retries a request the target throttles (429,
	// or 503 with Retry-After); unset fields take retry.Default's values.
	Retry retry.Policy
	// Local starts the in-process reference server when Target is empty.
	Local LocalStarter
	// Command is the command line recorded in the report (redacted there).
	Command string
	// LabelFilter is recorded in the report notes.
	LabelFilter string
	// WrapTransport, when set, wraps the transport of every request the run
	// sends to the target (the CLI watches it for transport failures).
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// LocalStarter starts an in-process SCIM server and returns how to reach it.
type LocalStarter func(ctx context.Context, profile string, lenient bool) (*LocalServer, error)

// LocalServer is a running in-process server.
type LocalServer struct {
	BaseURL string
	Token   string
	Close   func() error
	// Limits are the attribute length limits of the server's profile, used
	// by the limits checks when no --limits file is given.
	Limits map[string]int
}

// WithEnv returns c with Target, Token and Basic filled from SCIM_BASE_URL,
// SCIM_TOKEN and SCIM_BASIC where they are empty. The credentials from the
// environment are used only when the target is too, so that a stray
// SCIM_TOKEN never goes to the in-process server.
func (c Config) WithEnv() Config {
	if c.Target == "" {
		c.Target = strings.TrimSpace(os.Getenv(EnvBaseURL))
	}
	if c.Target != "" && c.Token == "" && c.Basic == "" {
		c.Token = strings.TrimSpace(os.Getenv(EnvToken))
		if c.Token == "" {
			c.Basic = os.Getenv(EnvBasic)
		}
	}
	return c
}

// Validate checks the configuration and says what to change. Every error
// wraps ErrConfig.
func (c Config) Validate() error {
	var problems []string
	if c.Target == "" {
		if c.Local == nil {
			problems = append(problems, "no target: pass --target URL (or set "+EnvBaseURL+")")
		}
		if c.Token != "" || c.Basic != "" {
			problems = append(problems, "--token/--basic given without --target: the in-process server issues its own token")
		}
	} else {
		// Every message shows the URL with its userinfo and secret query
		// parameters redacted: an error must not print a password.
		target := reports.RedactURL(c.Target)
		u, err := url.Parse(c.Target)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("--target %q is not a URL: %v", target, parseReason(err)))
		case u.Scheme != "http" && u.Scheme != "https":
			problems = append(problems, fmt.Sprintf("--target %q must start with http:// or https://", target))
		case u.Host == "":
			problems = append(problems, fmt.Sprintf("--target %q has no host", target))
		case u.RawQuery != "" || u.Fragment != "":
			problems = append(problems, fmt.Sprintf("--target %q must not have a query string or fragment: give the SCIM base URL only", target))
		case u.User != nil:
			problems = append(problems, "--target must not carry credentials: use --token or --basic")
		}
		if c.Token != "" && c.Basic != "" {
			problems = append(problems, "give either --token or --basic, not both")
		}
		if c.Basic != "" && !strings.Contains(c.Basic, ":") {
			problems = append(problems, "--basic must be user:password")
		}
		if c.Token == "" && c.Basic == "" && !hasHeader(c.Headers, "Authorization") {
			problems = append(problems, "no credential for "+target+": pass --token (or "+EnvToken+"), --basic user:password (or "+EnvBasic+"), or --header 'Authorization: …'")
		}
	}
	for k, v := range c.Headers {
		if k == "" || strings.ContainsAny(k, " :\r\n") || strings.ContainsAny(v, "\r\n") {
			problems = append(problems, fmt.Sprintf("--header %q: want 'Name: value'", k+": "+v))
		}
	}
	for _, f := range []struct{ flag, path string }{{"--capabilities", c.CapabilitiesFile}, {"--limits", c.LimitsFile}, {"--baseline", c.BaselineFile}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			problems = append(problems, fmt.Sprintf("%s %s: %v", f.flag, f.path, err))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrConfig, strings.Join(problems, "; "))
	}
	return nil
}

// parseReason is why url.Parse refused a URL, without the URL, which may
// carry a password.
func parseReason(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// ParseHeader splits "Name: value" as given to --header.
func ParseHeader(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, ":")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		return "", "", fmt.Errorf("%w: --header %q: want 'Name: value'", ErrConfig, s)
	}
	return name, value, nil
}

func hasHeader(h map[string]string, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// current is the configuration the next run uses; set by Configure.
var current Config

// Configure sets the configuration the suite runs with. Call it before
// RunSpecs; BeforeSuite reads it.
func Configure(c Config) { current = c }

// CurrentConfig returns the configuration set by Configure.
func CurrentConfig() Config { return current }
