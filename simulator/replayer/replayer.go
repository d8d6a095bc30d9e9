// Package replayer sends a recorded transcript to a SCIM target, mapping the
// ids the original target returned onto the ids the new target returns, and
// judges each exchange by what the original showed the IdP needed: the same
// status class and, for successes, the same shape. It also shrinks a
// transcript to a minimal one that still shows a failure (delta debugging).
package replayer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/recorder"
	"github.com/scimlab/scimlab/simulator/transcript"
)

// ErrUnreachable wraps a failure to reach the target at all (CLI exit 3).
var ErrUnreachable = errors.New("target unreachable")

// ErrCredential wraps a target's refusal (401 or 403) of the first exchange
// when the recording shows no such refusal: the token is wrong, and every
// exchange would fail for it (CLI exit 2).
var ErrCredential = errors.New("the target refused the credential")

// Target is where a transcript is replayed. The recorded credentials are
// redacted and never sent: Token, Basic and Headers supply the target's.
type Target struct {
	BaseURL string // SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2
	Token   string // bearer token; replaces the recorded (redacted) Authorization
	Basic   string // "user:password" for basic auth, instead of Token
	Headers map[string]string
	// Client sends the replayed requests. Its transport must not add
	// headers of its own: an *http.Transport (or a nil Transport) is used
	// with DisableCompression set (see plainClient), so that Go does not
	// ask for gzip where the recording did not; a transport of another
	// type that wraps one must set it itself.
	Client *http.Client
}

// OwnUserAgent is the User-Agent of a request the replayer sends of its
// own, not one of the recording's (op: "preflight", "read-back", …), so
// that the target's log, or a recorder in front of it, never takes it for
// the IdP's.
func OwnUserAgent(op string) string { return "scimlab-replay/" + op }

// plainTransport is http.DefaultTransport without its own compression: Go
// would otherwise send Accept-Encoding: gzip with every request whose
// recording has none, and decode the answer behind the replay's back.
var plainTransport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableCompression = true
	return t
}()

// plainClient returns c (a new client when nil) whose transport sends
// only the headers a request carries: an *http.Transport with compression
// is replaced by a copy without it.
func plainClient(c *http.Client) *http.Client {
	if c == nil {
		return &http.Client{Timeout: 60 * time.Second, Transport: plainTransport}
	}
	switch tr := c.Transport.(type) {
	case nil:
		cc := *c
		cc.Transport = plainTransport
		return &cc
	case *http.Transport:
		if !tr.DisableCompression {
			cc := *c
			t := tr.Clone()
			t.DisableCompression = true
			cc.Transport = t
			return &cc
		}
	}
	return c
}

// Result is one replayed exchange and its judgement.
type Result struct {
	Original transcript.Exchange
	// Sent is the exchange as replayed: the request as sent to the new
	// target, and the target's response, with the time the request took
	// (LatencyMs). When the request got no response (Status 0), Sent has no
	// response headers or body: the recorded ones stay in Original only.
	Sent    transcript.Exchange
	Verdict reports.Verdict
	// Unsent is true when the request never went out: an earlier exchange
	// left it nothing to map an id to (BlockedBy), the recorded request
	// could not be built, or the client's transport refused it without
	// asking for a connection (once the CLI takes the target as gone).
	Unsent bool
	Reason string
	// Missing lists top-level attributes the original response had and the new one lacks.
	Missing []string
	// BlockedBy is the sequence number of the exchange whose failure left
	// this one unsent (see Replay), or 0.
	BlockedBy int
}

// CheckID is the stable check ID of the exchange with sequence number seq.
func CheckID(seq int) string { return fmt.Sprintf("RPL-%04d", seq) }

