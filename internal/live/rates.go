package live

import (
	"math"
	"sync"
	"time"

	"github.com/straitgw/strait/internal/model"
)

// Request rates are measured from the data plane's counters, sampled when
// the view is fetched (at most once per sampleEvery): no goroutine runs
// and nothing is sampled while nobody looks. The rate is the counters'
// growth between the newest sample and the newest one at least
// rateWindow older (or the oldest kept), divided by the time between
// them.
const (
	sampleEvery = 900 * time.Millisecond
	rateWindow  = 10 * time.Second
	// staleAfter drops a base sample this old: a rate over minutes would
	// not be "now".
	staleAfter = time.Minute
)

// routeKey identifies the counters of one route of one Ingress.
type routeKey struct {
	namespace, ingress, host, path string
}

// counts are one counter set's values, or a route's sum of them.
type counts struct {
	requests, errors, canary uint64
}

// counterKey identifies one RouteTraffic.
type counterKey struct {
	route   routeKey
	service string
	canary  bool
}

type sample struct {
	at     time.Time
	values map[counterKey]counts
}

// rates holds the samples.
type rates struct {
	src     func() []RouteTraffic
	mu      sync.Mutex
	samples []sample // oldest first
}

// observe samples the counters unless the last sample is recent, and
// returns the window the rates are measured over (0 when there is none
// yet) with each route's rates.
func (r *rates) observe(now time.Time) (time.Duration, map[routeKey]Rate) {
	r.mu.Lock()
	fresh := len(r.samples) == 0 || now.Sub(r.samples[len(r.samples)-1].at) >= sampleEvery
	r.mu.Unlock()
	var s sample
	if fresh {
		// The data plane's function runs without the lock: a slow one
		// delays only this fetch.
		s = sample{at: now, values: map[counterKey]counts{}}
		for _, t := range r.src() {
			k := counterKey{route: routeKey{t.Namespace, t.Ingress, hostName(t.Host), t.Path}, service: t.Service, canary: t.Canary}
			c := s.values[k]
			c.requests += t.Requests
			c.errors += t.Errors5xx
			s.values[k] = c
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if fresh && (len(r.samples) == 0 || s.at.After(r.samples[len(r.samples)-1].at)) {
		r.samples = append(r.samples, s)
	}
	last := r.samples[len(r.samples)-1]
	// Keep the newest sample at least rateWindow older than the last,
	// as the base, and everything after it.
	for len(r.samples) > 2 && last.at.Sub(r.samples[1].at) >= rateWindow {
		r.samples = r.samples[1:]
	}
	for len(r.samples) > 1 && last.at.Sub(r.samples[0].at) > staleAfter {
		r.samples = r.samples[1:]
	}
	if len(r.samples) < 2 {
		return 0, nil
	}
	base := r.samples[0]
	window := last.at.Sub(base.at)
	secs := window.Seconds()
	out := map[routeKey]Rate{}
	for k, c := range last.values {
		b := base.values[k]
		d := counts{requests: grown(b.requests, c.requests), errors: grown(b.errors, c.errors)}
		rt := out[k.route]
		rt.RequestsPerSecond += float64(d.requests) / secs
		rt.Errors5xxPerSecond += float64(d.errors) / secs
		if k.canary {
			rt.CanaryPerSecond += float64(d.requests) / secs
		}
		out[k.route] = rt
	}
	return window, out
}

// grown is a counter's growth from old to cur; a counter that went down
// started again from zero.
func grown(old, cur uint64) uint64 {
	if cur < old {
		return cur
	}
	return cur - old
}

// hostName maps the names the catch-all host goes by to the model's.
func hostName(h string) string {
	if h == "" || h == "_" {
		return model.CatchAllHost
	}
	return h
}

// withRates sets each Ingress route's rate: the counters of its Ingress
// and of its canary Ingress for its host and path. Routes without
// counters get 0.
func withRates(v *View, byRoute map[routeKey]Rate) {
	for i := range v.Hosts {
		h := &v.Hosts[i]
		for j := range h.Routes {
			rt := &h.Routes[j]
			var sum Rate
			add := func(o Object) {
				if o.Kind != "Ingress" {
					return
				}
				x := byRoute[routeKey{o.Namespace, o.Name, h.Name, rt.Path}]
				sum.RequestsPerSecond += x.RequestsPerSecond
				sum.Errors5xxPerSecond += x.Errors5xxPerSecond
				sum.CanaryPerSecond += x.CanaryPerSecond
			}
			add(rt.Source)
			if rt.Canary != nil {
				add(rt.Canary.Source)
			}
			if rt.Source.Kind != "Ingress" {
				continue
			}
			sum.RequestsPerSecond = round3(sum.RequestsPerSecond)
			sum.Errors5xxPerSecond = round3(sum.Errors5xxPerSecond)
			sum.CanaryPerSecond = round3(sum.CanaryPerSecond)
			rt.Traffic = &sum
		}
	}
}

// round3 rounds to three decimals, so that documents read well and
// compare equal.
func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
