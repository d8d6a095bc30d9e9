package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimlab/scimlab/reference-server/filter"
	"github.com/scimlab/scimlab/reference-server/jsondoc"
	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/schema"
	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reference-server/store"
)

// newID returns a new resource id: a version 7 UUID (time-ordered).
func newID() string {
	return formatUUID(uuidV7(time.Now()))
}

// uuidV7 returns an RFC 9562 version 7 UUID for t: 48 bits of Unix
// milliseconds, then (§6.2, method 3) 12 bits of sub-millisecond time, then
// 62 random bits. Ids made close in time sort close together, so each new
// resource lands on the same few pages of the store's id index instead of a
// random one (fewer pages written per commit); the random bits keep ids
// unguessable enough for an identifier that is not a secret.
func uuidV7(t time.Time) [16]byte {
	var b [16]byte
	if _, err := rand.Read(b[8:]); err != nil {
		panic("server: crypto/rand failed: " + err.Error())
	}
	ms := uint64(t.UnixMilli())
	sub := uint64(t.Nanosecond()%1e6) * 4096 / 1e6
	b[0], b[1], b[2], b[3], b[4], b[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	b[6] = 0x70 | byte(sub>>8)
	b[7] = byte(sub)
	b[8] = b[8]&0x3f | 0x80
	return b
}

// formatUUID writes b in the 8-4-4-4-12 hex form.
func formatUUID(b [16]byte) string {
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

// etag returns the weak entity tag of a version (RFC 7644 §3.14).
func etag(version int64) string {
	return `W/"` + strconv.FormatInt(version, 10) + `"`
}

const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// keyOf returns the unique Key of a document: the userName of a User or the
// displayName of a Group, lower-cased unless the profile makes it case-exact.
func (s *Server) keyOf(k *resourceKind, doc map[string]any) string {
	switch k {
	case s.users:
		v, _ := doc["userName"].(string)
		if s.prof.UserNameCaseExact {
			return v
		}
		return strings.ToLower(v)
	case s.groups:
		v, _ := doc["displayName"].(string)
		if s.prof.GroupDisplayNameCaseExact {
			return v
		}
		return strings.ToLower(v)
	}
	return ""
}

// keyValue normalises a filter value compared with the Key attribute.
func (s *Server) keyValue(k *resourceKind, v string) string {
	if (k == s.users && s.prof.UserNameCaseExact) || (k == s.groups && s.prof.GroupDisplayNameCaseExact) {
		return v
	}
	return strings.ToLower(v)
}

func externalIDOf(doc map[string]any) string {
	v, _ := doc["externalId"].(string)
	return v
}

// stripServerAttrs removes what the server owns or keeps elsewhere from a
// validated document: id and meta (readOnly, RFC 7643 §3.1), a User's
// computed groups and a Group's members (kept in the member table).
//
// The password (writeOnly, returned never) is dropped as well: this server
// keeps no secrets of the people it provisions, and RFC 7644 §3.3 lets a
// service provider ignore attributes it does not support.
func stripServerAttrs(doc map[string]any) {
	delete(doc, "password")
	delete(doc, "id")
	delete(doc, "meta")
	delete(doc, "groups")
	delete(doc, "members")
}

// validate runs schema validation and maps its errors to SCIM errors.
func (s *Server) validate(k *resourceKind, doc map[string]any, mode schema.Mode) (map[string]any, error) {
	if s.prof.Lenient.UnknownSchemas {
		dropUnknownSchemas(k, doc)
	}
	out, err := k.rt.Validate(doc, schema.Options{Mode: mode, StringBooleans: s.prof.Lenient.StringBooleans})
	if err != nil {
		return nil, asClientError(err, scim.InvalidValue)
	}
	if r := s.prof.Rules(k.name); r != nil {
		for _, p := range r.Refused {
			if ref, err := profile.ResolvePath(k.rt, p); err == nil && hasValue(out, ref) {
				return nil, s.refusedWrite(ref.Path, "the request body")
			}
		}
	}
	return s.shape(k, out)
}

// refusedWrite is the error for a write of an attribute the profile
// refuses (profile.Rules.Refused); where names the part of the request.
func (s *Server) refusedWrite(attr, where string) error {
	return errorf(http.StatusBadRequest, scim.InvalidValue, "%s writes %s, which this server does not accept (profile %s)", where, attr, s.prof.Name)
}

// dropUnknownSchemas is the lenient UnknownSchemas: it removes from
// doc["schemas"] the URIs that are neither k's core schema nor one of its
// extensions (Entra's group create lists an ADSCIM Group URN, idp-traffic.md
// §1.2 row 12), reads the pre-RFC URNs an admin-written OneLogin template
// sends (urn:scim:schemas:core:1.0 or 2.0, urn:scim:schemas:extension:
// enterprise:2.0, idp-traffic.md §1.6) as the RFC ones, the extension's
// attributes included. A list whose only core URN is such a pre-RFC one
// thereby names k's core schema; one with no core URN at all (only a
// stranger's) is still refused, as strict servers do.
func dropUnknownSchemas(k *resourceKind, doc map[string]any) {
	list, ok := doc["schemas"].([]any)
	if !ok {
		return
	}
	kept := make([]any, 0, len(list))
	keep := func(u string) {
		for _, x := range kept {
			if s, ok := x.(string); ok && strings.EqualFold(s, u) {
				return
			}
		}
		kept = append(kept, u)
	}
	for _, v := range list {
		u, ok := v.(string)
		if !ok {
			kept = append(kept, v)
			continue
		}
		if legacy, ok := legacySchemaURN(u, k); ok {
			if legacy != u {
				if ext, found := doc[u]; found {
					if _, taken := doc[legacy]; !taken {
						doc[legacy] = ext
					}
					delete(doc, u)
				}
			}
			u = legacy
		}
		if strings.EqualFold(u, k.rt.Schema.ID) || k.rt.Extension(u) != nil {
			keep(u)
		}
	}
	doc["schemas"] = kept
}

// legacySchemaURN maps a pre-RFC schema URN (SCIM 1.x, or a template's
// mix of both) to the RFC 7643 URN it stands for on k.
func legacySchemaURN(u string, k *resourceKind) (string, bool) {
	switch strings.ToLower(u) {
	case "urn:scim:schemas:core:1.0", "urn:scim:schemas:core:2.0":
		return k.rt.Schema.ID, true
	case "urn:scim:schemas:extension:enterprise:1.0", "urn:scim:schemas:extension:enterprise:2.0":
		if k.rt.Extension(scim.EnterpriseUserSchema) != nil {
			return scim.EnterpriseUserSchema, true
		}
	}
	return u, false
}

// asClientError makes err a 400 SCIM error with scimType t unless it already is a SCIM error.
func asClientError(err error, t scim.Type) error {
	var se *scim.Error
	if errors.As(err, &se) {
		return se
	}
	return scim.New(http.StatusBadRequest, t, err.Error())
}

// view is what a response shows of a resource: the attributes and
// excludedAttributes query parameters (RFC 7644 §3.9).
type view struct {
	attrs, excluded []string
}

// maxViewBytes bounds the attributes and excludedAttributes lists of one
// request, as filter.MaxLength bounds a filter: the cost of shaping a
// response grows with the number of names times the resources shown, so a
// megabyte of names on a page of 200 would cost seconds of CPU.
const maxViewBytes = filter.MaxLength

// parseView reads the attributes and excludedAttributes query parameters
// (each a comma-separated list, possibly repeated).
func parseView(q map[string][]string) (view, error) {
	return newView(q["attributes"], q["excludedAttributes"])
}

// newView makes the view of attributes and excludedAttributes lists, from
// a query or a SearchRequest alike: entries split at commas, trimmed, empty
// ones dropped; a list longer than maxViewBytes is 400 invalidValue.
func newView(attrs, excluded []string) (view, error) {
	for _, l := range []struct {
		name string
		vs   []string
	}{{"attributes", attrs}, {"excludedAttributes", excluded}} {
		n := 0
		for _, v := range l.vs {
			n += len(v) + 1
		}
		if n > maxViewBytes+1 {
			return view{}, errorf(http.StatusBadRequest, scim.InvalidValue, "%s is %d bytes, more than the %d bytes this server accepts (a size limit)", l.name, n-1, maxViewBytes)
		}
	}
	return view{attrs: splitList(attrs), excluded: splitList(excluded)}, nil
}

// query returns the request's query parameters; most requests have none,
// and then no map is made.
func (c *call) query() url.Values {
	if c.r.URL.RawQuery == "" {
		return nil
	}
	return c.r.URL.Query()
}

func splitList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// wants reports whether the view returns the core attribute name, whose
// "returned" characteristic is "default" (members, groups).
func (v view) wants(k *resourceKind, name string) bool {
	if len(v.attrs) > 0 {
		found := false
		for _, a := range v.attrs {
			if namesAttr(k, a, name) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for _, a := range v.excluded {
		if strings.EqualFold(afterURN(k, a), name) || strings.EqualFold(a, k.rt.Schema.ID) {
			return false
		}
	}
	return true
}

// afterURN strips the core schema URN prefix from a path.
func afterURN(k *resourceKind, p string) string {
	urn := k.rt.Schema.ID
	if len(p) > len(urn) && strings.EqualFold(p[:len(urn)], urn) && p[len(urn)] == ':' {
		return p[len(urn)+1:]
	}
	return p
}

// namesAttr reports whether the attribute path p names the core attribute
// name or one of its sub-attributes; the core schema's bare URN names them
// all.
func namesAttr(k *resourceKind, p, name string) bool {
	if strings.EqualFold(p, k.rt.Schema.ID) {
		return true
	}
	p = afterURN(k, p)
	head, _, _ := strings.Cut(p, ".")
	return strings.EqualFold(head, name)
}

func (v view) empty() bool { return len(v.attrs) == 0 && len(v.excluded) == 0 }

// render builds the full wire document of a resource: its stored attributes
// plus id, meta and, when loaded, members (Group) or groups (User).
func (s *Server) render(k *resourceKind, r *store.Resource, base string, members []store.Member, groups []store.GroupRef) map[string]any {
	out := make(map[string]any, len(r.Doc)+4)
	for key, val := range r.Doc {
		out[key] = val
	}
	if _, ok := out["schemas"]; !ok {
		out["schemas"] = k.schemas
	}
	out["id"] = r.ID
	loc := base + "/" + k.endpoint + "/" + r.ID
	meta := map[string]any{
		"resourceType": k.name,
		"created":      r.Created.UTC().Format(timeLayout),
		"lastModified": r.Modified.UTC().Format(timeLayout),
		"location":     loc,
	}
	if s.prof.ETag {
		meta["version"] = etag(r.Version)
	}
	out["meta"] = meta
	if members != nil {
		ms := make([]any, len(members))
		for i, m := range members {
			ms[i] = s.memberJSON(m, base)
		}
		out["members"] = ms
	}
	if groups != nil {
		out["groups"] = groupsJSON(groups, base)
	}
	return out
}

// groupsJSON is a User's "groups" attribute (RFC 7643 §4.1.2).
func groupsJSON(groups []store.GroupRef, base string) []any {
	gs := make([]any, len(groups))
	for i, g := range groups {
		gv := map[string]any{"value": g.ID, "$ref": base + "/Groups/" + g.ID, "type": "direct"}
		if g.Display != "" {
			gv["display"] = g.Display
		}
		gs[i] = gv
	}
	return gs
}

func (s *Server) memberJSON(m store.Member, base string) map[string]any {
	typ := m.Type
	if typ == "" {
		typ = "User"
	}
	ep := "Users"
	if typ == "Group" {
		ep = "Groups"
	}
	mv := map[string]any{"value": m.Value, "type": typ, "$ref": base + "/" + ep + "/" + m.Value}
	if m.Display != "" {
		mv["display"] = m.Display
	}
	return mv
}

// project applies attributes/excludedAttributes and drops returned=never
// attributes (RFC 7643 §7, RFC 7644 §3.9).
//
// Stored documents hold no returned=never attribute (stripServerAttrs drops
// the password), so with no attributes/excludedAttributes the rendered
// document is already the projection.
func (s *Server) project(k *resourceKind, doc map[string]any, v view) map[string]any {
	if v.empty() {
		return doc
	}
	return k.rt.Project(doc, v.attrs, v.excluded)
}

// loadExtras loads the members (Group) or groups (User) of r when the view returns them.
func (s *Server) loadExtras(ctx context.Context, k *resourceKind, r *store.Resource, v view) (members []store.Member, groups []store.GroupRef, err error) {
	if k == s.users && v.wants(k, "groups") {
		if g, ok := s.cache.getGroups(r.ID); ok {
			return nil, g, nil
		}
		gen := s.cache.snapshot()
		groups, err = s.st.GroupsOf(ctx, r.ID)
		if err != nil {
			return nil, nil, err
		}
		if groups == nil {
			groups = []store.GroupRef{}
		}
		s.cache.putGroups(gen, r.ID, groups)
	}
	return nil, groups, nil
}

// membersFromDoc turns a document's loaded members ([]any of maps, as
// store.Get returns them) into store.Members.
func membersFromDoc(doc map[string]any) []store.Member {
	raw, _ := doc["members"].([]any)
	out := make([]store.Member, 0, len(raw))
	for _, m := range raw {
		switch m := m.(type) {
		case map[string]any:
			var sm store.Member
			sm.Value, _ = m["value"].(string)
			sm.Type, _ = m["type"].(string)
			sm.Display, _ = m["display"].(string)
			out = append(out, sm)
		case store.Member:
			out = append(out, m)
		}
	}
	return out
}

// renderBody renders a resource for a view: the JSON of
// project(render(…), v). The full view, which nearly every request asks for,
// is written straight from the stored document (appendResource) without
// building render's map first. So is a view that leaves what render adds
// alone, such as the excludedAttributes=members an IdP sends with a group
// PATCH: Project works attribute by attribute, so projecting the stored
// attributes alone and adding id, schemas and meta gives the same document.
func (s *Server) renderBody(k *resourceKind, r *store.Resource, base string, members []store.Member, groups []store.GroupRef, v view) ([]byte, error) {
	members = s.memberView(members)
	buf := getBuf()
	defer putBuf(buf)
	var b []byte
	var err error
	switch {
	case v.empty():
		b, err = s.appendResource((*buf)[:0], k, r, base, members, groups)
	case members == nil && groups == nil && v.leavesServerAttrs(k) && !nullSchemas(r.Doc):
		projected := *r
		projected.Doc = k.rt.Project(r.Doc, v.attrs, v.excluded)
		b, err = s.appendResource((*buf)[:0], k, &projected, base, nil, nil)
	default:
		b, err = jsondoc.Append((*buf)[:0], s.project(k, s.render(k, r, base, members, groups), v))
	}
	if err != nil {
		return nil, err
	}
	*buf = b
	// The body outlives this request in the read cache: copy it out at its
	// exact size and keep the grown buffer for the next rendering.
	return bytes.Clone(b), nil
}

// leavesServerAttrs reports whether projecting by v keeps id, schemas and
// meta as render writes them: v lists no attributes to return, and excludes
// nothing of meta (id and schemas are returned always, RFC 7643 §7).
func (v view) leavesServerAttrs(k *resourceKind) bool {
	if len(v.attrs) > 0 {
		return false
	}
	for _, name := range v.excluded {
		a, canonical, ext := schema.ResolveName(k.rt, name)
		if ext == "" && (a == schema.MetaAttr || strings.HasPrefix(canonical, "meta.")) {
			return false
		}
	}
	return true
}

// nullSchemas reports whether doc holds "schemas": null, which render keeps
// (and Project then drops) where appendResource would write the default.
func nullSchemas(doc map[string]any) bool {
	v, ok := doc["schemas"]
	return ok && v == nil
}

// appendResource appends the JSON of render(k, r, base, members, groups),
// byte for byte what marshal writes for it: render's keys in sorted order,
// the stored attributes encoded by jsondoc, and id, meta and the loaded
// members or groups written directly.
func (s *Server) appendResource(b []byte, k *resourceKind, r *store.Resource, base string, members []store.Member, groups []store.GroupRef) ([]byte, error) {
	var stack [32]string
	keys := stack[:0]
	for key := range r.Doc {
		switch {
		case key == "id" || key == "meta",
			key == "members" && members != nil,
			key == "groups" && groups != nil:
			continue // render replaces them
		}
		keys = append(keys, key)
	}
	_, hasSchemas := r.Doc["schemas"]
	if !hasSchemas {
		keys = append(keys, "schemas")
	}
	keys = append(keys, "id", "meta")
	if members != nil {
		keys = append(keys, "members")
	}
	if groups != nil {
		keys = append(keys, "groups")
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, key := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsondoc.AppendString(b, key)
		b = append(b, ':')
		var err error
		switch {
		case key == "id":
			b = jsondoc.AppendString(b, r.ID)
		case key == "meta":
			b = s.appendMeta(b, k, r, base)
		case key == "members" && members != nil:
			b = s.appendMembers(b, members, base)
		case key == "groups" && groups != nil:
			b = appendGroups(b, groups, base)
		case key == "schemas" && !hasSchemas:
			b, err = jsondoc.Append(b, k.schemas)
		default:
			b, err = jsondoc.Append(b, r.Doc[key])
		}
		if err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendMeta appends render's meta object (its keys in sorted order).
func (s *Server) appendMeta(b []byte, k *resourceKind, r *store.Resource, base string) []byte {
	b = append(b, `{"created":"`...)
	b = r.Created.UTC().AppendFormat(b, timeLayout)
	b = append(b, `","lastModified":"`...)
	b = r.Modified.UTC().AppendFormat(b, timeLayout)
	b = append(b, `","location":`...)
	b = jsondoc.AppendString(b, base+"/"+k.endpoint+"/"+r.ID)
	b = append(b, `,"resourceType":`...)
	b = jsondoc.AppendString(b, k.name)
	if s.prof.ETag {
		b = append(b, `,"version":"W/\"`...)
		b = strconv.AppendInt(b, r.Version, 10)
		b = append(b, `\""`...)
	}
	return append(b, '}')
}

// appendMembers appends the members as memberJSON renders them.
func (s *Server) appendMembers(b []byte, members []store.Member, base string) []byte {
	b = append(b, '[')
	for i, m := range members {
		if i > 0 {
			b = append(b, ',')
		}
		typ := m.Type
		if typ == "" {
			typ = "User"
		}
		ep := "Users"
		if typ == "Group" {
			ep = "Groups"
		}
		b = append(b, `{"$ref":`...)
		b = jsondoc.AppendString(b, base+"/"+ep+"/"+m.Value)
		if m.Display != "" {
			b = append(b, `,"display":`...)
			b = jsondoc.AppendString(b, m.Display)
		}
		b = append(b, `,"type":`...)
		b = jsondoc.AppendString(b, typ)
		b = append(b, `,"value":`...)
		b = jsondoc.AppendString(b, m.Value)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendGroups appends a user's groups as render writes them.
func appendGroups(b []byte, groups []store.GroupRef, base string) []byte {
	b = append(b, '[')
	for i, g := range groups {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"$ref":`...)
		b = jsondoc.AppendString(b, base+"/Groups/"+g.ID)
		if g.Display != "" {
			b = append(b, `,"display":`...)
			b = jsondoc.AppendString(b, g.Display)
		}
		b = append(b, `,"type":"direct","value":`...)
		b = jsondoc.AppendString(b, g.ID)
		b = append(b, '}')
	}
	return append(b, ']')
}

// writeResource writes one resource with its ETag (and Location on 201).
func (s *Server) writeResource(c *call, status int, k *resourceKind, r *store.Resource, members []store.Member, groups []store.GroupRef, v view) error {
	body, err := s.renderBody(k, r, c.base, members, groups, v)
	if err != nil {
		return err
	}
	s.writeBody(c, status, k, r.ID, r.Version, body)
	return nil
}

// writeBody writes a rendered resource with its ETag (and Location on 201).
func (s *Server) writeBody(c *call, status int, k *resourceKind, id string, version int64, body []byte) {
	var tag, loc string
	if s.prof.ETag {
		tag = etag(version)
	}
	if status == http.StatusCreated {
		loc = c.base + "/" + k.endpoint + "/" + id
	}
	writeJSONWith(c.w, status, body, tag, loc)
}

// cacheKey names a view of a resource at a base URL in the read cache.
func (v view) cacheKey(base string) string {
	if v.empty() {
		return base
	}
	return strings.Join(v.attrs, ",") + "\x00" + strings.Join(v.excluded, ",") + "\x00" + base
}

func (s *Server) kindOf(c *call) *resourceKind {
	p := strings.TrimPrefix(c.r.URL.Path, BasePath+"/")
	if strings.HasPrefix(p, "Groups") {
		return s.groups
	}
	return s.users
}

// readDocument reads the request body of a POST or PUT as a resource of kind
// k: decoded, validated for mode, and inside the token's scope; with the
// response view the query asks for.
func (s *Server) readDocument(c *call, k *resourceKind, mode schema.Mode) (map[string]any, view, error) {
	v, err := parseView(c.query())
	if err != nil {
		return nil, v, err
	}
	body, err := readBody(c.r, s.maxBody)
	if err != nil {
		return nil, v, err
	}
	doc, err := decodeObject(body)
	if err != nil {
		return nil, v, err
	}
	if doc, err = s.validate(k, doc, mode); err != nil {
		return nil, v, err
	}
	if err := s.checkScope(c, k, doc); err != nil {
		return nil, v, err
	}
	return doc, v, nil
}

// create serves POST /Users and POST /Groups (RFC 7644 §3.3).
func (s *Server) create(c *call) error {
	k := s.kindOf(c)
	doc, v, err := s.readDocument(c, k, schema.Create)
	if err != nil {
		return err
	}
	var (
		members []store.Member
		raw     []any
	)
	id := newID()
	if k == s.groups {
		raw, _ = doc["members"].([]any)
	}
	stripServerAttrs(doc)
	r := &store.Resource{Type: k.name, ID: id, Key: s.keyOf(k, doc), ExternalID: externalIDOf(doc), Doc: doc}
	ctx := c.r.Context()
	if len(raw) == 0 {
		err = s.st.Create(ctx, r, nil)
	} else {
		// The members are checked in the transaction that inserts the
		// group, as PATCH and PUT check theirs: a member deleted meanwhile
		// is either found missing here or, deleted after the commit, takes
		// its membership with it; never a member whose resource is gone.
		err = s.st.Write(ctx, func(tx store.Tx) error {
			var err error
			if members, err = s.normalizeMembers(ctx, txReader{tx}, id, raw); err != nil {
				return err
			}
			if s.hookMembersChecked != nil {
				s.hookMembersChecked()
			}
			return tx.Create(r, members)
		})
	}
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return s.conflict(k, doc)
		}
		return err
	}
	if len(members) > 0 {
		s.cache.invalidate(k.name, id)
	}
	var groups []store.GroupRef
	if k == s.users && v.wants(k, "groups") {
		groups = []store.GroupRef{}
	}
	if k == s.groups && members == nil {
		members = []store.Member{}
	}
	if k == s.groups && !v.wants(k, "members") {
		members = nil
	}
	out, err := s.renderBody(k, r, c.base, members, groups, v)
	if err != nil {
		return err
	}
	if members == nil {
		// No other request can know the new id before this one answers, so
		// no write can race with this fill.
		gen := s.cache.snapshot()
		s.cache.putBody(gen, r, v.cacheKey(c.base), out)
		if k == s.users {
			s.cache.putGroups(gen, r.ID, []store.GroupRef{})
		}
	}
	s.writeBody(c, http.StatusCreated, k, r.ID, r.Version, out)
	return nil
}

func (s *Server) conflict(k *resourceKind, doc map[string]any) error {
	if k == s.users {
		return errorf(http.StatusConflict, scim.Uniqueness, "userName %q is already in use", doc["userName"])
	}
	return errorf(http.StatusConflict, scim.Uniqueness, "a group with displayName %q already exists", doc["displayName"])
}

func (s *Server) notFound(k *resourceKind, id string) error {
	return errorf(http.StatusNotFound, "", "%s %s not found", k.name, truncate(id, 100))
}

// get serves GET /Users/{id} and GET /Groups/{id} (RFC 7644 §3.4.1), with
// If-None-Match (RFC 7644 §3.14).
func (s *Server) get(c *call) error {
	k := s.kindOf(c)
	return s.getResource(c, k, c.id)
}

func (s *Server) getResource(c *call, k *resourceKind, id string) error {
	v, err := parseView(c.query())
	if err != nil {
		return err
	}
	loadMembers := k == s.groups && v.wants(k, "members")
	vk := v.cacheKey(c.base)
	if !loadMembers {
		if body, ver, ok := s.cache.body(k.name, id, vk); ok {
			if done, err := s.conditionalGet(c, ver); done {
				return err
			}
			s.writeBody(c, http.StatusOK, k, id, ver, body)
			return nil
		}
	}
	gen := s.cache.snapshot()
	var (
		r      *store.Resource
		groups []store.GroupRef
	)
	// A user's groups come with it in one round trip where the store can
	// (PostgreSQL); otherwise from the cache or a second store call.
	withGroups, oneTrip := s.st.(store.GetWithGroups)
	oneTrip = oneTrip && k == s.users && v.wants(k, "groups")
	if oneTrip {
		r, groups, err = withGroups.GetWithGroups(c.r.Context(), k.name, id)
	} else {
		r, err = s.st.Get(c.r.Context(), k.name, id, loadMembers)
	}
	if errors.Is(err, store.ErrNotFound) {
		return s.notFound(k, id)
	}
	if err != nil {
		return err
	}
	if done, err := s.conditionalGet(c, r.Version); done {
		return err
	}
	var members []store.Member
	if loadMembers {
		members = membersFromDoc(r.Doc)
		r.Doc = withoutKey(r.Doc, "members")
	}
	if !oneTrip {
		if _, groups, err = s.loadExtras(c.r.Context(), k, r, v); err != nil {
			return err
		}
	}
	body, err := s.renderBody(k, r, c.base, members, groups, v)
	if err != nil {
		return err
	}
	if !loadMembers {
		s.cache.putBody(gen, r, vk, body)
	}
	s.writeBody(c, http.StatusOK, k, r.ID, r.Version, body)
	return nil
}

// conditionalGet evaluates the conditional headers of a GET of a resource
// whose current version is version (RFC 7644 §3.14, RFC 7232 §6): If-Match
// naming none of its versions is 412 and the method is not performed (RFC
// 7232 §3.1); If-None-Match naming it is 304 Not Modified. done reports
// that the request is answered (err, when set, is the answer).
func (s *Server) conditionalGet(c *call, version int64) (done bool, err error) {
	if !s.prof.ETag {
		return false, nil
	}
	if im := headerList(c.r.Header, "If-Match"); strings.TrimSpace(im) != "" && !etagMatches(im, version) {
		return true, precondition{header: im}.check(version)
	}
	if !etagMatches(headerList(c.r.Header, "If-None-Match"), version) {
		return false, nil
	}
	c.w.Header().Set("ETag", etag(version))
	c.w.WriteHeader(http.StatusNotModified)
	return true, nil
}

// headerList is every value of the header name as one comma-separated list:
// a list header sent on several lines means what one line would (RFC 7230
// §3.2.2), so `If-Match: W/"1"` and `If-Match: W/"2"` together are
// `If-Match: W/"1", W/"2"`.
func headerList(h http.Header, name string) string {
	vs := h.Values(name)
	if len(vs) == 1 {
		return vs[0]
	}
	return strings.Join(vs, ", ")
}

// withoutKey returns doc without key, copying only when the key is there.
func withoutKey(doc map[string]any, key string) map[string]any {
	if _, ok := doc[key]; !ok {
		return doc
	}
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		if k != key {
			out[k] = v
		}
	}
	return out
}

// etagMatches reports whether an If-None-Match / If-Match header value lists
// the version ("*" matches any). Weak and strong tags compare weakly (RFC 7232 §2.3.2).
func etagMatches(header string, version int64) bool {
	header = strings.TrimSpace(header)
	if header == "" {
		return false
	}
	if header == "*" {
		return true
	}
	want := strconv.FormatInt(version, 10)
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		t = strings.TrimPrefix(t, "W/")
		t = strings.TrimPrefix(strings.TrimPrefix(t, "w/"), "")
		if len(t) >= 2 && t[0] == '"' && t[len(t)-1] == '"' {
			t = t[1 : len(t)-1]
		}
		if t == want {
			return true
		}
	}
	return false
}

// precondition holds the conditional headers of a PUT, PATCH or DELETE
// (RFC 7644 §3.14, RFC 7232 §3.1–3.2).
type precondition struct {
	header    string // If-Match
	noneMatch string // If-None-Match
}

func (p precondition) active() bool {
	return strings.TrimSpace(p.header) != "" || strings.TrimSpace(p.noneMatch) != ""
}

// check returns a 412 error when the existing resource's current version
// does not satisfy If-Match, or satisfies If-None-Match ("*" matches any
// existing resource; RFC 7232 §3.2: a state-changing request then fails).
func (p precondition) check(version int64) error {
	if strings.TrimSpace(p.header) != "" && !etagMatches(p.header, version) {
		return scim.New(http.StatusPreconditionFailed, "", "If-Match "+truncate(p.header, 100)+" does not match the current version "+etag(version))
	}
	if strings.TrimSpace(p.noneMatch) != "" && etagMatches(p.noneMatch, version) {
		return scim.New(http.StatusPreconditionFailed, "", "If-None-Match "+truncate(p.noneMatch, 100)+" matches the current version "+etag(version))
	}
	return nil
}

func (s *Server) precondition(c *call) precondition {
	if !s.prof.ETag {
		return precondition{}
	}
	return precondition{header: headerList(c.r.Header, "If-Match"), noneMatch: headerList(c.r.Header, "If-None-Match")}
}

// delete serves DELETE /Users/{id} and /Groups/{id} (RFC 7644 §3.6).
func (s *Server) delete(c *call) error {
	k := s.kindOf(c)
	return s.deleteResource(c, k, c.id)
}

func (s *Server) deleteResource(c *call, k *resourceKind, id string) error {
	ctx := c.r.Context()
	pre := s.precondition(c)
	// A scoped token may delete only a user in its scope: the user is read
	// first and deleted at the version read; should it change in between
	// (without If-Match), it is read and checked again.
	scoped := k == s.users && len(c.token.EmailDomains) > 0
	for attempt := 1; ; attempt++ {
		var ver int64
		if pre.active() || scoped {
			r, err := s.st.Get(ctx, k.name, id, false)
			if errors.Is(err, store.ErrNotFound) {
				return s.notFound(k, id)
			}
			if err != nil {
				return err
			}
			if err := pre.check(r.Version); err != nil {
				return err
			}
			if err := s.checkScope(c, k, r.Doc); err != nil {
				return err
			}
			ver = r.Version
		}
		err := s.st.Delete(ctx, k.name, id, ver)
		s.cache.deleted(k.name, id)
		if errors.Is(err, store.ErrNotFound) {
			return s.notFound(k, id)
		}
		if errors.Is(err, store.ErrVersionMismatch) && !pre.active() && attempt < 5 {
			continue // changed under a scoped delete: check it again
		}
		if errors.Is(err, store.ErrVersionMismatch) {
			return scim.New(http.StatusPreconditionFailed, "", "the resource changed since If-Match was computed")
		}
		if err != nil {
			return err
		}
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// replace serves PUT /Users/{id} and /Groups/{id} (RFC 7644 §3.5.1):
// readOnly attributes in the body are ignored (id, meta, groups — Okta sends
// back what it read), immutable attributes must keep their value, and
// attributes the body omits are cleared.
func (s *Server) replace(c *call) error {
	k := s.kindOf(c)
	return s.replaceResource(c, k, c.id)
}

func (s *Server) replaceResource(c *call, k *resourceKind, id string) error {
	ctx := c.r.Context()
	doc, v, err := s.readDocument(c, k, schema.Replace)
	if err != nil {
		return err
	}
	rawMembers, _ := doc["members"].([]any)
	stripServerAttrs(doc)
	pre := s.precondition(c)
	needMembers := k == s.groups && v.wants(k, "members")
	var members []store.Member
	var flipped bool // groups that show the user show it differently now
	r, err := s.st.Update(ctx, k.name, id, 0, func(tx store.Tx, r *store.Resource) error {
		flipped = false
		if err := pre.check(r.Version); err != nil {
			return err
		}
		// A scoped token may replace only a user already in its scope.
		if err := s.checkScope(c, k, r.Doc); err != nil {
			return err
		}
		if err := k.rt.CheckImmutable(r.Doc, doc); err != nil {
			return asClientError(err, scim.Mutability)
		}
		changed := !reflect.DeepEqual(r.Doc, doc)
		if k == s.groups {
			have, err := tx.Members(id)
			if err != nil {
				return err
			}
			want, err := s.normalizeMembersKnown(ctx, txReader{tx}, id, rawMembers, byValue(have))
			if err != nil {
				return err
			}
			mc, err := s.syncMembers(tx, id, want, have)
			if err != nil {
				return err
			}
			changed = changed || mc
			if needMembers {
				if members, err = tx.Members(id); err != nil {
					return err
				}
			}
		}
		if !changed {
			return store.ErrUnchanged
		}
		flipped = s.shownDiffers(k, r.Doc, doc)
		r.Doc = doc
		r.Key = s.keyOf(k, doc)
		r.ExternalID = externalIDOf(doc)
		return nil
	})
	s.cache.invalidate(k.name, id)
	if err != nil {
		return s.updateErr(k, id, doc, err)
	}
	if flipped {
		s.touchGroupsOf(ctx, id)
	}
	if needMembers && members == nil {
		members = []store.Member{}
	}
	_, groups, err := s.loadExtras(ctx, k, r, v)
	if err != nil {
		return err
	}
	return s.writeResource(c, http.StatusOK, k, r, members, groups, v)
}

// updateErr maps store errors of an Update to SCIM errors.
func (s *Server) updateErr(k *resourceKind, id string, doc map[string]any, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		var se *scim.Error
		if errors.As(err, &se) {
			return se
		}
		return s.notFound(k, id)
	case errors.Is(err, store.ErrConflict):
		return s.conflict(k, doc)
	case errors.Is(err, store.ErrVersionMismatch):
		return scim.New(http.StatusPreconditionFailed, "", "the resource changed: If-Match does not match its current version")
	}
	return err
}

// byValue indexes members by value.
func byValue(ms []store.Member) map[string]store.Member {
	out := make(map[string]store.Member, len(ms))
	for _, m := range ms {
		out[m.Value] = m
	}
	return out
}

// syncMembers makes the group's member list equal to want, writing only the
// difference, and reports whether anything changed.
func (s *Server) syncMembers(tx store.Tx, gid string, want, have []store.Member) (bool, error) {
	haveSet := make(map[string]bool, len(have))
	for _, m := range have {
		haveSet[m.Value] = true
	}
	wantSet := make(map[string]bool, len(want))
	var add []store.Member
	for _, m := range want {
		if wantSet[m.Value] {
			continue
		}
		wantSet[m.Value] = true
		if !haveSet[m.Value] {
			add = append(add, m)
		}
	}
	var remove []string
	for _, m := range have {
		if !wantSet[m.Value] {
			remove = append(remove, m.Value)
		}
	}
	if len(remove) > 0 {
		if _, err := tx.RemoveMembers(gid, remove); err != nil {
			return false, err
		}
	}
	if len(add) > 0 {
		if _, err := tx.AddMembers(gid, add); err != nil {
			return false, err
		}
	}
	return len(add) > 0 || len(remove) > 0, nil
}