// Replay sends xs in order to t and judges each exchange. An exchange that
// uses an id which an earlier exchange created in the recording, where that
// exchange did not pass here (so the id has no counterpart on t), is not
// sent: its verdict is error, naming that exchange, since what it would show
// is the earlier failure again, not a failure of its own.
//
// An exchange the recorder answered itself, because the recorded target
// gave no answer (see NoUpstreamAnswer), is not sent either: the recorded
// target never acted on it, so sending it would change what the later
// exchanges find, and there is no target's answer to judge this one's by.
// Its verdict is skipped, with the reason.
func Replay(ctx context.Context, t Target, xs []transcript.Exchange) ([]Result, error) {
	c := plainClient(t.Client)
	ids := newIDMap()
	lost := lostIDs{}
	out := make([]Result, 0, len(xs))
	first := true // no exchange has been sent yet
	for _, x := range xs {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if why, ok := recorder.NoUpstreamAnswer(x); ok {
			out = append(out, Result{Original: x, Verdict: reports.Skipped, Unsent: true, Reason: "not sent: " + why})
			continue
		}
		if id, cause, ok := lost.usedBy(x, ids); ok {
			out = append(out, Result{Original: x, Verdict: reports.Error, Unsent: true, BlockedBy: cause.seq, Reason: "not sent: it " + cause.uses(id)})
			lost.created(x, ids, cause)
			continue
		}
		sent, went, err := send(ctx, c, t, ids.apply(x))
		wasFirst := first
		first = first && !went
		if err != nil {
			if wasFirst && isUnreachable(err) {
				return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
			}
			out = append(out, Result{Original: x, Sent: sent, Verdict: reports.Error, Unsent: !went, Reason: err.Error()})
			lost.created(x, ids, blocker{seq: x.Seq, title: x.Title(), why: CheckID(x.Seq) + " could not be replayed"})
			continue
		}
		if wasFirst && refused(x, sent) {
			return nil, fmt.Errorf("%w: %s answered %d to %s, which the recording shows answered %d: check --token / --header%s", ErrCredential, reports.RedactURL(t.BaseURL), sent.Status, x.Title(), x.Status, unsuppliedCredentials(x, t))
		}
		ids.learn(x, sent)
		r := judge(x, sent)
		if r.Verdict == reports.Pass && x.Expect != nil && len(x.Expect.Attributes) > 0 {
			checkAttributes(ctx, c, t, &r, ids)
		}
		why := fmt.Sprintf("%s did not pass here", CheckID(x.Seq))
		if r.Verdict == reports.Pass {
			why = fmt.Sprintf("%s gave no id here to map it to", CheckID(x.Seq))
		}
		lost.created(x, ids, blocker{seq: x.Seq, title: x.Title(), why: why})
		out = append(out, r)
	}
	return out, nil
}

// blocker is an exchange whose replay left the ids it created in the
// recording without a counterpart on the target.
type blocker struct {
	seq   int
	title string
	why   string // "RPL-0018 did not pass here"
}

// uses says why an exchange that uses id is not sent.
func (b blocker) uses(id string) string {
	return fmt.Sprintf("uses id %s, which %s (%s) created in the recording; %s, so this target has nothing to map it to", id, CheckID(b.seq), b.title, b.why)
}

// lostIDs maps ids the recording's creates returned, and the replay could
// not pair with an id of the target, to the exchange to blame.
type lostIDs map[string]blocker

// created notes the ids that x created in the recording (a POST answered
// 2xx: the id in its body and its Location) which the replay has not paired:
// they are lost, and b is why.
func (l lostIDs) created(x transcript.Exchange, ids *idMap, b blocker) {
	if x.Method != http.MethodPost || x.Status/100 != 2 || strings.HasSuffix(x.Path, "/.search") {
		return
	}
	var found []string
	if o := decodeObject(x.ResponseBody); o != nil {
		if id, _ := o["id"].(string); id != "" {
			found = append(found, id)
		}
	}
	if loc := http.Header(x.ResponseHeaders).Get("Location"); loc != "" {
		found = append(found, lastSegment(loc))
	}
	for _, id := range found {
		if _, paired := ids.m[id]; !paired {
			l[id] = b
		}
	}
}

