package upstream

import (
	"bufio"
	"crypto/tls"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/straitgw/strait/internal/model"
)

// Endpoint is one address of a backend.
type Endpoint struct {
	// Addr is "host:port".
	Addr string
	pool *addrPool
	key  string // persistent-affinity cookie value
	// ewma and health are kept across endpoint updates, by address.
	ewma   *ewma
	health *health
}

// Get returns a connection to the endpoint: an idle one when available,
// else a new one, dialled within connect (0: the registry's default).
func (e *Endpoint) Get(connect time.Duration) (*Conn, error) { return e.pool.get(connect) }

// Dial opens a new connection that is not taken from the pool, for
// upgraded connections that will never return to it.
func (e *Endpoint) Dial(connect time.Duration) (net.Conn, error) {
	return e.pool.dial(connect)
}

// Backend is a named upstream set. Its endpoints are replaced in place when
// only they change, so routes keep pointing at the same Backend.
type Backend struct {
	// Name is the model's backend name.
	Name      string
	endpoints atomic.Pointer[[]*Endpoint]
	// from is the model's endpoint list the set was last made from
	// (guarded by the registry's lock): models are immutable, so the
	// same list is the same set.
	from    []model.Endpoint
	cursor  atomic.Uint64
	balance atomic.Pointer[model.Balance]
	// ring is the consistent-hash ring of hashing and balanced-affinity
	// backends, nil for the others (see balance.go).
	ring atomic.Pointer[ring]
	// The fields below are set when the backend is created and never
	// change: a model backend whose protocol or TLS settings change gets
	// a new Backend.
	ident  string      // protocol and TLS settings, see backendIdentity
	conns  string      // the pools' TLS identity, see tlsIdentity
	tls    *tls.Config // TLS to the endpoints; nil for clear text
	tlsErr error       // TLS settings that could not be used
	// h2 is the HTTP/2 transport of gRPC backends, nil for others.
	h2 *http.Transport
	// secure is the HTTPS twin of an AUTO_HTTP backend, used for requests
	// that came over TLS; nil for other protocols.
	secure *Backend
	// fh is the registry's failure handling: settings and counters.
	fh *failureHandling
	// brk counts the requests in flight; an AUTO_HTTP backend shares it
	// with its twin.
	brk *breaker
	// ejectMu serialises ejections and their ends; ejected is the number
	// of current endpoints whose ejection has not been lifted (see
	// outlier.go).
	ejectMu sync.Mutex
	ejected atomic.Int32
}

// HTTP2 returns the HTTP/2 transport of a GRPC or GRPCS backend, nil for
// HTTP/1 backends.
func (b *Backend) HTTP2() *http.Transport { return b.h2 }

// ForTLS returns the backend for a request that came over TLS: the HTTPS
// twin of an AUTO_HTTP backend, else b.
func (b *Backend) ForTLS() *Backend {
	if b.secure != nil {
		return b.secure
	}
	return b
}

// Endpoints returns the current endpoint set; callers must not modify it.
func (b *Backend) Endpoints() []*Endpoint { return *b.endpoints.Load() }

// Registry owns every Backend and connection pool, keyed by identity.
type Registry struct {
	dialer   *net.Dialer
	mu       sync.Mutex
	backends map[string]*Backend
	pools    map[string]*addrPool
	// ka is the keep-alive configuration the pools follow.
	ka keepAliveRef
	// fh is the passive health and circuit-breaker configuration and
	// counters of every backend.
	fh failureHandling
	// replaced counts backends replaced by Update (see Replaced).
	replaced atomic.Uint64
}

// NewRegistry returns an empty Registry whose connections time out after
// connect when dialling.
// Passive health and circuit breakers follow DefaultOutlier and
// DefaultBreaker until SetOutlier and SetBreaker say otherwise.
func NewRegistry(connect time.Duration) *Registry {
	r := &Registry{
		dialer:   &net.Dialer{Timeout: connect, KeepAlive: -1},
		backends: map[string]*Backend{},
		pools:    map[string]*addrPool{},
	}
	r.SetOutlier(DefaultOutlier())
	r.SetBreaker(DefaultBreaker())
	return r
}

// Update makes the registry hold exactly the given backends: existing ones
// keep their identity and get the new endpoint sets, new ones are created,
// and those no longer in the model are forgotten, their idle connections
// closed. It returns the backends by name.
func (r *Registry) Update(bs []model.Backend) map[string]*Backend {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]*Backend, len(bs))
	for i := range bs {
		mb := &bs[i]
		b := r.backends[mb.Name]
		if b == nil || b.ident != backendIdentity(mb) {
			if b != nil {
				r.dropLocked(b)
				r.replaced.Add(1)
			}
			b = r.newBackend(mb)
			r.backends[mb.Name] = b
		}
		r.setEndpointsLocked(b, mb.Endpoints)
		b.setBalanceLocked(mb.Balance)
		out[mb.Name] = b
	}
	for name, b := range r.backends {
		if _, ok := out[name]; !ok {
			r.dropLocked(b)
			delete(r.backends, name)
		}
	}
	return out
}

// Replaced counts the backends Update replaced by a new object (their
// protocol or TLS settings changed): what was compiled against the old
// one must be compiled again.
func (r *Registry) Replaced() uint64 { return r.replaced.Load() }

