package proxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/straitgw/strait/internal/model"
)

// The HTTP/1 engine serves routes whose policies only check the request
// and rewrite its head. Routes that need more (authentication
// sub-requests, backend selection by cookie or header, response headers
// and error interception) are served by the net/http handler that also
// serves TLS, so that each feature is written once. The engine hands such
// a connection over whole: the head it already read is replayed, and the
// connection stays with net/http until it closes.

// handoffListener feeds handed-over connections to an http.Server.
type handoffListener struct {
	addr   net.Addr
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newHandoffListener(addr net.Addr) *handoffListener {
	return &handoffListener{addr: addr, conns: make(chan net.Conn), closed: make(chan struct{})}
}

// Accept returns the next handed-over connection.
func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close stops Accept; connections already accepted are the server's.
func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

// Addr is the address of the listener the connections came from.
func (l *handoffListener) Addr() net.Addr { return l.addr }

// offer hands c to the server; it reports false once the listener is
// closed.
func (l *handoffListener) offer(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.closed:
		return false
	}
}

// replayConn is a client connection whose first bytes come from the
// engine's buffers: the head already parsed, then whatever the engine's
// reader holds, then the socket.
type replayConn struct {
	net.Conn
	r io.Reader
}

func (c *replayConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// NetConn is the connection under the replayed bytes.
func (c *replayConn) NetConn() net.Conn { return c.Conn }

// fullServer is the net/http server behind an H1Server, started on the
// first hand-over.
type fullServer struct {
	once sync.Once
	ln   *handoffListener
	srv  *http.Server
	done chan struct{}
}

func (s *H1Server) startFull() {
	f := &s.full
	f.once.Do(func() {
		if s.draining.Load() {
			return
		}
		f.ln = newHandoffListener(s.ln.Addr())
		f.srv = s.p.plainServer(s.li)
		f.done = make(chan struct{})
		go func() {
			defer close(f.done)
			_ = f.srv.Serve(f.ln)
		}()
	})
}

// handoff passes the connection, with the current request not yet
// answered, to the net/http server. The engine must not touch the
// connection afterwards.
// handoffRequest hands the connection, from the current request on, to
// the net/http side, after the answers to earlier pipelined requests; it
// answers 503 when that side is not running. It returns what the request
// loop returns: false, as the engine is done with the connection either
// way.
func (hc *h1conn) handoffRequest() bool {
	if hc.bw.Flush() != nil {
		return false
	}
	hc.handoff()
	if !hc.handedOff {
		return hc.writeError(http.StatusServiceUnavailable, true, false)
	}
	return false
}

func (hc *h1conn) handoff() {
	s := hc.s
	s.startFull()
	if s.full.ln == nil {
		return
	}
	// The engine's reader goes with the connection: it may hold bytes
	// the client sent after this head.
	head := bytes.Clone(hc.req.buf)
	rc := &replayConn{Conn: hc.c, r: io.MultiReader(bytes.NewReader(head), hc.br)}
	// net/http reads the connection's later requests through the same
	// parser as the engine's.
	if s.full.ln.offer(newGuardConn(rc, rc, &s.p.stats)) {
		hc.handedOff = true
	}
}

// shutdownFull drains the net/http side like the engine's own.
func (s *H1Server) shutdownFull(ctx context.Context) error {
	f := &s.full
	f.once.Do(func() {}) // no server starts after this
	if f.srv == nil {
		return nil
	}
	_ = f.ln.Close()
	err := f.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		_ = f.srv.Close()
	}
	return err
}

func (s *H1Server) closeFull() {
	f := &s.full
	f.once.Do(func() {})
	if f.srv == nil {
		return
	}
	_ = f.ln.Close()
	_ = f.srv.Close()
}

// needsFull reports whether a route's policy needs the net/http handler.
func needsFull(p *model.Policy) bool {
	return p.ExternalAuth != nil ||
		p.Canary != nil ||
		p.NextUpstream != nil ||
		p.BasicAuth != nil ||
		p.OIDC != nil ||
		p.Errors != nil ||
		p.Limit != nil ||
		len(p.ResponseHeaders) > 0 ||
		p.Mirror != nil ||
		len(p.Plugins) > 0
}
