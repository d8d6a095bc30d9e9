package simulator

import (
	"fmt"
	"sync/atomic"

	"github.com/scimlab/scimlab/simulator/idp"
)

// A scenario's report holds one check for every step its phases can take,
// whatever the target answers: a step the run gave nothing to do gets a
// no-work verdict (recorder.noWork) with the reason, one the IdP never
// takes is skipped, and one the run stopped before is an error. So two
// runs of one scenario and IdP always list the same check IDs.

// phaseCheck is a step a phase can record, and what the report says when
// the phase recorded none of it: never, when the IdP never takes the step
// (it is skipped); else idle, why the phase had nothing to send.
type phaseCheck struct {
	step  idp.Step
	never string
	idle  func() string
	// normal, when set and true, says that having nothing to do is this
	// step's normal outcome, whatever earlier steps did (initial sync
	// updates only users already on the target, and a fresh target has
	// none): it is skipped with the reason, not an error blamed on an
	// earlier failure.
	normal func() bool
}

// checksOf lists the steps phase can record for the run's IdP, in the
// order the phase takes them.
func (r *runner) checksOf(phase string) []phaseCheck {
	p := r.idp
	var out []phaseCheck
	add := func(step idp.Step, idle func() string) { out = append(out, phaseCheck{step: step, idle: idle}) }
	never := func(step idp.Step, why string) { out = append(out, phaseCheck{step: step, never: why}) }
	// readFirst adds the read of a user before a PUT (idp-traffic.md §1.1 row 5).
	readFirst := func(styles ...string) {
		for _, s := range styles {
			if s == idp.GetPut {
				add(idp.StepGetUser, r.noReadWhy)
				return
			}
		}
	}
	// renames adds Okta's rename after each membership PATCH (§1.1 row 13).
	renames := func() {
		if p.Groups.RenameOnMembership && p.Groups.Update != idp.Put {
			add(idp.StepRenameGroup, func() string {
				return fmt.Sprintf("no rename was sent: %s renames a group after each membership change, and none was sent (see %s)", p.Name, p.CheckID(idp.StepMembers))
			})
		}
	}
	// readGroup adds the read of a group before a PATCH of a later cycle
	// (Entra, idp-traffic.md §1.2 row 11).
	readGroup := func() {
		if p.Groups.GetBeforePatch && p.Groups.Update == idp.Patch {
			add(idp.StepGetGroup, func() string {
				return "no group was read: no group change was sent: " + r.groupCause("the directory is too small")
			})
		}
	}
	switch phase {
	case "test-connection":
		add(idp.StepTestConnection, func() string { return "the IdP profile has no test-connection probe" })
	case "initial-sync":
		add(idp.StepLookupUser, func() string { return "no user to look up: " + r.userCause("") })
		add(idp.StepCreateUser, func() string {
			return r.createWhy("user", r.dir.Users(), &r.userLookups, idp.StepLookupUser, r.emptiness(false))
		})
		readFirst(p.Users.Update, p.Users.Activation)
		add(idp.StepUpdateUser, func() string { return r.linkWhy("update", "differ from the directory") })
		out[len(out)-1].normal = r.linkedNone
		add(idp.StepReactivate, func() string { return r.linkWhy("reactivate", "are inactive") })
		out[len(out)-1].normal = r.linkedNone
		add(idp.StepLookupGroup, func() string { return "no group to look up: " + r.groupCause("") })
		add(idp.StepCreateGroup, func() string {
			return r.createWhy("group", r.dir.Groups(), &r.groupLookups, idp.StepLookupGroup, r.emptiness(true))
		})
		add(idp.StepMembers, func() string {
			return "no member to add: " + r.memberCause("no group of the directory has a member with a target id")
		})
		renames()
	case "import":
		if p.Import == nil {
			never(idp.StepImport, fmt.Sprintf("%s never lists the whole target; it reads only by filter or id (idp-traffic.md §1.2 row 18)", p.Name))
		} else {
			add(idp.StepImport, func() string { return "no page was read" })
		}
	case "update-users":
		readFirst(p.Users.Update)
		if p.Users.GetBeforePatch && p.Users.Update == idp.Patch {
			add(idp.StepGetUser, func() string {
				return "no user was read before a PATCH: no update was sent: " + r.userCause(tooSmallTaken)
			})
		}
		add(idp.StepUpdateUser, func() string { return "no user to update: " + r.userCause(tooSmallTaken) })
	case "deactivate":
		readFirst(p.Users.Activation)
		if p.Users.DeactivateAdd {
			add(idp.StepDeactivateAdd, func() string { return "no user to deactivate: " + r.userCause(tooSmallTaken) })
		}
		add(idp.StepDeactivate, func() string { return "no user to deactivate: " + r.userCause(tooSmallTaken) })
	case "reactivate":
		readFirst(p.Users.Activation)
		add(idp.StepReactivate, r.reactivateWhy)
	case "membership-churn":
		readGroup()
		add(idp.StepMembers, func() string {
			return "no group with members or candidates to churn: " + r.memberCause("the directory is too small")
		})
		renames()
	case "member-readd":
		readGroup()
		add(idp.StepMemberReadd, func() string {
			return "no group with a member to add again: " + r.memberCause("the directory is too small")
		})
		renames()
	case "replace-members":
		if !p.Groups.ReplaceMembers {
			never(idp.StepReplaceMembers, fmt.Sprintf("%s never replaces a whole member list", p.Name))
		} else {
			add(idp.StepReplaceMembers, func() string {
				return "no group with two members whose list it could replace: " + r.memberCause("the directory is too small")
			})
		}
	case "group-rename":
		readGroup()
		add(idp.StepRenameGroup, func() string { return "no group to rename: " + r.groupCause("") })
	case "group-delete":
		add(idp.StepDeleteGroup, r.groupDeleteWhy)
	case "user-delete":
		if !p.Users.Delete {
			never(idp.StepDeleteUser, fmt.Sprintf("%s never deletes users; it deactivates them (idp-traffic.md §1.1 row 8)", p.Name))
		} else {
			add(idp.StepDeleteUser, func() string { return "no user to delete: " + r.userCause(tooSmallTaken) })
		}
	case "reprovision":
		add(idp.StepReprovision, func() string {
			return "no deactivated or deleted user to provision again: " + r.userCause("no earlier phase deactivated or deleted one (the directory is too small)")
		})
		readFirst(p.Users.Activation)
	case "edge-cases":
		add(idp.StepEdgeCases, func() string { return "no probe was sent" })
	case "verify":
		add(idp.StepEndState, func() string { return "nothing to read back: " + r.userCause("") })
	}
	return out
}

