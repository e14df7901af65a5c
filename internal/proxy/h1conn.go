package proxy

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/straitgw/strait/internal/accesslog"
	"github.com/straitgw/strait/internal/metrics"
	"github.com/straitgw/strait/internal/proxy/upstream"
)

// h1conn is one client connection of the HTTP/1 engine. Its buffers and
// parsed heads are reused from request to request.
type h1conn struct {
	s    *H1Server
	c    net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	idle atomic.Bool
	// fresh is set until the connection's first head has been read: at
	// shutdown, a connection just accepted gets a moment to send its
	// request rather than being closed as idle.
	fresh atomic.Bool
	ip    []byte
	req   head
	resp  head
	rdl   upstream.Deadline // client read deadline
	to    Timeouts          // upstream timeouts of the current request's route
	// fwdPrefix is the current request's X-Forwarded-Prefix, set when a
	// rewrite happened.
	fwdPrefix string
	// fwd and fo are the current request's trusted forwarded values (fwd
	// nil when none are trusted).
	fwd *forwarding
	fo  forwardedOut
	// upstreamHost is the current route's Host override (upstream-vhost).
	upstreamHost string
	// corsHdrs are the CORS headers of the current response; nil when the
	// route has no CORS or the origin is not allowed.
	corsHdrs [][2]string
	// linger is set when the connection closes after an answer given
	// before the request body was read: the rest of the body is read and
	// discarded first, so that the client, still sending, sees the answer
	// instead of a reset (nginx's lingering close).
	linger bool
	// maxBody is the current route's body limit (0: none), enforced while
	// a chunked body streams.
	maxBody int64
	wdl     upstream.Deadline // client write deadline
	// handedOff is set once the connection belongs to the net/http
	// server (see handoff.go).
	handedOff bool
	// gh are the current generation's global header settings (nil for
	// the defaults).
	gh *globalHeaders
	// Access log and request metrics (accesslog.go): recording is set
	// while the current request is logged or counted, alog when it is
	// logged, stats when it is counted; le, logBuf and reqIDBuf are
	// reused from request to request.
	recording bool
	alog      *accessLog
	stats     *metrics.RouteSeries
	le        accesslog.Entry
	logBuf    []byte
	reqStart  time.Time
	upStart   time.Time
	sent      int64
	reqID     []byte
	reqIDBuf  [32]byte
	// bodyTimeout is client-body-timeout, from the generation the
	// current request started in.
	bodyTimeout time.Duration
	// served counts the connection's requests (keep-alive-requests).
	served int
	// routeInfo describes the current request's route in its log line.
	routeInfo accesslog.Route
	// span is the current request's span (tracing.go); span.span is nil
	// when the request is not traced.
	span reqSpan
	// lc is the connection as max-worker-connections counts it; nil
	// when the listener does not count.
	lc *limitConn
}

func newH1Conn(s *H1Server, c net.Conn) *h1conn {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	br := h1Readers.Get().(*bufio.Reader)
	br.Reset(c)
	bw := h1Writers.Get().(*bufio.Writer)
	bw.Reset(c)
	// The client address is set in serve: with the PROXY protocol it
	// comes from the connection's first bytes, not read in the accept
	// loop.
	hc := &h1conn{s: s, c: c, br: br, bw: bw, lc: limitOf(c)}
	hc.fresh.Store(true)
	hc.req.contentLength, hc.resp.contentLength = -1, -1
	return hc
}