// usedBy returns a lost id that x's request uses (in its path, query or
// body), and the exchange to blame, earliest first.
func (l lostIDs) usedBy(x transcript.Exchange, ids *idMap) (string, blocker, bool) {
	if len(l) == 0 {
		return "", blocker{}, false
	}
	where := []string{x.Path, x.Query}
	if q, err := url.QueryUnescape(x.Query); err == nil {
		where = append(where, q)
	}
	if x.RequestText() {
		where = append(where, x.RequestBody)
	}
	var best string
	for id, b := range l {
		if _, paired := ids.m[id]; paired {
			continue // a later list paired it after all
		}
		for _, s := range where {
			if containsID(s, id) && (best == "" || b.seq < l[best].seq || b.seq == l[best].seq && id < best) {
				best = id
			}
		}
	}
	if best == "" {
		return "", blocker{}, false
	}
	return best, l[best], true
}

// containsID reports whether id occurs in s as a whole token: not inside a
// longer run of letters, digits, '-' or '_'.
func containsID(s, id string) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], id)
		if i < 0 {
			return false
		}
		start, end := off+i, off+i+len(id)
		if (start == 0 || !idByte(s[start-1])) && (end == len(s) || !idByte(s[end])) {
			return true
		}
		off = start + 1
	}
}

func idByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_'
}

// dropOnReplay reports whether a recorded request header is left out of a
// replay: those the transport writes from the request itself (length, host,
// connection, framing), and every credential: a header whose name
// reports.CredentialHeader matches, or whose recorded value was redacted.
// The target's credentials come from Target. Every other header, Accept-
// Encoding and User-Agent included, is sent as recorded.
func dropOnReplay(name string, values []string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Content-Length", "Host", "Connection", "Transfer-Encoding":
		return true
	}
	if reports.CredentialHeader(name) {
		return true
	}
	for _, v := range values {
		if strings.Contains(v, reports.Mask) {
			return true
		}
	}
	return false
}

