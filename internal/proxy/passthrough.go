package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/straitgw/strait/internal/proxy/upstream"
)

// ssl-passthrough: TLS connections whose ClientHello names a passthrough
// host are not terminated. Their bytes, the ClientHello included, are
// spliced to an endpoint of the host's backend, which holds the
// certificate. Every other connection goes on to the TLS server.

// passthroughIdle closes a passthrough connection silent in both
// directions for this long: ingress-nginx's proxy-stream-timeout default
// for connections it does not terminate.
const passthroughIdle = 600 * time.Second

// helloTimeout bounds the wait for the ClientHello of a connection.
const helloTimeout = 5 * time.Second

// passthroughListener sorts the connections of the HTTPS listener.
type passthroughListener struct {
	p      *Proxy
	ln     net.Listener
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
	mu     sync.Mutex
	err    error // why the inner listener stopped
}

// PassthroughListener wraps the HTTPS listener so that connections for
// hosts with ssl-passthrough bypass TLS termination. Connections are
// looked at only while the current generation has passthrough hosts, so
// without any the wrapper costs nothing per connection.
func (p *Proxy) PassthroughListener(ln net.Listener) net.Listener {
	l := &passthroughListener{p: p, ln: ln, conns: make(chan net.Conn), closed: make(chan struct{})}
	go l.acceptLoop()
	return l
}

func (l *passthroughListener) acceptLoop() {
	var delay time.Duration
	for {
		c, err := l.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Out of file descriptors or similar: back off as
				// net/http does.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			l.mu.Lock()
			l.err = err
			l.mu.Unlock()
			_ = l.Close()
			return
		}
		delay = 0
		if len(l.p.gen.Load().passthrough) == 0 {
			l.deliver(c)
			continue
		}
		go l.sort(c)
	}
}

// Accept returns the next connection to terminate.
func (l *passthroughListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.err != nil && !errors.Is(l.err, net.ErrClosed) {
			return nil, l.err
		}
		return nil, net.ErrClosed
	}
}

// Close closes the listener; connections already sorted are not touched.
func (l *passthroughListener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.closed)
		err = l.ln.Close()
	})
	return err
}

// Addr is the inner listener's address.
func (l *passthroughListener) Addr() net.Addr { return l.ln.Addr() }

func (l *passthroughListener) deliver(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.closed:
		_ = c.Close()
	}
}

// sort reads the ClientHello and passes the connection through or on.
func (l *passthroughListener) sort(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(helloTimeout))
	var buf []byte
	var sni string
	chunk := make([]byte, 2048)
	for {
		n, err := c.Read(chunk)
		buf = append(buf, chunk[:n]...)
		name, need, perr := clientHelloSNI(buf)
		if perr != nil || (need == 0) {
			sni = name
			break
		}
		if err != nil || len(buf) >= maxHelloBytes+5 {
			// The client gave up or sent nonsense: let the TLS server
			// answer what it has.
			break
		}
	}
	_ = c.SetReadDeadline(time.Time{})
	if be := l.p.gen.Load().passthrough[lower(sni)]; be != nil && sni != "" {
		l.p.pass(c, buf, be)
		return
	}
	l.deliver(&replayConn{Conn: c, r: io.MultiReader(bytes.NewReader(buf), c)})
}

// pass splices a client connection, whose first bytes are hello, to an
// endpoint of be.
func (p *Proxy) pass(c net.Conn, hello []byte, be *upstream.Backend) {
	ep := be.Pick()
	if ep == nil {
		_ = c.Close()
		return
	}
	bc, err := net.DialTimeout("tcp", ep.Addr, p.timeouts.Connect)
	if err != nil {
		p.log.Warn("ssl-passthrough: connect to upstream failed", "backend", be.Name, "upstream", ep.Addr, "error", err)
		_ = c.Close()
		return
	}
	if _, err := bc.Write(hello); err != nil {
		_ = c.Close()
		_ = bc.Close()
		return
	}
	if lc := limitOf(c); lc != nil {
		// A passed-through connection has no request heads to wait for.
		lc.headDone()
	}
	tn := newTunnel(c, bc, false)
	p.tunnels.add(tn)
	defer p.tunnels.remove(tn)
	splice(tn, bufio.NewReaderSize(c, 16), bufio.NewReaderSize(bc, 16), Timeouts{Read: passthroughIdle, Send: passthroughIdle})
}
