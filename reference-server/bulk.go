package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/scimlab/scimlab/reference-server/jsondoc"
	"github.com/scimlab/scimlab/reference-server/scim"
)

const bulkIDPrefix = "bulkId:"

// bulkOp is one operation of a BulkRequest being processed.
type bulkOp struct {
	index   int
	method  string
	bulkID  string
	version string
	path    string
	data    any // decoded "data", nil when absent
	refs    []string
	err     *scim.Error // set when the operation is refused before it runs
	done    bool
	failed  bool
	id      string // id of the resource a successful POST created
	loc     string // the resource's URL, for every result but a failed POST's (RFC 7644 §3.7)
	resp    scim.BulkOperationResponse
	present bool // resp is set
}

// bulk serves POST /Bulk (RFC 7644 §3.7). Operations run in request order,
// except that an operation that references "bulkId:X" runs after the POST
// that defines X, wherever it appears (§3.7.2), so a group can name users
// created later in the same request. A reference to a bulkId no operation
// defines is 400 invalidValue on the referring operation; a reference to an
// operation that failed is 409; operations that reference each other in a
// cycle are each refused with 409, which RFC 7644 §3.7.1 allows ("MAY stop
// after a failed attempt"). failOnErrors stops processing after that many
// errors (§3.7.3). A body above maxPayloadSize or more operations than
// maxOperations is 413 (§3.7.4). Each operation is independent: bulk is not
// atomic.
func (s *Server) bulk(c *call) error {
	cfg := s.prof.Bulk
	if !cfg.Supported {
		return scim.New(http.StatusNotImplemented, "", "this server does not support /Bulk (ServiceProviderConfig bulk.supported is false)")
	}
	body, err := readBody(c.r, cfg.MaxPayloadSize)
	if err != nil {
		if se, ok := err.(*scim.Error); ok && se.Status == http.StatusRequestEntityTooLarge {
			return errorf(http.StatusRequestEntityTooLarge, "", "the size of the bulk request exceeds maxPayloadSize (%d bytes) (RFC 7644 §3.7.4)", cfg.MaxPayloadSize)
		}
		return err
	}
	if _, err := decodeObject(body); err != nil {
		return err
	}
	var req struct {
		Schemas      []string          `json:"schemas"`
		FailOnErrors *int              `json:"failOnErrors"`
		Operations   []json.RawMessage `json:"Operations"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return errorf(http.StatusBadRequest, scim.InvalidSyntax, "the BulkRequest is malformed: %s", jsonErrText(err))
	}
	if !slices.ContainsFunc(req.Schemas, func(x string) bool { return strings.EqualFold(x, scim.BulkRequestSchema) }) {
		return errorf(http.StatusBadRequest, scim.InvalidSyntax, "\"schemas\" must contain %q (RFC 7644 §3.7)", scim.BulkRequestSchema)
	}
	if req.Operations == nil {
		return scim.New(http.StatusBadRequest, scim.InvalidSyntax, "\"Operations\" is missing (RFC 7644 §3.7)")
	}
	if len(req.Operations) > cfg.MaxOperations {
		return errorf(http.StatusRequestEntityTooLarge, "", "the bulk request has %d operations, more than maxOperations (%d) (RFC 7644 §3.7.4)", len(req.Operations), cfg.MaxOperations)
	}
	failOn := 0
	if req.FailOnErrors != nil {
		if *req.FailOnErrors < 1 {
			return scim.New(http.StatusBadRequest, scim.InvalidValue, "failOnErrors must be a positive integer (RFC 7644 §3.7.3)")
		}
		failOn = *req.FailOnErrors
	}
	ops := make([]*bulkOp, len(req.Operations))
	byBulkID := map[string]*bulkOp{}
	for i, raw := range req.Operations {
		op := parseBulkOp(i, raw)
		ops[i] = op
		if op.method != http.MethodPost && strings.HasPrefix(op.path, "/") {
			op.loc = c.base + pathOnly(op.path)
		}
		if op.err == nil && op.bulkID != "" {
			if byBulkID[op.bulkID] != nil {
				op.err = errorf(http.StatusBadRequest, scim.InvalidValue, "bulkId %q is used by more than one operation", truncate(op.bulkID, 100))
				continue
			}
			if op.method == http.MethodPost {
				byBulkID[op.bulkID] = op
			}
		}
	}
	errCount := 0
	remaining := len(ops)
	for remaining > 0 {
		if failOn > 0 && errCount >= failOn {
			break
		}
		next := s.nextBulkOp(ops, byBulkID)
		if next == nil {
			// Every remaining operation waits on another: a cycle.
			for _, op := range ops {
				if !op.done {
					op.done = true
					op.failed = true
					s.bulkError(op, errorf(http.StatusConflict, "", "operation %d is part of, or waits on, a circular bulkId reference, which this server does not resolve (RFC 7644 §3.7.1)", op.index))
					remaining--
					errCount++
				}
			}
			break
		}
		s.runBulkOp(c, next, byBulkID)
		next.done = true
		remaining--
		if next.failed {
			errCount++
		}
	}
	resp := scim.BulkResponse{Schemas: []string{scim.BulkResponseSchema}, Operations: []scim.BulkOperationResponse{}}
	for _, op := range ops {
		if op.present {
			resp.Operations = append(resp.Operations, op.resp)
		}
	}
	b, err := marshal(resp)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, b)
	return nil
}

// parseBulkOp reads one operation; problems are recorded on op.err.
func parseBulkOp(i int, raw json.RawMessage) *bulkOp {
	op := &bulkOp{index: i}
	var o struct {
		Method  any             `json:"method"`
		BulkID  any             `json:"bulkId"`
		Version any             `json:"version"`
		Path    any             `json:"path"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		op.err = errorf(http.StatusBadRequest, scim.InvalidSyntax, "Operations[%d] is not an operation object", i)
		return op
	}
	str := func(v any) (string, bool) {
		if v == nil {
			return "", true
		}
		s, ok := v.(string)
		return s, ok
	}
	var ok bool
	if op.method, ok = str(o.Method); !ok {
		op.err = errorf(http.StatusBadRequest, scim.InvalidSyntax, "Operations[%d].method must be a string", i)
		return op
	}
	op.method = strings.ToUpper(op.method)
	if op.bulkID, ok = str(o.BulkID); !ok {
		op.err = errorf(http.StatusBadRequest, scim.InvalidSyntax, "Operations[%d].bulkId must be a string", i)
		return op
	}
	if op.version, ok = str(o.Version); !ok {
		op.err = errorf(http.StatusBadRequest, scim.InvalidSyntax, "Operations[%d].version must be a string", i)
		return op
	}
	if op.path, ok = str(o.Path); !ok {
		op.err = errorf(http.StatusBadRequest, scim.InvalidSyntax, "Operations[%d].path must be a string", i)
		return op
	}
	if len(o.Data) > 0 && !bytes.Equal(bytes.TrimSpace(o.Data), []byte("null")) {
		if err := json.Unmarshal(o.Data, &op.data); err != nil {
			op.err = errorf(http.StatusBadRequest, scim.InvalidSyntax, "Operations[%d].data is not valid JSON", i)
			return op
		}
	}
	switch op.method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		op.err = errorf(http.StatusBadRequest, scim.InvalidValue, "Operations[%d].method %q must be POST, PUT, PATCH or DELETE (RFC 7644 §3.7)", i, truncate(op.method, 20))
		return op
	}
	if !strings.HasPrefix(op.path, "/") {
		op.err = errorf(http.StatusBadRequest, scim.InvalidValue, "Operations[%d].path %q must be a resource path such as /Users or /Groups/{id}", i, truncate(op.path, 100))
		return op
	}
	if op.method == http.MethodPost && op.bulkID == "" {
		op.err = errorf(http.StatusBadRequest, scim.InvalidValue, "Operations[%d] is a POST without a bulkId; RFC 7644 §3.7 requires one", i)
		return op
	}
	if op.method != http.MethodDelete && op.data == nil {
		op.err = errorf(http.StatusBadRequest, scim.InvalidValue, "Operations[%d] (%s) has no data", i, op.method)
		return op
	}
	seen := map[string]bool{}
	collectRefs(op.path, op.data, seen)
	if op.method == http.MethodPatch {
		for _, p := range patchPaths(op.data) {
			for _, m := range quotedRefRE.FindAllStringSubmatch(p, -1) {
				seen[m[1]] = true
			}
		}
	}
	for r := range seen {
		op.refs = append(op.refs, r)
	}
	slices.Sort(op.refs)
	return op
}