// unsuppliedCredentials names the recorded credential headers of x that the
// replay left out and t does not supply, as a hint for a refusal.
func unsuppliedCredentials(x transcript.Exchange, t Target) string {
	var names []string
	for k, vs := range x.RequestHeaders {
		if !dropOnReplay(k, vs) || !reports.CredentialHeader(k) && !redactedValue(vs) {
			continue
		}
		if strings.EqualFold(k, "Authorization") && (t.Token != "" || t.Basic != "") {
			continue
		}
		supplied := false
		for h := range t.Headers {
			supplied = supplied || strings.EqualFold(h, k)
		}
		if !supplied {
			names = append(names, http.CanonicalHeaderKey(k))
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	if len(names) == 1 {
		return fmt.Sprintf(" (the recording's %s header was redacted and is not replayed: pass it with --header)", names[0])
	}
	return fmt.Sprintf(" (the recording's %s headers were redacted and are not replayed: pass the target's with --header)", strings.Join(names, ", "))
}

func redactedValue(vs []string) bool {
	for _, v := range vs {
		if strings.Contains(v, reports.Mask) {
			return true
		}
	}
	return false
}

// refused reports whether the target answered orig with 401 or 403 where the
// recording (or the exchange's expectation) shows no refusal.
func refused(orig, got transcript.Exchange) bool {
	if got.Status != http.StatusUnauthorized && got.Status != http.StatusForbidden || orig.Status == got.Status {
		return false
	}
	if orig.Expect != nil {
		for _, s := range orig.Expect.Status {
			if s == got.Status {
				return false
			}
		}
	}
	return true
}

func isUnreachable(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &oe) || (errors.As(err, &ne) && ne.Timeout())
}

// send sends x (a recorded exchange, its ids already mapped) to t and
// returns it as replayed: the request as sent, and the target's response
// with the time it took. went is false when the request never went out (it
// could not be built, or the transport refused it without asking for a
// connection). On an error the returned exchange holds what the target did
// send, never the recorded response: no status, headers or body when it
// gave no answer, and the time the request waited.
func send(ctx context.Context, c *http.Client, t Target, x transcript.Exchange) (sent transcript.Exchange, went bool, err error) {
	sent = unanswered(x, time.Now())
	u := strings.TrimRight(t.BaseURL, "/") + x.Target()
	var body io.Reader
	if x.RequestBody != "" {
		b, err := x.WireRequestBody()
		if err != nil {
			return sent, false, fmt.Errorf("the recorded body of %s: %v", x.Title(), err)
		}
		body = bytes.NewReader(b)
	}
	// The transport asks for a connection (GetConn) before anything goes
	// on the wire; a transport that fails without asking sent nothing.
	var dialled atomic.Bool
	trace := &httptrace.ClientTrace{GetConn: func(string) { dialled.Store(true) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), x.Method, u, body)
	if err != nil {
		return sent, false, fmt.Errorf("building %s: %v", x.Title(), err)
	}
	for k, vs := range x.RequestHeaders {
		if dropOnReplay(k, vs) {
			continue
		}
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if len(x.RequestHeaders) == 0 && x.RequestBody != "" {
		// A transcript written by hand, with no headers at all; a recorded
		// request is sent with the headers it had, and no others.
		req.Header.Set("Content-Type", "application/scim+json")
	}
	if _, ok := req.Header["User-Agent"]; !ok {
		// Go's own User-Agent would be a header the recording does not have.
		req.Header["User-Agent"] = nil
	}
	if t.Token != "" {
		req.Header.Set("Authorization", "Bearer "+t.Token)
	} else if user, pass, ok := strings.Cut(t.Basic, ":"); ok {
		req.SetBasicAuth(user, pass)
	}
	for k, v := range t.Headers {
		req.Header.Set(k, v)
	}
	start := time.Now()
	sent = unanswered(x, start)
	sent.RequestHeaders = req.Header.Clone()
	if len(sent.RequestHeaders["User-Agent"]) == 0 {
		delete(sent.RequestHeaders, "User-Agent")
	}
	resp, err := c.Do(req)
	if err != nil {
		if !dialled.Load() {
			return sent, false, err
		}
		sent.LatencyMs = millis(time.Since(start))
		return sent, true, err
	}
	defer resp.Body.Close()
	// The transport never asks for a coding itself (plainClient): a gzip or
	// deflate body, asked for by the recording's Accept-Encoding or not, is
	// decoded here for judging (RecordBody), any other kept as received.
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	sent.Status = resp.StatusCode
	sent.ResponseHeaders = resp.Header.Clone()
	sent.ResponseBody, sent.ResponseBodyCoding = transcript.RecordBody(resp.Header, b, len(b))
	sent.LatencyMs = millis(time.Since(start))
	if err != nil {
		return sent, true, fmt.Errorf("reading the response to %s: %v", x.Title(), err)
	}
	return sent, true, nil
}

// unanswered is x as replayed at start before any answer: the request as
// recorded (ids mapped), and no status, response headers, body or latency.
func unanswered(x transcript.Exchange, start time.Time) transcript.Exchange {
	x.Time = start.UTC()
	x.Status, x.ResponseHeaders, x.ResponseBody, x.ResponseBodyCoding, x.LatencyMs = 0, nil, "", nil, 0
	return x
}

// millis is d in the milliseconds a transcript's LatencyMs holds.
func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// judge compares the new response with what the original showed the IdP needed.
func judge(orig, got transcript.Exchange) Result {
	r := Result{Original: orig, Sent: got, Verdict: reports.Pass}
	if orig.Expect != nil && len(orig.Expect.Status) > 0 {
		ok := false
		for _, s := range orig.Expect.Status {
			ok = ok || s == got.Status
		}
		if !ok {
			r.Verdict = reports.Fail
			r.Reason = fmt.Sprintf("%s: status %d, a correct server answers %s", orig.Title(), got.Status, joinInts(orig.Expect.Status))
			return r
		}
	} else if got.Status/100 != orig.Status/100 {
		r.Verdict = reports.Fail
		r.Reason = fmt.Sprintf("%s: status %d, the recorded exchange had %d", orig.Title(), got.Status, orig.Status)
		return r
	}
	if got.Status/100 != 2 || orig.Expect != nil && len(orig.Expect.Status) > 0 && orig.Status == 0 {
		return r
	}
	want := decodeObject(orig.ResponseBody)
	have := decodeObject(got.ResponseBody)
	if want == nil {
		return r
	}
	if have == nil {
		if got.Status == http.StatusNoContent && orig.Status == http.StatusOK && orig.Method == http.MethodPatch {
			return r // RFC 7644 §3.5.2: 204 is a valid PATCH answer
		}
		r.Verdict = reports.Fail
		r.Reason = fmt.Sprintf("%s: the recorded response had a JSON body, this one has none", orig.Title())
		return r
	}
	if _, isList := want["Resources"]; isList || want["totalResults"] != nil {
		if _, ok := have["totalResults"].(float64); !ok {
			r.Verdict = reports.Fail
			r.Reason = fmt.Sprintf("%s: expected a ListResponse with an integer totalResults", orig.Title())
			return r
		}
	}
	if _, ok := want["id"]; ok {
		if _, ok := have["id"].(string); !ok {
			r.Verdict = reports.Fail
			r.Reason = fmt.Sprintf("%s: the response has no id; the IdP caches it for every later call", orig.Title())
			return r
		}
	}
	for k := range want {
		if _, ok := have[k]; !ok {
			r.Missing = append(r.Missing, k)
		}
	}
	sort.Strings(r.Missing)
	return r
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, " or ")
}

func decodeObject(s string) map[string]any {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var m map[string]any
	if json.Unmarshal([]byte(s), &m) != nil {
		return nil
	}
	return m
}

// checkAttributes verifies Expect.Attributes on the response, or on a GET of
// the resource when the response carried no body.
func checkAttributes(ctx context.Context, c *http.Client, t Target, r *Result, ids *idMap) {
	doc := decodeObject(r.Sent.ResponseBody)
	if doc == nil || doc["schemas"] == nil {
		// The replayer's own request, not the recording's: it says so.
		get := transcript.Exchange{Method: http.MethodGet, Path: r.Sent.Path, RequestHeaders: map[string][]string{
			"Accept": {"application/scim+json"}, "User-Agent": {OwnUserAgent("read-back")}}}
		if x, _, err := send(ctx, c, t, get); err == nil && x.Status == http.StatusOK {
			doc = decodeObject(x.ResponseBody)
		}
	}
	if doc == nil {
		r.Verdict = reports.Fail
		r.Reason = fmt.Sprintf("%s: could not read the resource back to check it", r.Original.Title())
		return
	}
	keys := make([]string, 0, len(r.Original.Expect.Attributes))
	for k := range r.Original.Expect.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		want := ids.applyValue(r.Original.Expect.Attributes[k])
		got, ok := lookup(doc, k)
		if !ok && strings.HasSuffix(k, ".length") {
			// RFC 7643 §2.5: an absent multi-valued attribute is the same as an empty one.
			got, ok = float64(0), true
		}
		if !ok || !sameValue(got, want) {
			r.Verdict = reports.Fail
			gs, _ := json.Marshal(got)
			ws, _ := json.Marshal(want)
			if !ok {
				gs = []byte("absent")
			}
			r.Reason = fmt.Sprintf("%s: %s is %s, a correct server has %s", r.Original.Title(), k, gs, ws)
			return
		}
	}
}

