package framework

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/onsi/gomega/types"

	"github.com/scimlab/scimlab/internal/retry"
	"github.com/scimlab/scimlab/reference-server/scim"
)

// respMatcher is a matcher on *Response whose failure message starts with
// one line saying what was wrong and ends with the exchange.
type respMatcher struct {
	desc  string
	check func(r *Response) (ok bool, why string)
	why   string
}

// Match implements types.GomegaMatcher.
func (m *respMatcher) Match(actual any) (bool, error) {
	r, ok := actual.(*Response)
	if !ok {
		return false, fmt.Errorf("%s: want a *framework.Response, got %T", m.desc, actual)
	}
	if r == nil {
		m.why = "no response"
		return false, nil
	}
	if r.Err != nil {
		m.why = r.unanswered()
		return false, nil
	}
	ok, m.why = m.check(r)
	return ok, nil
}

// FailureMessage implements types.GomegaMatcher.
func (m *respMatcher) FailureMessage(actual any) string {
	return m.why + "\n" + transcriptOf(actual)
}

// NegatedFailureMessage implements types.GomegaMatcher.
func (m *respMatcher) NegatedFailureMessage(actual any) string {
	return "expected the response not to " + m.desc + "\n" + transcriptOf(actual)
}

func transcriptOf(actual any) string {
	if r, ok := actual.(*Response); ok && r != nil {
		return r.String()
	}
	return fmt.Sprintf("%v", actual)
}

// pathOf shortens a URL to its path and query for messages.
func pathOf(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		if j := strings.Index(rest, "/"); j >= 0 {
			return rest[j:]
		}
	}
	return u
}

func reqLine(r *Response) string { return r.Method + " " + pathOf(r.URL) }

// unanswered says why a response with Err set carries no usable answer:
// none came, or the target was still throttling after the retries.
func (r *Response) unanswered() string {
	if errors.Is(r.Err, retry.ErrRateLimited) {
		return fmt.Sprintf("%s: %v", reqLine(r), r.Err)
	}
	return fmt.Sprintf("%s got no response: %v", reqLine(r), r.Err)
}

// Summary says in one line what the target answered: "POST /scim/v2/Users
// answered 400 invalidValue: <detail>", or that nothing came back.
func (r *Response) Summary() string {
	if r.Err != nil {
		return r.unanswered()
	}
	return fmt.Sprintf("%s answered %d%s", reqLine(r), r.Status, errorSummary(r))
}

// HaveStatus succeeds when the response status is one of codes; on failure
// it prints the exchange.
func HaveStatus(codes ...int) types.GomegaMatcher {
	return &respMatcher{desc: fmt.Sprintf("have status %v", codes), check: func(r *Response) (bool, string) {
		if slices.Contains(codes, r.Status) {
			return true, ""
		}
		return false, fmt.Sprintf("%s: want HTTP %s, got %d%s", reqLine(r), orList(codes), r.Status, errorSummary(r))
	}}
}

// errorSummary appends the SCIM error's scimType and detail, if any.
func errorSummary(r *Response) string {
	d := r.Doc()
	if d == nil || !slices.Contains(d.Strings("schemas"), scim.ErrorSchema) {
		return ""
	}
	s := ""
	if t := d.Str("scimType"); t != "" {
		s += " " + t
	}
	if det := d.Str("detail"); det != "" {
		s += ": " + clip(det, 160)
	}
	return s
}

func orList(codes []int) string {
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = strconv.Itoa(c)
	}
	return strings.Join(parts, " or ")
}

// BeSCIMError succeeds when the response is a SCIM error (RFC 7644 §3.12)
// with the given HTTP status and, when scimType is given, that scimType.
// The body's "status" may be a string or a number here; ERR checks hold
// the string form separately. scimType "" means any (or none).
func BeSCIMError(status int, scimType ...string) types.GomegaMatcher {
	want := ""
	if len(scimType) > 0 {
		want = scimType[0]
	}
	return &respMatcher{desc: fmt.Sprintf("be a SCIM error %d %s", status, want), check: func(r *Response) (bool, string) {
		if r.Status != status {
			return false, fmt.Sprintf("%s: want HTTP %d%s, got %d%s", reqLine(r), status, typeSuffix(want), r.Status, errorSummary(r))
		}
		return checkErrorBody(r, status, want)
	}}
}

