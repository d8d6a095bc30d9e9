package replayer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/transcript"
)

// Fresh returns a target in a known starting state for one replay attempt
// (a new in-process reference server, or a user's server after a reset
// command) and a function that releases it.
type Fresh func(ctx context.Context) (Target, func(), error)

// ErrNoFailure means the transcript replays without the failure to minimise.
var ErrNoFailure = errors.New("the transcript shows no such failure")

// ErrBlocked means the check to minimise was never sent: it uses an id whose
// creating exchange failed, and that exchange is the one to minimise.
var ErrBlocked = errors.New("cannot minimise a check that was not sent")

// Minimize shrinks xs to a small transcript that still shows the failure of
// checkID (a replay check ID such as RPL-0042; empty means the first failure
// of a full replay). It runs Zeller's ddmin over the other exchanges: the
// failing exchange is always kept, and the result is 1-minimal — removing any
// one remaining exchange makes the failure go away. "Still shows the failure"
// means the same exchange fails again with the same status code (0: no
// answer), sent as it was in the full replay: an exchange left unsent because
// an attempt dropped what paired its id does not show a failure that got no
// answer. Each attempt replays against a target from fresh.
func Minimize(ctx context.Context, fresh Fresh, xs []transcript.Exchange, checkID string) ([]transcript.Exchange, string, error) {
	full, err := attempt(ctx, fresh, xs)
	if err != nil {
		return nil, "", err
	}
	target := -1
	for i, r := range full {
		if r.Verdict == reports.Pass || r.Verdict == reports.Skipped {
			continue
		}
		if checkID == "" || CheckID(r.Original.Seq) == checkID {
			target = i
			checkID = CheckID(r.Original.Seq)
			break
		}
	}
	if target < 0 {
		if checkID == "" {
			return nil, "", fmt.Errorf("%w: every exchange passed", ErrNoFailure)
		}
		return nil, "", fmt.Errorf("%w: %s passed or is not in the transcript", ErrNoFailure, checkID)
	}
	if by := full[target].BlockedBy; by != 0 {
		return nil, "", fmt.Errorf("%w: %s %s; minimise %s instead", ErrBlocked, checkID, strings.TrimPrefix(full[target].Reason, "not sent: it "), CheckID(by))
	}
	failing := xs[target]
	wantStatus, wantUnsent := full[target].Sent.Status, full[target].Unsent

	others := make([]int, 0, len(xs)-1)
	for i := range xs {
		if i != target {
			others = append(others, i)
		}
	}
	fails := func(keep []int) (bool, error) {
		sub := make([]transcript.Exchange, 0, len(keep)+1)
		k := 0
		for i := range xs {
			if i == target {
				sub = append(sub, failing)
				continue
			}
			if k < len(keep) && keep[k] == i {
				sub = append(sub, xs[i])
				k++
			}
		}
		res, err := attempt(ctx, fresh, sub)
		if err != nil {
			return false, err
		}
		for _, r := range res {
			if r.Original.Seq == failing.Seq {
				return r.Verdict != reports.Pass && r.Sent.Status == wantStatus && r.Unsent == wantUnsent, nil
			}
		}
		return false, nil
	}
	keep, err := ddmin(others, fails)
	if err != nil {
		return nil, "", err
	}
	out := make([]transcript.Exchange, 0, len(keep)+1)
	k := 0
	for i := range xs {
		if i == target || (k < len(keep) && keep[k] == i) {
			if i != target {
				k++
			}
			out = append(out, xs[i])
		}
	}
	return out, checkID, nil
}

func attempt(ctx context.Context, fresh Fresh, xs []transcript.Exchange) ([]Result, error) {
	t, release, err := fresh(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return Replay(ctx, t, xs)
}

// ddmin returns a 1-minimal subset of c (kept in order) for which test is true,
// given that test(c) is true. test(nil) is tried first.
func ddmin(c []int, test func([]int) (bool, error)) ([]int, error) {
	if ok, err := test(nil); err != nil || ok {
		return nil, err
	}
	n := 2
	for len(c) >= 2 {
		chunks := split(c, n)
		reduced := false
		for _, ch := range chunks {
			ok, err := test(ch)
			if err != nil {
				return nil, err
			}
			if ok {
				c, n, reduced = ch, 2, true
				break
			}
		}
		if !reduced && n > 2 {
			for i := range chunks {
				comp := complement(chunks, i)
				ok, err := test(comp)
				if err != nil {
					return nil, err
				}
				if ok {
					c, n, reduced = comp, max(n-1, 2), true
					break
				}
			}
		}
		if !reduced {
			if n >= len(c) {
				break
			}
			n = min(2*n, len(c))
		}
	}
	// The loop above is 1-minimal only at granularity len(c); finish with a
	// single-removal pass.
	for i := 0; i < len(c) && len(c) > 1; {
		without := append(append([]int(nil), c[:i]...), c[i+1:]...)
		ok, err := test(without)
		if err != nil {
			return nil, err
		}
		if ok {
			c = without
			continue
		}
		i++
	}
	if len(c) == 1 {
		if ok, err := test(nil); err == nil && ok {
			return nil, nil
		}
	}
	return c, nil
}

func split(c []int, n int) [][]int {
	out := make([][]int, 0, n)
	size := len(c) / n
	rem := len(c) % n
	start := 0
	for i := 0; i < n; i++ {
		end := start + size
		if i < rem {
			end++
		}
		if end > start {
			out = append(out, c[start:end])
		}
		start = end
	}
	return out
}

func complement(chunks [][]int, skip int) []int {
	var out []int
	for i, ch := range chunks {
		if i != skip {
			out = append(out, ch...)
		}
	}
	return out
}
