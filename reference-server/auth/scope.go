package auth

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reference-server/store"
)

// CheckEmailDomains enforces a token's emailDomains scope (Resolver,
// idp-traffic.md §2.3: a token names "the domains the IdP may manage") on a
// User document about to be created or stored by an update: its userName,
// when it is an email address, and every emails[].value must be in one of
// the token's domains (exact match, case-insensitive), and the user must
// have at least one address: a userName without '@' is not an address and
// is not checked, but a user with no address at all is in no domain, so
// outside every scope. It returns a 403 SCIM Error naming the first domain
// outside the scope (or the missing address), or nil when the token has no
// scope or the document fits. Attribute names are matched
// case-insensitively (RFC 7643 §2.1).
func CheckEmailDomains(tok store.Token, doc map[string]any) *scim.Error {
	if len(tok.EmailDomains) == 0 {
		return nil
	}
	allowed := func(addr string) (string, bool) {
		i := strings.LastIndexByte(addr, '@')
		if i < 0 {
			return "", false
		}
		d := strings.ToLower(strings.TrimSpace(addr[i+1:]))
		return d, slices.Contains(tok.EmailDomains, d)
	}
	refuse := func(where, value, domain string) *scim.Error {
		scope := strings.Join(tok.EmailDomains, ", ")
		if domain == "" {
			return scim.Errorf(http.StatusForbidden, "", "%s %q has no email domain; this token may manage users only in %s", where, value, scope)
		}
		return scim.Errorf(http.StatusForbidden, "", "email domain %s (%s %q) is outside this token's emailDomains (%s)", domain, where, value, scope)
	}
	var userName, emails any
	for k, v := range doc {
		switch strings.ToLower(k) {
		case "username":
			userName = v
		case "emails":
			emails = v
		}
	}
	addresses := 0
	name, _ := userName.(string)
	if strings.Contains(name, "@") {
		if d, ok := allowed(name); !ok {
			return refuse("userName", name, d)
		}
		addresses++
	}
	list, _ := emails.([]any)
	for i, e := range list {
		m, _ := e.(map[string]any)
		for mk, mv := range m {
			if !strings.EqualFold(mk, "value") {
				continue
			}
			s, _ := mv.(string)
			if d, ok := allowed(s); !ok {
				return refuse(fmt.Sprintf("emails[%d].value", i), s, d)
			}
			addresses++
		}
	}
	if addresses == 0 {
		return scim.Errorf(http.StatusForbidden, "", "the user (userName %q) has no email address, so it is in none of this token's emailDomains (%s); give it an address in them", name, strings.Join(tok.EmailDomains, ", "))
	}
	return nil
}
