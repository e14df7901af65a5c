package proxy

import (
	"cmp"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// max-worker-connections and the slowloris defence. Both listeners accept
// through one connLimiter: at the current generation's cap, Accept waits
// for a connection to close, leaving new ones in the kernel's accept queue
// as nginx does when its worker_connections are taken. Above three
// quarters of the cap the server is under pressure: a connection that
// has not completed a request head within the pressure header timeout
// (TLS handshake included) is closed, so that connections trickling their
// heads cannot hold the slots well-behaved clients need. At the cap
// itself, the connections that have waited longest for a head, a fifth of
// the pressure header timeout or more, are closed at once to make room,
// as nginx reuses idle connections when its own run out: a new client
// then waits for the accept queue only, not for the next sweep.

// DefaultMaxConnections is max-worker-connections' default.
const DefaultMaxConnections = 16384

// DefaultPressureHeaderTimeout is --pressure-header-timeout's default.
const DefaultPressureHeaderTimeout = 5 * time.Second

// DefaultClientSendTimeout is --client-send-timeout's default, nginx's
// send_timeout.
const DefaultClientSendTimeout = 60 * time.Second

// connPoll is how often a sweep runs under pressure.
const connPoll = 250 * time.Millisecond

// compileMaxConns returns the generation's connection cap.
func compileMaxConns(maxConns int, fromFileLimit bool) int64 {
	if fromFileLimit {
		var rl unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err == nil && rl.Cur > 2048 && rl.Cur < 1<<40 {
			// Half for client connections, half for their upstream
			// connections.
			return int64(rl.Cur / 2)
		}
		return DefaultMaxConnections
	}
	if maxConns > 0 {
		return int64(maxConns)
	}
	return DefaultMaxConnections
}

// connLimiter counts the open client connections of a Proxy and watches
// the ones still waiting for a request head.
type connLimiter struct {
	p    *Proxy
	open atomic.Int64
	// slot is signalled when a connection closes, waking a waiting
	// Accept.
	slot chan struct{}

	mu    sync.Mutex
	conns map[*limitConn]struct{}
	// sweeping is set while a sweeper goroutine runs.
	sweeping bool
	// evicted is when evict last ran (Unix nanoseconds).
	evicted atomic.Int64
}

func (l *connLimiter) init(p *Proxy) {
	l.p = p
	l.slot = make(chan struct{}, 1)
	l.conns = map[*limitConn]struct{}{}
}

// capacity is the current generation's cap.
func (l *connLimiter) capacity() int64 { return l.p.gen.Load().maxConns }

// pressured reports whether open connections are above the high
// watermark, three quarters of the cap.
func (l *connLimiter) pressured(open int64) bool {
	return open*4 > l.capacity()*3
}

func (l *connLimiter) add(c *limitConn) {
	n := l.open.Add(1)
	l.mu.Lock()
	l.conns[c] = struct{}{}
	start := !l.sweeping && l.pressured(n)
	if start {
		l.sweeping = true
	}
	l.mu.Unlock()
	if start {
		go l.sweep()
	}
}

func (l *connLimiter) remove(c *limitConn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
	l.open.Add(-1)
	select {
	case l.slot <- struct{}{}:
	default:
	}
}

// sweep closes, while the server is under pressure, the connections that
// have waited longer than the pressure header timeout for a request head.
func (l *connLimiter) sweep() {
	t := time.NewTicker(connPoll)
	defer t.Stop()
	var late []*limitConn
	for range t.C {
		l.mu.Lock()
		if !l.pressured(l.open.Load()) {
			l.sweeping = false
			l.mu.Unlock()
			return
		}
		cutoff := time.Now().Add(-l.p.clientLimits.PressureHeaderTimeout).UnixNano()
		late = late[:0]
		for c := range l.conns {
			if w := c.waiting.Load(); w != 0 && w < cutoff {
				late = append(late, c)
			}
		}
		l.mu.Unlock()
		for _, c := range late {
			if c.swept.CompareAndSwap(false, true) {
				l.p.stats.limitHit(LimitSlowloris)
				_ = c.Close()
			}
		}
	}
}

// evictBatch is the share of the cap one eviction may close, and
// evictEvery how often evictions may run; a waiting Accept also looks at
// the cap that often, which a new generation may have raised.
const (
	evictBatch = 32
	evictEvery = 100 * time.Millisecond
)

// evict closes, at the cap, the connections that have waited longest for
// a request head, if they waited a fifth of the pressure header timeout:
// up to a 32nd of the cap at a time, at most every 100 ms.
func (l *connLimiter) evict() {
	now := time.Now()
	last := l.evicted.Load()
	if now.UnixNano()-last < int64(evictEvery) || !l.evicted.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	cutoff := now.Add(-l.p.clientLimits.PressureHeaderTimeout / 5).UnixNano()
	type waiter struct {
		c     *limitConn
		since int64
	}
	var late []waiter
	l.mu.Lock()
	for c := range l.conns {
		if w := c.waiting.Load(); w != 0 && w < cutoff {
			late = append(late, waiter{c, w})
		}
	}
	l.mu.Unlock()
	slices.SortFunc(late, func(a, b waiter) int { return cmp.Compare(a.since, b.since) })
	for _, w := range late[:min(len(late), int(max(l.capacity()/evictBatch, 1)))] {
		if w.c.swept.CompareAndSwap(false, true) {
			l.p.stats.limitHit(LimitSlowloris)
			_ = w.c.Close()
		}
	}
}

// LimitListener returns ln counting its connections against
// max-worker-connections, closing slow heads under pressure and bounding
// writes to clients by the send timeout. Wrap the raw listeners with it,
// below PROXY protocol, passthrough and TLS.
func (p *Proxy) LimitListener(ln net.Listener) net.Listener {
	return &limitListener{Listener: ln, l: &p.conns, closed: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	l      *connLimiter
	closed chan struct{}
	once   sync.Once
}

// Accept waits for a free slot, then accepts.
func (ll *limitListener) Accept() (net.Conn, error) {
	l := ll.l
	if l.open.Load() >= l.capacity() {
		counted := false
		t := time.NewTimer(0)
		for l.open.Load() >= l.capacity() {
			select {
			case <-l.slot:
			case <-t.C:
				// Only a connection waiting in the accept queue needs
				// room; the cap alone closes nothing.
				if ll.pending() {
					if !counted {
						counted = true
						l.p.stats.limitHit(LimitConnections)
					}
					l.evict()
				}
				t.Reset(evictEvery)
			case <-ll.closed:
				t.Stop()
				return nil, net.ErrClosed
			}
		}
		t.Stop()
	}
	c, err := ll.Listener.Accept()
	if err != nil {
		return nil, err
	}
	lc := &limitConn{Conn: c, l: l, send: l.p.clientLimits.SendTimeout}
	// The first head is awaited from the start.
	lc.waiting.Store(time.Now().UnixNano())
	l.add(lc)
	return lc, nil
}

// pending reports whether a connection waits in the kernel's accept
// queue.
func (ll *limitListener) pending() bool {
	sc, ok := ll.Listener.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	ready := false
	_ = rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		ready = err == nil && n > 0 && fds[0].Revents&unix.POLLIN != 0
	})
	return ready
}