// lookup reads a dotted path; "x.length" is the length of array x; a step
// into an array of objects maps over the elements.
func lookup(doc map[string]any, path string) (any, bool) {
	var cur any = doc
	for _, step := range strings.Split(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			found := false
			for k, val := range v {
				if strings.EqualFold(k, step) {
					cur, found = val, true
					break
				}
			}
			if !found {
				return nil, false
			}
		case []any:
			if step == "length" {
				cur = float64(len(v))
				continue
			}
			var vals []any
			for _, e := range v {
				if m, ok := e.(map[string]any); ok {
					for k, val := range m {
						if strings.EqualFold(k, step) {
							vals = append(vals, val)
						}
					}
				}
			}
			cur = vals
		default:
			return nil, false
		}
	}
	return cur, true
}

func sameValue(got, want any) bool {
	g, _ := json.Marshal(normalise(got))
	w, _ := json.Marshal(normalise(want))
	return bytes.Equal(g, w)
}

func normalise(v any) any {
	switch t := v.(type) {
	case int:
		return float64(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = normalise(e)
		}
		return out
	}
	return v
}

// idMap maps ids the original target returned to the new target's ids.
type idMap struct {
	m      map[string]string
	keys   []string        // longest first, for substring replacement
	images map[string]bool // the new ids some old id maps to
}

