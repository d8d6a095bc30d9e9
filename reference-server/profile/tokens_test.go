package profile

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/scimlab/scimlab/reference-server/auth"
	"github.com/scimlab/scimlab/reference-server/store/memory"
)

// TestTokenKnobs runs each profile's token policy through auth.Manager and
// shows how it differs from rfc: lifespans, rotation, the cap on active
// tokens, account binding, emailDomains and Basic.
func TestTokenKnobs(t *testing.T) {
	ctx := context.Background()
	day := 24 * time.Hour
	manager := func(t *testing.T, name string) *auth.Manager {
		p, err := Get(name)
		if err != nil {
			t.Fatal(err)
		}
		return &auth.Manager{Store: memory.New(), Policy: p.Tokens, Profile: p.Name, BcryptCost: 4}
	}
	create := func(m *auth.Manager, req auth.CreateRequest) error {
		_, err := m.CreateToken(ctx, req)
		return err
	}
	type outcome struct{ rfc, profiled bool } // whether the action succeeds
	cases := []struct {
		profile, name string
		run           func(m *auth.Manager) bool
		want          outcome
	}{
		{"alation", "7-day token", func(m *auth.Manager) bool { return create(m, auth.CreateRequest{TTL: 7 * day}) == nil }, outcome{true, false}},
		{"alation", "3-month token", func(m *auth.Manager) bool { return create(m, auth.CreateRequest{TTL: 90 * day}) == nil }, outcome{true, true}},
		{"alation", "a new token revokes the old", func(m *auth.Manager) bool {
			c1, _ := m.CreateToken(ctx, auth.CreateRequest{Name: "a"})
			c2, _ := m.CreateToken(ctx, auth.CreateRequest{Name: "b"})
			return len(c2.Replaced) == 1 && c2.Replaced[0].ID == c1.Token.ID
		}, outcome{false, true}},
		{"alation", "a token for an account revokes the old one", func(m *auth.Manager) bool {
			c1, _ := m.CreateToken(ctx, auth.CreateRequest{Name: "a", TTL: 90 * day})
			c2, _ := m.CreateToken(ctx, auth.CreateRequest{Name: "b", Account: "x", TTL: 90 * day})
			return len(c2.Replaced) == 1 && c2.Replaced[0].ID == c1.Token.ID
		}, outcome{false, true}},
		{"alation", "default lifespan is 6 months", func(m *auth.Manager) bool {
			c, _ := m.CreateToken(ctx, auth.CreateRequest{})
			return c.Token.Expires.Sub(c.Token.Created) == 180*day
		}, outcome{false, true}},
		{"alation", "basic password of 16 characters", func(m *auth.Manager) bool {
			return m.SetBasic(ctx, "scim", "Abcdefghijklm1!x") == nil
		}, outcome{false, false}},
		{"alation", "basic password of 17 with a special character", func(m *auth.Manager) bool {
			return m.SetBasic(ctx, "scim", "Abcdefghijklm1!xy") == nil
		}, outcome{false, true}},
		{"aws-identity-center", "90-day token", func(m *auth.Manager) bool { return create(m, auth.CreateRequest{TTL: 90 * day}) == nil }, outcome{true, false}},
		{"aws-identity-center", "third active token", func(m *auth.Manager) bool {
			create(m, auth.CreateRequest{Name: "a", TTL: 365 * day})
			create(m, auth.CreateRequest{Name: "b", TTL: 365 * day})
			return create(m, auth.CreateRequest{Name: "c", TTL: 365 * day}) == nil
		}, outcome{true, false}},
		{"aws-identity-center", "third active token for other accounts", func(m *auth.Manager) bool {
			create(m, auth.CreateRequest{Name: "a", TTL: 365 * day})
			create(m, auth.CreateRequest{Name: "b", Account: "x", TTL: 365 * day})
			return create(m, auth.CreateRequest{Name: "c", Account: "y", TTL: 365 * day}) == nil
		}, outcome{true, false}},
		{"aws-identity-center", "second token keeps the first", func(m *auth.Manager) bool {
			create(m, auth.CreateRequest{Name: "a", TTL: 365 * day})
			c, err := m.CreateToken(ctx, auth.CreateRequest{Name: "b", TTL: 365 * day})
			return err == nil && len(c.Replaced) == 0
		}, outcome{true, true}},
		{"resolver", "token without an account", func(m *auth.Manager) bool { return create(m, auth.CreateRequest{}) == nil }, outcome{true, false}},
		{"resolver", "token for an admin with emailDomains", func(m *auth.Manager) bool {
			c, err := m.CreateToken(ctx, auth.CreateRequest{Account: "admin", EmailDomains: []string{"example.com"}})
			return err == nil && c.Token.Expires.Sub(c.Token.Created) == 730*day
		}, outcome{false, true}},
		{"resolver", "deactivating the account refuses new tokens", func(m *auth.Manager) bool {
			create(m, auth.CreateRequest{Account: "admin"})
			m.DeactivateAccount(ctx, "admin")
			err := create(m, auth.CreateRequest{Account: "admin"})
			return errors.Is(err, auth.ErrAccountInactive)
		}, outcome{true, true}},
		{"atlassian", "regenerating revokes the old key", func(m *auth.Manager) bool {
			create(m, auth.CreateRequest{})
			c, _ := m.CreateToken(ctx, auth.CreateRequest{})
			return len(c.Replaced) == 1
		}, outcome{false, true}},
		{"atlassian", "a key for an account revokes the old one", func(m *auth.Manager) bool {
			create(m, auth.CreateRequest{TTL: 365 * day})
			c, _ := m.CreateToken(ctx, auth.CreateRequest{Account: "x", TTL: 365 * day})
			return len(c.Replaced) == 1
		}, outcome{false, true}},
		{"atlassian", "2-year key", func(m *auth.Manager) bool { return create(m, auth.CreateRequest{TTL: 730 * day}) == nil }, outcome{true, false}},
	}
	for _, c := range cases {
		t.Run(c.profile+"/"+c.name, func(t *testing.T) {
			if got := c.run(manager(t, "rfc")); got != c.want.rfc {
				t.Errorf("rfc: %v, want %v", got, c.want.rfc)
			}
			if got := c.run(manager(t, c.profile)); got != c.want.profiled {
				t.Errorf("%s: %v, want %v", c.profile, got, c.want.profiled)
			}
		})
	}
}
