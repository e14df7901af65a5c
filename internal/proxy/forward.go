package proxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"time"

	"github.com/straitgw/strait/internal/proxy/upstream"
)

const (
	// maxTries is proxy-next-upstream-tries' default: how many endpoints
	// a request may try (see retry.go).
	maxTries = 3
	// maxStaleRetries bounds retries of requests that failed on a reused
	// keep-alive connection the upstream had closed. Like nginx, such
	// failures do not count as tries: the pool may hold several dead
	// connections after an upstream restart.
	maxStaleRetries = 64
	copyBufSize     = 32 * 1024
)

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// errNoResponse marks an exchange that failed before any response byte.
var errNoResponse = errors.New("upstream closed the connection before responding")

// longAgo is a deadline in the past, used to abort blocked I/O at once.
var longAgo = time.Unix(1, 0)

// forward proxies r to one endpoint of rt.backend and copies the response
// back, moving on to another endpoint as the route's proxy-next-upstream
// policy allows, and retrying stale keep-alive connections. Each try's
// outcome feeds the endpoint's passive health (see upstream/outlier.go);
// the backend's circuit breaker bounds the requests in flight.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, rt *route, li *listenerInfo, fo *forwardedOut) {
	rt = backendFor(r, rt)
	if h2 := rt.backend.HTTP2(); h2 != nil {
		if p.admit(w, r, rt) {
			defer rt.backend.Release()
			p.forwardH2(w, r, rt, li, fo, h2)
		}
		return
	}
	tg := requestTarget(r, rt)
	tg.fo = fo
	tg.closeConn = !p.registry.Pooling()
	if up := upgradeType(r); up != "" {
		p.upgrade(w, r, rt, li, up, tg)
		return
	}
	if !p.admit(w, r, rt) {
		return
	}
	defer rt.backend.Release()
	pol := &rt.retry
	// A request whose body has been (partly) sent cannot be sent again,
	// unless it was kept.
	retryable := r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0
	var kept []byte
	if !retryable && pol.keepBody && pol.idempotent(r.Method) {
		var err error
		if kept, err = keepBody(r); err != nil {
			var tooLarge *http.MaxBytesError
			switch {
			case errors.As(err, &tooLarge):
				p.stats.limitHit(LimitBodySize)
				plainError(w, http.StatusRequestEntityTooLarge)
			case r.Context().Err() != nil:
				abortClientGone()
			default:
				plainError(w, http.StatusBadRequest)
			}
			return
		}
		retryable = kept != nil
	}
	remote := clientIP(r.RemoteAddr)
	if fo != nil {
		remote = fo.client
	}
	// The selection remembers the endpoints tried, and the hash key or
	// affinity cookie, across tries.
	sel := newSelection(rt.backend, r, remote)
	first := time.Now()
	// again reports whether a failed try, with the request sent or not,
	// may move on to another endpoint.
	again := func(cond retryOn, sent bool) bool {
		if pol.on&cond == 0 || (sent && (!retryable || !pol.idempotent(r.Method))) {
			return false
		}
		return pol.more(len(sel.tried), first, len(rt.backend.Endpoints()))
	}
	stale := 0
	lastStatus := http.StatusServiceUnavailable
	var ep *upstream.Endpoint
	reuse := false // a stale connection: the same endpoint, a fresh one
	for {
		if !reuse {
			ep = sel.next()
		}
		reuse = false
		if ep == nil {
			plainError(w, lastStatus)
			return
		}
		if kept != nil {
			r.Body = io.NopCloser(bytes.NewReader(kept))
		}
		start := time.Now()
		c, err := ep.Get(rt.timeouts.Connect)
		if err != nil {
			p.log.Warn("connect to upstream failed", "route", rt.name, "upstream", ep.Addr, "error", err)
			p.reportFailure(rt.backend, ep)
			if lastStatus = errorStatus(err); again(failCondition(err), false) {
				continue
			}
			plainError(w, lastStatus)
			return
		}
		resp, err := p.exchange(c, r, li, rt.timeouts, tg)
		if err != nil {
			_ = c.Close()
			if errors.Is(err, errNoResponse) && c.Reused && retryable && stale < maxStaleRetries {
				// Like nginx, a connection the upstream closed while idle
				// does not count as a try.
				stale++
				reuse = true
				continue
			}
			if errors.Is(err, errBadChunk) {
				// The client's chunked framing was malformed (h1guard.go).
				p.stats.limitHit(LimitMalformed)
				w.Header().Set("Connection", "close")
				plainError(w, http.StatusBadRequest)
				return
			}
			if r.Context().Err() != nil {
				abortClientGone()
			}
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				p.stats.limitHit(LimitBodySize)
				plainError(w, http.StatusRequestEntityTooLarge)
				return
			}
			p.log.Warn("upstream request failed", "route", rt.name, "upstream", ep.Addr, "error", err)
			p.reportFailure(rt.backend, ep)
			if lastStatus = errorStatus(err); again(failCondition(err), true) {
				continue
			}
			plainError(w, lastStatus)
			return
		}
		p.reportStatus(rt.backend, ep, resp.StatusCode)
		if cond := statusCondition(resp.StatusCode); cond != 0 && again(cond, true) {
			// Nothing went to the client yet: drop this answer.
			p.log.Info("retrying on another upstream", "route", rt.name, "upstream", ep.Addr, "status", resp.StatusCode)
			lastStatus = resp.StatusCode
			_ = c.Close()
			continue
		}
		if rt.backend.EWMA() {
			ep.Observe(time.Since(start))
		}
		if sc := sel.setCookie(rt.affinityPath, r.TLS != nil, start); sc != "" {
			w.Header().Add("Set-Cookie", sc)
		}
		logUpstreamResponse(w, ep.Addr, resp, start)
		if m, ok := w.(interface{ markUpstream() }); ok {
			m.markUpstream() // for disable-proxy-intercept-errors
		}
		p.respond(w, r, pooledConn{c}, resp, rt, ep.Addr)
		return
	}
}

