package server

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/scimlab/scimlab/reference-server/filter"
	"github.com/scimlab/scimlab/reference-server/schema"
	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reference-server/store"
)

// listParams are the query parameters of RFC 7644 §3.4.2 (GET) or the
// SearchRequest of §3.4.3 (POST /.search).
type listParams struct {
	filterText string
	hasFilter  bool // a filter was given, even an empty one
	expr       filter.Expr
	sortBy     string
	sortPath   filter.AttrPath
	desc       bool
	startIndex int // 1-based
	count      int // after clamping to maxResults
	view       view
}

// parseListQuery reads the query parameters of a GET on a resource endpoint.
func (s *Server) parseListQuery(q url.Values) (listParams, error) {
	// A parameter that takes one value, given twice, is refused rather than
	// read as its first value: two filters read as one would answer a wider
	// set than the client asked for, without a word.
	for _, name := range []string{"filter", "sortBy", "sortOrder", "startIndex", "count"} {
		if len(q[name]) > 1 {
			if name == "filter" {
				return listParams{}, errorf(http.StatusBadRequest, scim.InvalidFilter, "filter is given %d times; it takes one filter (join them with \"and\" or \"or\")", len(q[name]))
			}
			return listParams{}, errorf(http.StatusBadRequest, scim.InvalidValue, "%s is given %d times; it takes one value", name, len(q[name]))
		}
	}
	v, err := parseView(q)
	if err != nil {
		return listParams{}, err
	}
	_, hasFilter := q["filter"]
	p := listParams{view: v, filterText: q.Get("filter"), hasFilter: hasFilter, sortBy: strings.TrimSpace(q.Get("sortBy"))}
	var start, count *int
	if v, ok := q["startIndex"]; ok && len(v) > 0 {
		n, err := parseIntParam("startIndex", v[0])
		if err != nil {
			return p, err
		}
		start = &n
	}
	if v, ok := q["count"]; ok && len(v) > 0 {
		n, err := parseIntParam("count", v[0])
		if err != nil {
			return p, err
		}
		count = &n
	}
	if err := s.finishParams(&p, q.Get("sortOrder"), start, count); err != nil {
		return p, err
	}
	return p, nil
}

// parseIntParam reads startIndex or count; a non-integer is 400 invalidValue.
// An integer beyond ±2^31 is taken as ±2^31, however large it is, so that
// every such value is answered (and echoed as startIndex) alike.
func parseIntParam(name, v string) (int, error) {
	v = strings.TrimSpace(v)
	n, err := strconv.ParseInt(v, 10, 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange):
		return 0, errorf(http.StatusBadRequest, scim.InvalidValue, "%s must be an integer, not %q (RFC 7644 §3.4.2.4)", name, truncate(v, 40))
	case n < -1<<31:
		return -1 << 31, nil
	case n > 1<<31:
		return 1 << 31, nil
	}
	return int(n), nil
}

