package simulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/simulator/idp"
)

// statusReason says why res is not what the IdP needs for step (its status,
// its media type), or returns "".
func (r *runner) statusReason(step idp.Step, res *response) string {
	if res.err != nil {
		return r.errReason(res)
	}
	if res.status == http.StatusTooManyRequests {
		return r.throttledReason(res)
	}
	if !r.idp.Accepts(step, res.status) {
		return fmt.Sprintf("%s answered %d; %s needs %s%s", res.req, res.status, r.idp.Name, statusList(r.idp.Statuses(step)), errorDetail(res.body))
	}
	return r.typeReason(res)
}

// typeReason checks the media type of a response with a body (RFC 7644 §3.1;
// Entra asks for application/scim+json, idp-traffic.md §1.2).
func (r *runner) typeReason(res *response) string {
	if len(bytes.TrimSpace(res.body)) == 0 {
		return ""
	}
	ct := res.header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		for _, ok := range r.idp.ResponseTypes {
			if strings.EqualFold(mt, ok) {
				return ""
			}
		}
	}
	return fmt.Sprintf("%s answered %d with Content-Type %q; %s reads %s", res.req, res.status, ct, r.idp.Name, strings.Join(r.idp.ResponseTypes, " or "))
}

func (r *runner) errReason(res *response) string {
	if errors.Is(res.err, errTimeout) {
		return fmt.Sprintf("%s: %v; %s closes the connection and counts the request as failed (Okta waits 60 s, idp-traffic.md §1.1)", res.req, res.err, r.idp.Name)
	}
	return fmt.Sprintf("%s: no response: %v", res.req, res.err)
}

func (r *runner) throttledReason(res *response) string {
	if !r.idp.Retry.On429 {
		return fmt.Sprintf("%s answered 429; %s does not retry, the object waits for a later provisioning cycle (idp-traffic.md §1.2)", res.req, r.idp.Name)
	}
	return fmt.Sprintf("%s still answered 429 after %d tries (%s of pauses); %s gives up and the task needs manual action (idp-traffic.md §1.1, rate limiting)", res.req, res.attempts, res.waited, r.idp.Name)
}

func statusList(ss []int) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = strconv.Itoa(s)
	}
	return strings.Join(parts, " or ")
}

// errorDetail renders a SCIM error body (RFC 7644 §3.12) as ": scim 409
// uniqueness: detail", or a short excerpt of any other body.
func errorDetail(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return " (empty body)"
	}
	var e scim.Error
	if json.Unmarshal(body, &e) == nil && e.Status != 0 {
		return ": " + e.Error()
	}
	s := string(body)
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return ": " + strings.Join(strings.Fields(s), " ")
}

// decode reads a JSON object keeping numbers as json.Number, so that an
// integer sent as a string can be told from a number.
func decode(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("null")
	}
	return m, nil
}

// resourceReason checks that a 200/201 answer carries the resource with its
// id (RFC 7644 §3.3; Okta: "Create new user returned empty user", §1.1 row 3).
// It returns the id.
func resourceReason(res *response) (id string, reason string) {
	if len(bytes.TrimSpace(res.body)) == 0 {
		return "", fmt.Sprintf("%s answered %d with an empty body; the IdP needs the resource with its id (idp-traffic.md §1.1 row 3)", res.req, res.status)
	}
	m, err := decode(res.body)
	if err != nil {
		return "", fmt.Sprintf("%s answered %d with a body that is not a JSON object: %v", res.req, res.status, err)
	}
	id, _ = m["id"].(string)
	if id == "" {
		return "", fmt.Sprintf("%s answered %d without an id; the IdP caches the id for every later request (idp-traffic.md §1.2 row 4)", res.req, res.status)
	}
	return id, ""
}

// listPage is what an IdP reads from a ListResponse.
type listPage struct {
	total        int
	startIndex   int
	itemsPerPage int
	resources    []map[string]any
	ids          []string
}

