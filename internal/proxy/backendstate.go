package proxy

import "github.com/straitgw/strait/internal/proxy/upstream"

// BackendStates returns the passive health and circuit-breaker state of
// every backend of the current generation, sorted by name (see
// upstream.Registry.States). It takes no lock that requests take.
func (p *Proxy) BackendStates() []upstream.BackendState { return p.registry.States() }

// FailureSettings returns the passive health and circuit-breaker settings
// in force.
func (p *Proxy) FailureSettings() (upstream.Outlier, upstream.Breaker) {
	return p.registry.Settings()
}
