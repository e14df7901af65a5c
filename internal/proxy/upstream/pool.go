// Package upstream keeps the long-lived state of the data plane's upstream
// side: backends with their endpoint sets, balancer cursors, endpoint
// health and circuit breakers, and pools of idle keep-alive connections per
// endpoint address. It lives outside the routing generations, so a swap
// never closes a connection, resets a balancer or forgets an ejection.
package upstream

import (
	"bufio"
	"crypto/tls"
	"net"
	"sync"
	"time"
)

// Pool defaults follow ingress-nginx's upstream keep-alive settings.
const (
	// DefaultMaxIdle is upstream-keepalive-connections.
	DefaultMaxIdle = 320
	// DefaultIdleTimeout is upstream-keepalive-timeout.
	DefaultIdleTimeout = 60 * time.Second
	// DefaultMaxRequests is upstream-keepalive-requests.
	DefaultMaxRequests = 10000
	// DefaultConnectTimeout is proxy-connect-timeout.
	DefaultConnectTimeout = 5 * time.Second

	// probeAfter is how long a connection may sit idle before it is checked
	// for a close by the peer before reuse. Servers rarely close keep-alive
	// connections sooner, and the check costs a system call.
	probeAfter = time.Second
	// bufSize sizes each upstream connection's reader and writer: a
	// typical response head with a 4 KiB body arrives in one read (at
	// 4 KiB it took two reads and three client writes).
	bufSize = 8192
)

// Conn is one keep-alive connection to an endpoint, with its buffers.
type Conn struct {
	net.Conn
	R *bufio.Reader
	W *bufio.Writer
	// Reused is true when the connection served a request before; a failure
	// before any response byte is then likely a close by the peer, and the
	// request may be retried on a fresh connection.
	Reused bool
	// ReadDL and WriteDL keep the connection's deadlines with little cost
	// per request.
	ReadDL, WriteDL Deadline
	pool            *addrPool
	requests        int
	idleAt          time.Time
	born            time.Time
}

// addrPool holds the idle connections to one address.
type addrPool struct {
	addr   string
	key    string      // addr, plus "/" and the TLS identity for HTTPS pools
	tls    *tls.Config // HTTPS to the endpoint; nil for clear text
	tlsErr error       // the backend's TLS settings could not be used
	dialer *net.Dialer
	mu     sync.Mutex
	idle   []*Conn
	ka     *keepAliveRef // nil for adopted one-off connections
	closed bool
	refs   int // backends referring to this address; guarded by Registry.mu
}

var bufReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, bufSize) }}
var bufWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, bufSize) }}

// dialerFor returns the pool's dialer, or a copy with another connect
// timeout.
func (p *addrPool) dialerFor(connect time.Duration) *net.Dialer {
	if connect <= 0 || connect == p.dialer.Timeout {
		return p.dialer
	}
	d := *p.dialer
	d.Timeout = connect
	return &d
}

// dial opens a connection to the endpoint, with a TLS handshake for HTTPS
// pools, all within the connect timeout. Like nginx's proxy_ssl defaults,
// unless proxy-ssl-* say otherwise, the certificate is not verified and no
// SNI is sent.
func (p *addrPool) dial(connect time.Duration) (net.Conn, error) {
	if p.tlsErr != nil {
		return nil, p.tlsErr
	}
	d := p.dialerFor(connect)
	nc, err := d.Dial("tcp", p.addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	if p.tls == nil {
		return nc, nil
	}
	tc := tls.Client(nc, p.tls)
	if d.Timeout > 0 {
		_ = nc.SetDeadline(time.Now().Add(d.Timeout))
	}
	if err := tc.Handshake(); err != nil {
		_ = nc.Close()
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	return tc, nil
}

// get returns an idle connection or dials a new one.
func (p *addrPool) get(connect time.Duration) (*Conn, error) {
	now := time.Now()
	ka := p.ka.load()
	for {
		p.mu.Lock()
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			break
		}
		c := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		idle := now.Sub(c.idleAt)
		if ka.MaxIdle == 0 || idle > ka.IdleTimeout || now.Sub(c.born) > ka.MaxLifetime || (idle > probeAfter && !c.alive()) {
			c.destroy()
			continue
		}
		c.Reused = true
		return c, nil
	}
	nc, err := p.dial(connect)
	if err != nil {
		return nil, err
	}
	r := bufReaders.Get().(*bufio.Reader)
	r.Reset(nc)
	w := bufWriters.Get().(*bufio.Writer)
	w.Reset(nc)
	return &Conn{Conn: nc, R: r, W: w, pool: p, born: now}, nil
}

// alive checks, without blocking, that the peer has not closed the
// connection or sent unsolicited bytes while it sat idle.
func (c *Conn) alive() bool {
	if c.R.Buffered() > 0 {
		return false
	}
	_ = c.SetReadDeadline(time.Now())
	_, err := c.R.Peek(1)
	_ = c.SetReadDeadline(time.Time{})
	c.ReadDL.Reset()
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// Release returns a connection whose exchange completed cleanly to its
// pool, or closes it when the pool is full, closed or the connection has
// served its quota of requests.
func (c *Conn) Release() {
	c.requests++
	p := c.pool
	ka := p.ka.load()
	if c.requests >= ka.MaxRequests || c.R.Buffered() > 0 {
		c.destroy()
		return
	}
	c.idleAt = time.Now()
	if c.idleAt.Sub(c.born) > ka.MaxLifetime {
		c.destroy()
		return
	}
	p.mu.Lock()
	if p.closed || len(p.idle) >= ka.MaxIdle {
		p.mu.Unlock()
		c.destroy()
		return
	}
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

// Close closes a connection that must not be reused.
func (c *Conn) Close() error {
	c.destroy()
	return nil
}

func (c *Conn) destroy() {
	_ = c.Conn.Close()
	if c.R != nil {
		c.R.Reset(nil)
		bufReaders.Put(c.R)
		c.W.Reset(nil)
		bufWriters.Put(c.W)
		c.R, c.W = nil, nil
	}
}

// close drops every idle connection and refuses new ones; connections in
// use are closed when released.
func (p *addrPool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.closed = true
	p.mu.Unlock()
	for _, c := range idle {
		c.destroy()
	}
}
