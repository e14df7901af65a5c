package proxy

import (
	"errors"
	"os"
	"sync/atomic"

	"github.com/straitgw/strait/internal/metrics"
)

// Limit names a client-side protection whose triggering is counted in
// strait_limit_triggered_total{limit="..."}.
type Limit uint8

// The client-side limits (docs/architecture.md, "Client-side limits").
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
	// LimitConnections: a new connection waited because
	// max-worker-connections were open.
	LimitConnections
	// LimitSlowloris: under connection pressure, a connection that had
	// not sent its request head within --pressure-header-timeout was
	// closed.
	LimitSlowloris
	// LimitSendTimeout: a client did not take response bytes for the
	// send timeout.
	LimitSendTimeout
	// LimitH2Streams: an HTTP/2 client opened more streams than
	// http2-max-concurrent-streams; the stream was refused.
	LimitH2Streams
	// LimitH2RapidReset: an HTTP/2 client reset streams faster than
	// --http2-max-resets; the connection was closed.
	LimitH2RapidReset
	// LimitH2Continuation: an HTTP/2 header block came in more
	// CONTINUATION frames than --http2-max-continuations, or larger than
	// the head limit allows; the connection was closed.
	LimitH2Continuation
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
	case LimitConnections:
		return "connections"
	case LimitSlowloris:
		return "slowloris"
	case LimitSendTimeout:
		return "send_timeout"
	case LimitH2Streams:
		return "h2_streams"
	case LimitH2RapidReset:
		return "h2_rapid_reset"
	case LimitH2Continuation:
		return "h2_continuation"
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
	out := make([]metrics.Sample, 0, numLimits+4)
	for l := Limit(0); l < numLimits; l++ {
		out = append(out, metrics.Sample{
			Name:  "strait_limit_triggered_total",
			Help:  "Client-side protections that rejected, delayed or closed a client connection or request, by limit.",
			Label: "limit", LabelValue: l.String(),
			Value: float64(p.stats.limits[l].Load()),
		})
	}
	out = append(out, metrics.Sample{
		Name:  "strait_client_connections",
		Help:  "Open client connections on the HTTP and HTTPS listeners (max-worker-connections caps them).",
		Gauge: true,
		Value: float64(p.conns.open.Load()),
	})
	// Backend failure handling keeps its counters in the upstream
	// registry, next to the state they count.
	r := p.registry
	return append(out,
		metrics.Sample{
			Name:  "strait_upstream_ejections_total",
			Help:  "Endpoints taken out of service by passive health checking.",
			Value: float64(r.Ejections()),
		},
		metrics.Sample{
			Name:  "strait_upstream_ejected_endpoints",
			Help:  "Endpoints out of service by passive health checking now.",
			Gauge: true,
			Value: float64(r.Ejected()),
		},
		metrics.Sample{
			Name:  "strait_upstream_breaker_rejections_total",
			Help:  "Requests answered 503 because their backend had too many requests in flight and waiting.",
			Value: float64(r.Rejections()),
		})
}

// isTimeout reports whether err is a passed I/O deadline.
func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }
