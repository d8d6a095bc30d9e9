package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/scimlab/scimlab/simulator/recorder"
	"github.com/scimlab/scimlab/simulator/transcript"
)

func init() {
	register(command{name: "record", summary: "record real provisioning traffic through a proxy", run: runRecord})
}

func runRecord(ctx context.Context, e *env, args []string) ExitCode {
	fs := newFlags("record", "--listen 127.0.0.1:9000 --upstream URL --out session.jsonl [--har FILE]", e)
	listen := fs.String("listen", "127.0.0.1:9000", "address the IdP is pointed at (loopback unless --public)")
	upstream := fs.String("upstream", "", "the real SCIM target's base URL (required)")
	out := fs.String("out", "session.jsonl", "transcript file to write (JSON lines, secrets redacted)")
	har := fs.String("har", "", "also write HAR 1.2 to this file when recording stops (created at start)")
	public := fs.Bool("public", false, "allow a non-loopback --listen address")
	if code, stop := parse(fs, args, e); stop {
		return code
	}
	if fs.NArg() > 0 {
		return fail(e, "record", usagef("unexpected argument %q", fs.Arg(0)), ExitUsage)
	}
	if *upstream == "" {
		return fail(e, "record", usagef("--upstream is required"), ExitUsage)
	}
	if err := checkLoopback(*listen, *public); err != nil {
		return fail(e, "record", err, ExitUsage)
	}
	if *har != "" && samePath(*har, *out) {
		return fail(e, "record", usagef("--har and --out name the same file, %s", *out), ExitUsage)
	}
	if _, err := recorder.ParseUpstream(*upstream); err != nil {
		return fail(e, "record", err, ExitUsage)
	}
	// Every step that can fail comes before --out is touched, so that a
	// recorder that cannot start (its address taken, by another recorder
	// perhaps; a --har it cannot write) leaves a previous recording as it
	// was. Claiming a file changes nothing in it, and keeps a second
	// recorder from writing the file while this one does.
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fail(e, "record", err, ExitUsage)
	}
	defer ln.Close()
	// The HAR is written when recording stops; its file is claimed now, so
	// that a path that cannot be written is an error before the session,
	// not after it.
	var harOut *recorder.Output
	if *har != "" {
		if harOut, err = recorder.Claim(*har); err != nil {
			return fail(e, "record", usagef("--har: %v", err), ExitUsage)
		}
	}
	outFile, err := recorder.Claim(*out)
	if err != nil {
		harOut.Release()
		return fail(e, "record", usagef("--out: %v", err), ExitUsage)
	}
	rec, err := recorder.New(*upstream, outFile.File(), recorder.Options{KeepExchanges: *har != ""})
	if err != nil {
		harOut.Release()
		outFile.Release()
		return fail(e, "record", err, ExitUsage)
	}
	// Recording starts: the files are emptied.
	if st, err := outFile.File().Stat(); err == nil && st.Mode().IsRegular() && st.Size() > 0 {
		fmt.Fprintf(e.stderr, "scimlab record: %s exists (%d bytes); recording replaces it\n", *out, st.Size())
	}
	for _, o := range []*recorder.Output{outFile, harOut} {
		if o == nil {
			continue
		}
		defer o.Close()
		if err := o.Begin(); err != nil {
			return fail(e, "record", fmt.Errorf("%s: %w", o.File().Name(), err), ExitUsage)
		}
	}
	srv := &http.Server{Handler: rec, ReadHeaderTimeout: 30 * time.Second}
	fmt.Fprintf(e.stderr, "scimlab record: proxying http://%s -> %s, writing %s (Ctrl-C to stop)\n", ln.Addr(), rec.Upstream(), *out)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fail(e, "record", err, ExitUsage)
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if err := rec.Err(); err != nil {
		return fail(e, "record", fmt.Errorf("writing %s: %w", *out, err), ExitUsage)
	}
	if harOut != nil {
		var buf bytes.Buffer
		v, _ := Version()
		if err := transcript.WriteHAR(&buf, *upstream, v, rec.Exchanges()); err != nil {
			return fail(e, "record", err, ExitUsage)
		}
		if _, err := harOut.File().Write(buf.Bytes()); err != nil {
			return fail(e, "record", fmt.Errorf("writing %s: %w", *har, err), ExitUsage)
		}
		if err := harOut.Close(); err != nil {
			return fail(e, "record", fmt.Errorf("writing %s: %w", *har, err), ExitUsage)
		}
	}
	fmt.Fprintf(e.stderr, "scimlab record: %d exchanges written to %s\n", rec.Count(), *out)
	return ExitOK
}

// samePath reports whether a and b name the same file.
func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	if err1 == nil && err2 == nil && aa == bb {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}