// BeSCIMErrorIn is BeSCIMError for a choice of statuses the RFC allows.
func BeSCIMErrorIn(statuses []int, scimType string) types.GomegaMatcher {
	return &respMatcher{desc: fmt.Sprintf("be a SCIM error %v %s", statuses, scimType), check: func(r *Response) (bool, string) {
		if !slices.Contains(statuses, r.Status) {
			return false, fmt.Sprintf("%s: want HTTP %s%s, got %d%s", reqLine(r), orList(statuses), typeSuffix(scimType), r.Status, errorSummary(r))
		}
		return checkErrorBody(r, r.Status, scimType)
	}}
}

func typeSuffix(t string) string {
	if t == "" {
		return ""
	}
	return " (scimType " + t + ")"
}

func checkErrorBody(r *Response, status int, scimType string) (bool, string) {
	d := r.Doc()
	if d == nil {
		return false, fmt.Sprintf("%s: HTTP %d as expected, but the body is not a SCIM error: %v", reqLine(r), r.Status, r.JSONError())
	}
	if !slices.Contains(d.Strings("schemas"), scim.ErrorSchema) {
		return false, fmt.Sprintf("%s: HTTP %d as expected, but schemas %v lacks %s", reqLine(r), r.Status, d.Get("schemas"), scim.ErrorSchema)
	}
	st, ok := statusOf(d)
	if !ok || st != status {
		return false, fmt.Sprintf("%s: the error body's status is %v, want %q", reqLine(r), d.Get("status"), strconv.Itoa(status))
	}
	if scimType != "" && d.Str("scimType") != scimType {
		return false, fmt.Sprintf("%s: HTTP %d as expected, but scimType is %q, want %q", reqLine(r), r.Status, d.Str("scimType"), scimType)
	}
	return true, ""
}

// statusOf reads an error body's status, as a string or a number.
func statusOf(d Doc) (int, bool) {
	switch v := d.Get("status").(type) {
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		return n, err == nil
	case int64:
		return int(v), true
	case float64:
		return int(v), v == float64(int(v))
	}
	return 0, false
}

// BeListResponse succeeds for HTTP 200 with a ListResponse body whose
// totalResults is an integer and whose Resources (when present) is an array.
func BeListResponse() types.GomegaMatcher {
	return &respMatcher{desc: "be a ListResponse", check: func(r *Response) (bool, string) {
		if r.Status != 200 {
			return false, fmt.Sprintf("%s: want HTTP 200 with a ListResponse, got %d%s", reqLine(r), r.Status, errorSummary(r))
		}
		d := r.Doc()
		if d == nil {
			return false, fmt.Sprintf("%s: the body is not JSON: %v", reqLine(r), r.JSONError())
		}
		if !slices.Contains(d.Strings("schemas"), scim.ListResponseSchema) {
			return false, fmt.Sprintf("%s: schemas %v lacks %s", reqLine(r), d.Get("schemas"), scim.ListResponseSchema)
		}
		if _, ok := d.Int("totalResults"); !ok {
			return false, fmt.Sprintf("%s: totalResults is %#v, want a JSON integer", reqLine(r), d.Get("totalResults"))
		}
		if d.Has("Resources") {
			if _, ok := d.Get("Resources").([]any); !ok && d.Get("Resources") != nil {
				return false, fmt.Sprintf("%s: Resources is %T, want an array", reqLine(r), d.Get("Resources"))
			}
		}
		return true, ""
	}}
}

// BeRefusal succeeds for a 4xx or 501 response: the target refused a request
// instead of failing on it (5xx other than 501) or accepting it.
func BeRefusal() types.GomegaMatcher {
	return &respMatcher{desc: "be a refusal", check: func(r *Response) (bool, string) {
		if (r.Status >= 400 && r.Status < 500) || r.Status == 501 {
			return true, ""
		}
		return false, fmt.Sprintf("%s: want a refusal (4xx or 501), got %d%s", reqLine(r), r.Status, errorSummary(r))
	}}
}

// Succeed2xx succeeds for any 2xx status.
func Succeed2xx() types.GomegaMatcher {
	return &respMatcher{desc: "succeed", check: func(r *Response) (bool, string) {
		if r.Status >= 200 && r.Status < 300 {
			return true, ""
		}
		return false, fmt.Sprintf("%s: want a 2xx success, got %d%s", reqLine(r), r.Status, errorSummary(r))
	}}
}

// HaveContentType succeeds when the response media type is mt.
func HaveContentType(mt string) types.GomegaMatcher {
	return &respMatcher{desc: "have Content-Type " + mt, check: func(r *Response) (bool, string) {
		if r.ContentType() == mt {
			return true, ""
		}
		return false, fmt.Sprintf("%s: Content-Type is %q, want %s", reqLine(r), r.Header.Get("Content-Type"), mt)
	}}
}
