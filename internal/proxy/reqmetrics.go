package proxy

import "github.com/straitgw/strait/internal/metrics"

// Request metrics: each Ingress route holds its series
// (metrics.RouteSeries, found once when the route is compiled) and both
// engines count a request in them when it ends, from the entry the access
// log fills (accesslog.go). The series outlive generations, keyed by
// their labels, so that a change to one route does not reset the counts
// of the others; pruneSeries drops those of routes no longer served.

// pruneSeries keeps the series the current generation's routes hold and
// drops the others. It runs before each scrape, under the lock that
// orders generations, so that a series created for a generation being
// compiled is never dropped before that generation is published.
func (p *Proxy) pruneSeries() {
	p.applyMu.Lock()
	defer p.applyMu.Unlock()
	g := p.gen.Load()
	keep := map[*metrics.RouteSeries]bool{}
	add := func(r *route) {
		if r.stats != nil {
			keep[r.stats] = true
		}
		if r.canary != nil && r.canary.stats != nil {
			keep[r.canary.stats] = true
		}
	}
	for _, c := range g.compiled {
		c.vh.each(add)
	}
	g.catchAll.each(add)
	p.reqs.Prune(func(s *metrics.RouteSeries) bool { return keep[s] })
}
