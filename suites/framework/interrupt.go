package framework

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// interruptWatch counts the interrupt signals (SIGINT, SIGTERM) the process
// gets while the suite runs. Ginkgo answers the first by stopping the node
// that is running, a clean-up included (it cancels the node's context), and
// then running the clean-up nodes; the second by skipping them. A clean-up
// that the first signal cut short would leave what it was removing on the
// target, so clean-ups send their requests on a context of their own
// (cleanupContext) that only their own time limit or a second signal ends.
type interruptWatch struct {
	mu      sync.Mutex
	n       int
	second  chan struct{} // closed at the second signal
	release func()
}

var interrupts = newInterruptWatch()

func newInterruptWatch() *interruptWatch {
	return &interruptWatch{second: make(chan struct{})}
}

// start begins counting signals, until stop. Ginkgo has its own handler for
// the same signals while RunSpecs runs, so counting here changes nothing
// of what a signal does.
func (w *interruptWatch) start() {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				w.count()
			case <-done:
				return
			}
		}
	}()
	w.mu.Lock()
	w.release = func() {
		signal.Stop(ch)
		close(done)
	}
	w.mu.Unlock()
}

// stop ends what start began; after it a signal has its default action
// again (once Ginkgo's handler is gone too).
func (w *interruptWatch) stop() {
	w.mu.Lock()
	release := w.release
	w.release = nil
	w.mu.Unlock()
	if release != nil {
		release()
	}
}

// count notes one signal.
func (w *interruptWatch) count() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n++
	if w.n == 2 {
		close(w.second)
	}
}

// errSecondInterrupt ends a clean-up: the user asked twice to stop.
var errSecondInterrupt = errors.New("interrupted twice: the clean-up was skipped")

// cleanupContext returns the context a clean-up sends its requests on. It
// is not cancelled with parent, the clean-up node's context, which the first
// interrupt cancels (the clean-up still has to run then); it ends after
// limit, or at the second interrupt.
func cleanupContext(parent context.Context, limit time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(parent))
	ctx, cancelTimeout := context.WithTimeoutCause(ctx, limit, fmt.Errorf("the clean-up ran out of its %s", limit))
	second := interrupts.secondSignal()
	go func() {
		select {
		case <-second:
			cancel(errSecondInterrupt)
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		cancelTimeout()
		cancel(context.Canceled)
	}
}

func (w *interruptWatch) secondSignal() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.second
}