// scenarioSteps lists every step the phases of steps can record, in the
// order reports show them: the check IDs of the scenario's report (and
// StepScenario when the run stops early).
func (r *runner) scenarioSteps(steps []string) []idp.Step {
	in := map[idp.Step]bool{}
	for _, phase := range steps {
		for _, c := range r.checksOf(phase) {
			in[c.step] = true
		}
	}
	var out []idp.Step
	for _, s := range idp.Steps {
		if in[s] {
			out = append(out, s)
		}
	}
	return out
}

// settlePhase gives each step of phase that recorded no exchange its no-work
// verdict; a later phase's reason replaces an earlier one's.
func (r *runner) settlePhase(phase string) {
	for _, c := range r.checksOf(phase) {
		if c.never == "" {
			r.rec.noWork(c.step, c.idle(), c.normal != nil && c.normal())
		}
	}
}

// markNever skips, before the run, the steps of its phases that the IdP
// never takes.
func (r *runner) markNever(steps []string) {
	for _, phase := range steps {
		for _, c := range r.checksOf(phase) {
			if c.never != "" {
				r.rec.skip(c.step, c.never)
			}
		}
	}
}

// markStopped gives each step of the phases the run did not finish that
// sent no request an error: the run stopped before it.
func (r *runner) markStopped(cause error, phases []string) {
	for _, phase := range phases {
		for _, c := range r.checksOf(phase) {
			if c.never == "" {
				r.rec.stopped(c.step, fmt.Sprintf("not run: the run stopped (%v) before %q sent a request of this step", cause, phase))
			}
		}
	}
}

// tooSmallTaken is the cause of a phase finding no user left when the
// directory has provisioned users: earlier phases took them all.
const tooSmallTaken = "every provisioned user is taken by an earlier phase (the directory is too small)"

// lookupCount counts the lookups before a create that failed and those that
// found a match.
type lookupCount struct{ failed, found atomic.Int64 }

func (c *lookupCount) count(reason string, found map[string]any) {
	switch {
	case reason != "":
		c.failed.Add(1)
	case found != nil:
		c.found.Add(1)
	}
}

// emptiness says what the directory lacks, or "".
func (r *runner) emptiness(groups bool) string {
	switch {
	case r.dir.Users() == 0 && r.dir.Groups() == 0:
		return "the directory is empty (no users, no groups)"
	case r.dir.Users() == 0 && !groups:
		return "the directory has no users"
	case r.dir.Groups() == 0 && groups:
		return "the directory has no groups"
	}
	return ""
}

