package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/onsi/ginkgo/v2"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

// Features named in ServiceProviderConfig (RFC 7643 §5) that gate checks.
var Features = []string{"patch", "bulk", "filter", "sort", "etag", "changePassword"}

// ResourceTypeInfo is one entry of /ResourceTypes (RFC 7643 §6).
type ResourceTypeInfo struct {
	ID         string
	Name       string
	Endpoint   string
	Schema     string
	Extensions []string
}

// Capabilities is what the target declares about itself.
type Capabilities struct {
	// Source is "ServiceProviderConfig", "file <path>" or "fallback".
	Source string
	// SPC is the raw ServiceProviderConfig (nil in the fallback).
	SPC Doc
	// Declared maps a feature name to its "supported" value; a feature
	// missing from the map was not declared (the fallback assumes it works).
	Declared map[string]bool
	// BulkMaxOperations and BulkMaxPayloadSize are 0 when not declared.
	BulkMaxOperations  int
	BulkMaxPayloadSize int
	// FilterMaxResults is 0 when not declared.
	FilterMaxResults int
	ResourceTypes    []ResourceTypeInfo
	// ResourceTypesSource is "ResourceTypes" or "fallback".
	ResourceTypesSource string
	// Notes explain fallbacks.
	Notes []string
}

// Supported reports whether a feature is declared supported; an undeclared
// feature counts as supported so that its checks run and show the truth.
func (c *Capabilities) Supported(feature string) bool {
	v, ok := c.Declared[feature]
	return !ok || v
}

// DeclaredUnsupported reports whether the target says it lacks a feature.
func (c *Capabilities) DeclaredUnsupported(feature string) bool {
	v, ok := c.Declared[feature]
	return ok && !v
}

// ResourceType returns the resource type with the given name ("User"), or nil.
func (c *Capabilities) ResourceType(name string) *ResourceTypeInfo {
	for i := range c.ResourceTypes {
		if strings.EqualFold(c.ResourceTypes[i].Name, name) || strings.EqualFold(c.ResourceTypes[i].ID, name) {
			return &c.ResourceTypes[i]
		}
	}
	return nil
}

// HasEnterprise reports whether User declares the enterprise extension.
func (c *Capabilities) HasEnterprise() bool {
	rt := c.ResourceType("User")
	if rt == nil {
		return false
	}
	for _, e := range rt.Extensions {
		if strings.EqualFold(e, scim.EnterpriseUserSchema) {
			return true
		}
	}
	return false
}

