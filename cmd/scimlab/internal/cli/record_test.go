package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimlab/scimlab/simulator/transcript"
)

// TestRecordChecksTheHARPathAtStart: a --har that cannot be written is exit
// 2 before the proxy listens, not after a whole session; a good one is
// created at start and holds HAR 1.2 when recording stops.
func TestRecordChecksTheHARPathAtStart(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "session.jsonl")
	stopped, cancel := context.WithCancel(context.Background())
	cancel() // Ctrl-C at once: record stops as soon as it listens
	record := func(args ...string) (ExitCode, string) {
		var stdout, stderr bytes.Buffer
		code := run(stopped, append([]string{"record", "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:1/scim/v2", "--out", out}, args...), &stdout, &stderr)
		return code, stderr.String()
	}

	for _, bad := range []string{filepath.Join(dir, "no-such-dir", "x.har"), out} {
		code, errs := record("--har", bad)
		if code != ExitUsage || strings.Count(errs, "\n") != 1 || strings.Contains(errs, "proxying") {
			t.Errorf("--har %s: exit %d, want 2 and one line before the proxy starts: %q", bad, code, errs)
		}
	}

	har := filepath.Join(dir, "session.har")
	if code, errs := record("--har", har); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(har)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Log struct {
			Version string `json:"version"`
		} `json:"log"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || doc.Log.Version != "1.2" {
		t.Fatalf("HAR %s: %v", b, err)
	}
}

// TestRecordAnswersItsOwnHealthz: the walkthrough polls /healthz on the
// record proxy; the recorder answers it (200) without forwarding it or
// writing it to the transcript.
func TestRecordAnswersItsOwnHealthz(t *testing.T) {
	var upstreamHits atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upstreamHits.Add(1)
		w.WriteHeader(http.StatusNotFound)
	}))
	defer up.Close()
	out := filepath.Join(t.TempDir(), "session.jsonl")
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan ExitCode, 1)
	const listen = "127.0.0.1:18361"
	go func() {
		code := run(ctx, []string{"record", "--listen", listen, "--upstream", up.URL + "/scim/v2", "--out", out}, io.Discard, io.Discard)
		done <- code
	}()
	var status int
	for range 200 {
		resp, err := http.Get("http://" + listen + "/healthz")
		if err == nil {
			status = resp.StatusCode
			resp.Body.Close()
			break
		}
		select {
		case code := <-done:
			t.Fatalf("record ended with %d before it answered", code)
		default:
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if code := <-done; code != ExitOK {
		t.Fatalf("record: exit %d", code)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusOK || upstreamHits.Load() != 0 || len(b) != 0 {
		t.Errorf("/healthz answered %d; the upstream saw %d requests; the transcript holds %q", status, upstreamHits.Load(), b)
	}
}

// recording is a `scimlab record` running in the background.
type recording struct {
	addr string // the address it proxies on, from its "proxying" line
	stop context.CancelFunc
	done chan ExitCode
	errs chan string // all of stderr, once it has ended
}

// startRecording runs record with args and waits until it proxies.
func startRecording(t *testing.T, args ...string) *recording {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	r := &recording{stop: stop, done: make(chan ExitCode, 1), errs: make(chan string, 1)}
	pr, pw := io.Pipe()
	go func() {
		code := run(ctx, append([]string{"record"}, args...), io.Discard, pw)
		pw.Close()
		r.done <- code
	}()
	lines := bufio.NewScanner(pr)
	var seen strings.Builder
	for lines.Scan() {
		seen.WriteString(lines.Text() + "\n")
		if rest, ok := strings.CutPrefix(lines.Text(), "scimlab record: proxying http://"); ok {
			r.addr, _, _ = strings.Cut(rest, " ")
			break
		}
	}
	go func() {
		rest, _ := io.ReadAll(pr)
		r.errs <- seen.String() + string(rest)
	}()
	if r.addr == "" {
		stop()
		t.Fatalf("record did not start: exit %d\n%s", <-r.done, <-r.errs)
	}
	t.Cleanup(stop)
	return r
}

// end stops the recording (Ctrl-C) and returns its exit code and stderr.
func (r *recording) end() (ExitCode, string) {
	r.stop()
	return <-r.done, <-r.errs
}

// TestRecordThatCannotStartLeavesOutAlone: a record that fails to start
// (its address taken, a port out of range, a --har it cannot create, an
// upstream that is not a URL) exits 2 with one line, and leaves an existing
// --out byte for byte as it was, or creates none.
func TestRecordThatCannotStartLeavesOutAlone(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	const previous = `{"seq":1,"method":"GET","path":"/Users","status":200}` + "\n"
	good := []string{"--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:1/scim/v2"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"address in use", []string{"--listen", taken.Addr().String()}, "address already in use"},
		{"port out of range", []string{"--listen", "127.0.0.1:99999"}, "invalid port"},
		{"har in a missing directory", []string{"--har", filepath.Join(dir, "no-such-dir", "s.har")}, "--har: "},
		{"upstream not a URL", []string{"--upstream", "ftp://127.0.0.1/scim/v2"}, "is not an http(s) URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "kept.jsonl")
			if err := os.WriteFile(out, []byte(previous), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append(append([]string{"record", "--out", out}, good...), tc.args...)
			code, stdout, errs := runCLI(t, args...)
			if code != ExitUsage || stdout != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, want 2 and one line holding %q\nstdout %q\nstderr %q", code, tc.want, stdout, errs)
			}
			if b, err := os.ReadFile(out); err != nil || string(b) != previous {
				t.Errorf("the previous recording is now %q (%v)", b, err)
			}
			fresh := filepath.Join(dir, "fresh.jsonl")
			args = append(append([]string{"record", "--out", fresh}, good...), tc.args...)
			if code, _, errs := runCLI(t, args...); code != ExitUsage {
				t.Fatalf("new --out: exit %d: %s", code, errs)
			}
			if _, err := os.Stat(fresh); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a record that did not start left %s behind (%v)", fresh, err)
			}
		})
	}
}

// TestRecordRefusesTheFilesAnotherRecorderWrites: a second record started
// while a first is running, on another address but with the same --out or
// --har, is exit 2 without touching them, and the first records on; on the
// first's own address it is exit 2 too.
func TestRecordRefusesTheFilesAnotherRecorderWrites(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}`)
	}))
	defer up.Close()
	dir := t.TempDir()
	out, har := filepath.Join(dir, "first.jsonl"), filepath.Join(dir, "first.har")
	first := startRecording(t, "--listen", "127.0.0.1:0", "--upstream", up.URL+"/scim/v2", "--out", out, "--har", har)
	get := func(path string) {
		resp, err := http.Get("http://" + first.addr + "/scim/v2" + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	get("/Users?count=1")
	written, err := os.ReadFile(out)
	if err != nil || strings.Count(string(written), "\n") != 1 {
		t.Fatalf("the first recording holds %q (%v)", written, err)
	}

	other := filepath.Join(dir, "other.jsonl")
	// Stopped at once should it start after all: then it ends, exit 0.
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"same --out", []string{"--listen", "127.0.0.1:0", "--out", out}, "--out: " + out + ": another scimlab record is writing it"},
		{"same --har", []string{"--listen", "127.0.0.1:0", "--out", other, "--har", har}, "--har: " + har + ": another scimlab record is writing it"},
		{"same address", []string{"--listen", first.addr, "--out", out}, "address already in use"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, errs := runCLIContext(stopped, append([]string{"record", "--upstream", up.URL + "/scim/v2"}, tc.args...)...)
			if code != ExitUsage || stdout != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, want 2 and one line holding %q\nstderr %q", code, tc.want, errs)
			}
			if b, _ := os.ReadFile(out); string(b) != string(written) {
				t.Errorf("the first recording changed: %q", b)
			}
			if _, err := os.Stat(other); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the refused record left %s behind", other)
			}
		})
	}

	get("/Groups?count=1")
	if code, errs := first.end(); code != ExitOK {
		t.Fatalf("the first record: exit %d\n%s", code, errs)
	}
	xs, err := transcript.Load(out)
	if err != nil || len(xs) != 2 || xs[0].Path != "/Users" || xs[1].Path != "/Groups" {
		t.Errorf("the first recording: %v, %+v", err, xs)
	}
	var doc struct {
		Log struct {
			Entries []json.RawMessage `json:"entries"`
		} `json:"log"`
	}
	if b, err := os.ReadFile(har); err != nil || json.Unmarshal(b, &doc) != nil || len(doc.Log.Entries) != 2 {
		t.Errorf("the first HAR: %v, %d entries", err, len(doc.Log.Entries))
	}
}

