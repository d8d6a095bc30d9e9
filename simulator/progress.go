package simulator

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress shows how far a run is: a redrawn bar on a terminal, a line per
// quarter of each phase otherwise.
type progress struct {
	w        io.Writer
	tty      bool
	requests func() int64

	mu       sync.Mutex
	label    string
	total    int
	done     int
	started  time.Time
	lastDraw time.Time
	quarter  int
}

func newProgress(w io.Writer, tty bool, requests func() int64) *progress {
	if w == nil {
		w = io.Discard
	}
	return &progress{w: w, tty: tty, requests: requests}
}

// beginParts starts a phase of total units; when they are of more than
// one kind, parts names them ("21 to delete, 1 … to check"), so that the
// line that closes the phase can count each kind against its own number.
func (p *progress) beginParts(label string, total int, parts string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.label, p.total, p.done, p.started, p.quarter = label, total, 0, time.Now(), 0
	switch {
	case p.tty:
		p.draw()
	case parts != "":
		fmt.Fprintf(p.w, "simulate: %s: %d to do (%s)\n", label, total, parts)
	default:
		fmt.Fprintf(p.w, "simulate: %s: %d to do\n", label, total)
	}
}

// tick counts one unit of the current phase.
func (p *progress) tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if p.tty {
		if time.Since(p.lastDraw) >= 100*time.Millisecond {
			p.draw()
		}
		return
	}
	if p.total >= 8 {
		if q := p.done * 4 / p.total; q > p.quarter && q < 4 {
			p.quarter = q
			fmt.Fprintf(p.w, "simulate: %s: %d/%d\n", p.label, p.done, p.total)
		}
	}
}

// end closes the current phase.
func (p *progress) end() { p.finish("") }

// finish closes the current phase with its outcome, when the count of units
// done would not tell it (a clean-up whose DELETEs were not all answered):
// "done, N" when outcome is "".
func (p *progress) finish(outcome string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	el := time.Since(p.started).Round(time.Millisecond)
	if p.tty {
		p.draw()
		fmt.Fprintln(p.w)
		if outcome != "" {
			fmt.Fprintf(p.w, "simulate: %s: %s (%s)\n", p.label, outcome, el)
		}
		return
	}
	if outcome == "" {
		outcome = fmt.Sprintf("done, %d", p.done)
	}
	fmt.Fprintf(p.w, "simulate: %s: %s in %s\n", p.label, outcome, el)
}

// note prints a line outside any phase.
func (p *progress) note(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "simulate: "+format+"\n", args...)
}

// draw redraws the bar; the caller holds mu.
func (p *progress) draw() {
	const width = 30
	filled := width
	if p.total > 0 {
		filled = min(width, p.done*width/p.total)
	}
	rate := ""
	if el := time.Since(p.started).Seconds(); el > 0.2 && p.requests != nil {
		rate = fmt.Sprintf("  %d requests", p.requests())
	}
	fmt.Fprintf(p.w, "\r\033[K[%s%s] %d/%d %s%s", strings.Repeat("#", filled), strings.Repeat("-", width-filled), p.done, p.total, p.label, rate)
	p.lastDraw = time.Now()
}

// heldWriter holds what is written to it until the run knows whether its
// target can be simulated at all: release writes it out and lets later
// writes through; drop discards it and what comes after. A run that stops
// at its first answer (a refused credential, no SCIM service, no answer)
// is one line of the caller's, with no progress before it.
type heldWriter struct {
	mu       sync.Mutex
	w        io.Writer
	buf      bytes.Buffer
	released bool
	dropped  bool
}

func (h *heldWriter) Write(b []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.dropped:
		return len(b), nil
	case h.released:
		return h.w.Write(b)
	}
	return h.buf.Write(b)
}

// release writes out what is held, unless it was dropped.
func (h *heldWriter) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.released || h.dropped {
		return
	}
	h.released = true
	_, _ = h.w.Write(h.buf.Bytes())
	h.buf.Reset()
}

// drop discards what is held and what is written later, unless it was
// released.
func (h *heldWriter) drop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.released {
		h.dropped = true
		h.buf.Reset()
	}
}
