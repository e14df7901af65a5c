package kubesim

import (
	"io"
	"net"
	"sync"
	"time"
)

// dialTimeout bounds the connection to an echo server on loopback.
const dialTimeout = 5 * time.Second

// forwarder accepts connections on a Pod's address and port and relays
// each, byte for byte, to a server on loopback. It keeps TCP's end-of-
// stream semantics: a FIN from one side becomes a FIN (half-close) towards
// the other, and a reset from one side, or a failed dial, becomes a reset
// towards the other (the echo server's retry simulation answers with a
// reset, and the suite checks that a proxy sees it as one).
type forwarder struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	conns  map[*net.TCPConn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// listenForward starts a forwarder from listen to target.
func listenForward(listen, target string) (*forwarder, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	f := &forwarder{ln: ln, target: target, conns: map[*net.TCPConn]struct{}{}}
	f.wg.Add(1)
	go f.serve()
	return f, nil
}

func (f *forwarder) serve() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return // closed
		}
		client := c.(*net.TCPConn)
		if !f.track(client) {
			reset(client)
			return
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer f.untrack(client)
			f.relay(client)
		}()
	}
}

// relay connects client to the target and copies both ways until both
// directions have ended or one of them fails.
func (f *forwarder) relay(client *net.TCPConn) {
	c, err := net.DialTimeout("tcp", f.target, dialTimeout)
	if err != nil {
		// Nothing listens (a container restarting, or an HTTPS port of a
		// server started without a certificate): refuse as the Pod
		// itself would, with a reset.
		reset(client)
		return
	}
	backend := c.(*net.TCPConn)
	if !f.track(backend) {
		reset(client)
		reset(backend)
		return
	}
	defer f.untrack(backend)
	errs := make(chan error, 2)
	go func() { errs <- halfCopy(backend, client) }()
	go func() { errs <- halfCopy(client, backend) }()
	failed := false
	for range 2 {
		if err := <-errs; err != nil && !failed {
			// A reset (or any other failure) on one side: reset both,
			// which also ends the other copy.
			failed = true
			reset(client)
			reset(backend)
		}
	}
	if !failed {
		client.Close()
		backend.Close()
	}
}

// halfCopy copies src to dst until src's end of stream, then half-closes
// dst. It returns a read or write error, such as a reset.
func halfCopy(dst, src *net.TCPConn) error {
	if _, err := io.Copy(dst, src); err != nil {
		return err
	}
	return dst.CloseWrite()
}

// reset closes c with a TCP reset rather than a FIN.
func reset(c *net.TCPConn) {
	c.SetLinger(0)
	c.Close()
}

func (f *forwarder) track(c *net.TCPConn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *forwarder) untrack(c *net.TCPConn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.conns, c)
}

// close stops accepting, resets every open connection, as a stopped Pod's
// connections are, and waits for the relays to end.
func (f *forwarder) close() {
	f.mu.Lock()
	f.closed = true
	for c := range f.conns {
		reset(c)
	}
	f.mu.Unlock()
	f.ln.Close()
	f.wg.Wait()
}