// TestRecordNeverShowsTheUpstreamsPassword: a password in --upstream's
// userinfo is in neither the terminal output nor the HAR nor the
// transcript.
func TestRecordNeverShowsTheUpstreamsPassword(t *testing.T) {
	const password = "Sup3rSecret-upstream"
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}`)
	}))
	defer up.Close()
	upstream := strings.Replace(up.URL, "http://", "http://svc:"+password+"@", 1) + "/scim/v2"
	dir := t.TempDir()
	out, har := filepath.Join(dir, "s.jsonl"), filepath.Join(dir, "s.har")
	r := startRecording(t, "--listen", "127.0.0.1:0", "--upstream", upstream, "--out", out, "--har", har)
	resp, err := http.Get("http://" + r.addr + "/scim/v2/Users?count=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	code, errs := r.end()
	if code != ExitOK || !strings.Contains(errs, "-> http://REDACTED@127.0.0.1:") {
		t.Fatalf("exit %d, want 0 and the upstream redacted\n%s", code, errs)
	}
	b, err := os.ReadFile(har)
	if err != nil || !strings.Contains(string(b), `"url": "http://REDACTED@127.0.0.1:`) {
		t.Errorf("the HAR's URLs are not the upstream's, redacted (%v):\n%s", err, b)
	}
	for name, text := range map[string]string{"stderr": errs, "HAR": string(b), "transcript": readFile(t, out)} {
		if strings.Contains(text, password) {
			t.Errorf("the %s shows the upstream's password:\n%s", name, text)
		}
	}
	_, stdout, errs := runCLI(t, "record", "--listen", "127.0.0.1:0", "--upstream", "ftp://svc:"+password+"@127.0.0.1/scim/v2", "--out", out)
	if strings.Contains(stdout+errs, password) || !strings.Contains(errs, "REDACTED") {
		t.Errorf("a bad --upstream is shown with its password: %q", errs)
	}
}