// discover reads /ServiceProviderConfig (or the capabilities file) and
// /ResourceTypes, falling back to core User and Group when they are missing.
func discover(ctx context.Context, t *Target, capsFile string) (*Capabilities, error) {
	c := &Capabilities{Declared: map[string]bool{}}
	if capsFile != "" {
		b, err := os.ReadFile(capsFile)
		if err != nil {
			return nil, fmt.Errorf("%w: --capabilities: %v", ErrConfig, err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%w: --capabilities %s is not a JSON ServiceProviderConfig: %v", ErrConfig, capsFile, err)
		}
		c.SPC, c.Source = Doc(normalizeNumbers(m).(map[string]any)), "file "+capsFile
	} else if doc, ok, err := getJSON(ctx, t, "/ServiceProviderConfig"); err != nil {
		return nil, err
	} else if ok {
		c.SPC, c.Source = doc, "ServiceProviderConfig"
	} else {
		c.Source = "fallback"
		c.Notes = append(c.Notes, "the target serves no /ServiceProviderConfig: every optional feature is assumed supported and tested")
	}
	if c.SPC != nil {
		for _, f := range Features {
			if v, ok := c.SPC.Bool(f + ".supported"); ok {
				c.Declared[f] = v
			}
		}
		c.BulkMaxOperations, _ = c.SPC.Int("bulk.maxOperations")
		c.BulkMaxPayloadSize, _ = c.SPC.Int("bulk.maxPayloadSize")
		c.FilterMaxResults, _ = c.SPC.Int("filter.maxResults")
	}
	doc, ok, err := getJSON(ctx, t, "/ResourceTypes")
	if err != nil {
		return nil, err
	}
	if ok {
		for _, r := range doc.Resources() {
			rt := ResourceTypeInfo{ID: r.Str("id"), Name: r.Str("name"), Endpoint: r.Str("endpoint"), Schema: r.Str("schema")}
			for _, e := range r.List("schemaExtensions") {
				rt.Extensions = append(rt.Extensions, e.Str("schema"))
			}
			c.ResourceTypes = append(c.ResourceTypes, rt)
		}
		c.ResourceTypesSource = "ResourceTypes"
	}
	if len(c.ResourceTypes) == 0 {
		c.ResourceTypesSource = "fallback"
		c.Notes = append(c.Notes, "the target serves no usable /ResourceTypes: core User (with the enterprise extension) and Group are assumed")
		c.ResourceTypes = []ResourceTypeInfo{
			{ID: "User", Name: "User", Endpoint: "/Users", Schema: scim.UserSchema, Extensions: []string{scim.EnterpriseUserSchema}},
			{ID: "Group", Name: "Group", Endpoint: "/Groups", Schema: scim.GroupSchema},
		}
	}
	return c, nil
}

// getJSON fetches a discovery document without recording evidence. A
// target that is still throttling the request after the retries is an
// error (ErrThrottled): what it declares cannot be read, and guessing
// would gate the checks wrongly.
func getJSON(ctx context.Context, t *Target, path string) (Doc, bool, error) {
	var resp *http.Response
	res := t.retryPolicy().Do(ctx, func(int) (int, http.Header, error) {
		if resp != nil {
			resp.Body.Close()
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.BaseURL+path, nil)
		if err != nil {
			return 0, nil, err
		}
		t.decorate(req)
		if resp, err = t.httpClient.Do(req); err != nil {
			resp = nil
			return 0, nil, err
		}
		return resp.StatusCode, resp.Header, nil
	})
	throttling.add(res)
	if resp == nil {
		return nil, false, nil
	}
	defer resp.Body.Close()
	if res.Err != nil {
		return nil, false, fmt.Errorf("%w: GET %s%s: %v", ErrThrottled, t.BaseURL, path, res.Err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, false, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, false, nil
	}
	r := &Response{Status: resp.StatusCode, Body: body}
	doc := r.JSON()
	return Doc(doc), doc != nil, nil
}

// gate skips the running spec when one of its capability gates is declared
// unsupported by the target, or when it is destructive and not allowed.
func gate(ctx context.Context, labels []string) {
	t := Current()
	for _, l := range labels {
		switch {
		case l == string(lbl.Destructive) && !t.AllowDestructive:
			NotRequested("it modifies data this run did not create; pass --allow-destructive to run it")
		case lbl.IsGate(l):
			if reason := t.gateReason(ctx, lbl.Capability(l)); reason != "" {
				ginkgo.Skip(reason)
			}
		}
	}
}

// gateReason says why a capability's checks cannot run, or "".
func (t *Target) gateReason(ctx context.Context, capability string) string {
	c := t.Caps
	switch capability {
	case "search":
		return t.searchUnsupported(ctx)
	case "groups":
		if c.ResourceType("Group") == nil {
			return "/ResourceTypes declares no Group resource type"
		}
	case "enterprise":
		if !c.HasEnterprise() {
			return "the User resource type declares no " + scim.EnterpriseUserSchema + " extension"
		}
	case "limits":
		if len(t.Limits) == 0 && t.Local {
			return "the in-process server's profile " + t.Profile + " declares no attribute length limits"
		}
		if len(t.Limits) == 0 {
			return NotRequestedPrefix + "no attribute limits given; pass --limits FILE (attribute path → max length) to run the limits checks"
		}
	default:
		if c.DeclaredUnsupported(capability) {
			return fmt.Sprintf("ServiceProviderConfig.%s.supported: false", capability)
		}
	}
	return ""
}

// observations records what the run saw of each feature.
var (
	obsMu        sync.Mutex
	observations = map[string]observation{}
)

type observation struct {
	works  bool
	detail string
}

// Observe records whether a feature was seen to work, for the capability
// table of the report (declared vs observed).
func Observe(feature string, works bool, detail string) {
	obsMu.Lock()
	defer obsMu.Unlock()
	if prev, ok := observations[feature]; ok && prev.works && !works {
		// a failure after a success is the more interesting fact
		observations[feature] = observation{works: false, detail: detail}
		return
	} else if ok && !prev.works {
		return
	}
	observations[feature] = observation{works: works, detail: detail}
}

// verdictEntry is the report entry name that overrides a passing spec's verdict.
const verdictEntry = "scimlab:verdict"

// RequireDeclaredUnsupported is the first line of a probe: it skips the
// probe when the target declares the feature supported (the feature's own
// checks test it then).
func RequireDeclaredUnsupported(feature string) {
	ginkgo.GinkgoHelper()
	if !Current().Caps.DeclaredUnsupported(feature) {
		ginkgo.Skip(fmt.Sprintf("ServiceProviderConfig.%s.supported is not false: the %s checks test the feature itself", feature, feature))
	}
}

// ProbeWorked marks a probe whose feature worked although declared
// unsupported: the verdict becomes unsupported-but-works.
func ProbeWorked(feature, detail string) {
	Observe(feature, true, detail)
	ginkgo.AddReportEntry(verdictEntry, string(reports.UnsupportedButWorks), ginkgo.ReportEntryVisibilityNever)
}

// capabilityTable compares declared and observed features for the report.
// A feature no probe observed is observed through the checks it gates:
// working when at least one of them passed, broken when all that ran failed.
func capabilityTable(c *Capabilities, checks []reports.Check) []reports.Capability {
	if c == nil {
		return nil
	}
	obsMu.Lock()
	defer obsMu.Unlock()
	var out []reports.Capability
	for _, f := range Features {
		rc := reports.Capability{Name: f}
		v, declared := c.Declared[f]
		rc.Declared = declared && v
		if !declared {
			rc.Detail = "not declared (" + c.Source + ")"
		}
		if o, ok := observations[f]; ok {
			w := o.works
			rc.Observed = &w
			if o.detail != "" {
				if rc.Detail != "" {
					rc.Detail += "; "
				}
				rc.Detail += o.detail
			}
		} else if pass, fail := gatedTally(checks, f); pass+fail > 0 {
			w := pass > 0
			rc.Observed = &w
			if rc.Detail != "" {
				rc.Detail += "; "
			}
			rc.Detail += fmt.Sprintf("%d of %d gated checks pass", pass, pass+fail)
		}
		out = append(out, rc)
	}
	names := make([]string, 0, len(c.ResourceTypes))
	for _, rt := range c.ResourceTypes {
		names = append(names, rt.Name)
	}
	sort.Strings(names)
	out = append(out, reports.Capability{Name: "resourceTypes", Declared: c.ResourceTypesSource == "ResourceTypes", Detail: strings.Join(names, ", ") + " (" + c.ResourceTypesSource + ")"})
	return out
}

// gatedTally counts the passing and failing checks a feature gates. A check
// in error never ran to a verdict, so it says nothing about the feature.
func gatedTally(checks []reports.Check, feature string) (pass, fail int) {
	for _, ch := range checks {
		if ch.Capability != feature || slices.Contains(ch.Labels, string(lbl.Probe)) {
			continue
		}
		switch ch.Verdict {
		case reports.Pass:
			pass++
		case reports.Fail:
			fail++
		}
	}
	return pass, fail
}

// searchUnsupported asks the target once per run whether it implements POST
// /.search (RFC 7644 §3.4.3), which its ServiceProviderConfig cannot say:
// "Clients MAY execute queries without passing parameters on the URL by
// using the HTTP POST verb combined with the /.search path extension", so a
// service provider may leave it out. It returns why the needs:search checks
// cannot run — the probe was answered 501 ("Service provider does not
// support the request operation", RFC 7644 §3.12), or 404 or 405 with a SCIM
// error — or "" when the target searches (or refuses the probe any other
// way: the checks then run and show what is wrong). A probe that got no
// answer is asked again by the next check.
func (t *Target) searchUnsupported(ctx context.Context) string {
	t.mu.Lock()
	if t.searchProbed {
		defer t.mu.Unlock()
		return t.searchReason
	}
	t.mu.Unlock()
	const path = "/Users/.search"
	one := 1
	resp := NewClient().Do(ctx, Request{Method: http.MethodPost, Path: path, Quiet: true, Body: scim.SearchRequest{
		Schemas: []string{scim.SearchRequestSchema}, Filter: "userName eq " + Quote(t.Prefix()+"search-probe"), Count: &one,
	}})
	if resp.Err != nil {
		return ""
	}
	reason := ""
	scimError := slices.Contains(resp.Doc().Strings("schemas"), scim.ErrorSchema)
	if resp.Status == http.StatusNotImplemented || scimError && (resp.Status == http.StatusNotFound || resp.Status == http.StatusMethodNotAllowed) {
		what := fmt.Sprintf("%d %s", resp.Status, http.StatusText(resp.Status))
		if d := resp.Doc().Str("detail"); d != "" {
			what += fmt.Sprintf(" (%q)", d)
		}
		reason = SearchUnsupportedPrefix + what + ": the target does not implement POST /.search, which RFC 7644 §3.4.3 leaves optional (\"Clients MAY execute queries … using the HTTP POST verb combined with the /.search path extension\")"
		if resp.Status == http.StatusNotImplemented {
			reason += "; 501 is RFC 7644 §3.12's \"Service provider does not support the request operation\""
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.searchProbed, t.searchReason = true, reason
	return reason
}

// SearchUnsupportedPrefix starts the skip reason of a needs:search check on
// a target that does not implement POST /.search.
const SearchUnsupportedPrefix = "POST /Users/.search answered "