// exchange writes the request on c and reads the response head.
func (p *Proxy) exchange(c *upstream.Conn, r *http.Request, li *listenerInfo, to Timeouts, tg target) (*http.Response, error) {
	c.WriteDL.Extend(time.Now(), to.Send, c.SetWriteDeadline)
	writeRequestHead(c.W, r, li, "", tg)
	if err := writeBody(c, r, to); err != nil {
		return nil, err
	}
	if err := c.W.Flush(); err != nil {
		return nil, noResponse(err)
	}
	c.ReadDL.Reset()
	c.ReadDL.Extend(time.Now(), to.Read, c.SetReadDeadline)
	stop := context.AfterFunc(r.Context(), func() { _ = c.SetReadDeadline(longAgo) })
	defer stop()
	for {
		if _, err := c.R.Peek(1); err != nil {
			return nil, noResponse(err)
		}
		resp, err := http.ReadResponse(c.R, r)
		if err != nil {
			return nil, err
		}
		// Interim responses (103 Early Hints, a stray 100) are not
		// forwarded; the final response follows on the same connection.
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			continue
		}
		return resp, nil
	}
}

// abortClientGone ends a handler whose client went away (net/http cancels
// the request when the client closes, half-closing included) without an
// answer. Returning instead would make net/http send an empty 200 (on
// HTTP/2 a complete stream) to a client still reading: a success for a
// request that got no response.
func abortClientGone() {
	panic(http.ErrAbortHandler)
}

// noResponse wraps connection errors that happened before the upstream
// sent anything; on a reused connection they mean it was closed while idle.
func noResponse(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return err
	}
	return errors.Join(errNoResponse, err)
}

// writeBody streams the request body upstream, chunked when its length is
// unknown.
func writeBody(c *upstream.Conn, r *http.Request, to Timeouts) error {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil
	}
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	// The send timeout runs between two writes, so it is renewed as the
	// body arrives.
	dst := &deadlineWriter{w: c.W, extend: func() { c.WriteDL.Extend(time.Now(), to.Send, c.SetWriteDeadline) }}
	if r.ContentLength > 0 {
		_, err := io.CopyBuffer(dst, io.LimitReader(r.Body, r.ContentLength), *bp)
		return err
	}
	cw := httputil.NewChunkedWriter(dst)
	if _, err := io.CopyBuffer(cw, r.Body, *bp); err != nil {
		return err
	}
	if err := cw.Close(); err != nil {
		return err
	}
	_, err := c.W.WriteString("\r\n")
	return err
}