func (hc *h1conn) serve() {
	defer func() {
		if v := recover(); v != nil && v != http.ErrAbortHandler {
			hc.s.p.log.Error("panic serving connection", "remote", hc.c.RemoteAddr().String(), "panic", v)
		}
		if hc.handedOff {
			hc.bw.Reset(nil)
			h1Writers.Put(hc.bw)
			hc.s.forget(hc)
			return
		}
		if hc.linger {
			lingeringClose(hc.c)
		}
		_ = hc.c.Close()
		hc.br.Reset(nil)
		h1Readers.Put(hc.br)
		hc.bw.Reset(nil)
		h1Writers.Put(hc.bw)
		hc.s.forget(hc)
	}()
	hc.ip = []byte(clientIP(hc.c.RemoteAddr().String()))
	for {
		hc.idle.Store(true)
		if hc.s.draining.Load() && !hc.fresh.Load() {
			return
		}
		g := hc.s.p.gen.Load()
		if hc.served > 0 && hc.br.Buffered() == 0 {
			// Between requests the keep-alive timeout applies, until the
			// next request's first byte.
			hc.rdl.Extend(time.Now(), g.keepAlive.idle, hc.c.SetReadDeadline)
			if _, err := hc.br.Peek(1); err != nil {
				return
			}
		}
		// From its first byte (on a new connection, from the start), a
		// head has client-header-timeout to arrive, as in nginx.
		now := time.Now()
		if hc.lc != nil && hc.served > 0 {
			hc.lc.headStart(now)
		}
		hc.rdl.Extend(now, g.keepAlive.header, hc.c.SetReadDeadline)
		hc.bodyTimeout = g.keepAlive.body
		hc.req.reset()
		limits := g.limits
		hc.req.limit = limits.head
		err := readHead(hc.br, &hc.req)
		hc.idle.Store(false)
		hc.fresh.Store(false)
		if err == nil && hc.lc != nil {
			hc.lc.headDone()
		}
		if err != nil {
			if isTimeout(err) {
				hc.s.p.stats.limitHit(LimitHeaderTimeout)
			}
			if errors.Is(err, errHeadTooLarge) {
				hc.s.p.stats.limitHit(LimitHeaderSize)
				// nginx's answers: 414 when the request line alone is too
				// long, 400 when the headers are.
				peek, _ := hc.br.Peek(hc.br.Buffered())
				hc.refuse(g, limits.tooLargeStatus(hc.req.buf, peek))
			}
			return
		}
		if code := limits.checkHead(hc.req.buf); code != 0 {
			hc.s.p.stats.limitHit(LimitHeaderSize)
			hc.refuse(g, code)
			return
		}
		if err := parseRequest(&hc.req); err != nil {
			hc.s.p.stats.limitHit(LimitMalformed)
			code := http.StatusBadRequest
			switch {
			case errors.Is(err, errNotImplemented):
				code = http.StatusNotImplemented
			case errors.Is(err, errVersion):
				code = http.StatusHTTPVersionNotSupported
			}
			hc.refuse(g, code)
			return
		}
		if hc.served++; g.keepAlive.lastRequest(hc.served) || hc.s.p.stopping.Load() || hc.s.draining.Load() {
			// keep-alive 0 or keep-alive-requests reached, or Strait is
			// shutting down: this answer closes the connection.
			hc.req.close = true
		}
		if hc.s.p.alog != nil || hc.s.p.reqs != nil {
			hc.reqStart = time.Now()
		}
		keep := hc.handle()
		if hc.handedOff {
			return
		}
		if hc.recording {
			hc.logFinish()
		}
		if hc.br.Buffered() == 0 || !keep {
			// Flush unless the client already sent its next request, so
			// that pipelined responses share a write.
			hc.wdl.Extend(time.Now(), hc.s.p.clientLimits.SendTimeout, hc.c.SetWriteDeadline)
			if err := hc.bw.Flush(); err != nil {
				return
			}
		}
		if !keep || hc.s.draining.Load() {
			_ = hc.bw.Flush()
			return
		}
	}
}

// refuse answers a head refused before routing and closes the
// connection.
func (hc *h1conn) refuse(g *generation, code int) {
	hc.logRefused(g)
	hc.writeError(code, true, false)
	_ = hc.bw.Flush()
	if hc.recording {
		hc.logFinish()
	}
}

