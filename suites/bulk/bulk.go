// Package bulk holds the checks of POST /Bulk (RFC 7644 §3.7).
package bulk

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/suites/framework"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

// operation builds one BulkRequest operation.
func operation(method, path, bulkID string, data any) scim.BulkOperation {
	o := scim.BulkOperation{Method: method, Path: path, BulkID: bulkID}
	if data != nil {
		b, err := json.Marshal(data)
		Expect(err).NotTo(HaveOccurred())
		o.Data = b
	}
	return o
}

func request(failOnErrors *int, ops ...scim.BulkOperation) scim.BulkRequest {
	return scim.BulkRequest{Schemas: []string{scim.BulkRequestSchema}, FailOnErrors: failOnErrors, Operations: ops}
}

// send posts a BulkRequest, expects 200 with a BulkResponse, and registers
// the cleanup of every resource a POST operation created.
func send(ctx SpecContext, c *framework.Client, req any) []framework.Doc {
	GinkgoHelper()
	resp := c.Post(ctx, "/Bulk", req)
	Expect(resp).To(framework.HaveStatus(http.StatusOK))
	d := resp.Doc()
	Expect(d).NotTo(BeNil())
	out := d.List("Operations")
	for _, o := range out {
		// An operation's location may be relative, as meta.location may
		// (RFC 7643 §2.3.7: resolved against the base URL); the checks
		// read it resolved.
		if loc := o.Str("location"); loc != "" {
			if u, err := framework.MetaLocationURL(loc); err == nil {
				o["location"] = u.String()
			}
		}
		if strings.EqualFold(o.Str("method"), "POST") && o.Str("location") != "" { // whatever its status: a target may store what it answers 200 to
			framework.Cleanup(o.Str("location"))
		}
	}
	Expect(d.Strings("schemas")).To(ContainElement(scim.BulkResponseSchema), "the response names the BulkResponse schema")
	return out
}

// statusOf reads an operation's status, written as a string or a number.
func statusOf(o framework.Doc) int {
	switch v := o.Get("status").(type) {
	case string:
		n, _ := strconv.Atoi(v)
		return n
	case int64:
		return int(v)
	}
	return 0
}

