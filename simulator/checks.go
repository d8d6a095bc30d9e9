package simulator

import (
	"fmt"
	"sync"
	"time"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/idp"
)

// stepInfo is what a report says about a step's check.
type stepInfo struct {
	title string
	area  string
	rfc   string
	// capability is the ServiceProviderConfig feature the step relies on.
	capability string
	// counts says what the step counts in its reason ("requests failed" if empty).
	counts string
}

// stepInfos describes each step's check. The IDs are the IdP's CheckPrefix
// and the step name, upper-cased: SIM-OKTA-CREATE-USER.
var stepInfos = map[idp.Step]stepInfo{
	idp.StepTestConnection: {"Test connection gets the answer the IdP needs", "connection", "RFC7644 §3.4.2", "", ""},
	idp.StepLookupUser:     {"User lookup before create answers a ListResponse (or a 404 the IdP takes as no match)", "users", "RFC7644 §3.4.2.2", "filter", ""},
	idp.StepCreateUser:     {"Create user answers 201 with the resource and its id", "users", "RFC7644 §3.3", "", ""},
	idp.StepGetUser:        {"Read user by id before an update answers 200 with the resource", "users", "RFC7644 §3.4.1", "", ""},
	idp.StepUpdateUser:     {"Profile, userName and email updates succeed in the IdP's form", "users", "RFC7644 §3.5", "", ""},
	idp.StepDeactivate:     {"Deactivation in the IdP's form succeeds", "users", "RFC7643 §4.1.1", "", ""},
	idp.StepDeactivateAdd:  {"Deactivation sent as an add of active succeeds (B4)", "users", "RFC7644 §3.5.2.1", "patch", ""},
	idp.StepGetGroup:       {"Read group by id before a change answers 200 with the group (without members when excluded)", "groups", "RFC7644 §3.4.1", "", ""},
	idp.StepReactivate:     {"Reactivation in the IdP's form succeeds", "users", "RFC7643 §4.1.1", "", ""},
	idp.StepDeleteUser:     {"Delete user answers 204", "users", "RFC7644 §3.6", "", ""},
	idp.StepReprovision:    {"A deactivated or deleted user can be provisioned again (no 409 dead end)", "users", "RFC7644 §3.3", "", ""},
	idp.StepLookupGroup:    {"Group lookup by displayName answers a ListResponse", "groups", "RFC7644 §3.4.2.2", "filter", ""},
	idp.StepCreateGroup:    {"Create group answers 201 with the resource and its id", "groups", "RFC7644 §3.3", "", ""},
	idp.StepMembers:        {"Membership changes in the IdP's form succeed", "groups", "RFC7644 §3.5.2", "patch", ""},
	idp.StepMemberReadd:    {"Re-sending a membership the group already has succeeds (an add, or an unchanged PUT)", "groups", "RFC7644 §3.5.2.1", "patch", ""},
	idp.StepReplaceMembers: {"Replacing the whole member list succeeds", "groups", "RFC7644 §3.5.2.3", "patch", ""},
	idp.StepRenameGroup:    {"Group rename in the IdP's form succeeds", "groups", "RFC7644 §3.5.2.3", "patch", ""},
	idp.StepDeleteGroup:    {"Delete group answers 204", "groups", "RFC7644 §3.6", "", ""},
	idp.StepImport:         {"Import pages through every user and group with integer, stable paging", "paging", "RFC7644 §3.4.2.4", "", ""},
	idp.StepEdgeCases:      {"Case-twin userNames and long values get a clean answer (the IdP's lookups and creates; a create of a userName the lookup found is scimlab's own probe)", "users", "RFC7643 §4.1.1", "", "probes failed"},
	idp.StepEndState:       {"The target holds what the IdP pushed", "state", "RFC7644 §3.4.1", "", "resources differ"},
	idp.StepScenario:       {"The scenario ran to the end", "scenario", "", "", ""},
}

// recorder aggregates every exchange of a step into that step's one check.
type recorder struct {
	idp    *idp.IdP
	client *client

	mu    sync.Mutex
	steps map[idp.Step]*tally
}

