package upstream

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Circuit breaker defaults: generous enough never to trip on a healthy
// backend, low enough that one slow Service cannot take every goroutine
// and file descriptor of the proxy.
const (
	// DefaultBackendMaxRequests is how many requests one backend may have in
	// flight.
	DefaultBackendMaxRequests = 10000
	// DefaultBackendMaxPending is how many more may wait for one of those
	// slots.
	DefaultBackendMaxPending = 1000
)

// Breaker bounds the requests in flight to one backend. A request beyond
// MaxRequests waits for a slot, at most the route's connect timeout, when
// fewer than MaxPending are waiting already; otherwise it is refused at
// once (the proxy answers 503). Upgraded connections are not counted.
type Breaker struct {
	// MaxRequests is the most requests in flight to one backend; 0 is no
	// limit.
	MaxRequests int
	// MaxPending is the most requests waiting for a slot; 0 refuses at
	// once.
	MaxPending int
}

// DefaultBreaker returns the default circuit-breaker settings.
func DefaultBreaker() Breaker {
	return Breaker{MaxRequests: DefaultBackendMaxRequests, MaxPending: DefaultBackendMaxPending}
}

// breaker is one backend's count of requests in flight and its queue.
type breaker struct {
	active  atomic.Int64
	waiting atomic.Int32
	mu      sync.Mutex
	queue   []chan struct{} // waiters, oldest first; guarded by mu
}

// SetBreaker sets the circuit-breaker settings.
func (r *Registry) SetBreaker(b Breaker) { r.fh.breaker.Store(&b) }

// Rejections returns how many requests the circuit breakers refused.
func (r *Registry) Rejections() uint64 { return r.fh.rejections.Load() }

// Acquire takes one of the backend's request slots, waiting at most wait
// (or until done is closed) when all are taken and the queue has room. It
// reports false when the request must be refused; after true, call
// Release once the exchange is over.
func (b *Backend) Acquire(done <-chan struct{}, wait time.Duration) bool {
	cfg := b.fh.breaker.Load()
	c := b.brk
	n := c.active.Add(1)
	if cfg == nil || cfg.MaxRequests <= 0 || n <= int64(cfg.MaxRequests) {
		return true
	}
	c.active.Add(-1)
	if ch := c.enqueue(cfg); ch != nil && c.await(ch, done, wait) {
		return true
	}
	b.fh.rejections.Add(1)
	return false
}

// enqueue joins the queue when it has room, returning the channel that
// hands over a slot (already closed when a slot freed meanwhile); nil
// when there is no queue or it is full.
func (c *breaker) enqueue(cfg *Breaker) chan struct{} {
	if cfg.MaxPending <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) >= cfg.MaxPending {
		return nil
	}
	ch := make(chan struct{})
	if c.active.Add(1) <= int64(cfg.MaxRequests) {
		close(ch) // a slot freed before the queue was joined
		return ch
	}
	c.active.Add(-1)
	c.queue = append(c.queue, ch)
	c.waiting.Store(int32(len(c.queue)))
	return ch
}

// await waits for a slot handed over on ch; on timeout it leaves the
// queue, unless a slot was handed over meanwhile.
func (c *breaker) await(ch chan struct{}, done <-chan struct{}, wait time.Duration) bool {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
	case <-done:
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := slices.Index(c.queue, ch); i >= 0 {
		c.queue = slices.Delete(c.queue, i, i+1)
		c.waiting.Store(int32(len(c.queue)))
		return false
	}
	// Handed over just now: the slot is ours, and must be released.
	<-ch
	return true
}

// Release gives back a slot taken with Acquire: to the oldest waiter,
// else to the pool.
func (b *Backend) Release() {
	c := b.brk
	if c.waiting.Load() > 0 {
		c.mu.Lock()
		if len(c.queue) > 0 {
			ch := c.queue[0]
			c.queue = slices.Delete(c.queue, 0, 1)
			c.waiting.Store(int32(len(c.queue)))
			c.mu.Unlock()
			close(ch) // the slot passes on without being freed
			return
		}
		c.mu.Unlock()
	}
	c.active.Add(-1)
}

// Validate reports settings that cannot be used.
func (b Breaker) Validate() error {
	if b.MaxRequests < 0 || b.MaxPending < 0 {
		return fmt.Errorf("backend max requests %d, max pending %d: must not be negative", b.MaxRequests, b.MaxPending)
	}
	return nil
}
