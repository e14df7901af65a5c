package upstream

import (
	"sync/atomic"
	"time"
)

// KeepAlive is the upstream keep-alive configuration (ConfigMap
// upstream-keepalive-*). It belongs to the generation but is read by the
// long-lived pools, so the registry holds the current one.
type KeepAlive struct {
	// MaxIdle is the most idle connections kept per endpoint; 0 disables
	// reuse.
	MaxIdle int
	// IdleTimeout closes connections idle longer.
	IdleTimeout time.Duration
	// MaxRequests is the most requests sent over one connection.
	MaxRequests int
	// MaxLifetime stops reusing connections opened longer ago.
	MaxLifetime time.Duration
}

// DefaultKeepAlive is ingress-nginx's: 320 idle connections, 60 s idle,
// 10000 requests, 1 h.
var DefaultKeepAlive = KeepAlive{MaxIdle: DefaultMaxIdle, IdleTimeout: DefaultIdleTimeout, MaxRequests: DefaultMaxRequests, MaxLifetime: time.Hour}

// keepAliveRef is the registry's current KeepAlive, shared with its pools.
type keepAliveRef struct{ p atomic.Pointer[KeepAlive] }

func (r *keepAliveRef) load() *KeepAlive {
	if r == nil {
		return &DefaultKeepAlive
	}
	if k := r.p.Load(); k != nil {
		return k
	}
	return &DefaultKeepAlive
}

// SetKeepAlive replaces the keep-alive configuration; pooled connections
// follow it from their next use.
func (r *Registry) SetKeepAlive(k KeepAlive) { r.ka.p.Store(&k) }

// Pooling reports whether upstream connections are reused; when not, the
// engines ask upstreams to close them (Connection: close).
func (r *Registry) Pooling() bool { return r.ka.load().MaxIdle > 0 }