// parseList checks a ListResponse (RFC 7644 §3.4.2): the ListResponse
// schema, integer paging numbers (Okta, §1.1 general behaviour) and a
// Resources array when totalResults is not zero.
func parseList(res *response) (*listPage, string) {
	m, err := decode(res.body)
	if err != nil {
		return nil, fmt.Sprintf("%s answered %d with a body that is not a ListResponse: %v", res.req, res.status, err)
	}
	if !hasSchema(m, scim.ListResponseSchema) {
		return nil, fmt.Sprintf("%s answered a body without the ListResponse schema %s (RFC 7644 §3.4.2)", res.req, scim.ListResponseSchema)
	}
	p := &listPage{}
	var bad []string
	num := func(key string, required bool) int {
		v, ok := m[key]
		if !ok {
			if required {
				bad = append(bad, key+" is missing")
			}
			return 0
		}
		n, isNum := v.(json.Number)
		i, err := strconv.Atoi(string(n))
		if !isNum || err != nil {
			bad = append(bad, fmt.Sprintf("%s is %s, not a JSON integer", key, jsonText(v)))
			return 0
		}
		return i
	}
	p.total = num("totalResults", true)
	p.startIndex = num("startIndex", false)
	p.itemsPerPage = num("itemsPerPage", false)
	if len(bad) > 0 {
		return nil, fmt.Sprintf("%s answered a ListResponse whose %s (idp-traffic.md §1.1: paging numbers must be integers)", res.req, strings.Join(bad, ", "))
	}
	raw, ok := m["Resources"]
	if !ok {
		if p.total != 0 {
			return nil, fmt.Sprintf("%s answered totalResults %d without Resources (RFC 7644 §3.4.2)", res.req, p.total)
		}
		return p, ""
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Sprintf("%s answered Resources that is not an array", res.req)
	}
	for _, it := range list {
		o, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Sprintf("%s answered a Resources entry that is not an object", res.req)
		}
		p.resources = append(p.resources, o)
		id, _ := o["id"].(string)
		p.ids = append(p.ids, id)
	}
	return p, ""
}

func hasSchema(m map[string]any, urn string) bool {
	list, _ := m["schemas"].([]any)
	for _, s := range list {
		if str, ok := s.(string); ok && strings.EqualFold(str, urn) {
			return true
		}
	}
	return false
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// lookupResult judges a lookup before a create (idp-traffic.md §1.1 rows 2
// and 9, §1.2 rows 3 and 10): a ListResponse with at most one match, or a
// 404 with an Error body where the IdP takes that as no match. It returns the
// match, if any.
func (r *runner) lookupResult(step idp.Step, res *response) (found map[string]any, id string, reason string) {
	if reason := r.statusReason(step, res); reason != "" {
		return nil, "", reason
	}
	if res.status == http.StatusNotFound {
		var e scim.Error
		if json.Unmarshal(res.body, &e) != nil || e.Status == 0 {
			return nil, "", fmt.Sprintf("%s answered 404 without a SCIM Error body; %s takes a 404 as no match only with one (idp-traffic.md §1.1 row 2)", res.req, r.idp.Name)
		}
		return nil, "", ""
	}
	page, reason := parseList(res)
	if reason != "" {
		return nil, "", reason
	}
	switch {
	case page.total == 0 && len(page.resources) == 0:
		return nil, "", ""
	case len(page.resources) == 0:
		return nil, "", fmt.Sprintf("%s answered totalResults %d and no Resources", res.req, page.total)
	case page.total > 1 || len(page.resources) > 1:
		return nil, "", fmt.Sprintf("%s matched %d resources; the IdP cannot tell which one to link", res.req, max(page.total, len(page.resources)))
	case page.ids[0] == "":
		return nil, "", fmt.Sprintf("%s answered a match without an id", res.req)
	}
	return page.resources[0], page.ids[0], ""
}

// createResult judges a create: an accepted status and the resource with its id.
func (r *runner) createResult(step idp.Step, res *response) (id, reason string) {
	if reason := r.statusReason(step, res); reason != "" {
		if res.err == nil && res.status == http.StatusConflict {
			reason += "; a 409 after a lookup that found nothing leaves the IdP retrying forever (idp-traffic.md B16, B17)"
		}
		return "", reason
	}
	return resourceReason(res)
}

// str reads a string attribute at a dotted path ("name.givenName").
func str(m map[string]any, path string) string {
	var cur any = m
	for _, part := range strings.Split(path, ".") {
		o, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = lookupKey(o, part)
	}
	s, _ := cur.(string)
	return s
}

// lookupKey finds an attribute case-insensitively (RFC 7643 §2.1).
func lookupKey(o map[string]any, key string) any {
	if v, ok := o[key]; ok {
		return v
	}
	for k, v := range o {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// workEmail returns the value of the work email, else the primary one, else
// the first.
func workEmail(m map[string]any) string {
	list, _ := lookupKey(m, "emails").([]any)
	var primary, first string
	for k, it := range list {
		o, _ := it.(map[string]any)
		v, _ := lookupKey(o, "value").(string)
		if t, _ := lookupKey(o, "type").(string); strings.EqualFold(t, "work") {
			return v
		}
		if p, _ := lookupKey(o, "primary").(bool); p && primary == "" {
			primary = v
		}
		if k == 0 {
			first = v
		}
	}
	if primary != "" {
		return primary
	}
	return first
}
