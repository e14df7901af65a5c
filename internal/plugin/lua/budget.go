package lua

import (
	"context"
	"sync/atomic"
	"time"
)

// budget is the context a state runs under: its Done channel closes when
// a call runs past the time budget. One per state, with one reusable
// timer, so that a call costs no context or timer allocation. Once it
// fires the state is done for: it is discarded, never pooled again.
type budget struct {
	done    chan struct{}
	timer   *time.Timer
	expired atomic.Bool
}

var _ context.Context = (*budget)(nil)

func newBudget() *budget {
	b := &budget{done: make(chan struct{})}
	b.timer = time.AfterFunc(time.Hour, func() {
		if b.expired.CompareAndSwap(false, true) {
			close(b.done)
		}
	})
	b.timer.Stop()
	return b
}

// start arms the timer for one call of at most d.
func (b *budget) start(d time.Duration) { b.timer.Reset(d) }

// stop disarms the timer; it reports false when the budget ran out (or
// is running out now), which leaves the state unusable.
func (b *budget) stop() bool { return b.timer.Stop() && !b.expired.Load() }

// Deadline reports none: the timer, not a deadline, ends a call.
func (b *budget) Deadline() (time.Time, bool) { return time.Time{}, false }

// Done closes when a call ran out of time.
func (b *budget) Done() <-chan struct{} { return b.done }

// Err is context.DeadlineExceeded once the budget ran out.
func (b *budget) Err() error {
	if b.expired.Load() {
		return context.DeadlineExceeded
	}
	return nil
}

// Value holds nothing.
func (b *budget) Value(any) any { return nil }
