package framework

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/scimlab/scimlab/reference-server/scim"
)

// UserName returns a run-unique userName that starts with the run prefix
// and the tag: "scimlab-<run>-<tag>-<n>@example.com".
func UserName(tag string) string {
	t := Current()
	return fmt.Sprintf("%s%s-%03d@example.com", t.Prefix(), tag, t.next())
}

// GroupName returns a run-unique group displayName: "scimlab-<run>-<tag>-<n>".
func GroupName(tag string) string {
	t := Current()
	return fmt.Sprintf("%s%s-%03d", t.Prefix(), tag, t.next())
}

// ExternalID returns a run-unique externalId.
func ExternalID() string {
	t := Current()
	return fmt.Sprintf("%sext-%03d-%s", t.Prefix(), t.next(), strings.ToLower(t.Faker.Lexify("????")))
}

// NewUser returns a core User with a fresh userName, a name, a display name,
// one work email and active=true.
func NewUser(tag string) Doc {
	t := Current()
	given, family := t.Faker.FirstName(), t.Faker.LastName()
	un := UserName(tag)
	return Doc{
		"schemas":     []any{scim.UserSchema},
		"userName":    un,
		"externalId":  ExternalID(),
		"name":        map[string]any{"givenName": given, "familyName": family, "formatted": given + " " + family},
		"displayName": given + " " + family,
		"emails":      []any{map[string]any{"value": strings.TrimPrefix(un, t.Prefix()), "type": "work", "primary": true}},
		"active":      true,
	}
}

// MinimalUser returns a User with only schemas and userName.
func MinimalUser(tag string) Doc {
	return Doc{"schemas": []any{scim.UserSchema}, "userName": UserName(tag)}
}

// EnterpriseUser returns NewUser(tag) with the enterprise extension filled
// (employeeNumber, costCenter, organization, division "R&D", department
// "Engineering") and one value per multi-valued attribute, for checks about
// the extension rather than about multi-valued attributes.
func EnterpriseUser(tag string) Doc {
	t := Current()
	u := NewUser(tag)
	u["schemas"] = []any{scim.UserSchema, scim.EnterpriseUserSchema}
	u[scim.EnterpriseUserSchema] = map[string]any{
		"employeeNumber": t.Faker.Numerify("E#####"),
		"costCenter":     "CC-" + t.Faker.Numerify("###"),
		"organization":   t.Faker.Company(),
		"division":       "R&D",
		"department":     "Engineering",
	}
	return u
}

// FullUser returns a User with most core attributes, two emails and the
// enterprise extension filled.
func FullUser(tag string) Doc {
	t := Current()
	u := EnterpriseUser(tag)
	u["nickName"] = t.Faker.FirstName()
	u["title"] = t.Faker.JobTitle()
	u["userType"] = "Employee"
	u["preferredLanguage"] = "en-US"
	u["locale"] = "en-US"
	u["timezone"] = "Europe/Paris"
	u["phoneNumbers"] = []any{map[string]any{"value": "+1-555-0100", "type": "work"}}
	u["addresses"] = []any{map[string]any{"streetAddress": t.Faker.Street(), "locality": t.Faker.City(), "postalCode": "75001", "country": "FR", "type": "work", "primary": true}}
	u["emails"] = append(u["emails"].([]any), map[string]any{"value": "home-" + strings.TrimPrefix(u.Str("userName"), t.Prefix()), "type": "home"})
	return u
}

// NewGroup returns a Group with a fresh displayName and the given member ids.
func NewGroup(tag string, memberIDs ...string) Doc {
	g := Doc{"schemas": []any{scim.GroupSchema}, "displayName": GroupName(tag)}
	if len(memberIDs) > 0 {
		g["members"] = Members(memberIDs...)
	}
	return g
}

// Members returns member objects {"value": id} for the given ids.
func Members(ids ...string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = map[string]any{"value": id}
	}
	return out
}

// Create POSTs doc to endpoint ("/Users", "/Groups"), expects 201 and a
// resource with an id, and returns the created resource as the target sent
// it back. It is a check's fixture (Arrange): when the create fails, the
// check's verdict is error ("setup failed: …"), not fail, since the check
// never reached what it tests. A check whose subject is the create itself
// uses CreateChecked. Whatever the status, an answer that names the new
// resource (an id in the body, or a Location) gets its deletion registered
// with DeferCleanup, so that a target that stores the resource but answers
// 200 is left as it was.
func Create(ctx context.Context, c *Client, endpoint string, doc any) Doc {
	ginkgo.GinkgoHelper()
	var created Doc
	Arrange(func() { created = CreateChecked(ctx, c, endpoint, doc) })
	return created
}

