package simulator

import (
	"sort"
	"sync"

	"github.com/scimlab/scimlab/simulator/directory"
	"github.com/scimlab/scimlab/simulator/idp"
)

// state is what the IdP believes it has pushed: the target's id for each
// directory user and group, and every change the scenario made. Unchanged
// users and groups are not stored; they are read from the directory.
type state struct {
	dir *directory.Directory

	mu       sync.Mutex
	userIDs  []string
	groupIDs []string
	users    map[int]directory.User
	deleted  map[int]bool
	names    map[int]string
	gone     map[int]bool
	members  map[int][]int
	// lost holds the users (and groups) whose lookup or create got no
	// response, with what happened to it: the IdP cannot tell whether the
	// target holds them.
	lostUsers, lostGroups map[int]string
	// rejected holds the users (and groups) whose create got an answer the
	// IdP did not take (a 200 for a 201, no id, a malformed resource) or
	// none, with the id that answer carried ("" for none): the target may
	// hold them all the same, and the end-state check judges what it holds.
	rejectedUsers, rejectedGroups map[int]string
}

func newState(d *directory.Directory) *state {
	return &state{
		dir:      d,
		userIDs:  make([]string, d.Users()),
		groupIDs: make([]string, d.Groups()),
		users:    map[int]directory.User{},
		deleted:  map[int]bool{},
		names:    map[int]string{},
		gone:     map[int]bool{},
		members:  map[int][]int{},

		lostUsers:      map[int]string{},
		lostGroups:     map[int]string{},
		rejectedUsers:  map[int]string{},
		rejectedGroups: map[int]string{},
	}
}

// user returns user i as the IdP now holds them.
func (s *state) user(i int) directory.User {
	s.mu.Lock()
	u, ok := s.users[i]
	s.mu.Unlock()
	if ok {
		return u
	}
	return s.dir.User(i)
}

func (s *state) setUser(u directory.User) {
	s.mu.Lock()
	s.users[u.Index] = u
	s.mu.Unlock()
}

func (s *state) userID(i int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userIDs[i]
}

func (s *state) setUserID(i int, id string) {
	s.mu.Lock()
	s.userIDs[i] = id
	s.mu.Unlock()
}

func (s *state) groupID(j int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.groupIDs[j]
}

func (s *state) setGroupID(j int, id string) {
	s.mu.Lock()
	s.groupIDs[j] = id
	s.mu.Unlock()
}

// isDeleted reports whether the IdP deleted user i.
func (s *state) isDeleted(i int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleted[i]
}

// deleteUser records a hard delete: the user is gone and in no group.
func (s *state) deleteUser(i int) {
	s.mu.Lock()
	s.deleted[i] = true
	s.mu.Unlock()
	for j := range s.groupIDs {
		ms := s.groupMembers(j)
		if k := sort.SearchInts(ms, i); k < len(ms) && ms[k] == i {
			s.setMembers(j, append(ms[:k:k], ms[k+1:]...))
		}
	}
}

// undelete records that user i was provisioned again under a new id.
func (s *state) undelete(i int, id string) {
	s.mu.Lock()
	delete(s.deleted, i)
	s.userIDs[i] = id
	s.mu.Unlock()
}

// setLost records that the provisioning of user i (group i when group is
// set) got no response, and why: "its create got no response (…)".
func (s *state) setLost(group bool, i int, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if group {
		s.lostGroups[i] = why
	} else {
		s.lostUsers[i] = why
	}
}

// lostWhy says why the provisioning of user i (group i when group is set)
// got no response, or "" when it got one.
func (s *state) lostWhy(group bool, i int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if group {
		return s.lostGroups[i]
	}
	return s.lostUsers[i]
}

// setRejected records that the create of user i (group i when group is
// set) got an answer the IdP did not take, and the id it carried.
func (s *state) setRejected(group bool, i int, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if group {
		s.rejectedGroups[i] = id
	} else {
		s.rejectedUsers[i] = id
	}
}

// rejected returns the id the rejected create answer of user i (group i
// when group is set) carried; ok is false when no create was rejected.
func (s *state) rejected(group bool, i int) (id string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if group {
		id, ok = s.rejectedGroups[i]
	} else {
		id, ok = s.rejectedUsers[i]
	}
	return id, ok
}

// groupName returns group j's displayName as the IdP now holds it.
func (s *state) groupName(j int) string {
	s.mu.Lock()
	n, ok := s.names[j]
	s.mu.Unlock()
	if ok {
		return n
	}
	return s.dir.Group(j).DisplayName
}

func (s *state) rename(j int, name string) {
	s.mu.Lock()
	s.names[j] = name
	s.mu.Unlock()
}

func (s *state) isGone(j int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gone[j]
}

func (s *state) deleteGroup(j int) {
	s.mu.Lock()
	s.gone[j] = true
	s.mu.Unlock()
}

// groupMembers returns group j's member user indexes, ascending.
func (s *state) groupMembers(j int) []int {
	s.mu.Lock()
	ms, ok := s.members[j]
	s.mu.Unlock()
	if ok {
		return append([]int(nil), ms...)
	}
	return s.dir.Group(j).Members
}

func (s *state) setMembers(j int, ms []int) {
	ms = append([]int(nil), ms...)
	sort.Ints(ms)
	s.mu.Lock()
	s.members[j] = ms
	s.mu.Unlock()
}

// pushable returns the members of group j that the IdP can name: those with a
// target id. A user whose create failed cannot be added, and the end-state
// check does not expect them.
func (s *state) pushable(j int) []int { return s.withIDs(s.groupMembers(j)) }

// withIDs keeps the users of is that have a target id and are not deleted.
func (s *state) withIDs(is []int) []int {
	out := is[:0:0]
	for _, i := range is {
		if s.userID(i) != "" && !s.isDeleted(i) {
			out = append(out, i)
		}
	}
	return out
}

// member returns the IdP's reference to user i.
func (s *state) member(i int) idp.Member {
	return idp.Member{ID: s.userID(i), Display: s.user(i).UserName}
}

func (s *state) memberRefs(is []int) []idp.Member {
	out := make([]idp.Member, len(is))
	for k, i := range is {
		out[k] = s.member(i)
	}
	return out
}
