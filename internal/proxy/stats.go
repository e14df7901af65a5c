package proxy

import (
	"sync/atomic"

	"github.com/straitgw/strait/internal/metrics"
)

// Limit names a client-side protection whose triggering is counted in
// strait_limit_triggered_total{limit="..."}.
type Limit uint8

// The client-side limits.
const (
	// LimitHeaderTimeout: the request head did not arrive within
	// client-header-timeout.
	LimitHeaderTimeout Limit = iota
	// LimitHeaderSize: the head exceeded large-client-header-buffers.
	LimitHeaderSize
	// LimitBodySize: the body exceeded proxy-body-size.
	LimitBodySize
	// LimitBodyTimeout: the body stalled longer than client-body-timeout.
	LimitBodyTimeout
	// LimitMalformed: the request was malformed or ambiguous (framing,
	// head syntax, target or path) and was refused.
	LimitMalformed
	numLimits
)

// String is the limit's label value.
func (l Limit) String() string {
	switch l {
	case LimitHeaderTimeout:
		return "header_timeout"
	case LimitHeaderSize:
		return "header_size"
	case LimitBodySize:
		return "body_size"
	case LimitBodyTimeout:
		return "body_timeout"
	case LimitMalformed:
		return "malformed"
	}
	return "unknown"
}

// stats are the data plane's counters: plain atomics, read at scrape time.
type stats struct {
	limits [numLimits]atomic.Uint64
}

// limitHit counts one triggering of l.
func (s *stats) limitHit(l Limit) { s.limits[l].Add(1) }

// LimitHits returns how often l has triggered, for tests and tools.
func (p *Proxy) LimitHits(l Limit) uint64 { return p.stats.limits[l].Load() }

// Samples reports the data plane's metrics; register it with
// metrics.Set.AddSampler.
func (p *Proxy) Samples() []metrics.Sample {
	out := make([]metrics.Sample, 0, numLimits)
	for l := Limit(0); l < numLimits; l++ {
		out = append(out, metrics.Sample{
			Name:  "strait_limit_triggered_total",
			Help:  "Client-side protections that rejected or closed a client connection or request, by limit.",
			Label: "limit", LabelValue: l.String(),
			Value: float64(p.stats.limits[l].Load()),
		})
	}
	return out
}
