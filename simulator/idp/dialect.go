package idp

import (
	"errors"
	"fmt"

	"github.com/scimlab/scimlab/simulator/directory"
)

// Dialect builds the request bodies whose shape belongs to one IdP family.
// Everything a knob can say (op casing, booleans, removal form, batching) is
// in the Profile; a Dialect holds only what differs in structure.
type Dialect interface {
	// CreateUser is the POST /Users body for u with this externalId.
	CreateUser(u directory.User, externalID string) []byte
	// CreateGroup is the POST /Groups body for an empty group.
	CreateGroup(g directory.Group, externalID string) []byte
	// PutUser is the PUT /Users/{id} body: readBack (the user as the target
	// returned it) with u's values merged in.
	PutUser(readBack []byte, u directory.User) ([]byte, error)
	// PatchUser is the operations that turn old into new.
	PatchUser(old, new directory.User) []op
	// Activation is the operation that sets active.
	Activation(active bool) op
	// RenameGroup is the operation that renames group id.
	RenameGroup(id, name string) op
	// PutGroup is the PUT /Groups/{id} body of a whole group.
	PutGroup(name string, members []Member) []byte
	// Member is one member object in a members add (remove false) or a
	// value-list remove (remove true).
	Member(m Member, remove bool) any
}

// errUnsupported is returned by a dialect asked for a form its IdP never sends.
var errUnsupported = errors.New("the IdP never sends this request")

// newDialect returns the Dialect of p's family, after checking that the
// profile's knobs are forms that family sends.
func newDialect(p *Profile) (Dialect, error) {
	s := style{p}
	switch p.Family {
	case "okta":
		if p.Users.Update != GetPut || p.Users.Activation == Put {
			return nil, fmt.Errorf("users.update: the okta family updates users with GET then PUT (idp-traffic.md §1.1 row 5)")
		}
		return okta{s}, nil
	case "rfc":
		if p.Users.Update == GetPut || p.Users.Activation == GetPut {
			return nil, fmt.Errorf("the rfc family sends users with put (the full user, not read first) or patch")
		}
		return rfc{s}, nil
	case "entra":
		if p.Users.Update != Patch || p.Users.Activation != Patch || p.Groups.Update != Patch {
			return nil, fmt.Errorf("the entra family changes users and groups with PATCH only (idp-traffic.md §1.2)")
		}
		return entra{s}, nil
	}
	return nil, fmt.Errorf("family is %q; want okta, entra or rfc", p.Family)
}