// handle routes and serves one parsed request. It reports whether the
// connection may carry another request.
func (hc *h1conn) handle() bool {
	req := &hc.req
	host, uri := req.host, req.uri
	if len(uri) == 0 {
		return hc.writeError(http.StatusBadRequest, true, false)
	}
	if equalFold(req.method, "connect") {
		// Tunnels are not proxied; nginx answers 405 too.
		hc.s.p.stats.limitHit(LimitMalformed)
		return hc.writeError(http.StatusMethodNotAllowed, true, false)
	}
	if uri[0] != '/' {
		// Absolute form ("http://host/path"): route by its authority and
		// send the origin form upstream. The asterisk form and anything
		// else are refused, as nginx does.
		u, err := url.ParseRequestURI(string(uri))
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || !validHost([]byte(u.Host)) {
			hc.s.p.stats.limitHit(LimitMalformed)
			return hc.writeError(http.StatusBadRequest, true, false)
		}
		host = []byte(u.Host)
		uri = []byte(u.RequestURI())
	}
	path := uri
	for i, c := range path {
		if c == '?' {
			path = path[:i]
			break
		}
	}
	pathStr := bytesString(path)
	decoded := pathStr
	if hasEscape(path) {
		p, err := url.PathUnescape(pathStr)
		if err != nil {
			hc.s.p.stats.limitHit(LimitMalformed)
			return hc.writeError(http.StatusBadRequest, true, false)
		}
		decoded = p
	}
	clean, ok := normalizePath(decoded)
	if !ok {
		hc.s.p.stats.limitHit(LimitMalformed)
		return hc.writeError(http.StatusBadRequest, true, false)
	}
	// target is what the backend receives: the path the route was
	// matched by. Policies (redirects among them) see the client's uri,
	// as nginx's $request_uri.
	target := uri
	if clean != decoded {
		target = []byte(forwardURI(bytesString(uri), decoded, clean))
	}
	g := hc.s.p.gen.Load()
	hc.gh = g.headers
	vh := g.host(bytesString(host))
	if vh == g.catchAll && g.sharedGateway(hc.s.p, hc.s.li, bytesString(host)) != nil {
		// Gateway API requests are served by the net/http handler.
		return hc.handoffRequest()
	}
	if vh.appRoot != "" && clean == "/" {
		// app-root runs before everything else, with the connection's
		// scheme, and drops the query.
		return hc.writeStatus(http.StatusFound, hc.s.li.scheme+"://"+bytesString(host)+vh.appRoot, req.close || req.contentLength > 0 || req.chunked)
	}
	rt := vh.match(clean)
	if rt.full {
		return hc.handoffRequest()
	}
	hc.upstreamHost = rt.upstreamHost
	hc.resp.limit = rt.respHead
	hc.corsHdrs = nil
	hc.fwdPrefix = ""
	hc.fwd = nil
	clientIP, https := bytesString(hc.ip), hc.s.li.scheme == "https"
	if g.fwd != nil {
		fo := g.fwd.fromFields(req.fields, clientIP)
		hc.fwd, hc.fo = g.fwd, fo
		clientIP = fo.client
		if fo.proto != "" {
			https = fo.proto == "https"
		}
	}
	hc.logStart(g, rt, host, https)
	hasBody := req.contentLength > 0 || req.chunked
	hc.to = rt.timeouts
	if rt.policy != nil {
		cl := req.contentLength
		if req.chunked {
			cl = -1
		}
		pr := request{https: https, host: bytesString(host), uri: bytesString(uri), remoteIP: clientIP, contentLength: cl, method: bytesString(req.method)}
		if c := rt.policy.cors; c != nil {
			pr.origin = req.value("origin")
			if allow := c.allowOrigin(pr.origin); allow != "" {
				hc.corsHdrs = c.headers(allow)
			}
		}
		v := rt.policy.check(&pr)
		if v.preflight {
			return hc.writePreflight(req.close || hasBody)
		}
		if v.status != 0 {
			if v.status == http.StatusRequestEntityTooLarge {
				hc.s.p.stats.limitHit(LimitBodySize)
			}
			return hc.writeStatus(v.status, v.location, req.close || hasBody)
		}
		if rt.backend != nil && len(rt.backend.Endpoints()) == 0 {
			return hc.writeError(http.StatusServiceUnavailable, req.close || hasBody, false)
		}
		if rt.backend != nil {
			if v := rt.policy.access(&pr); v.status != 0 {
				return hc.writeStatus(v.status, "", req.close || hasBody)
			}
		}
		hc.maxBody = rt.policy.maxBody
	} else {
		hc.maxBody = 0
	}
	if rt.backend == nil {
		// The body was not read; closing is the safe way to skip it.
		return hc.writeError(rt.status, req.close || hasBody, false)
	}
	if rt.rewrite != nil {
		if p, prefix, ok := rt.rewrite.apply(clean); ok {
			target = []byte(withQuery(p, bytesString(uri)))
			hc.fwdPrefix = prefix
		}
	}
	if req.connUpgrade && len(req.upgrade) > 0 && req.minor == 1 {
		hc.upgrade(rt, host, target)
		return false
	}
	return hc.forward(rt, host, target)
}

