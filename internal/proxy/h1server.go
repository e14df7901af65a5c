package proxy

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// H1Server serves plain HTTP/1.x on a listener with Strait's own HTTP/1.1
// engine: heads are parsed into reused buffers and upstream requests are
// written directly from them, which costs far less per request than
// net/http's server and client. It speaks only HTTP/1.0 and 1.1 (and
// upgrades); TLS listeners use net/http, which adds HTTP/2.
type H1Server struct {
	p  *Proxy
	ln net.Listener
	li listenerInfo

	mu       sync.Mutex
	conns    map[*h1conn]struct{}
	draining atomic.Bool
	done     sync.WaitGroup
	date     dateCache
	// full serves the connections handed over for routes the engine does
	// not serve itself.
	full fullServer
}

// H1Server returns the HTTP/1 server for a plain listener.
func (p *Proxy) H1Server(ln net.Listener) *H1Server {
	li := listenerInfo{scheme: "http", port: "80"}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok {
		li.port, li.listen = strconv.Itoa(tcp.Port), int32(tcp.Port)
	}
	return &H1Server{p: p, ln: ln, li: li, conns: map[*h1conn]struct{}{}}
}

// Serve accepts connections until the listener is closed by Shutdown or
// Close, then returns nil.
func (s *H1Server) Serve() error {
	var delay time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.draining.Load() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Out of file descriptors or similar: back off as
				// net/http does instead of spinning.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		delay = 0
		hc := newH1Conn(s, c)
		s.mu.Lock()
		if s.draining.Load() {
			s.mu.Unlock()
			_ = c.Close()
			continue
		}
		s.conns[hc] = struct{}{}
		s.done.Add(1)
		s.mu.Unlock()
		go hc.serve()
	}
}

// Shutdown stops accepting, closes idle connections at once and lets busy
// ones finish their current request (answered with Connection: close).
// Connections that have not sent their first request yet get freshGrace to
// send it. When ctx ends first, the remaining connections are closed.
func (s *H1Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	_ = s.ln.Close()
	fullDone := make(chan struct{})
	go func() { _ = s.shutdownFull(ctx); close(fullDone) }()
	defer func() { <-fullDone }()
	start := time.Now()
	s.closeIdle(false)
	finished := make(chan struct{})
	go func() { s.done.Wait(); close(finished) }()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-finished:
			return nil
		case <-tick.C:
			s.closeIdle(time.Since(start) > freshGrace)
		case <-ctx.Done():
			_ = s.Close()
			<-finished
			return ctx.Err()
		}
	}
}

// Close closes the listener and every connection at once.
func (s *H1Server) Close() error {
	s.draining.Store(true)
	err := s.ln.Close()
	s.closeFull()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.c.Close()
	}
	s.mu.Unlock()
	return err
}

// freshGrace is how long, at shutdown, a connection accepted but still
// waiting for its first request may take to send it. A client that has
// just connected is about to; closing it would fail that request.
const freshGrace = 2 * time.Second

// closeIdle closes the connections waiting for a request: those between
// two requests, and with fresh also those that never sent one.
func (s *H1Server) closeIdle(fresh bool) {
	s.mu.Lock()
	for c := range s.conns {
		if c.idle.Load() && (fresh || !c.fresh.Load()) {
			_ = c.c.Close()
		}
	}
	s.mu.Unlock()
}

func (s *H1Server) forget(c *h1conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.done.Done()
}

// dateCache formats the Date header once a second.
type dateCache struct {
	v atomic.Pointer[dateValue]
}

type dateValue struct {
	sec  int64
	line []byte // "Date: ...\r\n"
}

func (d *dateCache) line(now time.Time) []byte {
	sec := now.Unix()
	if v := d.v.Load(); v != nil && v.sec == sec {
		return v.line
	}
	b := append([]byte("Date: "), now.UTC().AppendFormat(nil, "Mon, 02 Jan 2006 15:04:05 GMT")...)
	b = append(b, "\r\n"...)
	d.v.Store(&dateValue{sec: sec, line: b})
	return b
}

var h1Readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}
var h1Writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4096) }}
