package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"

	server "github.com/scimlab/scimlab/reference-server"
)

// cliChildEnv carries the JSON arguments of a scimlab run in a child process:
// the suites may run once per process (Ginkgo), so every test that runs them
// runs scimlab in a process of its own.
const cliChildEnv = "SCIMLAB_CLI_TEST_CHILD_ARGS"

// childArgs returns the arguments of a child run, when this process is one.
func childArgs() ([]string, bool) {
	raw := os.Getenv(cliChildEnv)
	if raw == "" {
		return nil, false
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		panic(err)
	}
	return args, true
}

// childCommand returns the command that runs scimlab with args in a child
// process (this test binary), its output going to the buffers.
func childCommand(t *testing.T, env []string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	raw, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), cliChildEnv+"="+string(raw), "NO_COLOR=1"), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	return cmd, &out, &errb
}

// exitCode returns the exit code of a finished child.
func exitCode(t *testing.T, err error) ExitCode {
	t.Helper()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &exit):
		return ExitCode(exit.ExitCode())
	}
	t.Fatal(err)
	return 0
}

// runChild runs scimlab with args in a child process and returns its exit
// code and output.
func runChild(t *testing.T, env []string, args ...string) (ExitCode, string, string) {
	t.Helper()
	cmd, out, errb := childCommand(t, env, args...)
	code := exitCode(t, cmd.Run())
	return code, out.String(), errb.String()
}

// startReference starts an in-process reference server for one test.
func startReference(t *testing.T, opt server.LocalOptions) *server.Local {
	t.Helper()
	if opt.DataDSN == "" {
		opt.DataDSN = ":memory:"
	}
	l, err := server.StartLocal(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// closedAddr returns a loopback host:port that nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// getJSON GETs path below the reference server l's base URL with its token
// and decodes the JSON answer into v.
func getJSON(t *testing.T, l *server.Local, path string, v any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, l.BaseURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+l.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// credentialProxy is a SCIM target that takes any credential: it forwards
// every request to a lenient in-process reference server with that server's
// own token. It returns the proxy's SCIM base URL. hook, when set, is told
// the number of each request (from 1) before it is forwarded.
func credentialProxy(t *testing.T, hook func(n int64)) string {
	t.Helper()
	var h func(int64, http.ResponseWriter, *http.Request) bool
	if hook != nil {
		h = func(n int64, _ http.ResponseWriter, _ *http.Request) bool { hook(n); return false }
	}
	return proxyFor(t, startReference(t, server.LocalOptions{Lenient: true}), h)
}

// proxyFor is credentialProxy in front of the reference server l; hook,
// when set, is given each request and its number before it is forwarded,
// and forwards nothing when it answered the request itself (handled).
func proxyFor(t *testing.T, l *server.Local, hook func(n int64, w http.ResponseWriter, r *http.Request) (handled bool)) string {
	t.Helper()
	up, err := url.Parse(l.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: up.Scheme, Host: up.Host})
	rp.ErrorLog = log.New(io.Discard, "", 0) // a request a test cancels is no news
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hook != nil && hook(n.Add(1), w, r) {
			return
		}
		r.Header.Set("Authorization", "Bearer "+l.Token)
		r.Header.Del("Cookie")
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + up.Path
}