func newIDMap() *idMap { return &idMap{m: map[string]string{}, images: map[string]bool{}} }

// guess adds a pair that a list suggests, unless either id is already
// paired: what a create or a Location header showed is never overridden.
func (m *idMap) guess(old, new string) {
	if _, known := m.m[old]; known || m.images[new] || old == new {
		return
	}
	m.add(old, new)
}

// add pairs old with new. A target that returns the very id the recording
// has (sequential ids on a fresh server) pairs it with itself: nothing to
// replace, but the id is known.
func (m *idMap) add(old, new string) {
	if old == "" || new == "" {
		return
	}
	if _, ok := m.m[old]; !ok && old != new {
		m.keys = append(m.keys, old)
		sort.Slice(m.keys, func(i, j int) bool { return len(m.keys[i]) > len(m.keys[j]) })
	}
	m.m[old] = new
	m.images[new] = true
}

func (m *idMap) replace(s string) string {
	if len(m.keys) == 0 || s == "" {
		return s
	}
	for _, k := range m.keys {
		if strings.Contains(s, k) {
			s = strings.ReplaceAll(s, k, m.m[k])
		}
	}
	return s
}

func (m *idMap) applyValue(v any) any {
	switch t := v.(type) {
	case string:
		return m.replace(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = m.applyValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = m.applyValue(e)
		}
		return out
	}
	return v
}

// apply rewrites a recorded request with the ids learned so far (path, query, body).
func (m *idMap) apply(x transcript.Exchange) transcript.Exchange {
	x.Path = m.replace(x.Path)
	if x.Query != "" {
		if q, err := url.QueryUnescape(x.Query); err == nil && q != m.replace(q) {
			vals, _ := url.ParseQuery(x.Query)
			for k, vs := range vals {
				for i := range vs {
					vs[i] = m.replace(vs[i])
				}
				vals[k] = vs
			}
			x.Query = vals.Encode()
		}
	}
	if x.RequestText() {
		x.RequestBody = m.replace(x.RequestBody)
	}
	return x
}

// learn records id pairs from a created resource (POST), a Location header,
// or two list responses. In lists a resource is matched by its userName or
// displayName, else by position when the lists are as long; list matches
// only fill in ids not paired yet (see guess), since two servers need not
// list in the same order: concurrent creates are recorded in the order they
// were answered, not the order the server made them.
func (m *idMap) learn(orig, got transcript.Exchange) {
	o, g := decodeObject(orig.ResponseBody), decodeObject(got.ResponseBody)
	if o != nil && g != nil {
		oid, _ := o["id"].(string)
		gid, _ := g["id"].(string)
		m.add(oid, gid)
		ol, _ := o["Resources"].([]any)
		gl, _ := g["Resources"].([]any)
		m.learnList(ol, gl)
	}
	ol := http.Header(orig.ResponseHeaders).Get("Location")
	gl := http.Header(got.ResponseHeaders).Get("Location")
	if ol != "" && gl != "" {
		m.add(lastSegment(ol), lastSegment(gl))
	}
}

// learnList pairs the ids of two lists of resources (see learn).
func (m *idMap) learnList(ol, gl []any) {
	byName := map[string]string{}
	for _, r := range gl {
		if gm, ok := r.(map[string]any); ok {
			if name := listName(gm); name != "" {
				byName[name], _ = gm["id"].(string)
			}
		}
	}
	for i, r := range ol {
		om, _ := r.(map[string]any)
		oid, _ := om["id"].(string)
		if gid, ok := byName[listName(om)]; ok && listName(om) != "" {
			m.guess(oid, gid)
		} else if len(ol) == len(gl) {
			gm, _ := gl[i].(map[string]any)
			gid, _ := gm["id"].(string)
			m.guess(oid, gid)
		}
	}
}