// userCause says why there is no user to work on: the directory has none,
// none was provisioned, or otherwise.
func (r *runner) userCause(otherwise string) string {
	if e := r.emptiness(false); e != "" {
		return e
	}
	if r.provisioned() == 0 {
		return fmt.Sprintf("none of the directory's %d users was provisioned (see %s, %s)",
			r.dir.Users(), r.idp.CheckID(idp.StepLookupUser), r.idp.CheckID(idp.StepCreateUser))
	}
	return otherwise
}

// groupCause says why there is no group to work on.
func (r *runner) groupCause(otherwise string) string {
	if e := r.emptiness(true); e != "" {
		return e
	}
	if len(r.liveGroups()) == 0 {
		return fmt.Sprintf("none of the directory's %d groups was provisioned (see %s, %s)",
			r.dir.Groups(), r.idp.CheckID(idp.StepLookupGroup), r.idp.CheckID(idp.StepCreateGroup))
	}
	return otherwise
}

// memberCause says why no group has members to work on: no group, or no
// user, to make them of.
func (r *runner) memberCause(otherwise string) string {
	if c := r.groupCause(""); c != "" {
		return c
	}
	return r.userCause(otherwise)
}

// provisioned counts the directory's users that have a target id and are
// not deleted.
func (r *runner) provisioned() int {
	n := 0
	for i := 0; i < r.dir.Users(); i++ {
		if r.st.userID(i) != "" && !r.st.isDeleted(i) {
			n++
		}
	}
	return n
}

// createWhy says why initial sync created no user (or group): n in the
// directory, c its lookups, empty what the directory lacks.
func (r *runner) createWhy(kind string, n int, c *lookupCount, lookup idp.Step, empty string) string {
	failed, found := c.failed.Load(), c.found.Load()
	switch {
	case n == 0:
		return fmt.Sprintf("no %s to create: %s", kind, empty)
	case failed == int64(n):
		return fmt.Sprintf("no %s was created: every lookup before a create failed (see %s)", kind, r.idp.CheckID(lookup))
	case found == int64(n):
		return fmt.Sprintf("no %s to create: the lookups found all %d %ss already on the target", kind, n, kind)
	}
	return fmt.Sprintf("no %s was created: the lookups found %d %ss already on the target and failed for the other %d (see %s)", kind, found, kind, failed, r.idp.CheckID(lookup))
}

// linkedNone reports that every one of initial sync's user lookups
// answered, and the users they found on the target (none, on a fresh one)
// needed no update: linkWhy's last two reasons, which no earlier failure
// causes. When a lookup failed or got no answer, the user it would have
// found may be the one to update, so having nothing to do is not normal.
func (r *runner) linkedNone() bool {
	return r.userCause("") == "" && r.userLookups.failed.Load() == 0
}

// linkWhy says why initial sync sent no update (or reactivation): it sends
// one only for a user its lookup finds on the target that needs it.
func (r *runner) linkWhy(what, need string) string {
	if c := r.userCause(""); c != "" {
		return fmt.Sprintf("no user to %s: %s", what, c)
	}
	found := r.userLookups.found.Load()
	if failed := r.userLookups.failed.Load(); failed > 0 {
		return fmt.Sprintf("no user to %s: initial sync does so only for users its lookups find already on the target that %s; %d of the %d lookups failed (see %s), and the users they would have found are unknown",
			what, need, failed, r.dir.Users(), r.idp.CheckID(idp.StepLookupUser))
	}
	if found > 0 {
		return fmt.Sprintf("no user to %s: initial sync does so only for users its lookups find already on the target that %s, and none of the %d found does", what, need, found)
	}
	return fmt.Sprintf("no user to %s: initial sync does so only for users its lookups find already on the target, and they found none", what)
}

// noReadWhy says why no user was read before a PUT.
func (r *runner) noReadWhy() string {
	return "no user was read before a PUT: no update or (de)activation in PUT form was sent: " + r.userCause("the run had none to send")
}

// reactivateWhy says why reactivate had no user: deactivate left it none.
func (r *runner) reactivateWhy() string {
	switch r.deactivatedAll {
	case -1:
		return "no user to reactivate: no deactivate phase ran before this one"
	case 0:
		return "no user to reactivate: no user was deactivated: " + r.userCause(tooSmallTaken)
	}
	return fmt.Sprintf("no user to spare for reactivation: %d user was deactivated, and reprovision needs it (the directory is too small)", r.deactivatedAll)
}

// groupDeleteWhy says why group-delete had no group to spare: it deletes
// one only when two are live, so that later phases keep one.
func (r *runner) groupDeleteWhy() string {
	c := r.groupCause("")
	switch {
	case c != "":
	case r.dir.Groups() == 1:
		c = "the directory has one group (the directory is too small)"
	default:
		c = fmt.Sprintf("only one of the directory's %d groups was provisioned", r.dir.Groups())
	}
	return "no group to spare for deletion (it deletes one only while two are left): " + c
}
