package server

import (
	"net/http"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reference-server/store"
)

// me serves /Me (RFC 7644 §3.11): the User of the authenticated principal.
// A token bound to an account (store.Token.Account) whose name is a User's
// userName makes /Me an alias of that User for GET, PUT, PATCH and DELETE.
// Otherwise — the usual case, tokens issued to a provisioning client rather
// than a person — the server answers 501 Not Implemented, which RFC 7644
// §3.11 allows for a service provider that cannot map the authenticated
// client to a resource. POST /Me is 501 as well: this server does not create
// a User for the caller.
func (s *Server) me(c *call) error {
	if c.token.Account == "" {
		return scim.New(http.StatusNotImplemented, "", "/Me is not available: the token is not bound to a user account (RFC 7644 §3.11)")
	}
	page, _, err := s.st.List(c.r.Context(), store.Query{Type: "User", Key: s.keyValue(s.users, c.token.Account), Limit: 1})
	if err != nil {
		return err
	}
	if len(page) == 0 {
		return scim.New(http.StatusNotImplemented, "", "/Me is not available: no User has the userName of the token's account (RFC 7644 §3.11)")
	}
	id := page[0].ID
	switch c.r.Method {
	case http.MethodGet, http.MethodHead:
		return s.getResource(c, s.users, id)
	case http.MethodPut:
		return s.replaceResource(c, s.users, id)
	case http.MethodPatch:
		return s.patchResource(c, s.users, id)
	case http.MethodDelete:
		return s.deleteResource(c, s.users, id)
	}
	return scim.New(http.StatusNotImplemented, "", "POST /Me is not supported: this server does not create a User for the caller")
}