// finishParams validates and normalises paging, sorting and the filter.
//
// RFC 7644 §3.4.2.4: startIndex < 1 is taken as 1; a negative count is taken
// as 0; count = 0 returns only totalResults; a count above the server's
// maximum (ServiceProviderConfig filter.maxResults) is clamped to it, and a
// missing count means the profile's default page size.
func (s *Server) finishParams(p *listParams, sortOrder string, start, count *int) error {
	p.startIndex = 1
	if start != nil && *start > 1 {
		p.startIndex = *start
	}
	p.count = s.prof.DefaultCount
	if count != nil {
		p.count = min(max(*count, 0), s.prof.MaxResults)
	}
	switch strings.ToLower(strings.TrimSpace(sortOrder)) {
	case "", "ascending":
	case "descending":
		p.desc = true
	default:
		return errorf(http.StatusBadRequest, scim.InvalidValue, "sortOrder must be \"ascending\" or \"descending\", not %q (RFC 7644 §3.4.2.3)", truncate(sortOrder, 40))
	}
	if !s.prof.Sort {
		p.sortBy, p.desc = "", false
	}
	if p.sortBy != "" {
		ap, err := filter.ParseAttrPath(p.sortBy)
		if err != nil {
			return errorf(http.StatusBadRequest, scim.InvalidValue, "sortBy %q is not an attribute path", truncate(p.sortBy, 100))
		}
		p.sortPath = ap
	}
	if p.hasFilter || p.filterText != "" {
		if strings.TrimSpace(p.filterText) == "" {
			// Not the grammar's (RFC 7644 §3.4.2.2 Figure 1); read as "no
			// filter" it would return the whole collection to a client
			// whose filter template lost its value.
			return scim.New(http.StatusBadRequest, scim.InvalidFilter, "the filter is empty; to list every resource, leave the filter out")
		}
		if !s.prof.Filter {
			return scim.New(http.StatusBadRequest, scim.InvalidFilter, "this server does not support filtering (ServiceProviderConfig filter.supported is false)")
		}
		parse := filter.Parse
		if s.prof.Lenient.Any() {
			// Entra's `emails[type eq "work"].value eq "x"` (idp-traffic.md §1.2).
			parse = filter.ParseDialect
		}
		e, err := parse(p.filterText)
		if err != nil {
			var pe *filter.ParseError
			if errors.As(err, &pe) {
				se := pe.SCIM()
				se.ScimType = scim.InvalidFilter
				return se
			}
			return asClientError(err, scim.InvalidFilter)
		}
		p.expr = e
	}
	return nil
}

// list serves GET /Users and GET /Groups (RFC 7644 §3.4.2).
func (s *Server) list(c *call) error {
	k := s.kindOf(c)
	p, err := s.parseListQuery(c.r.URL.Query())
	if err != nil {
		return err
	}
	return s.serveList(c, []*resourceKind{k}, p)
}

// search serves POST /.search and POST /{Users,Groups}/.search (RFC 7644 §3.4.3).
func (s *Server) search(c *call) error {
	body, err := readBody(c.r, s.maxBody)
	if err != nil {
		return err
	}
	if _, err := decodeObject(body); err != nil {
		return err
	}
	var req struct {
		scim.SearchRequest
		// Read as GET reads them: an integer beyond int's range is clamped.
		StartIndex json.RawMessage `json:"startIndex"`
		Count      json.RawMessage `json:"count"`
		Filter     *string         `json:"filter"` // nil: absent; "": an empty filter
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return errorf(http.StatusBadRequest, scim.InvalidSyntax, "the SearchRequest is malformed: %s", jsonErrText(err))
	}
	if !slices.ContainsFunc(req.Schemas, func(x string) bool { return strings.EqualFold(x, scim.SearchRequestSchema) }) {
		return errorf(http.StatusBadRequest, scim.InvalidSyntax, "\"schemas\" must contain %q (RFC 7644 §3.4.3)", scim.SearchRequestSchema)
	}
	v, err := newView(req.Attributes, req.ExcludedAttributes)
	if err != nil {
		return err
	}
	start, err := searchInt("startIndex", req.StartIndex)
	if err != nil {
		return err
	}
	count, err := searchInt("count", req.Count)
	if err != nil {
		return err
	}
	p := listParams{hasFilter: req.Filter != nil, sortBy: strings.TrimSpace(req.SortBy), view: v}
	if req.Filter != nil {
		p.filterText = *req.Filter
	}
	if err := s.finishParams(&p, req.SortOrder, start, count); err != nil {
		return err
	}
	var kinds []*resourceKind
	switch strings.TrimPrefix(c.r.URL.Path, BasePath) {
	case "/Users/.search":
		kinds = []*resourceKind{s.users}
	case "/Groups/.search":
		kinds = []*resourceKind{s.groups}
	default:
		kinds = s.kinds
	}
	return s.serveList(c, kinds, p)
}