// listName is what names a listed resource for both servers: its userName
// (users) or displayName (groups), lower-cased.
func listName(r map[string]any) string {
	for _, k := range []string{"userName", "displayName"} {
		if v, ok := r[k].(string); ok && v != "" {
			return k + ":" + strings.ToLower(v)
		}
	}
	return ""
}

func lastSegment(u string) string {
	u = strings.TrimRight(u, "/")
	if i := strings.LastIndexByte(u, '/'); i >= 0 {
		return u[i+1:]
	}
	return u
}

// SenderIdP returns the IdP family that sent x, from its User-Agent:
// "okta" (idp-traffic.md §1.1: "Okta SCIM Client 1.0.0"), "entra" (a
// User-Agent naming Azure, Entra or Microsoft), "pingfederate", "onelogin",
// "sailpoint", "jumpcloud"; "" when it names none (scimlab's own requests
// among them, such as the simulator's read-back and clean-up).
func SenderIdP(x transcript.Exchange) string {
	ua := strings.ToLower(http.Header(x.RequestHeaders).Get("User-Agent"))
	switch {
	case ua == "":
		return ""
	case strings.Contains(ua, "okta"):
		return "okta"
	case strings.Contains(ua, "azure") || strings.Contains(ua, "entra") || strings.Contains(ua, "microsoft"):
		return "entra"
	case strings.Contains(ua, "pingfederate") || strings.Contains(ua, "ping identity"):
		return "pingfederate"
	}
	for _, f := range []string{"onelogin", "sailpoint", "jumpcloud"} {
		if strings.Contains(ua, f) {
			return f
		}
	}
	return ""
}

// unknownIdP is the IdP level name of an exchange whose sender is unknown.
const unknownIdP = "recorded"

// ToRun turns replay results into a report run. Each check is labelled by
// the IdP that sent its exchange (SenderIdP, level IDP:<idp>); one whose
// User-Agent names no IdP is credited to idp, or when idp is "" to the one
// IdP the recording shows, else to "recorded". A recording that holds the
// traffic of more than one IdP says so in a note, and the run's IdP lists
// them all.
func ToRun(target string, idp string, results []Result, started time.Time) *reports.Run {
	var idps []string
	count := map[string]int{}
	for _, r := range results {
		if f := SenderIdP(r.Original); f != "" {
			if count[f] == 0 {
				idps = append(idps, f)
			}
			count[f]++
		}
	}
	fallback := idp
	switch {
	case fallback == "" && len(idps) == 1:
		fallback = idps[0]
	case fallback == "":
		fallback = unknownIdP
	}
	runIdP := idp
	if len(idps) == 1 && idp == "" {
		runIdP = idps[0]
	}
	run := &reports.Run{SchemaVersion: reports.SchemaVersion, Kind: "replay", Target: reports.RedactURL(target), Started: started, Duration: time.Since(started)}
	if len(idps) > 1 {
		runIdP = strings.Join(idps, ", ")
		parts := make([]string, len(idps))
		for i, f := range idps {
			parts[i] = fmt.Sprintf("%s (%s)", f, plural(count[f], "exchange"))
		}
		note := fmt.Sprintf("the recording holds the traffic of more than one IdP: %s; each exchange is judged and labelled (IDP:<name>) by the IdP whose User-Agent it carries", strings.Join(parts, ", "))
		if n := len(results) - sum(count); n == 1 {
			note += fmt.Sprintf("; the 1 exchange whose User-Agent names none is IDP:%s", fallback)
		} else if n > 1 {
			note += fmt.Sprintf("; the %d exchanges whose User-Agent names none are IDP:%s", n, fallback)
		}
		run.Notes = append(run.Notes, note)
	}
	run.IdP = runIdP
	noAnswer := 0
	for _, r := range results {
		if _, ok := recorder.NoUpstreamAnswer(r.Original); ok {
			noAnswer++
		}
	}
	if noAnswer > 0 {
		run.Notes = append(run.Notes, fmt.Sprintf("%s of the recording got no answer from the recorded target (scimlab record answered 502 itself): not sent, and skipped, since there is no target's answer to judge by", plural(noAnswer, "exchange")))
	}
	for _, r := range results {
		level := reports.IdPLevel(fallback)
		if f := SenderIdP(r.Original); f != "" {
			level = reports.IdPLevel(f)
		}
		c := reports.Check{
			ID: CheckID(r.Original.Seq), Title: r.Original.Title(), Area: "replay", Level: level,
			RFC:     rfcClause(r.Original.Method, r.Original.Path),
			Verdict: r.Verdict, Reason: r.Reason, Duration: time.Duration(r.Sent.LatencyMs * float64(time.Millisecond)),
		}
		if _, own := recorder.NoUpstreamAnswer(r.Original); r.Original.Note != "" && !own {
			c.Title += " — " + r.Original.Note // the recorder's own note is the reason
		}
		// Evidence is what happened on the wire: an exchange that was
		// never sent has none (its reason says why), and one that got no
		// answer shows the request with no response.
		if r.Verdict != reports.Pass && r.Sent.Method != "" && !r.Unsent {
			c.Evidence = []reports.Exchange{exchangeOf(r.Sent)}
		}
		if len(r.Missing) > 0 {
			run.Differences = append(run.Differences, reports.Difference{Resource: r.Original.Title(), Attribute: strings.Join(r.Missing, ", "), Want: "present (as recorded)", Got: "absent"})
		}
		run.Checks = append(run.Checks, c)
	}
	return run
}

