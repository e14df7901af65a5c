package upstream

import (
	"bufio"
	"net"
	"strconv"
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
	cursor    atomic.Uint64
	tls       bool // speaks HTTPS to its endpoints; guarded by Registry.mu
}

// Endpoints returns the current endpoint set; callers must not modify it.
func (b *Backend) Endpoints() []*Endpoint { return *b.endpoints.Load() }

// Pick returns the next endpoint in round-robin order, or nil when the
// backend has none.
func (b *Backend) Pick() *Endpoint {
	eps := *b.endpoints.Load()
	switch len(eps) {
	case 0:
		return nil
	case 1:
		return eps[0]
	}
	return eps[(b.cursor.Add(1)-1)%uint64(len(eps))]
}

// Registry owns every Backend and connection pool, keyed by identity.
type Registry struct {
	dialer   *net.Dialer
	mu       sync.Mutex
	backends map[string]*Backend
	pools    map[string]*addrPool
	// ka is the keep-alive configuration the pools follow.
	ka keepAliveRef
}

// NewRegistry returns an empty Registry whose connections time out after
// connect when dialling.
func NewRegistry(connect time.Duration) *Registry {
	return &Registry{
		dialer:   &net.Dialer{Timeout: connect, KeepAlive: -1},
		backends: map[string]*Backend{},
		pools:    map[string]*addrPool{},
	}
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
		if b == nil {
			b = &Backend{Name: mb.Name}
			empty := []*Endpoint{}
			b.endpoints.Store(&empty)
			r.backends[mb.Name] = b
		}
		b.tls = mb.Protocol == model.ProtocolHTTPS
		r.setEndpointsLocked(b, mb.Endpoints)
		out[mb.Name] = b
	}
	for name, b := range r.backends {
		if _, ok := out[name]; !ok {
			r.setEndpointsLocked(b, nil)
			delete(r.backends, name)
		}
	}
	return out
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
	old := *b.endpoints.Load()
	next := make([]*Endpoint, 0, len(eps))
	for _, e := range eps {
		addr := net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port)))
		key := addr
		if b.tls {
			key += "/tls"
		}
		p := r.pools[key]
		if p == nil {
			p = &addrPool{addr: addr, key: key, dialer: r.dialer, ka: &r.ka, tls: b.tls}
			r.pools[key] = p
		}
		p.refs++
		next = append(next, &Endpoint{Addr: addr, pool: p})
	}
	b.endpoints.Store(&next)
	for _, e := range old {
		e.pool.refs--
		if e.pool.refs == 0 {
			e.pool.close()
			delete(r.pools, e.pool.key)
		}
	}
}

// Adopt wraps a one-off connection (not from a pool) so that it can be
// read like a pooled one. Releasing it closes it.
func (r *Registry) Adopt(c net.Conn, br *bufio.Reader) *Conn {
	return &Conn{Conn: c, R: br, W: bufio.NewWriterSize(c, 512), pool: &addrPool{closed: true}}
}
