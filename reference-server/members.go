package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reference-server/store"
)

// reader reads resources and members, inside a transaction or not.
type reader interface {
	get(typ, id string) (*store.Resource, error)
	members(gid string) ([]store.Member, error)
}

type txReader struct{ tx store.Tx }

func (r txReader) get(typ, id string) (*store.Resource, error) { return r.tx.Get(typ, id) }
func (r txReader) members(gid string) ([]store.Member, error)  { return r.tx.Members(gid) }

// normalizeMembers checks the members of group gid as sent in a request
// (RFC 7643 §4.2) and returns them ready to store:
//   - every member needs a string "value" naming an existing User or Group
//     (an unknown one is refused with 400 invalidValue, or dropped when the
//     profile's unknownMembers is "ignore", idp-traffic.md B20);
//   - a member that is a Group follows the profile's nestedGroups policy
//     (reject: 400 invalidValue; ignore: dropped; allow: accepted unless it
//     would make a cycle);
//   - a missing "type" is filled in ("User" for a user; Okta omits it, B11),
//     and a missing "display" from the member's displayName or userName;
//   - a value listed twice is kept once.
func (s *Server) normalizeMembers(ctx context.Context, rd reader, gid string, raw []any) ([]store.Member, error) {
	return s.normalizeMembersKnown(ctx, rd, gid, raw, nil)
}

// normalizeMembersKnown is normalizeMembers where members already in the
// group (known, by value) are kept as stored without another lookup, so a
// full member list (PUT, replace) costs lookups only for the new members.
func (s *Server) normalizeMembersKnown(ctx context.Context, rd reader, gid string, raw []any, known map[string]store.Member) ([]store.Member, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	out := make([]store.Member, 0, len(raw))
	seen := make(map[string]bool, len(raw))
	for i, item := range raw {
		m, err := memberFromJSON(i, item)
		if err != nil {
			return nil, err
		}
		if seen[m.Value] {
			continue
		}
		if old, ok := known[m.Value]; ok && (m.Type == "" || m.Type == old.Type) {
			if m.Display != "" {
				old.Display = m.Display
			}
			seen[m.Value] = true
			out = append(out, old)
			continue
		}
		ok, err := s.resolveMember(rd, gid, &m)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		seen[m.Value] = true
		out = append(out, m)
	}
	return out, nil
}

// memberFromJSON reads one member object.
func memberFromJSON(i int, item any) (store.Member, error) {
	obj, ok := item.(map[string]any)
	if !ok {
		return store.Member{}, errorf(http.StatusBadRequest, scim.InvalidValue, "members[%d] must be an object with a \"value\"", i)
	}
	var m store.Member
	for k, v := range obj {
		switch strings.ToLower(k) {
		case "value":
			s, ok := v.(string)
			if !ok {
				return store.Member{}, errorf(http.StatusBadRequest, scim.InvalidValue, "members[%d].value must be a string (the member's id)", i)
			}
			m.Value = s
		case "type":
			if v == nil {
				continue
			}
			s, ok := v.(string)
			if !ok {
				return store.Member{}, errorf(http.StatusBadRequest, scim.InvalidValue, "members[%d].type must be a string", i)
			}
			m.Type = s
		case "display":
			if s, ok := v.(string); ok {
				m.Display = s
			}
		}
	}
	if m.Value == "" {
		return store.Member{}, errorf(http.StatusBadRequest, scim.InvalidValue, "members[%d] has no value (the member's id)", i)
	}
	switch {
	case m.Type == "":
	case strings.EqualFold(m.Type, "User"):
		m.Type = "User"
	case strings.EqualFold(m.Type, "Group"):
		m.Type = "Group"
	default:
		return store.Member{}, errorf(http.StatusBadRequest, scim.InvalidValue, "member %q has type %q; expected \"User\" or \"Group\"", truncate(m.Value, 100), truncate(m.Type, 40))
	}
	return m, nil
}

// resolveMember looks the member up, fills type and display, applies the
// profile's policies and reports whether to keep it.
func (s *Server) resolveMember(rd reader, gid string, m *store.Member) (bool, error) {
	var r *store.Resource
	var err error
	typ := m.Type
	if typ == "" || typ == "User" {
		r, err = rd.get("User", m.Value)
		if err == nil {
			typ = "User"
		} else if !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
	}
	if r == nil && (m.Type == "" || m.Type == "Group") {
		r, err = rd.get("Group", m.Value)
		if err == nil {
			typ = "Group"
		} else if !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
	}
	if r == nil {
		if m.Value == gid && (m.Type == "" || m.Type == "Group") {
			typ = "Group" // the group itself, being created
		} else {
			if s.prof.UnknownMembers == profile.Ignore {
				return false, nil
			}
			return false, errorf(http.StatusBadRequest, scim.InvalidValue, "member %q is not a known %s", truncate(m.Value, 100), orDefault(m.Type, "User or Group"))
		}
	}
	m.Type = typ
	if typ == "Group" {
		switch s.prof.NestedGroups {
		case profile.Ignore:
			return false, nil
		case profile.Allow:
			if err := s.checkCycle(rd, gid, m.Value); err != nil {
				return false, err
			}
		default:
			return false, errorf(http.StatusBadRequest, scim.InvalidValue, "member %q is a Group; this server does not support nested groups", truncate(m.Value, 100))
		}
	}
	if m.Display == "" && r != nil {
		if d, _ := r.Doc["displayName"].(string); d != "" {
			m.Display = d
		} else if u, _ := r.Doc["userName"].(string); u != "" {
			m.Display = u
		}
	}
	return true, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// checkCycle refuses making group child a member of group parent when
// parent is child or is reachable from child through group members.
func (s *Server) checkCycle(rd reader, parent, child string) error {
	cycle := scim.New(http.StatusBadRequest, scim.InvalidValue, fmt.Sprintf("member %q would make group membership circular", truncate(child, 100)))
	if parent == child {
		return cycle
	}
	seen := map[string]bool{child: true}
	queue := []string{child}
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		ms, err := rd.members(g)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		for _, m := range ms {
			if m.Type != "Group" {
				continue
			}
			if m.Value == parent {
				return cycle
			}
			if !seen[m.Value] {
				seen[m.Value] = true
				queue = append(queue, m.Value)
			}
		}
	}
	return nil
}