// CreateChecked is Create for a check whose subject is the create itself
// (it answers 201 with the resource, it stores what was sent): a wrong
// answer is the check's failure.
func CreateChecked(ctx context.Context, c *Client, endpoint string, doc any) Doc {
	ginkgo.GinkgoHelper()
	resp := c.Post(ctx, endpoint, doc)
	CleanupCreated(endpoint, resp)
	gomega.Expect(resp).To(HaveStatus(http.StatusCreated))
	created := resp.Doc()
	gomega.Expect(created).NotTo(gomega.BeNil(), "the 201 response has a JSON body")
	gomega.Expect(created.ID()).NotTo(gomega.BeEmpty(), "the created resource has an id")
	return created
}

// CleanupCreated registers the deletion (Cleanup) of the user or group
// that resp, the answer to a POST to endpoint ("/Users", "/Groups"), names
// by an id in its body or its Location header, whatever its status: a
// target may store what it answers 200 or even 400 to. It returns the
// resource's path, or "" when the answer names none (the run looks such a
// create up by name after the last check, unless the answer was a 4xx).
func CleanupCreated(endpoint string, resp *Response) string {
	k, ok := collection(Current().BaseURL + "/" + strings.Trim(endpoint, "/"))
	if !ok || resp == nil || resp.Err != nil {
		return ""
	}
	p := createdPath(k, resp)
	if p != "" {
		Cleanup(p)
	}
	return p
}

// CreateUser creates a User as a check's fixture (see Create).
func CreateUser(ctx context.Context, c *Client, doc any) Doc {
	ginkgo.GinkgoHelper()
	return Create(ctx, c, "/Users", doc)
}

// CreateGroup creates a Group as a check's fixture (see Create).
func CreateGroup(ctx context.Context, c *Client, doc any) Doc {
	ginkgo.GinkgoHelper()
	return Create(ctx, c, "/Groups", doc)
}

// CreateUsers creates n users tagged tag and returns them.
func CreateUsers(ctx context.Context, c *Client, tag string, n int) []Doc {
	ginkgo.GinkgoHelper()
	out := make([]Doc, n)
	for i := range out {
		out[i] = CreateUser(ctx, c, NewUser(tag))
	}
	return out
}

// PatchOp builds a PatchOp body from operations.
func PatchOp(ops ...scim.PatchOperation) scim.PatchOp { return scim.NewPatchOp(ops...) }

// Op returns one PATCH operation; path may be "" and value nil.
func Op(op, path string, value any) scim.PatchOperation {
	return scim.PatchOperation{Op: op, Path: path, Value: value}
}

// Get fetches path and expects 200 with a JSON object.
func Get(ctx context.Context, c *Client, path string, query ...string) Doc {
	ginkgo.GinkgoHelper()
	resp := c.Get(ctx, path, query...)
	gomega.Expect(resp).To(HaveStatus(http.StatusOK))
	d := resp.Doc()
	gomega.Expect(d).NotTo(gomega.BeNil(), "GET %s returns a JSON object", path)
	return d
}

// List runs GET endpoint with query pairs and expects a ListResponse.
func List(ctx context.Context, c *Client, endpoint string, query ...string) Doc {
	ginkgo.GinkgoHelper()
	resp := c.Get(ctx, endpoint, query...)
	gomega.Expect(resp).To(BeListResponse())
	return resp.Doc()
}

// Quote returns s as a SCIM filter string literal.
func Quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// IDs returns the ids of resources.
func IDs(docs []Doc) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.ID()
	}
	return out
}

// PatchOK sends a PATCH and expects success: 200 with the resource or 204
// without a body (RFC 7644 §3.5.2 allows both). It returns the resource as a
// GET returns it afterwards. It is for a check whose subject is the PATCH:
// a refusal is the check's failure. A PATCH that only prepares what the
// check tests uses PatchSetup.
func PatchOK(ctx context.Context, c *Client, path string, body any) Doc {
	ginkgo.GinkgoHelper()
	resp := c.Patch(ctx, path, body)
	gomega.Expect(resp).To(HaveStatus(http.StatusOK, http.StatusNoContent))
	return Get(ctx, c, path)
}

