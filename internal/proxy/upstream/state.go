package upstream

import (
	"slices"
	"strings"
	"time"
)

// BackendState is what a backend's failure handling knows now, for
// display (the live view). It is read from atomics and never blocks a
// request.
type BackendState struct {
	// Name is the model's backend name.
	Name string
	// InFlight is the number of requests holding one of the circuit
	// breaker's slots; Pending the number waiting for one.
	InFlight int64
	Pending  int
	// Endpoints are the current endpoints, in the balancer's order.
	Endpoints []EndpointState
}

// EndpointState is one endpoint's passive health.
type EndpointState struct {
	// Addr is "host:port".
	Addr string
	// Failures is the count of failures in a row; an endpoint back from
	// an ejection starts one short of the threshold (probation).
	Failures int
	// EjectedUntil is when the endpoint's ejection ends; zero when it is
	// in service. An ejection whose time has passed counts as ended
	// even before a balancer has lifted it.
	EjectedUntil time.Time
}

// States returns the state of every backend, sorted by name. The
// registry's lock is held only to list the backends, which the data
// plane never takes; the state itself is read from atomics. An AUTO_HTTP
// backend's HTTPS twin keeps health of its own: an endpoint shows the
// worse of the two.
func (r *Registry) States() []BackendState {
	r.mu.Lock()
	bs := make([]*Backend, 0, len(r.backends))
	for _, b := range r.backends {
		bs = append(bs, b)
	}
	r.mu.Unlock()
	slices.SortFunc(bs, func(a, b *Backend) int { return strings.Compare(a.Name, b.Name) })
	now := r.fh.now()
	out := make([]BackendState, len(bs))
	for i, b := range bs {
		st := BackendState{Name: b.Name, InFlight: b.brk.active.Load(), Pending: int(b.brk.waiting.Load())}
		eps := b.Endpoints()
		st.Endpoints = make([]EndpointState, len(eps))
		for j, e := range eps {
			st.Endpoints[j] = endpointState(e, now)
		}
		if b.secure != nil {
			for _, e := range b.secure.Endpoints() {
				twin := endpointState(e, now)
				for j := range st.Endpoints {
					if st.Endpoints[j].Addr == twin.Addr {
						st.Endpoints[j] = worse(st.Endpoints[j], twin)
					}
				}
			}
		}
		out[i] = st
	}
	return out
}

func endpointState(e *Endpoint, now int64) EndpointState {
	s := EndpointState{Addr: e.Addr, Failures: int(e.health.fails.Load())}
	if u := e.health.until.Load(); u > now {
		s.EjectedUntil = time.Unix(0, u)
	}
	return s
}

// worse combines two views of one address: the longer ejection and the
// longer run of failures.
func worse(a, b EndpointState) EndpointState {
	if b.EjectedUntil.After(a.EjectedUntil) {
		a.EjectedUntil = b.EjectedUntil
	}
	a.Failures = max(a.Failures, b.Failures)
	return a
}

// Settings returns the passive health and circuit-breaker settings in
// force.
func (r *Registry) Settings() (Outlier, Breaker) {
	var o Outlier
	var b Breaker
	if p := r.fh.outlier.Load(); p != nil {
		o = *p
	}
	if p := r.fh.breaker.Load(); p != nil {
		b = *p
	}
	return o, b
}