// collectRefs finds every "bulkId:X" reference in the path and data.
func collectRefs(path string, data any, out map[string]bool) {
	if _, rest, ok := strings.Cut(path, bulkIDPrefix); ok {
		id, _, _ := strings.Cut(rest, "/")
		out[id] = true
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			if strings.HasPrefix(v, bulkIDPrefix) {
				out[v[len(bulkIDPrefix):]] = true
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(data)
}

// nextBulkOp returns the first operation, in request order, whose references
// are all settled (defined by a finished POST, or undefined), or nil when
// every remaining operation waits on another.
func (s *Server) nextBulkOp(ops []*bulkOp, byBulkID map[string]*bulkOp) *bulkOp {
	for _, op := range ops {
		if op.done {
			continue
		}
		ready := true
		for _, ref := range op.refs {
			if dep := byBulkID[ref]; dep != nil && dep != op && !dep.done {
				ready = false
				break
			}
		}
		if ready {
			return op
		}
	}
	return nil
}

func (s *Server) bulkError(op *bulkOp, e *scim.Error) {
	body, _ := json.Marshal(e)
	op.failed = true
	op.present = true
	op.resp = scim.BulkOperationResponse{Method: op.method, BulkID: op.bulkID, Status: strconv.Itoa(e.Status), Location: op.loc, Response: body}
}

// pathOnly is a bulk operation's path without its query.
func pathOnly(p string) string {
	p, _, _ = strings.Cut(p, "?")
	return p
}

// runBulkOp resolves the operation's references and runs it through the
// ordinary handlers.
func (s *Server) runBulkOp(c *call, op *bulkOp, byBulkID map[string]*bulkOp) {
	if op.err != nil {
		s.bulkError(op, op.err)
		return
	}
	ids := map[string]string{}
	for _, ref := range op.refs {
		if dep := byBulkID[ref]; dep != nil && dep != op && dep.done && !dep.failed {
			ids[ref] = dep.id
		}
	}
	path := op.path
	if strings.Contains(path, bulkIDPrefix) {
		for ref, id := range ids {
			path = strings.ReplaceAll(path, bulkIDPrefix+ref, url.PathEscape(id))
		}
	}
	if op.loc != "" {
		// Resolved as far as it can be, also for a refusal below: the
		// resource of "/Groups/bulkId:g" exists once g's POST succeeded.
		op.loc = c.base + pathOnly(path)
	}
	for _, ref := range op.refs {
		dep := byBulkID[ref]
		switch {
		case dep == nil:
			s.bulkError(op, errorf(http.StatusBadRequest, scim.InvalidValue, "bulkId %q is not defined by any POST in this request", truncate(ref, 100)))
			return
		case dep == op:
			s.bulkError(op, errorf(http.StatusConflict, "", "operation %d references its own bulkId %q", op.index, truncate(ref, 100)))
			return
		case dep.failed:
			s.bulkError(op, errorf(http.StatusConflict, "", "bulkId %q cannot be resolved: the operation that defines it failed", truncate(ref, 100)))
			return
		}
	}
	data := substituteRefs(op.data, ids)
	if op.method == http.MethodPatch {
		data = substitutePatchPaths(data, ids)
	}
	var body []byte
	if data != nil {
		var err error
		if body, err = marshal(data); err != nil {
			s.bulkError(op, scim.New(http.StatusBadRequest, scim.InvalidSyntax, "data cannot be encoded"))
			return
		}
	}
	u := &url.URL{Path: BasePath + path}
	if p, q, ok := strings.Cut(path, "?"); ok {
		u.Path, u.RawQuery = BasePath+p, q
	}
	r, err := http.NewRequestWithContext(c.r.Context(), op.method, "/", bytes.NewReader(body))
	if err != nil {
		s.bulkError(op, scim.New(http.StatusBadRequest, scim.InvalidValue, "operation cannot be built"))
		return
	}
	r.URL = u
	r.Host = c.r.Host
	r.TLS = c.r.TLS
	r.Header.Set("Content-Type", scim.MediaType)
	if op.version != "" {
		r.Header.Set("If-Match", op.version)
	}
	rt, id := match(strings.TrimPrefix(u.Path, BasePath))
	var h handlerFunc
	if rt != nil {
		h = rt.methods[op.method]
	}
	if rt == nil || h == nil || !(rt == routeUsers || rt == routeGroups || rt == routeUser || rt == routeGroup) {
		s.bulkError(op, errorf(http.StatusBadRequest, scim.InvalidValue, "%s %s is not an operation /Bulk can run", op.method, truncate(op.path, 100)))
		return
	}
	rec := newRecorder()
	sub := &call{w: rec, r: r, id: id, base: c.base, token: c.token, inBulk: true}
	if err := s.run(sub, rt, h); err != nil {
		s.fail(sub, err)
	}
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	resp := scim.BulkOperationResponse{Method: op.method, BulkID: op.bulkID, Status: strconv.Itoa(status), Version: rec.header.Get("ETag")}
	if status >= 400 {
		resp.Response = json.RawMessage(rec.body.Bytes())
		resp.Location = op.loc // none for a failed POST
		op.failed = true
	} else {
		resp.Location = rec.header.Get("Location")
		if resp.Location == "" {
			resp.Location = op.loc
		}
		if op.method == http.MethodPost {
			op.id = createdID(rec.body.Bytes(), resp.Location)
		}
	}
	op.resp = resp
	op.present = true
}

// createdID reads the id of a created resource from its response.
func createdID(body []byte, location string) string {
	var v struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(body, &v) == nil && v.ID != "" {
		return v.ID
	}
	return location[strings.LastIndexByte(location, '/')+1:]
}

// substituteRefs replaces every "bulkId:X" string with the id X resolved to.
func substituteRefs(v any, ids map[string]string) any {
	if len(ids) == 0 {
		return v
	}
	return jsondoc.MapStrings(v, func(s string) string {
		if strings.HasPrefix(s, bulkIDPrefix) {
			if id, ok := ids[s[len(bulkIDPrefix):]]; ok {
				return id
			}
		}
		return s
	})
}

// quotedRefRE finds a bulkId reference written as a string literal inside a
// PATCH path's value filter: members[value eq "bulkId:m1"], the way an IdP
// removes a member it created in the same request (idp-traffic.md §1.1 row
// 12). RFC 7644 §3.7.2: the server replaces every "bulkId:" reference.
var quotedRefRE = regexp.MustCompile(`"` + bulkIDPrefix + `([^"\\]*)"`)

// patchPaths returns the "path" strings of a PATCH body's Operations.
func patchPaths(data any) []string {
	m, _ := data.(map[string]any)
	ops, _ := m["Operations"].([]any)
	var out []string
	for _, o := range ops {
		if om, ok := o.(map[string]any); ok {
			if p, ok := om["path"].(string); ok && strings.Contains(p, bulkIDPrefix) {
				out = append(out, p)
			}
		}
	}
	return out
}

// substitutePatchPaths replaces the quoted bulkId references in the paths of
// data, a PATCH body, with the ids they resolved to.
func substitutePatchPaths(data any, ids map[string]string) any {
	m, _ := data.(map[string]any)
	ops, _ := m["Operations"].([]any)
	for _, o := range ops {
		om, ok := o.(map[string]any)
		if !ok {
			continue
		}
		if p, ok := om["path"].(string); ok && strings.Contains(p, bulkIDPrefix) {
			om["path"] = quotedRefRE.ReplaceAllStringFunc(p, func(lit string) string {
				if id, ok := ids[lit[1+len(bulkIDPrefix):len(lit)-1]]; ok {
					return `"` + id + `"`
				}
				return lit
			})
		}
	}
	return data
}

// recorder is a minimal in-memory http.ResponseWriter for bulk operations.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

var _ io.Writer = (*recorder)(nil)
