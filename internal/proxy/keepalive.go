package proxy

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy/upstream"
)

// clientKeepAlive is keep-alive and keep-alive-requests, compiled.
type clientKeepAlive struct {
	off      bool
	idle     time.Duration
	requests int
}

// defaultKeepAliveRequests is keep-alive-requests' default.
const defaultKeepAliveRequests = 1000

// maxIdleTimeout caps how long the net/http servers keep an idle
// connection; the generation's keep-alive closes it sooner (trackIdle).
const maxIdleTimeout = time.Hour

func compileClientKeepAlive(c *model.Client) clientKeepAlive {
	k := clientKeepAlive{off: c.KeepAliveOff, idle: KeepAliveTimeout, requests: defaultKeepAliveRequests}
	if c.KeepAliveSeconds > 0 {
		k.idle = time.Duration(c.KeepAliveSeconds) * time.Second
	}
	if c.KeepAliveRequests > 0 {
		k.requests = c.KeepAliveRequests
	}
	return k
}

func compileUpstreamKeepAlive(u *model.Upstream) upstream.KeepAlive {
	k := upstream.DefaultKeepAlive
	if u.KeepAliveOff {
		k.MaxIdle = 0
	} else if u.KeepAliveConnections > 0 {
		k.MaxIdle = u.KeepAliveConnections
	}
	if u.KeepAliveTimeoutSeconds > 0 {
		k.IdleTimeout = time.Duration(u.KeepAliveTimeoutSeconds) * time.Second
	}
	if u.KeepAliveRequests > 0 {
		k.MaxRequests = u.KeepAliveRequests
	}
	if u.KeepAliveTimeSeconds > 0 {
		k.MaxLifetime = time.Duration(u.KeepAliveTimeSeconds) * time.Second
	}
	return k
}

// lastRequest reports whether the n-th request of a connection (from 1)
// must be its last.
func (k *clientKeepAlive) lastRequest(n int) bool {
	return k.off || n >= k.requests
}

// net/http servers.

type requestCountKey struct{}

// countRequests gives every net/http connection a request counter, for
// keep-alive-requests.
func countRequests(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, requestCountKey{}, new(atomic.Int64))
}

// keepAliveHeader closes an HTTP/1 connection after this response when
// keep-alive is off or the connection reached keep-alive-requests.
func keepAliveHeader(g *generation, w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor != 1 {
		return
	}
	n, _ := r.Context().Value(requestCountKey{}).(*atomic.Int64)
	if n != nil && g.keepAlive.lastRequest(int(n.Add(1))) {
		w.Header().Set("Connection", "close")
	}
}

// idleTimers closes net/http connections that stay idle longer than the
// current generation's keep-alive: the servers' own IdleTimeout is fixed
// when they are created, the generation's changes.
type idleTimers struct {
	mu     sync.Mutex
	timers map[net.Conn]*time.Timer
}

// connState is the net/http servers' ConnState hook.
func (p *Proxy) connState(c net.Conn, s http.ConnState) {
	t := &p.idle
	t.mu.Lock()
	defer t.mu.Unlock()
	if old := t.timers[c]; old != nil {
		old.Stop()
		delete(t.timers, c)
	}
	if s != http.StateIdle {
		return
	}
	if t.timers == nil {
		t.timers = map[net.Conn]*time.Timer{}
	}
	t.timers[c] = time.AfterFunc(p.gen.Load().keepAlive.idle, func() { _ = c.Close() })
}
