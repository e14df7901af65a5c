package upstream

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Passive health checking. The proxy reports each try's outcome: a
// failure is a gateway failure (the connection could not be opened, was
// reset or closed before a response, or timed out) or a 502, 503 or 504
// response; anything else is a success. An endpoint with
// ConsecutiveFailures failures in a row is ejected: no balancer picks it
// until the ejection time has passed. As in Envoy's outlier detection,
// the time is BaseEjectionTime times the number of recent ejections, up to
// MaxEjectionTime, and the multiplier falls by one for each
// BaseEjectionTime the endpoint spends in service. An endpoint comes back
// on probation: its first failure ejects it again.
//
// At most MaxEjectionPercent of a backend's endpoints are out at once, and
// always at least one may be ejected; but the last endpoint in service
// never is, so a backend whose endpoints all fail keeps one to answer.
// When an endpoint-set update leaves only ejected endpoints, the
// balancers pick among them as if none were ejected.
//
// Health state belongs to the backend and is carried, by address, across
// endpoint-set updates and generations, as the balancer state is.

// Outlier detection defaults. ingress-nginx has no passive checks
// (max_fails=0); Strait ejects by default, with Envoy's thresholds.
const (
	// DefaultConsecutiveFailures is how many failures in a row eject an
	// endpoint.
	DefaultConsecutiveFailures = 5
	// DefaultBaseEjectionTime is the first ejection's length.
	DefaultBaseEjectionTime = 30 * time.Second
	// DefaultMaxEjectionTime caps the ejection time.
	DefaultMaxEjectionTime = 300 * time.Second
	// DefaultMaxEjectionPercent caps the share of a backend's endpoints
	// ejected at once.
	DefaultMaxEjectionPercent = 50
)

// Outlier configures passive health checking.
type Outlier struct {
	// ConsecutiveFailures is how many failures in a row eject an
	// endpoint; 0 disables ejection.
	ConsecutiveFailures int
	// BaseEjectionTime is the first ejection's length, and the step by
	// which later ones grow.
	BaseEjectionTime time.Duration
	// MaxEjectionTime caps the ejection time; 0 is no cap.
	MaxEjectionTime time.Duration
	// MaxEjectionPercent caps the share of a backend's endpoints that
	// may be ejected at once (at least one may always be).
	MaxEjectionPercent int
}

// DefaultOutlier returns the default passive health settings.
func DefaultOutlier() Outlier {
	return Outlier{
		ConsecutiveFailures: DefaultConsecutiveFailures,
		BaseEjectionTime:    DefaultBaseEjectionTime,
		MaxEjectionTime:     DefaultMaxEjectionTime,
		MaxEjectionPercent:  DefaultMaxEjectionPercent,
	}
}

// health is one endpoint's passive health state.
type health struct {
	fails atomic.Int32 // failures in a row
	until atomic.Int64 // Unix nanoseconds the ejection ends; 0 in service
	// times and last are guarded by Backend.ejectMu.
	times int   // the ejection time multiplier
	last  int64 // Unix nanoseconds the last ejection ended
}

// failureHandling holds a registry's passive health and circuit-breaker
// settings and counters, shared by its backends.
type failureHandling struct {
	outlier    atomic.Pointer[Outlier]
	breaker    atomic.Pointer[Breaker]
	ejections  atomic.Uint64
	rejections atomic.Uint64
	// clock returns the time in Unix nanoseconds; nil is the wall clock.
	// Tests move it forward through ejections.
	clock func() int64
}

// now returns the current time in Unix nanoseconds.
func (fh *failureHandling) now() int64 {
	if fh.clock != nil {
		return fh.clock()
	}
	return time.Now().UnixNano()
}

// SetOutlier sets the passive health settings.
func (r *Registry) SetOutlier(o Outlier) { r.fh.outlier.Store(&o) }

// Ejections returns how many ejections there have been.
func (r *Registry) Ejections() uint64 { return r.fh.ejections.Load() }

// Ejected returns how many endpoints are ejected now, over all backends.
func (r *Registry) Ejected() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.fh.now()
	n := 0
	for _, b := range r.backends {
		for _, x := range []*Backend{b, b.secure} {
			if x == nil {
				continue
			}
			for _, e := range x.Endpoints() {
				if e.health.until.Load() > now {
					n++
				}
			}
		}
	}
	return n
}