// tally is one step's running verdict.
type tally struct {
	// failed counts the exchanges with a reason; lost counts those of them
	// that got no response at all (a transport error, the IdP's timeout, a
	// request not sent): they show nothing about the target's answers.
	total, failed, lost int
	dur                 time.Duration
	// reason is the first wrong answer's; lostReason the first unanswered
	// request's.
	reason, lostReason string
	// evidence is the first wrong answer, else the first unanswered
	// request, else the first exchange; rank says which (see rankOf), and
	// claimed is the best rank a record is about to store.
	evidence      *reports.Exchange
	rank, claimed int
	// never is set when the IdP never takes the step; it becomes the reason
	// of a skipped verdict.
	never string
	// idle is set when the run gave the step nothing to do (see noWork);
	// idleErr makes it an error rather than a skip. A step with exchanges
	// keeps their verdict.
	idle    string
	idleErr bool
	// blocked is why requests of the step were not sent (the read before a
	// PUT failed); it becomes the no-work reason when none was sent.
	blocked string
	// errored is set when the step could not run to a verdict; it becomes
	// the reason of an error verdict.
	errored string
}

// Evidence ranks: a check shows its first wrong answer, else its first
// unanswered request, else its first exchange.
const (
	rankNone = iota
	rankAnswered
	rankUnanswered
	rankWrong
)

// rankOf ranks one exchange as evidence.
func rankOf(reason string, unanswered bool) int {
	switch {
	case reason == "":
		return rankAnswered
	case unanswered:
		return rankUnanswered
	}
	return rankWrong
}

func newRecorder(p *idp.IdP, c *client) *recorder {
	return &recorder{idp: p, client: c, steps: map[idp.Step]*tally{}}
}

func (r *recorder) tally(step idp.Step) *tally {
	t := r.steps[step]
	if t == nil {
		t = &tally{}
		r.steps[step] = t
	}
	return t
}

// record adds one exchange to step's check; reason is empty on success. A
// request that got no response (res.err: refused, reset, timed out, not
// sent) shows nothing about the target's answers: a check whose failed
// exchanges are all such is an error, one with a wrong answer among them
// fails (see checks).
func (r *recorder) record(step idp.Step, res *response, reason string) {
	r.add(step, res, reason, res != nil && res.err != nil)
}

// unanswered adds to step's check an outcome that got no response, though
// not from a request of this step: what the step needed was never
// answered (the end state of a user whose create went unanswered).
func (r *recorder) unanswered(step idp.Step, reason string) {
	r.add(step, nil, reason, true)
}

// add adds one outcome to step's check; unanswered says that it got no
// response.
func (r *recorder) add(step idp.Step, res *response, reason string, unanswered bool) {
	rank := rankOf(reason, unanswered)
	r.mu.Lock()
	t := r.tally(step)
	t.total++
	if res != nil {
		t.dur += res.latency
	}
	switch rank {
	case rankWrong:
		t.failed++
		if t.reason == "" {
			t.reason = reason
		}
	case rankUnanswered:
		t.failed++
		t.lost++
		if t.lostReason == "" {
			t.lostReason = reason
		}
	}
	keep := res != nil && rank > t.claimed
	if keep {
		t.claimed = rank
	}
	r.mu.Unlock()
	if reason != "" && res != nil {
		r.client.failed(string(step))
	}
	if keep {
		ex := res.exchange()
		r.mu.Lock()
		if rank > t.rank {
			t.evidence, t.rank = &ex, rank
		}
		r.mu.Unlock()
	}
}

// skip marks step as one the IdP never takes, with a reason; a step that
// has exchanges keeps their verdict.
func (r *recorder) skip(step idp.Step, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.tally(step)
	if t.never == "" {
		t.never = reason
	}
}

// block records that a request of step was not sent, and why (reason
// names the step that failed instead). When the step ends with no request
// sent, the first such reason is its no-work reason.
func (r *recorder) block(step idp.Step, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t := r.tally(step); t.blocked == "" {
		t.blocked = reason
	}
}

