package live

import (
	"strconv"
	"strings"
)

// withHealth replaces the model's endpoints of each backend with the data
// plane's, with their passive health, and adds the breakers' counts. A
// backend the data plane does not have (yet) keeps the model's endpoints
// in state "unknown".
func withHealth(v *View, u Upstreams) {
	_, brk := u.FailureSettings()
	states := u.BackendStates()
	byName := make(map[string]int, len(states))
	for i, s := range states {
		byName[s.Name] = i
	}
	for i := range v.Backends {
		b := &v.Backends[i]
		b.MaxRequests, b.MaxPending = brk.MaxRequests, brk.MaxPending
		j, ok := byName[b.Name]
		if !ok {
			continue
		}
		s := states[j]
		b.InFlight, b.Pending = s.InFlight, s.Pending
		b.Saturated = brk.MaxRequests > 0 && s.InFlight >= int64(brk.MaxRequests)
		b.Endpoints = make([]Endpoint, len(s.Endpoints))
		for k, e := range s.Endpoints {
			ep := Endpoint{Address: e.Addr, State: StateHealthy, ConsecutiveFailures: e.Failures}
			switch {
			case !e.EjectedUntil.IsZero():
				ep.State = StateEjected
				t := e.EjectedUntil.UTC()
				ep.EjectedUntil = &t
			case e.Failures > 0:
				ep.State = StateFailing
			}
			b.Endpoints[k] = ep
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// splitName splits "<namespace>/<name>".
func splitName(s string) (ns, name string, ok bool) {
	return strings.Cut(s, "/")
}