// searchInt reads a SearchRequest's startIndex or count: absent or null is
// nil; a JSON integer is read as the query parameter is (parseIntParam,
// which clamps one beyond int's range); anything else is 400.
func searchInt(name string, raw json.RawMessage) (*int, error) {
	t := strings.TrimSpace(string(raw))
	if t == "" || t == "null" {
		return nil, nil
	}
	if t[0] != '-' && (t[0] < '0' || t[0] > '9') {
		return nil, errorf(http.StatusBadRequest, scim.InvalidSyntax, "the SearchRequest is malformed: %s must be a JSON integer, not %s", name, truncate(t, 40))
	}
	n, err := parseIntParam(name, t)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// absentTruth evaluates e for resources of type rt as far as the attributes
// rt lacks decide it: such an attribute has no value (RFC 7644 §3.4.2.1),
// so its expressions are true or false whatever the resource; the others
// are unknown. known reports whether e's value is decided, so that a root
// search skips a type for which the filter cannot hold (a userName lookup
// need not read every Group).
func absentTruth(e filter.Expr, rt *schema.ResourceType) (v, known bool) {
	switch x := e.(type) {
	case *filter.Logical:
		lv, lk := absentTruth(x.Left, rt)
		rv, rk := absentTruth(x.Right, rt)
		if x.Op == filter.And {
			switch {
			case (lk && !lv) || (rk && !rv):
				return false, true
			case lk && rk:
				return true, true
			}
			return false, false
		}
		switch {
		case (lk && lv) || (rk && rv):
			return true, true
		case lk && rk:
			return false, true
		}
		return false, false
	case *filter.Not:
		v, k := absentTruth(x.X, rt)
		return !v, k
	}
	if filter.Validate(e, rt) == nil {
		return false, false // rt has the attribute: up to each resource
	}
	return filter.Match(e, map[string]any{}, nil), true
}

// serveList runs a query over one or more resource types and writes the ListResponse.
func (s *Server) serveList(c *call, kinds []*resourceKind, p listParams) error {
	ctx := c.r.Context()
	// Validate the filter and sortBy; at the root each only has to make
	// sense for one of the types (RFC 7644 §3.4.2.1).
	usable := kinds
	if p.expr != nil {
		rts := make([]*schema.ResourceType, len(kinds))
		for i, k := range kinds {
			rts[i] = k.rt
		}
		// For a type that lacks an attribute the filter names, the
		// attribute has no value (RFC 7644 §3.4.2.1): a document of that
		// type does not hold it, which is how filter.Match treats it.
		if err := filter.ValidateAny(p.expr, rts); err != nil {
			return asClientError(err, scim.InvalidFilter)
		}
		if len(kinds) > 1 {
			usable = nil
			for _, k := range kinds {
				if v, known := absentTruth(p.expr, k.rt); !known || v {
					usable = append(usable, k)
				}
			}
		}
	}
	if p.sortBy != "" {
		var known, complex *schema.Attribute
		for _, k := range kinds {
			a, _ := resolveSort(k, p.sortPath)
			switch {
			case a == nil:
			case a.Type == schema.Complex && !a.MultiValued && p.sortPath.Sub == "":
				complex = a
			default:
				known = a
			}
		}
		switch {
		case known == nil && complex != nil:
			// "If the attribute is complex, the attribute name must be a
			// path to a sub-attribute" (RFC 7644 §3.4.2.3); a multi-valued
			// one sorts by its primary value, a singular one has none.
			ex := complex.Name + ".value"
			if len(complex.SubAttributes) > 0 {
				ex = complex.Name + "." + complex.SubAttributes[0].Name
			}
			return errorf(http.StatusBadRequest, scim.InvalidValue, "sortBy %q names a complex attribute; name one of its sub-attributes, such as %q (RFC 7644 §3.4.2.3)", truncate(p.sortBy, 100), ex)
		case known == nil:
			return errorf(http.StatusBadRequest, scim.InvalidValue, "sortBy %q is not an attribute of the resources searched", truncate(p.sortBy, 100))
		}
	}
	items, total, err := s.query(ctx, usable, p, c.base)
	if err != nil {
		return err
	}
	buf := getBuf() // the page is written before it goes back
	defer putBuf(buf)
	b := append((*buf)[:0], `{"schemas":["`+scim.ListResponseSchema+`"],"totalResults":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, `,"itemsPerPage":`...)
	b = strconv.AppendInt(b, int64(len(items)), 10)
	b = append(b, `,"startIndex":`...)
	b = strconv.AppendInt(b, int64(p.startIndex), 10)
	b = append(b, `,"Resources":[`...)
	pageGroups, err := s.pageGroups(ctx, items, p.view)
	if err != nil {
		return err
	}
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		if it.body != nil {
			b = append(b, it.body...)
			continue
		}
		vk := p.view.cacheKey(c.base)
		withMembers := it.k == s.groups && p.view.wants(it.k, "members")
		if !withMembers {
			if body, ver, ok := s.cache.body(it.k.name, it.r.ID, vk); ok && ver == it.r.Version {
				b = append(b, body...)
				continue
			}
		}
		var members []store.Member
		if withMembers {
			members = membersFromDoc(it.r.Doc)
		}
		if it.k == s.groups {
			it.r.Doc = withoutKey(it.r.Doc, "members")
		}
		groups, ok := it.r.Groups, it.r.Groups != nil // read with the page (store.Query.WithGroups)
		if !ok {
			groups, ok = pageGroups[it.r.ID]
		}
		if !ok {
			if _, groups, err = s.loadExtras(ctx, it.k, it.r, p.view); err != nil {
				return err
			}
		}
		body, err := s.renderBody(it.k, it.r, c.base, members, groups, p.view)
		if err != nil {
			return err
		}
		if !withMembers {
			s.cache.putBody(it.gen, it.r, vk, body)
		}
		b = append(b, body...)
	}
	b = append(b, "]}"...)
	*buf = b
	writeJSON(c.w, http.StatusOK, b)
	return nil
}

// pageGroups fetches the groups of every user on a page in one store call,
// where the store offers one (store.GroupsOfMany: a database across a
// network, where one query per user would cost a round trip each) and the
// read cache does not hold them; nil otherwise, and each user's groups are
// loaded as it is rendered.
func (s *Server) pageGroups(ctx context.Context, items []item, v view) (map[string][]store.GroupRef, error) {
	many, ok := s.st.(store.GroupsOfMany)
	if !ok || !v.wants(s.users, "groups") {
		return nil, nil
	}
	var ids []string
	for _, it := range items {
		if it.k != s.users || it.body != nil || it.r.Groups != nil {
			continue
		}
		if _, cached := s.cache.getGroups(it.r.ID); !cached {
			ids = append(ids, it.r.ID)
		}
	}
	if len(ids) < 2 {
		return nil, nil
	}
	got, err := many.GroupsOfMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]store.GroupRef, len(ids))
	for _, id := range ids {
		g := got[id]
		if g == nil {
			g = []store.GroupRef{}
		}
		out[id] = g
	}
	return out, nil
}

// item is one query result with its kind; body is set when the read cache
// had its rendering, gen is the cache generation before it was read.
type item struct {
	k    *resourceKind
	r    *store.Resource
	body []byte
	gen  uint64
}

// query runs the search over kinds (in that order) and returns one page and
// the total. Results come in creation order (Seq) unless sorted, so pages are
// stable (idp-traffic.md: Okta pages with startIndex).
func (s *Server) query(ctx context.Context, kinds []*resourceKind, p listParams, base string) ([]item, int, error) {
	type plan struct {
		k    *resourceKind
		q    store.Query
		post func(*store.Resource) (bool, error)
	}
	plans := make([]plan, 0, len(kinds))
	collect := p.sortBy != ""
	for _, k := range kinds {
		q, post, err := s.storeQuery(ctx, k, p, base)
		if err != nil {
			return nil, 0, err
		}
		collect = collect || post != nil
		if k == s.groups && p.sortBy != "" && isCoreAttr(k, p.sortPath, "members") {
			q.LoadMembers = true // sorted by a member value (RFC 7644 §3.4.2.3)
		}
		if k == s.groups && p.view.wants(k, "members") {
			q.LoadMembers = true
		}
		q.WithGroups = k == s.users && p.view.wants(k, "groups")
		plans = append(plans, plan{k, q, post})
	}
	offset := p.startIndex - 1
	total := 0
	var out []item
	for _, pl := range plans {
		q := pl.q
		gen := s.cache.snapshot()
		if !collect && pl.post == nil && q.Match == nil && !q.LoadMembers && (q.Key != "" || q.ID != "") && q.HasMember == "" && q.MemberOf == "" && q.ExternalID == "" && s.cache != nil {
			// A lookup by userName/displayName or id: one resource at most.
			var id string
			var body []byte
			var ver int64
			var ok bool
			if q.Key == "" {
				id = q.ID
				body, ver, ok = s.cache.body(q.Type, q.ID, p.view.cacheKey(base))
			} else if q.ID == "" {
				id, body, ver, ok = s.cache.bodyByKey(q.Type, q.Key, p.view.cacheKey(base))
			}
			if ok {
				if total >= offset && len(out) < p.count {
					out = append(out, item{k: pl.k, r: &store.Resource{Type: q.Type, ID: id, Version: ver}, body: body})
				}
				total++
				continue
			}
		}
		if collect {
			q.Offset, q.Limit = 0, -1
		} else {
			q.Offset = max(offset-total, 0)
			q.Limit = max(p.count-len(out), 0)
		}
		page, n, err := s.st.List(ctx, q)
		if err != nil {
			return nil, 0, err
		}
		if pl.post != nil {
			kept := page[:0]
			for _, r := range page {
				ok, err := pl.post(r)
				if err != nil {
					return nil, 0, err
				}
				if ok {
					kept = append(kept, r)
				}
			}
			page, n = kept, len(kept)
		}
		for _, r := range page {
			out = append(out, item{k: pl.k, r: r, gen: gen})
		}
		total += n
	}
	if collect {
		if p.sortBy != "" {
			if err := s.sortItems(ctx, out, p, base); err != nil {
				return nil, 0, err
			}
		}
		lo := min(offset, len(out))
		hi := min(lo+p.count, len(out))
		out = out[lo:hi]
	}
	return out, total, nil
}

// storeQuery turns the filter into a store query, pushing indexable
// equality tests down (RFC 7644 §3.4.2.2): userName eq (User Key),
// displayName eq (Group Key), externalId eq, id eq, members.value eq /
// members[value eq] (HasMember), groups.value eq (MemberOf). Everything else
// is evaluated with filter.Match. A filter that names a User's computed
// groups returns post, which evaluates it outside the store.
func (s *Server) storeQuery(ctx context.Context, k *resourceKind, p listParams, base string) (store.Query, func(*store.Resource) (bool, error), error) {
	q := store.Query{Type: k.name, Limit: -1}
	if p.expr == nil {
		return q, nil, nil
	}
	exact := s.pushDown(k, p.expr, &q)
	if exact {
		return q, nil, nil
	}
	expr := p.expr
	if k == s.users && mentions(k, expr, "groups") {
		post := func(r *store.Resource) (bool, error) {
			groups, err := s.st.GroupsOf(ctx, r.ID)
			if err != nil {
				return false, err
			}
			doc := s.render(k, r, base, nil, groupsOrEmpty(groups))
			return filter.Match(expr, doc, k.rt), nil
		}
		return q, post, nil
	}
	q.LoadMembers = k == s.groups && mentions(k, expr, "members")
	q.Match = func(r *store.Resource) bool {
		return filter.Match(expr, s.filterDoc(k, r, base, nil), k.rt)
	}
	return q, nil, nil
}

func groupsOrEmpty(g []store.GroupRef) []store.GroupRef {
	if g == nil {
		return []store.GroupRef{}
	}
	return g
}

// filterDoc is the document a filter sees: the stored attributes plus id and
// meta (members stay as the store loaded them). It never modifies r.Doc.
func (s *Server) filterDoc(k *resourceKind, r *store.Resource, base string, groups []store.GroupRef) map[string]any {
	doc := make(map[string]any, len(r.Doc)+3)
	for key, v := range r.Doc {
		doc[key] = v
	}
	doc["id"] = r.ID
	doc["meta"] = map[string]any{
		"resourceType": k.name,
		"created":      r.Created.UTC().Format(timeLayout),
		"lastModified": r.Modified.UTC().Format(timeLayout),
		"version":      etag(r.Version),
		"location":     base + "/" + k.endpoint + "/" + r.ID,
	}
	if k == s.groups {
		// Loaded members as a response shows them: with type and $ref.
		if raw, ok := r.Doc["members"].([]any); ok {
			ms := make([]any, len(raw))
			for i, m := range membersFromDoc(r.Doc) {
				ms[i] = s.memberJSON(m, base)
			}
			doc["members"] = ms
		}
	} else if groups != nil {
		doc["groups"] = groupsJSON(groups, base)
	}
	return doc
}

// pushDown sets an index field of q from an equality in the top-level "and"
// chain of e, and reports whether that index alone decides the filter.
func (s *Server) pushDown(k *resourceKind, e filter.Expr, q *store.Query) bool {
	switch e := e.(type) {
	case *filter.Logical:
		if e.Op != filter.And {
			return false
		}
		if !s.pushDown(k, e.Left, q) {
			s.pushDown(k, e.Right, q)
		}
		return false
	case *filter.ValuePath:
		// members[value eq "x"] on Groups.
		if k != s.groups || !isCoreAttr(k, e.Attr, "members") || e.Attr.Sub != "" {
			return false
		}
		c, ok := e.Filter.(*filter.Compare)
		if !ok || c.Op != filter.Eq || c.Attr.URI != "" || c.Attr.Sub != "" || !strings.EqualFold(c.Attr.Name, "value") {
			return false
		}
		v, ok := c.Value.(string)
		if !ok || v == "" || hasIndex(q) {
			return false
		}
		q.HasMember = v
		return true
	case *filter.Compare:
		if e.Op != filter.Eq || hasIndex(q) {
			return false
		}
		v, ok := e.Value.(string)
		if !ok || v == "" {
			// The store reads an empty index value as no constraint; the
			// filter itself, evaluated on each resource, matches none
			// (`userName eq ""`, a lookup whose template lost its value).
			return false
		}
		a := e.Attr
		switch {
		case a.Sub == "" && isCommonAttr(k, a, "id"):
			q.ID = v
			return true
		case a.Sub == "" && isCommonAttr(k, a, "externalId"):
			q.ExternalID = v
			return true
		case a.Sub == "" && k == s.users && isCoreAttr(k, a, "userName"):
			q.Key = s.keyValue(k, v)
			return true
		case a.Sub == "" && k == s.groups && isCoreAttr(k, a, "displayName"):
			q.Key = s.keyValue(k, v)
			return true
		case k == s.groups && isCoreAttr(k, a, "members") && strings.EqualFold(a.Sub, "value"):
			q.HasMember = v
			return true
		case k == s.users && isCoreAttr(k, a, "groups") && strings.EqualFold(a.Sub, "value"):
			q.MemberOf = v
			return true
		}
	}
	return false
}

func hasIndex(q *store.Query) bool {
	return q.ID != "" || q.Key != "" || q.ExternalID != "" || q.HasMember != "" || q.MemberOf != ""
}

// isCoreAttr reports whether a names the core-schema attribute name.
func isCoreAttr(k *resourceKind, a filter.AttrPath, name string) bool {
	return strings.EqualFold(a.Name, name) && (a.URI == "" || strings.EqualFold(a.URI, k.rt.Schema.ID))
}

// isCommonAttr reports whether a names a common attribute (id, externalId).
func isCommonAttr(k *resourceKind, a filter.AttrPath, name string) bool {
	return isCoreAttr(k, a, name)
}

// mentions reports whether the filter names the core attribute name anywhere.
func mentions(k *resourceKind, e filter.Expr, name string) bool {
	switch e := e.(type) {
	case *filter.Compare:
		return isCoreAttr(k, e.Attr, name)
	case *filter.Logical:
		return mentions(k, e.Left, name) || mentions(k, e.Right, name)
	case *filter.Not:
		return mentions(k, e.X, name)
	case *filter.ValuePath:
		return isCoreAttr(k, e.Attr, name)
	}
	return false
}

// resolveSort finds the attribute sortBy names in k.
func resolveSort(k *resourceKind, p filter.AttrPath) (*schema.Attribute, string) {
	a, owner := k.rt.Resolve(p.URI, p.Name, p.Sub)
	if a == nil && p.URI != "" && strings.EqualFold(p.URI, k.rt.Schema.ID) {
		a, owner = k.rt.Resolve("", p.Name, p.Sub)
	}
	return a, owner
}

// sortItems orders results by sortBy (RFC 7644 §3.4.2.3). Strings compare
// case-insensitively unless the attribute is caseExact; a multi-valued
// attribute sorts by its primary value, else its first; resources without a
// value sort last in ascending order and first in descending order; ties
// keep creation order.
func (s *Server) sortItems(ctx context.Context, items []item, p listParams, base string) error {
	type keyed struct {
		it  item
		val any
		def *schema.Attribute
	}
	ks := make([]keyed, len(items))
	for i, it := range items {
		a, owner := resolveSort(it.k, p.sortPath)
		var v any
		if a != nil {
			var groups []store.GroupRef
			if it.k == s.users && isCoreAttr(it.k, p.sortPath, "groups") {
				// A User's groups are computed, not stored with it.
				_, g, err := s.loadExtras(ctx, it.k, it.r, view{})
				if err != nil {
					return err
				}
				groups = groupsOrEmpty(g)
			}
			v = sortValue(s.filterDoc(it.k, it.r, base, groups), it.k, p.sortPath, a, owner)
		}
		ks[i] = keyed{it, v, a}
	}
	slices.SortStableFunc(ks, func(x, y keyed) int {
		c := compareSort(x.val, y.val, x.def)
		if p.desc {
			c = -c
		}
		if c == 0 {
			return cmp.Compare(x.it.r.Seq, y.it.r.Seq)
		}
		return c
	})
	for i := range ks {
		items[i] = ks[i].it
	}
	return nil
}

func sortValue(doc map[string]any, k *resourceKind, p filter.AttrPath, a *schema.Attribute, owner string) any {
	container := doc
	if owner != "" && !strings.EqualFold(owner, k.rt.Schema.ID) {
		m, ok := doc[owner].(map[string]any)
		if !ok {
			return nil
		}
		container = m
	}
	top, _ := k.rt.Resolve(p.URI, p.Name, "")
	if top == nil {
		top, _ = k.rt.Resolve("", p.Name, "")
	}
	if top == nil {
		return nil
	}
	v := lookupFold(container, top.Name)
	sub := p.Sub
	if list, ok := v.([]any); ok {
		var pick any
		for _, x := range list {
			if m, ok := x.(map[string]any); ok && m["primary"] == true {
				pick = x
				break
			}
		}
		if pick == nil && len(list) > 0 {
			pick = list[0]
		}
		v = pick
		if sub == "" && top.Type == schema.Complex {
			sub = "value"
		}
	}
	if sub != "" {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = lookupFold(m, sub)
	}
	if str, ok := v.(string); ok && !a.CaseExact {
		return strings.ToLower(str)
	}
	return v
}

// compareSort orders two sort values; nil sorts after everything.
func compareSort(x, y any, _ *schema.Attribute) int {
	switch {
	case x == nil && y == nil:
		return 0
	case x == nil:
		return 1
	case y == nil:
		return -1
	}
	switch xv := x.(type) {
	case string:
		if yv, ok := y.(string); ok {
			return strings.Compare(xv, yv)
		}
	case float64:
		if yv, ok := y.(float64); ok {
			return cmp.Compare(xv, yv)
		}
	case bool:
		if yv, ok := y.(bool); ok {
			switch {
			case xv == yv:
				return 0
			case !xv:
				return -1
			}
			return 1
		}
	}
	return 0
}