// respond copies an upstream response to the client and returns the
// connection to its pool when the exchange ended cleanly.
func (p *Proxy) respond(w http.ResponseWriter, r *http.Request, c upstreamConn, resp *http.Response, rt *route, addr string) {
	h := w.Header()
	hop := connectionTokens(resp.Header)
	for k, vv := range resp.Header {
		if skipResponseHeader(k) || contains(hop, k) || rt.headers.hidesString(k) || (rt.policy != nil && rt.policy.respNames != nil && inLowerSet(rt.policy.respNames, k)) {
			continue
		}
		if _, ours := h[k]; ours && strings.HasPrefix(k, "Access-Control-") {
			continue // the route's CORS headers replace the upstream's
		}
		if k == "Set-Cookie" {
			h[k] = append(h[k], vv...) // the affinity cookie stays
			continue
		}
		h[k] = vv
	}
	announceTrailers(h, resp)
	w.WriteHeader(resp.StatusCode)

	// Stream when the length is unknown (chunked, server-sent events):
	// ingress-nginx's default proxy-buffering is off, so every chunk goes
	// to the client as it arrives.
	stream := resp.ContentLength < 0
	// A write to an HTTP/2 client blocks, without blocking the
	// connection, while the client keeps the stream's flow-control window
	// shut: the send timeout applies to each write on the stream (HTTP/1
	// connections have it on the connection, see connlimit.go). An HTTP/2
	// write deadline ends the stream when it passes even between writes,
	// so it is lifted whenever the next read may wait for the upstream.
	// Each change of it is a message to the connection's goroutine and a
	// timer: it is renewed only once half of it has passed, and a small
	// response, read whole with its head, sets it once.
	h2 := r.ProtoMajor == 2
	var dl time.Time // the stream's write deadline; zero when none is set
	var got int64    // body bytes read
	var rc *http.ResponseController
	if stream || h2 {
		rc = http.NewResponseController(w)
	}
	if stream && c.buffered() == 0 {
		// The head goes out as soon as it arrived, as nginx's unbuffered
		// proxying sends it: a client of a stream that starts with a
		// pause (server-sent events, long polls) sees the status first.
		_ = rc.Flush()
	}
	send := p.clientLimits.SendTimeout
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	for {
		c.extendRead(rt.timeouts.Read)
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			got += int64(n)
			if h2 {
				if now := time.Now(); dl.Sub(now) < send/2 {
					dl = now.Add(send)
					_ = rc.SetWriteDeadline(dl)
				}
			}
			_, werr := w.Write(buf[:n])
			if werr != nil {
				if h2 && !time.Now().Before(dl) {
					p.stats.limitHit(LimitSendTimeout)
				}
				_ = c.Close()
				return
			}
			if h2 && (stream || got < resp.ContentLength && c.buffered() == 0) {
				_ = rc.SetWriteDeadline(time.Time{})
				dl = time.Time{}
			}
			if stream {
				_ = rc.Flush()
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			_ = c.Close()
			if r.Context().Err() == nil {
				p.log.Warn("upstream response aborted", "route", rt.name, "upstream", addr, "error", rerr)
			}
			// The status line is gone already: cut the client connection
			// so that it sees a truncated response, not a complete one.
			panic(http.ErrAbortHandler)
		}
	}
	_ = resp.Body.Close()
	if now := time.Now(); h2 && dl.Sub(now) < send/2 {
		// What the handler buffered goes out when it returns.
		_ = rc.SetWriteDeadline(now.Add(send))
	}
	copyTrailers(h, resp)
	if resp.Close || r.Context().Err() != nil {
		// A request cancelled while exchange waited may have left the
		// connection with a read deadline in the past (an HTTP/2 stream
		// reset by its client): it must not serve another request.
		_ = c.Close()
		return
	}
	c.Release()
}

func announceTrailers(h http.Header, resp *http.Response) {
	for k := range resp.Trailer {
		h.Add("Trailer", k)
	}
}

func copyTrailers(h http.Header, resp *http.Response) {
	for k, vv := range resp.Trailer {
		h[http.TrailerPrefix+k] = vv
	}
}

// upstreamConn is the part of a connection respond needs: a pooled
// keep-alive connection, or a one-off one that is closed instead of
// released.
type upstreamConn interface {
	extendRead(d time.Duration)
	// buffered is how many response bytes are read ahead: a read of
	// fewer does not wait for the upstream.
	buffered() int
	Close() error
	Release()
}

// pooledConn is a keep-alive connection from a pool.
type pooledConn struct{ *upstream.Conn }

func (c pooledConn) extendRead(d time.Duration) { c.ReadDL.Extend(time.Now(), d, c.SetReadDeadline) }

func (c pooledConn) buffered() int { return c.R.Buffered() }

// closeOnly is a one-off upstream connection: releasing it closes it.
type closeOnly struct {
	net.Conn
	dl *upstream.Deadline
}

func (c closeOnly) Release() { _ = c.Conn.Close() }

func (c closeOnly) extendRead(d time.Duration) { c.dl.Extend(time.Now(), d, c.SetReadDeadline) }

// buffered is 0: the response is read from the connection itself.
func (c closeOnly) buffered() int { return 0 }

// deadlineWriter renews a write deadline before each write.
type deadlineWriter struct {
	w      io.Writer
	extend func()
}

func (d *deadlineWriter) Write(b []byte) (int, error) {
	d.extend()
	return d.w.Write(b)
}

// errorStatus maps an upstream failure to nginx's status: 504 for
// timeouts, 502 for everything else.
func errorStatus(err error) int {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return http.StatusGatewayTimeout
	}
	return http.StatusBadGateway
}