// plural is "1 exchange" or "n exchanges".
func plural(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %ss", n, one)
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func exchangeOf(x transcript.Exchange) reports.Exchange {
	ex := reports.Exchange{
		Request:  reports.Redact(reports.HTTPMessage{Method: x.Method, URL: x.Target(), Headers: x.RequestHeaders, Body: x.RequestBody}),
		Response: reports.Redact(reports.HTTPMessage{Status: x.Status, Headers: x.ResponseHeaders, Body: x.ResponseBody}),
		Latency:  time.Duration(x.LatencyMs * float64(time.Millisecond)),
	}
	for _, m := range []*reports.HTTPMessage{&ex.Request, &ex.Response} {
		if len(m.Body) > reports.DefaultBodyLimit {
			m.Body, m.Truncated = m.Body[:reports.DefaultBodyLimit], true
		}
	}
	return ex
}

// rfcClause returns the RFC 7644 section that defines the operation a
// recorded exchange performs, by method and path (relative to the SCIM
// base, as a transcript keeps it), or "" when it is none of SCIM's.
func rfcClause(method, path string) string {
	p := strings.Trim(strings.ToLower(path), "/")
	if i := strings.Index(p, "scim/v2/"); i >= 0 {
		p = p[i+len("scim/v2/"):]
	}
	segs := strings.Split(p, "/")
	first := segs[0]
	switch {
	case first == "serviceproviderconfig" || first == "resourcetypes" || first == "schemas":
		return "RFC7644 §4"
	case first == "bulk":
		return "RFC7644 §3.7"
	case segs[len(segs)-1] == ".search":
		return "RFC7644 §3.4.3"
	case first == "me":
		return "RFC7644 §3.11"
	case first != "users" && first != "groups":
		return ""
	}
	byID := len(segs) > 1
	switch strings.ToUpper(method) {
	case "POST":
		if !byID {
			return "RFC7644 §3.3"
		}
	case "GET":
		if byID {
			return "RFC7644 §3.4.1"
		}
		return "RFC7644 §3.4.2"
	case "PUT":
		return "RFC7644 §3.5.1"
	case "PATCH":
		return "RFC7644 §3.5.2"
	case "DELETE":
		return "RFC7644 §3.6"
	}
	return ""
}