// PatchSetup is PatchOK as a check's fixture (Arrange): the PATCH only
// prepares the state the check tests (a manager set so that its removal
// can be tested, a change that makes an ETag stale), so a refusal makes the
// check's verdict error ("setup failed: …"), not fail.
func PatchSetup(ctx context.Context, c *Client, path string, body any) Doc {
	ginkgo.GinkgoHelper()
	var got Doc
	Arrange(func() { got = PatchOK(ctx, c, path, body) })
	return got
}

// PutOK sends a PUT, expects 200 and returns the resource as a GET returns
// it afterwards. It is for a check whose subject is the PUT: a refusal is
// the check's failure. A PUT that only prepares what the check tests uses
// PutSetup.
func PutOK(ctx context.Context, c *Client, path string, body any) Doc {
	ginkgo.GinkgoHelper()
	gomega.Expect(c.Put(ctx, path, body)).To(HaveStatus(http.StatusOK))
	return Get(ctx, c, path)
}

// PutSetup is PutOK as a check's fixture (Arrange): the PUT only prepares
// the state the check tests, so a refusal makes the check's verdict error
// ("setup failed: …"), not fail.
func PutSetup(ctx context.Context, c *Client, path string, body any) Doc {
	ginkgo.GinkgoHelper()
	var got Doc
	Arrange(func() { got = PutOK(ctx, c, path, body) })
	return got
}

// Path returns the relative path of a created resource ("/Users/<id>").
func Path(endpoint string, d Doc) string { return endpoint + "/" + d.ID() }

// UserPath returns "/Users/<id>".
func UserPath(d Doc) string { return "/Users/" + d.ID() }

// GroupPath returns "/Groups/<id>".
func GroupPath(d Doc) string { return "/Groups/" + d.ID() }

// Schemas fetches /Schemas and returns the schema resources by id; a target
// without /Schemas yields an empty map.
func Schemas(ctx context.Context, c *Client) map[string]Doc {
	resp := c.Get(ctx, "/Schemas")
	out := map[string]Doc{}
	if resp.Status != http.StatusOK || resp.Doc() == nil {
		return out
	}
	for _, s := range resp.Doc().Resources() {
		out[s.Str("id")] = s
	}
	return out
}

// Batch is a set of users that one filter finds again, and only them: the
// paging and sorting checks create a batch and list it. The filter is
// `userName sw "<prefix>"` where the target accepts it; a target whose
// filters are eq only (HCP Terraform, AWS IAM Identity Center) gets
// `externalId eq "<shared value>"`, which every user of the batch carries,
// so that those checks test paging and sorting, not the sw operator.
type Batch struct {
	// Filter selects exactly the users made with User.
	Filter string
	// Prefix starts the userName of every user of the batch.
	Prefix     string
	tag        string
	externalID string
}

// NewBatch probes whether the target accepts `userName sw` (a query that
// matches nothing yet) and returns the batch tagged tag.
func NewBatch(ctx context.Context, c *Client, tag string) *Batch {
	ginkgo.GinkgoHelper()
	t := Current()
	b := &Batch{Prefix: t.Prefix() + tag + "-", tag: tag}
	b.Filter = "userName sw " + Quote(b.Prefix)
	probe := c.Get(ctx, "/Users", "filter", b.Filter, "count", "1")
	if probe.Err == nil && probe.Status == http.StatusBadRequest {
		b.externalID = t.Prefix() + tag + "-batch"
		b.Filter = "externalId eq " + Quote(b.externalID)
		ginkgo.GinkgoWriter.Printf("scimlab: the target refuses %q (400); the %s batch is selected with %s\n", "userName sw", tag, b.Filter)
	}
	return b
}

// User returns NewUser(tag) named <prefix><local>@example.com, carrying the
// batch's shared externalId when the filter needs it.
func (b *Batch) User(local string) Doc {
	u := NewUser(b.tag)
	u["userName"] = b.Prefix + local + "@example.com"
	if b.externalID != "" {
		u["externalId"] = b.externalID
	}
	return u
}