// backendIdentity is what decides how a backend connects: its protocol
// and TLS settings.
func backendIdentity(mb *model.Backend) string {
	id := string(mb.Protocol)
	if mb.TLS != nil {
		id += "/" + mb.TLS.Fingerprint
	}
	return id
}

// newBackend creates a backend with its connection settings.
func (r *Registry) newBackend(mb *model.Backend) *Backend {
	b := &Backend{Name: mb.Name, ident: backendIdentity(mb), fh: &r.fh, brk: &breaker{}}
	empty := []*Endpoint{}
	b.endpoints.Store(&empty)
	switch mb.Protocol {
	case model.ProtocolHTTPS:
		b.setTLS(mb.TLS, "http/1.1", false)
	case model.ProtocolGRPC:
		b.h2 = newH2Transport(r.dialer, nil)
		b.setTLS(nil, "", true)
	case model.ProtocolGRPCS:
		b.setTLS(mb.TLS, "h2", true)
		b.h2 = newH2Transport(r.dialer, b.tls)
	case model.ProtocolAutoHTTP:
		s := &Backend{Name: mb.Name, fh: &r.fh, brk: b.brk}
		s.endpoints.Store(&empty)
		s.setTLS(mb.TLS, "http/1.1", false)
		b.secure = s
	}
	return b
}

// setTLS sets the backend's TLS configuration and the identity its pools
// are keyed by. An empty alpn means clear text.
func (b *Backend) setTLS(bt *model.BackendTLS, alpn string, h2 bool) {
	if alpn == "" {
		b.conns = tlsIdentity(false, nil, h2)
		return
	}
	b.conns = tlsIdentity(true, bt, h2)
	b.tls, b.tlsErr = clientTLS(bt, alpn)
}

// dropLocked releases a backend that leaves the registry.
func (r *Registry) dropLocked(b *Backend) {
	r.setEndpointsLocked(b, nil)
	if b.h2 != nil {
		b.h2.CloseIdleConnections()
	}
}

// SetEndpoints replaces one backend's endpoints in place (the endpoints
// fast path). It reports false when the backend is unknown.
func (r *Registry) SetEndpoints(name string, eps []model.Endpoint) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.backends[name]
	if b == nil {
		return false
	}
	r.setEndpointsLocked(b, eps)
	return true
}

func (r *Registry) setEndpointsLocked(b *Backend, eps []model.Endpoint) {
	if b.secure != nil {
		r.setEndpointsLocked(b.secure, eps)
	}
	old := *b.endpoints.Load()
	if sameList(b.from, eps) || sameEndpoints(old, eps, b.conns) {
		// Keeping the set keeps the ring and spares rebuilding it on
		// every generation.
		b.from = eps
		return
	}
	b.from = eps
	next := make([]*Endpoint, 0, len(eps))
	for _, e := range eps {
		addr := net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port)))
		key := addr
		if b.conns != "" {
			key += "/" + b.conns
		}
		avg, hl := &ewma{}, &health{}
		for _, o := range old {
			if o.Addr == addr {
				avg, hl = o.ewma, o.health
				break
			}
		}
		p := r.pools[key]
		if p == nil {
			p = &addrPool{addr: addr, key: key, dialer: r.dialer, ka: &r.ka, tls: b.tls, tlsErr: b.tlsErr}
			r.pools[key] = p
		}
		p.refs++
		next = append(next, &Endpoint{Addr: addr, pool: p, key: endpointKey(addr), ewma: avg, health: hl})
	}
	b.ejectMu.Lock()
	b.endpoints.Store(&next)
	b.recountLocked()
	b.ejectMu.Unlock()
	b.syncRingLocked(true)
	for _, e := range old {
		e.pool.refs--
		if e.pool.refs == 0 {
			e.pool.close()
			delete(r.pools, e.pool.key)
		}
	}
}

// sameEndpoints reports whether a current endpoint set is the model's
// list, in order and with the same pools (conns is the backend's TLS
// identity, part of the pools' keys).
func sameEndpoints(cur []*Endpoint, eps []model.Endpoint, conns string) bool {
	if len(cur) != len(eps) {
		return false
	}
	// Compared without building the strings: this runs for every backend
	// of every generation.
	for i, e := range eps {
		c := cur[i]
		if !isAddr(c.Addr, e.Host, e.Port) {
			return false
		}
		// The pool key is the address, then "/" and conns if any.
		rest, ok := strings.CutPrefix(c.pool.key, c.Addr)
		if ok && conns != "" {
			rest, ok = strings.CutPrefix(rest, "/")
		}
		if !ok || rest != conns {
			return false
		}
	}
	return true
}

// isAddr reports whether addr, which net.JoinHostPort made, joins host
// and port.
func isAddr(addr, host string, port int32) bool {
	h, p, err := net.SplitHostPort(addr)
	if err != nil || h != host {
		return false
	}
	n, err := strconv.Atoi(p)
	return err == nil && n == int(port)
}

// sameList reports whether a and b are the same list of one array.
func sameList(a, b []model.Endpoint) bool {
	return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0]
}

// Adopt wraps a one-off connection (not from a pool) so that it can be
// read like a pooled one. Releasing it closes it.
func (r *Registry) Adopt(c net.Conn, br *bufio.Reader) *Conn {
	return &Conn{Conn: c, R: br, W: bufio.NewWriterSize(c, 512), pool: &addrPool{closed: true}}
}