// bytesString views b as a string without copying. The string must not
// outlive the request whose buffer b points into.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func hasEscape(b []byte) bool {
	for _, c := range b {
		if c == '%' {
			return true
		}
	}
	return false
}

// writeError answers with a short plain-text status. It reports whether the
// connection may carry another request.
func (hc *h1conn) writeError(code int, closeConn, _ bool) bool {
	return hc.writeStatus(code, "", closeConn)
}

// writeStatus answers with a status, a short plain-text body naming it, and
// a Location when one is given.
func (hc *h1conn) writeStatus(code int, location string, closeConn bool) bool {
	bw := hc.bw
	body := statusBody(code)
	bw.WriteString("HTTP/1.1 ")
	bw.WriteString(itoa(code))
	bw.WriteByte(' ')
	bw.WriteString(http.StatusText(code))
	bw.WriteString("\r\n")
	bw.Write(hc.s.date.line(time.Now()))
	if location != "" {
		bw.WriteString("Location: ")
		bw.WriteString(location)
		bw.WriteString("\r\n")
	}
	hc.writeCORS()
	hc.writeGlobalResponse()
	bw.WriteString("Content-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nContent-Length: ")
	bw.WriteString(itoa(len(body)))
	bw.WriteString("\r\n")
	keep := !closeConn && !hc.req.close
	if !keep && (hc.req.contentLength > 0 || hc.req.chunked) {
		hc.linger = true
	}
	if !keep {
		bw.WriteString("Connection: close\r\n")
	} else if hc.req.minor == 0 {
		bw.WriteString("Connection: keep-alive\r\n")
	}
	bw.WriteString("\r\n")
	if !equalFold(hc.req.method, "head") {
		bw.Write(body)
		hc.logStatus(code, int64(len(body)))
	} else {
		hc.logStatus(code, 0)
	}
	return keep
}

// Lingering close limits, as nginx's lingering_time and lingering_timeout.
const (
	lingerTotal = 30 * time.Second
	lingerIdle  = 5 * time.Second
	lingerMax   = 64 << 20
)

// lingeringClose stops sending, then reads and discards what the client
// still sends, until it closes, goes quiet or sends too much.
func lingeringClose(c net.Conn) {
	tc, ok := c.(interface {
		closeWriter
		net.Conn
	})
	if !ok {
		return
	}
	_ = tc.CloseWrite()
	end := time.Now().Add(lingerTotal)
	buf := make([]byte, 32<<10)
	for n := 0; n < lingerMax; {
		dl := time.Now().Add(lingerIdle)
		if dl.After(end) {
			dl = end
		}
		_ = tc.SetReadDeadline(dl)
		k, err := tc.Read(buf)
		n += k
		if err != nil {
			return
		}
	}
}

// writeCORS writes the current response's CORS headers, if any.
func (hc *h1conn) writeCORS() {
	for _, h := range hc.corsHdrs {
		hc.bw.WriteString(h[0])
		hc.bw.WriteString(": ")
		hc.bw.WriteString(h[1])
		hc.bw.WriteString("\r\n")
	}
}

// writeGlobalResponse writes add-headers (and the Server header of
// server-tokens), if any.
func (hc *h1conn) writeGlobalResponse() {
	if hc.gh != nil {
		hc.bw.Write(hc.gh.response)
	}
}

// writePreflight answers a CORS preflight as ingress-nginx does: 204,
// text/plain, no body.
func (hc *h1conn) writePreflight(closeConn bool) bool {
	bw := hc.bw
	bw.WriteString("HTTP/1.1 204 No Content\r\n")
	bw.Write(hc.s.date.line(time.Now()))
	hc.writeCORS()
	hc.writeGlobalResponse()
	bw.WriteString("Content-Type: text/plain charset=UTF-8\r\nContent-Length: 0\r\n")
	hc.logStatus(http.StatusNoContent, 0)
	keep := !closeConn && !hc.req.close
	if !keep {
		bw.WriteString("Connection: close\r\n")
	} else if hc.req.minor == 0 {
		bw.WriteString("Connection: keep-alive\r\n")
	}
	bw.WriteString("\r\n")
	return keep
}
