package cli

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/suites/all"
	"github.com/scimlab/scimlab/suites/framework"
)

// scimProbe is how preflight reaches a target.
type scimProbe struct {
	base, token, basic string
	headers            map[string]string
	client             *http.Client
}

// probeAnswer is what one preflight request got.
type probeAnswer struct {
	path   string
	status int
	ctype  string
	doc    *probeDoc // the body, when it is a JSON object
}

// probeDoc is the part of a SCIM document that tells what it is: a
// ServiceProviderConfig (RFC 7643 §5), a ListResponse (RFC 7644 §3.4.2) or
// an Error (RFC 7644 §3.12).
type probeDoc struct {
	Schemas      []string        `json:"schemas"`
	TotalResults *int            `json:"totalResults"`
	Patch        json.RawMessage `json:"patch"`
	Filter       json.RawMessage `json:"filter"`
	Detail       string          `json:"detail"`
}

// SCIM schema URNs the preflight looks for.
const (
	spcSchema   = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	listSchema  = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	errorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// has reports whether the document names the schema urn.
func (d *probeDoc) has(urn string) bool {
	return d != nil && slices.ContainsFunc(d.Schemas, func(s string) bool { return strings.EqualFold(s, urn) })
}

// isSPC reports whether d is a ServiceProviderConfig.
func (d *probeDoc) isSPC() bool {
	return d.has(spcSchema) || d != nil && isObject(d.Patch) && isObject(d.Filter)
}

// isList reports whether d is a ListResponse.
func (d *probeDoc) isList() bool { return d.has(listSchema) || d != nil && d.TotalResults != nil }

// detail returns ": detail" of a SCIM error, or "".
func (d *probeDoc) detail() string {
	if !d.has(errorSchema) || d.Detail == "" {
		return ""
	}
	return ": " + d.Detail
}

func isObject(raw json.RawMessage) bool { return len(raw) > 0 && raw[0] == '{' }

// preflight checks, before the suites run some 400 checks against target,
// that it serves SCIM: its /ServiceProviderConfig is a SCIM document, or
// (a target without discovery, which the suites test with fallbacks, or
// one whose capabilities come from --capabilities) its /Users?count=1 is a
// ListResponse, or either answers a SCIM Error other than a 404. A wrong --target (a typo, /scim/v1 for /scim/v2, a web
// server) is then one line and exit 2, not 300 failures. A refused
// credential is a configuration error too; a transport error wraps
// all.ErrUnreachable (exit 3).
func preflight(ctx context.Context, p scimProbe, skipDiscovery bool) error {
	p.base = strings.TrimRight(p.base, "/")
	var tried []probeAnswer
	if !skipDiscovery {
		a, err := p.get(ctx, "/ServiceProviderConfig")
		if err != nil {
			return err
		}
		if a.status == http.StatusOK && a.doc.isSPC() {
			return nil
		}
		tried = append(tried, a)
	}
	a, err := p.get(ctx, "/Users?count=1")
	if err != nil {
		return err
	}
	switch {
	case a.status == http.StatusUnauthorized || a.status == http.StatusForbidden:
		return fmt.Errorf("%w: %s refused the credential (GET /Users?count=1 answered %d%s): check --token / --basic / --header", all.ErrConfig, reports.RedactURL(p.base), a.status, a.doc.detail())
	case a.status == http.StatusOK && a.doc.isList():
		return nil
	}
	tried = append(tried, a)
	for _, t := range tried {
		// A SCIM Error at the base URL is a SCIM service answering: one that
		// fails or throttles (a 5xx or a 429), or one that wants what the
		// probe did not send (a 400 "a filter is required" from a target
		// that only answers lookups, idp-traffic.md §1.2 row 18). The run
		// reports what it does (exit 1), not a wrong --target. Only a 404
		// says there is nothing at that URL.
		if t.status != http.StatusNotFound && t.doc.has(errorSchema) {
			return nil
		}
	}
	var got []string
	for _, t := range tried {
		got = append(got, t.String(p.base))
	}
	return fmt.Errorf("%w: no SCIM service at %s: %s: check --target (the SCIM base URL, e.g. https://host/scim/v2)", all.ErrConfig, reports.RedactURL(p.base), strings.Join(got, "; "))
}

// get sends one GET with the run's credential and reads a JSON object body.
func (p scimProbe) get(ctx context.Context, path string) (probeAnswer, error) {
	a := probeAnswer{path: path}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path, nil)
	if err != nil {
		return a, fmt.Errorf("%w: %v", all.ErrConfig, err)
	}
	switch {
	case p.token != "":
		req.Header.Set("Authorization", "Bearer "+p.token)
	case p.basic != "":
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(p.basic)))
	}
	for k, v := range p.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Accept", "application/scim+json")
	req.Header.Set("User-Agent", framework.UserAgent)
	resp, err := p.client.Do(req)
	if err != nil {
		return a, fmt.Errorf("%w: GET %s: %w", all.ErrUnreachable, reports.RedactURL(p.base+path), err)
	}
	defer resp.Body.Close()
	a.status, a.ctype = resp.StatusCode, resp.Header.Get("Content-Type")
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var doc probeDoc
	if err == nil && json.Unmarshal(b, &doc) == nil {
		a.doc = &doc
	}
	return a, nil
}

// String describes the answer for the error message: "GET
// URL/ServiceProviderConfig answered 404 (text/html)", with a SCIM error's
// detail when there is one.
func (a probeAnswer) String(base string) string {
	what := a.ctype
	switch {
	case a.doc.detail() != "":
		what = strings.TrimPrefix(a.doc.detail(), ": ")
	case a.doc != nil:
		what = "JSON that is not a SCIM document"
	case what == "":
		what = "no Content-Type"
	}
	return fmt.Sprintf("GET %s answered %d (%s)", reports.RedactURL(base+a.path), a.status, what)
}

// newProbe returns the probe for a run's target and credential.
func newProbe(target, token, basic string, headers map[string]string, insecure bool) scimProbe {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for with --insecure
	}
	return scimProbe{base: target, token: token, basic: basic, headers: headers, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}
