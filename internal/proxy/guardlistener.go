package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// guardListener performs the TLS handshake of each connection itself, so
// that HTTP/1 connections reach net/http through a guardConn (h1guard.go)
// while HTTP/2 connections stay *tls.Conn for net/http's HTTP/2 server.
// net/http takes the TLS state of a request from a *tls.Conn only; for
// guarded connections, ConnContext (tlsConnContext) carries it and the
// handler restores it.
type guardListener struct {
	net.Listener
	conf   *tls.Config
	stats  *stats
	conns  chan net.Conn
	errc   chan error
	closed chan struct{}
	once   sync.Once
}

func newGuardListener(ln net.Listener, conf *tls.Config, st *stats) *guardListener {
	l := &guardListener{Listener: ln, conf: conf, stats: st, conns: make(chan net.Conn), errc: make(chan error, 1), closed: make(chan struct{})}
	go l.acceptLoop()
	return l
}

func (l *guardListener) acceptLoop() {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			select {
			case l.errc <- err:
			case <-l.closed:
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return
		}
		go l.handshake(c)
	}
}

// handshake runs the TLS handshake within the client header timeout and
// hands the connection on.
func (l *guardListener) handshake(c net.Conn) {
	tc := tls.Server(c, l.conf)
	ctx, cancel := context.WithTimeout(context.Background(), ClientHeaderTimeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		var re tls.RecordHeaderError
		if errors.As(err, &re) && re.Conn != nil && looksLikeHTTP(re.RecordHeader) {
			// As net/http answers plain HTTP on its TLS port.
			_ = re.Conn.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = io.WriteString(re.Conn, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
		}
		_ = c.Close()
		return
	}
	var out net.Conn = tc
	if tc.ConnectionState().NegotiatedProtocol != "h2" {
		out = newGuardConn(tc, tc, l.stats)
	}
	select {
	case l.conns <- out:
	case <-l.closed:
		_ = c.Close()
	}
}

// looksLikeHTTP reports whether a TLS record header is the start of a
// plain HTTP request.
func looksLikeHTTP(hdr [5]byte) bool {
	switch string(hdr[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO":
		return true
	}
	return false
}

// Accept returns the next connection whose handshake completed.
func (l *guardListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case err := <-l.errc:
		return nil, err
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close stops accepting; connections still in their handshake are closed
// when it ends.
func (l *guardListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// plainGuardListener guards every HTTP/1 connection it accepts.
type plainGuardListener struct {
	net.Listener
	stats *stats
}

// Accept returns the next connection, guarded.
func (l plainGuardListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newGuardConn(c, c, l.stats), nil
}

// tlsStateKey carries a guarded TLS connection's state in its context.
type tlsStateKey struct{}

// tlsConnContext records the TLS state of a guarded connection.
func tlsConnContext(ctx context.Context, c net.Conn) context.Context {
	if g, ok := c.(*guardConn); ok {
		if tc, ok := g.Conn.(*tls.Conn); ok {
			st := tc.ConnectionState()
			ctx = context.WithValue(ctx, tlsStateKey{}, &st)
		}
	}
	return ctx
}