var _ = Describe("Bulk", lbl.Of(lbl.Bulk), func() {
	var c *framework.Client
	BeforeEach(func() { c = framework.NewClient() })

	Describe("when supported", lbl.Of(lbl.NeedsBulk), func() {
		framework.It("BLK-001", "creates several users in one request, each answered 201 with its location and bulkId", lbl.MUST, lbl.RFC("7644:3.7"), lbl.RFC("7644:3.7.3"), func(ctx SpecContext) {
			ops := []scim.BulkOperation{}
			for i := 0; i < 3; i++ {
				ops = append(ops, operation("POST", "/Users", fmt.Sprintf("u%d", i), framework.NewUser("blk")))
			}
			res := send(ctx, c, request(nil, ops...))
			Expect(res).To(HaveLen(3))
			for i, o := range res {
				Expect(statusOf(o)).To(Equal(http.StatusCreated), "operation %d status", i)
				Expect(o.Str("location")).To(ContainSubstring("/Users/"), "operation %d location", i)
				Expect(o.Str("bulkId")).To(Equal(fmt.Sprintf("u%d", i)), "operation %d echoes its bulkId", i)
			}
		})

		framework.It("BLK-002", "resolves a bulkId reference from a group member to a user created in the same request", lbl.MUST, lbl.NeedsGroups, lbl.RFC("7644:3.7.2"), func(ctx SpecContext) {
			g := framework.NewGroup("blk")
			g["members"] = []any{map[string]any{"value": "bulkId:newuser"}}
			res := send(ctx, c, request(nil,
				operation("POST", "/Users", "newuser", framework.NewUser("blk")),
				operation("POST", "/Groups", "newgroup", g),
			))
			Expect(res).To(HaveLen(2))
			var userLoc, groupLoc string
			for _, o := range res {
				Expect(statusOf(o)).To(Equal(http.StatusCreated), "operation %s", o.Str("bulkId"))
				if o.Str("bulkId") == "newuser" {
					userLoc = o.Str("location")
				} else {
					groupLoc = o.Str("location")
				}
			}
			uid := userLoc[strings.LastIndex(userLoc, "/")+1:]
			Expect(framework.Get(ctx, c, groupLoc).Values("members")).To(ConsistOf(uid), "the member is the new user's id")
		})

		framework.It("BLK-003", "writes each operation's status as a JSON string", lbl.SHOULD, lbl.RFC("7644:3.7.3"), func(ctx SpecContext) {
			res := send(ctx, c, request(nil, operation("POST", "/Users", "s", framework.NewUser("blk"))))
			Expect(res).To(HaveLen(1))
			Expect(res[0].Get("status")).To(BeAssignableToTypeOf(""), "status is %#v", res[0].Get("status"))
		})

		framework.It("BLK-004", "failOnErrors=1 stops after the first failed operation", lbl.MUST, lbl.RFC("7644:3.7.3"), func(ctx SpecContext) {
			one := 1
			bad := framework.Doc{"schemas": []any{scim.UserSchema}}
			after := framework.NewUser("blk")
			res := send(ctx, c, request(&one,
				operation("POST", "/Users", "bad", bad),
				operation("POST", "/Users", "after", after),
			))
			for _, o := range res {
				Expect(o.Str("bulkId")).NotTo(Equal("after"), "the operation after the failure did not run")
			}
			lr := framework.List(ctx, c, "/Users", "filter", "userName eq "+framework.Quote(after.Str("userName")))
			Expect(lr.Total()).To(Equal(0), "the second user was not created")
		})

		framework.It("BLK-005", "without failOnErrors a bad operation fails alone with a SCIM error and the others succeed", lbl.MUST, lbl.RFC("7644:3.7.3"), func(ctx SpecContext) {
			bad := framework.Doc{"schemas": []any{scim.UserSchema}}
			res := send(ctx, c, request(nil,
				operation("POST", "/Users", "good1", framework.NewUser("blk")),
				operation("POST", "/Users", "bad", bad),
				operation("POST", "/Users", "good2", framework.NewUser("blk")),
			))
			Expect(res).To(HaveLen(3))
			for _, o := range res {
				if o.Str("bulkId") == "bad" {
					Expect(statusOf(o)).To(Equal(http.StatusBadRequest), "the bad operation is 400")
					errDoc := framework.Doc(nil)
					if m, ok := o.Get("response").(map[string]any); ok {
						errDoc = framework.Doc(m)
					}
					Expect(errDoc.Strings("schemas")).To(ContainElement(scim.ErrorSchema), "the failed operation's response is a SCIM error")
				} else {
					Expect(statusOf(o)).To(Equal(http.StatusCreated), "operation %s", o.Str("bulkId"))
				}
			}
		})

		framework.It("BLK-006", "more operations than maxOperations is 413", lbl.MUST, lbl.RFC("7644:3.7.4"), func(ctx SpecContext) {
			max := framework.Current().Caps.BulkMaxOperations
			if max <= 0 || max > 10000 {
				Skip(fmt.Sprintf("ServiceProviderConfig bulk.maxOperations is %d: nothing to exceed safely", max))
			}
			ops := make([]scim.BulkOperation, max+1)
			for i := range ops {
				ops[i] = operation("DELETE", "/Users/scimlab-no-such-user-"+strconv.Itoa(i), "", nil)
			}
			resp := c.Post(ctx, "/Bulk", request(nil, ops...))
			Expect(resp).To(framework.BeSCIMError(http.StatusRequestEntityTooLarge))
		})

		framework.It("BLK-007", "a request larger than maxPayloadSize is 413", lbl.MUST, lbl.RFC("7644:3.7.4"), func(ctx SpecContext) {
			max := framework.Current().Caps.BulkMaxPayloadSize
			if max <= 0 || max > 10<<20 {
				Skip(fmt.Sprintf("ServiceProviderConfig bulk.maxPayloadSize is %d: too large to probe (limit 10 MiB)", max))
			}
			padded := framework.Doc{"schemas": []any{scim.UserSchema}, "scimlabPadding": strings.Repeat("x", max+1024)}
			resp := c.Post(ctx, "/Bulk", request(nil, operation("POST", "/Users", "big", padded)))
			Expect(resp).To(framework.BeSCIMError(http.StatusRequestEntityTooLarge))
		})

		framework.It("BLK-008", "runs PUT, PATCH and DELETE operations on existing resources", lbl.MUST, lbl.RFC("7644:3.7"), func(ctx SpecContext) {
			a := framework.CreateUser(ctx, c, framework.NewUser("blk"))
			b := framework.CreateUser(ctx, c, framework.NewUser("blk"))
			d := framework.CreateUser(ctx, c, framework.NewUser("blk"))
			repl := a.Clone()
			repl["displayName"] = "Bulk PUT"
			res := send(ctx, c, request(nil,
				operation("PUT", framework.UserPath(a), "", repl),
				operation("PATCH", framework.UserPath(b), "", framework.PatchOp(framework.Op("replace", "displayName", "Bulk PATCH"))),
				operation("DELETE", framework.UserPath(d), "", nil),
			))
			Expect(res).To(HaveLen(3))
			Expect(statusOf(res[0])).To(Equal(http.StatusOK), "PUT")
			Expect(statusOf(res[1])).To(BeElementOf(http.StatusOK, http.StatusNoContent), "PATCH")
			Expect(statusOf(res[2])).To(Equal(http.StatusNoContent), "DELETE")
			Expect(framework.Get(ctx, c, framework.UserPath(a)).Str("displayName")).To(Equal("Bulk PUT"))
			Expect(framework.Get(ctx, c, framework.UserPath(b)).Str("displayName")).To(Equal("Bulk PATCH"))
			Expect(c.Get(ctx, framework.UserPath(d))).To(framework.HaveStatus(http.StatusNotFound))
		})

		framework.It("BLK-009", "the location of each created resource resolves", lbl.MUST, lbl.RFC("7644:3.7.3"), func(ctx SpecContext) {
			u := framework.NewUser("blk")
			res := send(ctx, c, request(nil, operation("POST", "/Users", "loc", u)))
			Expect(res).To(HaveLen(1))
			Expect(framework.Get(ctx, c, res[0].Str("location")).Str("userName")).To(Equal(u.Str("userName")))
		})

		framework.It("BLK-010", "an operation on an unknown resource is reported with 404 in that operation", lbl.MUST, lbl.RFC("7644:3.7.3"), func(ctx SpecContext) {
			res := send(ctx, c, request(nil, operation("DELETE", "/Users/scimlab-no-such-user-"+framework.Current().RunID, "", nil)))
			Expect(res).To(HaveLen(1))
			Expect(statusOf(res[0])).To(Equal(http.StatusNotFound))
		})

		framework.It("BLK-011", "a BulkRequest without the BulkRequest schema is 400", lbl.SHOULD, lbl.RFC("7644:3.7"), func(ctx SpecContext) {
			body := map[string]any{"schemas": []string{"urn:example:scimlab:NotBulk"}, "Operations": []any{}}
			Expect(c.Post(ctx, "/Bulk", body)).To(framework.BeSCIMError(http.StatusBadRequest))
		})
	})

	framework.It("BLK-090", "probe: /Bulk declared unsupported is refused, not performed", lbl.SHOULD, lbl.Probe, lbl.ProbesBulk, lbl.RFC("7643:5"), lbl.RFC("7644:3.7"), func(ctx SpecContext) {
		framework.RequireDeclaredUnsupported("bulk")
		u := framework.NewUser("blk")
		resp := c.Post(ctx, "/Bulk", request(nil, operation("POST", "/Users", "probe", u)))
		lr := framework.List(ctx, c, "/Users", "filter", "userName eq "+framework.Quote(u.Str("userName")))
		for _, r := range lr.Resources() {
			framework.Cleanup(framework.UserPath(r))
		}
		if lr.Total() > 0 {
			framework.ProbeWorked("bulk", "a bulk POST created a user")
			return
		}
		framework.Observe("bulk", false, fmt.Sprintf("/Bulk answered %d", resp.Status))
		Expect(resp).To(framework.BeRefusal())
	})
})