// Close stops accepting, waking a waiting Accept.
func (ll *limitListener) Close() error {
	ll.once.Do(func() { close(ll.closed) })
	return ll.Listener.Close()
}

// limitConn is a client connection counted by a connLimiter.
type limitConn struct {
	net.Conn
	l *connLimiter
	// waiting is when the connection began waiting for a request head
	// (Unix nanoseconds), 0 while it is not.
	waiting atomic.Int64
	// headSeen is set once the connection completed a request head (or
	// an HTTP/2 preface, or was passed through).
	headSeen atomic.Bool
	swept    atomic.Bool
	closed   atomic.Bool
	// send is the send timeout; writes extend the write deadline by it
	// unless the layers above manage the deadline themselves (managed).
	send    time.Duration
	managed atomic.Bool
	wdl     atomic.Int64 // the deadline last set by Write
}

// headStart marks the connection as waiting for a request head.
func (c *limitConn) headStart(now time.Time) { c.waiting.Store(now.UnixNano()) }

// headDone marks a request head as complete.
func (c *limitConn) headDone() {
	c.waiting.Store(0)
	if !c.headSeen.Load() {
		c.headSeen.Store(true)
	}
}

// headTimedOut reports, for a connection closing, whether it never
// completed a request head and was not swept but waited d or longer: the
// net/http servers' header timeout closed it.
func (c *limitConn) headTimedOut(d time.Duration) bool {
	w := c.waiting.Load()
	// The server's own timer and this check read different clocks.
	const slack = 100 * time.Millisecond
	return w != 0 && !c.headSeen.Load() && !c.swept.Load() && time.Since(time.Unix(0, w)) >= d-slack
}

// Write bounds each write by the send timeout, as nginx's send_timeout
// does, when no layer above set a write deadline of its own.
func (c *limitConn) Write(b []byte) (int, error) {
	if !c.managed.Load() && c.send > 0 {
		now := time.Now()
		dl := now.Add(c.send).UnixNano()
		// Amortised as upstream.Deadline is: once a quarter of the
		// timeout has passed.
		if dl-c.wdl.Load() > int64(c.send/4) {
			c.wdl.Store(dl)
			_ = c.Conn.SetWriteDeadline(time.Unix(0, dl))
		}
	}
	n, err := c.Conn.Write(b)
	if err != nil && isTimeout(err) && !c.closed.Load() {
		c.l.p.stats.limitHit(LimitSendTimeout)
	}
	return n, err
}

// SetWriteDeadline hands the write deadline to the caller until it clears
// it again.
func (c *limitConn) SetWriteDeadline(t time.Time) error {
	c.managed.Store(!t.IsZero())
	c.wdl.Store(0)
	return c.Conn.SetWriteDeadline(t)
}

// SetDeadline is SetReadDeadline and SetWriteDeadline.
func (c *limitConn) SetDeadline(t time.Time) error {
	c.managed.Store(!t.IsZero())
	c.wdl.Store(0)
	return c.Conn.SetDeadline(t)
}

// Close closes the connection and frees its slot, once.
func (c *limitConn) Close() error {
	err := c.Conn.Close()
	if c.closed.CompareAndSwap(false, true) {
		c.l.remove(c)
	}
	return err
}

// CloseWrite half-closes a TCP connection.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(closeWriter); ok {
		return cw.CloseWrite()
	}
	return nil
}

// closeWriter is a connection that can be half-closed.
type closeWriter interface{ CloseWrite() error }

// NetConn is the accepted connection.
func (c *limitConn) NetConn() net.Conn { return c.Conn }

// limitOf finds the limitConn under the wrappers of c: TLS, PROXY
// protocol, replayed bytes, the HTTP/2 frame guard; nil when c was not
// accepted through a LimitListener.
func limitOf(c net.Conn) *limitConn {
	for range 8 {
		switch v := c.(type) {
		case *limitConn:
			return v
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil
		}
	}
	return nil
}