// Success records a try that got a response other than 502, 503 or 504:
// the endpoint's failure count starts again.
func (b *Backend) Success(e *Endpoint) {
	if e.health.fails.Load() != 0 {
		e.health.fails.Store(0)
	}
}

// Failure records a gateway failure or a 502, 503 or 504 response. It
// returns the ejection time when the failure ejected the endpoint, else
// 0.
func (b *Backend) Failure(e *Endpoint) time.Duration {
	o := b.fh.outlier.Load()
	if o == nil || o.ConsecutiveFailures <= 0 {
		return 0
	}
	if int(e.health.fails.Add(1)) < o.ConsecutiveFailures {
		return 0
	}
	return b.eject(e, o)
}

// eject takes e out of service unless the ejection caps forbid it.
func (b *Backend) eject(e *Endpoint, o *Outlier) time.Duration {
	b.ejectMu.Lock()
	defer b.ejectMu.Unlock()
	h := e.health
	now := b.fh.now()
	if h.until.Load() > now {
		return 0 // already out
	}
	eps := b.Endpoints()
	member, out := false, 0
	for _, x := range eps {
		switch {
		case x.health == h:
			member = true
		case x.health.until.Load() > now:
			out++
		}
	}
	// Counting starts again when the caps forbid the ejection, so that
	// a failing endpoint that must stay costs a lock only every few
	// failures.
	h.fails.Store(0)
	if !member || out+1 >= len(eps) || (out > 0 && (out+1)*100 > o.MaxEjectionPercent*len(eps)) {
		return 0
	}
	base := o.BaseEjectionTime
	if base <= 0 {
		base = DefaultBaseEjectionTime
	}
	if h.last != 0 {
		h.times = max(0, h.times-int((now-h.last)/int64(base)))
	}
	if o.MaxEjectionTime <= 0 || time.Duration(h.times)*base < o.MaxEjectionTime {
		h.times++
	}
	d := time.Duration(h.times) * base
	if o.MaxEjectionTime > 0 && d > o.MaxEjectionTime {
		d = o.MaxEjectionTime
	}
	h.until.Store(now + int64(d))
	b.recountLocked()
	b.fh.ejections.Add(1)
	return d
}

// inService reports whether e may be picked at now (Unix nanoseconds),
// returning it to service when its ejection has run its time.
func (b *Backend) inService(e *Endpoint, now int64) bool {
	u := e.health.until.Load()
	if u == 0 {
		return true
	}
	if now < u {
		return false
	}
	b.lift(e, now)
	return true
}

// lift ends e's ejection, leaving it on probation: one failure ejects it
// again.
func (b *Backend) lift(e *Endpoint, now int64) {
	b.ejectMu.Lock()
	defer b.ejectMu.Unlock()
	h := e.health
	u := h.until.Load()
	if u == 0 || now < u {
		return
	}
	h.until.Store(0)
	h.last = u
	if o := b.fh.outlier.Load(); o != nil && o.ConsecutiveFailures > 0 {
		h.fails.Store(int32(o.ConsecutiveFailures - 1))
	}
	b.recountLocked()
}

// recountLocked sets the number of ejections not yet lifted among the
// current endpoints; while it is 0 the balancers check nothing.
func (b *Backend) recountLocked() {
	n := int32(0)
	for _, x := range b.Endpoints() {
		if x.health.until.Load() != 0 {
			n++
		}
	}
	b.ejected.Store(n)
}

// Validate reports settings that cannot be used.
func (o Outlier) Validate() error {
	switch {
	case o.ConsecutiveFailures < 0:
		return fmt.Errorf("outlier consecutive failures %d: must not be negative", o.ConsecutiveFailures)
	case o.ConsecutiveFailures > 0 && o.BaseEjectionTime <= 0:
		return fmt.Errorf("outlier base ejection time %v: must be positive", o.BaseEjectionTime)
	case o.MaxEjectionTime < 0:
		return fmt.Errorf("outlier max ejection time %v: must not be negative", o.MaxEjectionTime)
	case o.MaxEjectionPercent < 0 || o.MaxEjectionPercent > 100:
		return fmt.Errorf("outlier max ejection percent %d: must be between 0 and 100", o.MaxEjectionPercent)
	}
	return nil
}
