package framework

import (
	"fmt"
	"net/url"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
)

// resolveRef resolves ref (a URI-reference) against base (RFC 3986 §5.2).
func resolveRef(base, ref string) (*url.URL, error) {
	b, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("base %q: %v", base, err)
	}
	r, err := url.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URI-reference: %v", ref, err)
	}
	return b.ResolveReference(r), nil
}

// LocationURL returns the Location header resolved against the URL of the
// request it answers: RFC 9110 §10.2.2, "Location = URI-reference … If the
// Location value is a relative reference, the final value is computed by
// resolving it against the target URI". A target answering a create with
// "Location: Users/<id>" names <base>/Users/<id>.
func (r *Response) LocationURL() (*url.URL, error) {
	return resolveRef(r.URL, r.Location())
}

// MetaLocationURL returns a meta.location value resolved against the
// service's base URL with a trailing slash: RFC 7643 §2.3.7, "Relative URIs
// should be resolved as specified in Section 5.2 of [RFC3986]. However, the
// base URI for relative URI resolution MUST include all URI components and
// path segments up to, but not including, the Endpoint URI". So
// "Users/<id>" and "/scim/v2/Users/<id>" both name <base>/Users/<id>.
func MetaLocationURL(loc string) (*url.URL, error) {
	return resolveRef(Current().BaseURL+"/", loc)
}

// ExpectLocation asserts that a 201 answer to a create at endpoint
// ("Users") has a Location header that is the same URI as its
// meta.location (RFC 7644 §3.3: "a Location header value SHALL be returned
// in the response that is the URI of the newly created resource and is the
// same as the 'meta.location' value"), both resolved first (LocationURL,
// MetaLocationURL), and that the URI names the new resource:
// <…>/<endpoint>/<id>.
func ExpectLocation(resp *Response, endpoint string) {
	ginkgo.GinkgoHelper()
	hdr, meta := resp.Location(), resp.Doc().Str("meta.location")
	gomega.Expect(hdr).NotTo(gomega.BeEmpty(), "a Location header")
	h, err := resp.LocationURL()
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "the Location header is a URI-reference")
	m, err := MetaLocationURL(meta)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "meta.location is a URI")
	gomega.Expect(h.String()).To(gomega.Equal(m.String()), "Location %q and meta.location %q name the same URI (resolved: %s, %s)", hdr, meta, h, m)
	gomega.Expect(h.Path).To(gomega.HaveSuffix("/"+endpoint+"/"+resp.Doc().ID()), "Location %q (resolved: %s) names the new resource", hdr, h)
}
