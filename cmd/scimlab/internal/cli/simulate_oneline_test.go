package cli

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	server "github.com/scimlab/scimlab/reference-server"
)

// TestSimulateConfigErrorIsOneLine: a simulation whose first answer shows
// a mistake in the command (a refused token, a URL that serves no SCIM) or
// that gets no answer at all prints exactly one line, the error, and no
// progress before it; exit 2 (3 when nothing answers).
func TestSimulateConfigErrorIsOneLine(t *testing.T) {
	l := startReference(t, server.LocalOptions{Lenient: true})
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("<html>Not Found</html>"))
	}))
	defer web.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/scim/v2"
	ln.Close()
	for _, tc := range []struct {
		name   string
		args   []string
		code   ExitCode
		stderr string
	}{
		{"refused token", []string{"--target", l.BaseURL, "--token", "wrong-token"}, ExitUsage, "refused the credential"},
		{"no SCIM service", []string{"--target", web.URL + "/scim/v2", "--token", "t0ken"}, ExitUsage, "no SCIM service at"},
		{"nothing answers", []string{"--target", closed, "--token", "t0ken"}, ExitUnreachable, "target unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, append([]string{"simulate", "--users", "3", "--groups", "1"}, tc.args...)...)
			if code != tc.code || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "scimlab simulate: ") || !strings.Contains(errs, tc.stderr) {
				t.Fatalf("exit %d, want %d and one line holding %q\nstdout %q\nstderr %q", code, tc.code, tc.stderr, out, errs)
			}
		})
	}
}