// noWork marks step as not run because the run gave it nothing to do
// (reason says what was missing, or why its requests were not sent). A
// step with exchanges, or one the IdP never takes, keeps its verdict; a
// later call replaces an earlier one's reason (a later phase knows better).
// When an earlier step failed or could not run, that is the likely cause,
// and the step could not run to a verdict: an error naming the first such
// step (DESIGN.md keeps skipped for what the target declares unsupported).
// Otherwise (the directory was too small, or empty), or when normal says
// that nothing to do is the step's normal outcome whatever came before, it
// is skipped with the reason.
func (r *recorder) noWork(step idp.Step, reason string, normal bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.tally(step)
	if t.total > 0 || t.never != "" {
		return
	}
	if t.blocked != "" {
		reason = t.blocked
	}
	t.idle, t.idleErr = reason, false
	if normal {
		return
	}
	for _, s := range idp.Steps {
		if s == step {
			break
		}
		if e := r.steps[s]; e != nil && (e.failed > 0 || e.errored != "") {
			t.idle, t.idleErr = fmt.Sprintf("not run: %s, after %s did not pass", reason, r.idp.CheckID(s)), true
			return
		}
	}
}

// abort gives step an error verdict with reason: it could not run to a
// verdict (the run was interrupted before it ended).
func (r *recorder) abort(step idp.Step, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tally(step).errored = reason
}

// stopped gives step an error verdict with reason when it sent no request
// and the IdP takes it: the run stopped before it could.
func (r *recorder) stopped(step idp.Step, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t := r.tally(step); t.total == 0 && t.never == "" {
		t.errored = reason
	}
}

// checks returns one check per recorded step, in idp.Steps order.
func (r *recorder) checks() []reports.Check {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []reports.Check
	for _, step := range idp.Steps {
		t := r.steps[step]
		if t == nil {
			continue
		}
		info := stepInfos[step]
		c := reports.Check{
			ID:         r.idp.CheckID(step),
			Title:      info.title,
			Area:       info.area,
			RFC:        info.rfc,
			Level:      reports.IdPLevel(r.idp.Level),
			Duration:   t.dur,
			Labels:     []string{"simulate", "idp:" + r.idp.Name},
			Capability: info.capability,
		}
		switch {
		case t.errored != "":
			c.Verdict = reports.Error
			c.Reason = t.errored
		case t.failed > t.lost:
			c.Verdict = reports.Fail
			c.Reason = t.failReason(info.counts)
		case t.lost > 0:
			c.Verdict = reports.Error
			c.Reason = t.lostWhy()
		case t.total > 0:
			c.Verdict = reports.Pass
		case t.never != "":
			c.Verdict = reports.Skipped
			c.Reason = t.never
		case t.idleErr:
			c.Verdict = reports.Error
			c.Reason = t.idle
		default:
			c.Verdict = reports.Skipped
			c.Reason = t.idle
		}
		if t.evidence != nil {
			c.Evidence = []reports.Exchange{*t.evidence}
		}
		out = append(out, c)
	}
	return out
}

// failReason says why a step with a wrong answer failed: how many of its
// exchanges failed (what counts them, "requests failed" if empty), the
// first wrong answer, and how many more got no response.
func (t *tally) failReason(what string) string {
	if what == "" {
		what = "requests failed"
	}
	wrong := t.failed - t.lost
	reason := t.reason
	if t.total > 1 {
		reason = fmt.Sprintf("%d of %d %s; first: %s", wrong, t.total, what, t.reason)
	}
	if t.lost > 0 {
		reason += fmt.Sprintf("; %d more got no response (the first: %s)", t.lost, t.lostReason)
	}
	return reason
}

// lostWhy says why a step whose failed exchanges all got no response could
// not reach a verdict.
func (t *tally) lostWhy() string {
	if t.total == 1 {
		return "could not reach a verdict: the target did not answer: " + t.lostReason
	}
	return fmt.Sprintf("could not reach a verdict: %d of %d requests got no response from the target; the first: %s", t.lost, t.total, t.lostReason)
}
