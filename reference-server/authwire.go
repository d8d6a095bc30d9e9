package server

import (
	"context"
	"net/http"

	"github.com/scimlab/scimlab/reference-server/auth"
)

// This file wires the auth package into the server: the admin page, the
// expiry notifier, the token cache's flush and the emailDomains scope.

// newAdmin returns the admin page (auth.NewAdmin) over the server's store,
// profile token policy and clock. Token and account changes made on the page
// flush the token cache, so a revocation or an account deactivation takes
// effect on the next request.
func (s *Server) newAdmin(password string) http.Handler {
	return auth.NewAdmin(auth.AdminConfig{
		Store:    s.st,
		Policy:   s.prof.Tokens,
		Profile:  s.prof.Name,
		Now:      s.now,
		Logger:   s.log,
		Password: password,
		OnChange: s.tokCache.clear,
	})
}

// Notifier returns the expiry notifier for the server's store, profile token
// policy, clock and logger, posting to webhook when it is set. Serve runs it.
func (s *Server) Notifier() *auth.Notifier {
	return &auth.Notifier{
		Store:    s.st,
		Policy:   s.prof.Tokens,
		Now:      s.now,
		Logger:   s.log,
		Webhook:  s.notify.webhook,
		Interval: s.notify.interval,
	}
}

// runNotifier runs the notifier until ctx ends.
func (s *Server) runNotifier(ctx context.Context) {
	if err := s.Notifier().Run(ctx); err != nil {
		s.log.Error("expiry notifier stopped", "err", err.Error())
	}
}

// clear forgets every cached verification.
func (c *tokenCache) clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

// checkScope refuses, with 403, a User document outside the emailDomains
// scope of the request's token (Resolver, docs/idp-traffic.md §2.3). A write
// checks both the stored user (before the change) and the result, so a
// scoped token can neither pull a user into its scope nor delete one
// outside it; reads are not limited (README: the scope limits what the
// token creates, updates and deletes).
func (s *Server) checkScope(c *call, k *resourceKind, doc map[string]any) error {
	if k != s.users {
		return nil
	}
	if se := auth.CheckEmailDomains(c.token, doc); se != nil {
		return se
	}
	return nil
}
