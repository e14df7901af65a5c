package proxy

import (
	"context"
	"io"
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
	// header and body are client-header-timeout and client-body-timeout.
	header, body time.Duration
}

// defaultKeepAliveRequests is keep-alive-requests' default.
const defaultKeepAliveRequests = 1000

// maxIdleTimeout caps how long the net/http servers keep an idle
// connection; the generation's keep-alive closes it sooner (trackIdle).
const maxIdleTimeout = time.Hour

func compileClientKeepAlive(c *model.Client) clientKeepAlive {
	k := clientKeepAlive{off: c.KeepAliveOff, idle: KeepAliveTimeout, requests: defaultKeepAliveRequests,
		header: ClientHeaderTimeout, body: ClientBodyTimeout}
	if c.HeaderTimeoutSeconds > 0 {
		k.header = time.Duration(c.HeaderTimeoutSeconds) * time.Second
	}
	if c.BodyTimeoutSeconds > 0 {
		k.body = time.Duration(c.BodyTimeoutSeconds) * time.Second
	}
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
// keep-alive is off or the connection reached keep-alive-requests. An
// HTTP/2 connection that reached keep-alive-requests gets a GOAWAY (the
// HTTP/2 server's reading of the header), its streams in flight
// finishing: nginx applies keepalive_requests to HTTP/2 connections too.
func keepAliveHeader(g *generation, w http.ResponseWriter, r *http.Request) {
	n, _ := r.Context().Value(requestCountKey{}).(*atomic.Int64)
	if n == nil {
		return
	}
	c := int(n.Add(1))
	if r.ProtoMajor == 1 && g.keepAlive.lastRequest(c) || r.ProtoMajor == 2 && c >= g.keepAlive.requests {
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
	switch s {
	case http.StateActive:
		// A request head (HTTP/1) or the preface (HTTP/2) is complete.
		if lc := limitOf(c); lc != nil {
			lc.headDone()
		}
	case http.StateClosed:
		if lc := limitOf(c); lc != nil && lc.headTimedOut(ClientHeaderTimeout) {
			p.stats.limitHit(LimitHeaderTimeout)
		}
	}
	// HTTP/2 reports its states on the frame guard.
	c = connKey(c)
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

// bodyTimeout is client-body-timeout on the net/http listeners: each read
// of the request body must make progress within d. Once the body ends the
// deadline is lifted, so that a long response is not cut by it.
type bodyTimeout struct {
	r  io.ReadCloser
	rc *http.ResponseController
	d  time.Duration
	dl upstream.Deadline
	// stats count the timeout, once.
	stats   *stats
	counted bool
}

func (b *bodyTimeout) Read(p []byte) (int, error) {
	b.dl.Extend(time.Now(), b.d, b.rc.SetReadDeadline)
	n, err := b.r.Read(p)
	if err != nil && !b.counted && isTimeout(err) {
		b.counted = true
		b.stats.limitHit(LimitBodyTimeout)
	}
	if err == io.EOF {
		// A deadline that passed stays: the server's own reads of what
		// is left of the body must fail at once too.
		_ = b.rc.SetReadDeadline(time.Time{})
		b.dl.Reset()
	}
	return n, err
}

func (b *bodyTimeout) Close() error { return b.r.Close() }
