package proxy

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/straitgw/strait/internal/proxy/upstream"
)

// errClientBody marks a failure reading the client's request body: the
// client, not the upstream, is at fault, and the connection is closed.
var errClientBody = errors.New("reading the request body failed")

// forward proxies the current request on a pooled upstream connection. It
// reports whether the client connection may carry another request. As in
// the net/http handler, each try's outcome feeds the endpoint's passive
// health, a failed try moves on to an endpoint not tried yet, and the
// backend's circuit breaker bounds the requests in flight.
func (hc *h1conn) forward(rt *route, host, uri []byte) bool {
	p := hc.s.p
	req := &hc.req
	hasBody := req.contentLength > 0 || req.chunked
	if !rt.backend.Acquire(nil, hc.to.Connect) {
		p.log.Debug("circuit breaker open: too many requests to the backend", "route", rt.name, "backend", rt.backend.Name)
		return hc.writeError(http.StatusServiceUnavailable, hasBody, false)
	}
	defer rt.backend.Release()
	var triedBuf [maxTries]*upstream.Endpoint
	tried := triedBuf[:0]
	stale := 0
	if hc.recording {
		hc.upStart = time.Now()
	}
	var ep *upstream.Endpoint
	reuse := false // a stale connection: the same endpoint, a fresh one
	for {
		switch {
		case reuse:
		case len(tried) == 0:
			ep = rt.backend.Pick()
		default:
			ep = rt.backend.PickExcept(tried)
		}
		reuse = false
		if ep == nil {
			return hc.writeError(http.StatusServiceUnavailable, hasBody, false)
		}
		var start time.Time
		if rt.backend.EWMA() {
			start = time.Now()
		}
		uc, err := ep.Get(hc.to.Connect)
		if err != nil {
			tried = append(tried, ep)
			p.log.Warn("connect to upstream failed", "route", rt.name, "upstream", ep.Addr, "error", err)
			p.reportFailure(rt.backend, ep)
			if len(tried) < maxTries && len(tried) < len(rt.backend.Endpoints()) {
				continue
			}
			return hc.writeError(errorStatus(err), hasBody, false)
		}
		err = hc.send(uc, host, uri)
		if err == nil {
			err = hc.readResponseHead(uc)
		}
		if err != nil {
			_ = uc.Close()
			if errors.Is(err, errBadChunk) {
				// Malformed chunked framing from the client: the
				// upstream request is abandoned unfinished.
				hc.s.p.stats.limitHit(LimitMalformed)
				return hc.writeError(http.StatusBadRequest, true, false)
			}
			if errors.Is(err, errClientBody) {
				return false
			}
			if errors.Is(err, errBodyTooLarge) {
				p.stats.limitHit(LimitBodySize)
				return hc.writeError(http.StatusRequestEntityTooLarge, true, false)
			}
			if errors.Is(err, errNoResponse) && uc.Reused && !hasBody && stale < maxStaleRetries {
				stale++
				reuse = true
				continue
			}
			p.log.Warn("upstream request failed", "route", rt.name, "upstream", ep.Addr, "error", err)
			p.reportFailure(rt.backend, ep)
			// proxy-next-upstream's default, "error timeout": a request
			// without a body moves on to another endpoint, unless its
			// method is not idempotent. (Routes with another policy are
			// served by the net/http handler.)
			tried = append(tried, ep)
			if !hasBody && failCondition(err)&(retryError|retryTimeout) != 0 && !nonIdempotentMethod(req.method) &&
				len(tried) < maxTries && len(tried) < len(rt.backend.Endpoints()) {
				continue
			}
			// A body that was (partly) consumed cannot be skipped safely.
			return hc.writeError(errorStatus(err), hasBody, false)
		}
		p.reportStatus(rt.backend, ep, hc.resp.status)
		if rt.backend.EWMA() {
			ep.Observe(time.Since(start))
		}
		hc.logUpstream(ep.Addr, hc.resp.status, hc.resp.contentLength)
		return hc.relay(uc, rt, ep.Addr)
	}
}

// send writes the request head and body to the upstream.
func (hc *h1conn) send(uc *upstream.Conn, host, uri []byte) error {
	req := &hc.req
	now := time.Now()
	uc.WriteDL.Extend(now, hc.to.Send, uc.SetWriteDeadline)
	hc.writeUpstreamHead(uc.W, host, uri, false)
	if req.contentLength > 0 || req.chunked {
		if req.expect100 {
			hc.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
			if err := hc.bw.Flush(); err != nil {
				return errClientBody
			}
		}
		if err := hc.copyRequestBody(uc); err != nil {
			return err
		}
	}
	if err := uc.W.Flush(); err != nil {
		return noResponse(err)
	}
	return nil
}

// writeUpstreamHead writes the upstream request head: the client's
// headers minus hop-by-hop and proxy-managed ones, then the headers
// ingress-nginx sets.
func (hc *h1conn) writeUpstreamHead(w *bufio.Writer, host, uri []byte, upgrade bool) {
	req := &hc.req
	li := &hc.s.li
	w.Write(req.method)
	w.WriteByte(' ')
	w.Write(uri)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	if hc.upstreamHost != "" {
		w.WriteString(hc.upstreamHost)
	} else if hc.fwd != nil && hc.fo.host != "" {
		// $best_http_host: the first X-Forwarded-Host when trusted.
		w.WriteString(hc.fo.host)
	} else {
		w.Write(host)
	}
	w.WriteString("\r\n")
	var reqID, fwdHost []byte
	xffCount := 0
	gh := hc.gh
	under, invalid := gh.passUnderscores(), gh.passInvalidNames()
	traced := hc.span.span != nil
	for i := range req.fields {
		f := &req.fields[i]
		switch classifyHeader(f.name, under, invalid) {
		case hdrPass:
			if isConnToken(req.connTokens, f.name) || gh.replaces(f.name) || traced && isTraceHeader(f.name) {
				continue
			}
			w.Write(f.name)
			w.WriteString(": ")
			w.Write(f.value)
			w.WriteString("\r\n")
		case hdrRequestID:
			if reqID == nil {
				reqID = f.value
			}
		case hdrXFF:
			xffCount++
		case hdrXFHost:
			if fwdHost == nil {
				fwdHost = f.value
			}
		}
	}
	if len(reqID) > 0 {
		w.WriteString("X-Request-ID: ")
		w.Write(reqID)
		w.WriteString("\r\n")
	} else if gh.generateRequestID() {
		hc.reqID = appendRequestID(hc.reqIDBuf[:0])
		w.WriteString("X-Request-ID: ")
		w.Write(hc.reqID)
		w.WriteString("\r\n")
	}
	if traced {
		w.WriteString("traceparent: ")
		w.Write(hc.span.traceparent[:])
		w.WriteString("\r\n")
		if ts := hc.span.tracestate; ts != "" {
			w.WriteString("tracestate: ")
			w.WriteString(ts)
			w.WriteString("\r\n")
		}
	}
	if hc.fwd != nil {
		hc.writeForwarded(w, host)
	} else {
		w.WriteString("X-Real-IP: ")
		w.Write(hc.ip)
		w.WriteString("\r\nX-Forwarded-For: ")
		w.Write(hc.ip)
		w.WriteString("\r\nX-Forwarded-Host: ")
		w.Write(host)
		w.WriteString("\r\nX-Forwarded-Port: ")
		w.WriteString(li.port)
		w.WriteString("\r\nX-Forwarded-Proto: ")
		w.WriteString(li.scheme)
		w.WriteString("\r\nX-Forwarded-Scheme: ")
		w.WriteString(li.scheme)
		w.WriteString("\r\nX-Scheme: ")
		w.WriteString(li.scheme)
		w.WriteString("\r\n")
	}
	if xffCount > 0 {
		w.WriteString("X-Original-Forwarded-For: ")
		n := 0
		for i := range req.fields {
			if f := &req.fields[i]; classifyRequestHeader(f.name) == hdrXFF {
				if n > 0 {
					w.WriteString(", ")
				}
				w.Write(f.value)
				n++
			}
		}
		w.WriteString("\r\n")
	}
	if len(fwdHost) > 0 {
		w.WriteString("X-Original-Forwarded-Host: ")
		w.Write(fwdHost)
		w.WriteString("\r\n")
	}
	if hc.fwdPrefix != "" {
		w.WriteString("X-Forwarded-Prefix: ")
		w.WriteString(hc.fwdPrefix)
		w.WriteString("\r\n")
	}
	if gh != nil {
		w.Write(gh.upstream)
		if gh.dynamic != nil {
			v := headerVars{host: bytesString(host), remoteAddr: bytesString(hc.ip), scheme: li.scheme}
			if hc.fwd != nil {
				v.remoteAddr = hc.fo.client
			}
			gh.writeDynamic(w, &v)
		}
	}
	if upgrade {
		w.WriteString("Upgrade: ")
		w.Write(req.upgrade)
		w.WriteString("\r\nConnection: upgrade\r\n")
	} else if !hc.s.p.registry.Pooling() {
		// upstream-keepalive-connections 0: nginx's Connection: close.
		w.WriteString("Connection: close\r\n")
	}
	switch {
	case req.chunked:
		w.WriteString("Transfer-Encoding: chunked\r\n")
	case req.contentLength >= 0:
		w.WriteString("Content-Length: ")
		w.Write(appendInt(w.AvailableBuffer(), req.contentLength))
		w.WriteString("\r\n")
	}
	w.WriteString("\r\n")
}

func isConnToken(tokens [][]byte, name []byte) bool {
	for _, t := range tokens {
		if len(t) == len(name) && equalFoldBytes(t, name) {
			return true
		}
	}
	return false
}

func equalFoldBytes(a, b []byte) bool {
	for i := range a {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// readResponseHead reads the final response head from the upstream,
// skipping interim 1xx responses other than 101.
func (hc *h1conn) readResponseHead(uc *upstream.Conn) error {
	uc.ReadDL.Extend(time.Now(), hc.to.Read, uc.SetReadDeadline)
	for {
		hc.resp.reset()
		if err := readHead(uc.R, &hc.resp); err != nil {
			if errors.Is(err, errHeadTooLarge) {
				return errBadResponse
			}
			return noResponse(err)
		}
		if err := parseResponse(&hc.resp); err != nil {
			return err
		}
		if hc.resp.status >= 200 || hc.resp.status == http.StatusSwitchingProtocols {
			return nil
		}
	}
}

// relay writes the upstream response to the client and returns the
// upstream connection to its pool when the exchange ended cleanly. It
// reports whether the client connection may carry another request.
func (hc *h1conn) relay(uc *upstream.Conn, rt *route, addr string) bool {
	req, resp := &hc.req, &hc.resp
	if resp.status == http.StatusSwitchingProtocols {
		// Only an upgrade request may be answered with 101.
		_ = uc.Close()
		hc.s.p.log.Warn("upstream answered 101 to a request without upgrade", "route", rt.name, "upstream", addr)
		return hc.writeError(http.StatusBadGateway, true, false)
	}
	noBody := equalFold(req.method, "head") || resp.status == http.StatusNoContent || resp.status == http.StatusNotModified
	untilClose := !noBody && resp.contentLength < 0 && !resp.chunked
	keep := !req.close && !hc.s.draining.Load()
	// Without a length, an HTTP/1.0 client learns the end from the close.
	chunkOut := !noBody && resp.contentLength < 0 && req.minor == 1
	if !noBody && resp.contentLength < 0 && req.minor == 0 {
		keep = false
	}

	w := hc.bw
	w.WriteString("HTTP/1.1 ")
	w.WriteString(itoa(resp.status))
	w.WriteByte(' ')
	if len(resp.reason) > 0 {
		w.Write(resp.reason)
	} else {
		w.WriteString(http.StatusText(resp.status))
	}
	w.WriteString("\r\n")
	w.Write(hc.s.date.line(time.Now()))
	hc.writeCORS()
	hc.writeGlobalResponse()
	for i := range resp.fields {
		f := &resp.fields[i]
		if skipResponseHeader(f.name) || equalFold(f.name, "content-length") || isConnToken(resp.connTokens, f.name) || hc.gh.hides(f.name) {
			continue
		}
		if hc.corsHdrs != nil && len(f.name) > 15 && equalFold(f.name[:15], "access-control-") {
			continue // replaced by the route's CORS headers
		}
		w.Write(f.name)
		w.WriteString(": ")
		w.Write(f.value)
		w.WriteString("\r\n")
	}
	switch {
	case resp.contentLength >= 0 && (resp.status != http.StatusNoContent && resp.status != http.StatusNotModified || equalFold(req.method, "head")):
		w.WriteString("Content-Length: ")
		w.Write(appendInt(w.AvailableBuffer(), resp.contentLength))
		w.WriteString("\r\n")
	case chunkOut:
		w.WriteString("Transfer-Encoding: chunked\r\n")
	}
	if !keep {
		w.WriteString("Connection: close\r\n")
	} else if req.minor == 0 {
		w.WriteString("Connection: keep-alive\r\n")
	}
	w.WriteString("\r\n")

	hc.sent = 0
	var err error
	switch {
	case noBody:
	case resp.contentLength >= 0:
		err = hc.copyResponseN(uc, resp.contentLength)
	case uc.R.Buffered() == 0 && hc.flushClient() != nil:
		// A body without a length streams: the head goes out as soon as
		// it arrived, before the upstream's first chunk.
		err = errClientGone
	case resp.chunked:
		err = hc.copyResponseChunked(uc, chunkOut)
	default:
		err = hc.copyResponseUntilClose(uc, chunkOut)
	}
	hc.logStatus(resp.status, hc.sent)
	if err != nil {
		_ = uc.Close()
		if !errors.Is(err, errClientGone) {
			hc.s.p.log.Warn("upstream response aborted", "route", rt.name, "upstream", addr, "error", err)
		}
		// The head is out already: end the connection so that the client
		// sees a truncated response rather than a complete one.
		return false
	}
	if resp.close || untilClose {
		_ = uc.Close()
	} else {
		uc.Release()
	}
	return keep
}

// errBodyTooLarge marks a chunked request body that grew past the route's
// limit while streaming; the upstream request is abandoned and the client
// gets 413.
var errBodyTooLarge = errors.New("request body too large")

// errClientGone marks a failed write to the client.
var errClientGone = errors.New("client connection closed")

// copyResponseN relays exactly n body bytes, flushing whenever the upstream
// has nothing more buffered so that slow bodies stream.
func (hc *h1conn) copyResponseN(uc *upstream.Conn, n int64) error {
	for n > 0 {
		if uc.R.Buffered() == 0 {
			if err := hc.flushClient(); err != nil {
				return err
			}
			uc.ReadDL.Extend(time.Now(), hc.to.Read, uc.SetReadDeadline)
			if _, err := uc.R.Peek(1); err != nil {
				return unexpectedEOF(err)
			}
		}
		k := min(int64(uc.R.Buffered()), n)
		b, _ := uc.R.Peek(int(k))
		if _, err := hc.bw.Write(b); err != nil {
			return errClientGone
		}
		_, _ = uc.R.Discard(int(k))
		n -= k
		hc.sent += k
	}
	return nil
}

func (hc *h1conn) flushClient() error {
	if hc.bw.Buffered() == 0 {
		return nil
	}
	hc.wdl.Extend(time.Now(), hc.s.p.clientLimits.SendTimeout, hc.c.SetWriteDeadline)
	if err := hc.bw.Flush(); err != nil {
		return errClientGone
	}
	return nil
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// copyResponseChunked relays a chunked body, re-framing it when the client
// speaks HTTP/1.1 (chunk extensions and trailers are dropped) and sending
// the bare data to an HTTP/1.0 client. Every chunk is flushed when the
// upstream has nothing more buffered: server-sent events and other streams
// reach the client as they are produced.
func (hc *h1conn) copyResponseChunked(uc *upstream.Conn, chunkOut bool) error {
	cr := chunkReader{r: uc.R, extend: func() {
		uc.ReadDL.Extend(time.Now(), hc.to.Read, uc.SetReadDeadline)
	}}
	for {
		n, err := cr.next()
		if err != nil {
			return err
		}
		if n == 0 {
			if chunkOut {
				hc.bw.WriteString("0\r\n\r\n")
			}
			return hc.flushClient()
		}
		if chunkOut {
			hc.bw.WriteString(strconv.FormatInt(n, 16))
			hc.bw.WriteString("\r\n")
		}
		if err := hc.copyResponseN(uc, n); err != nil {
			return err
		}
		if chunkOut {
			hc.bw.WriteString("\r\n")
		}
		if err := cr.endChunk(); err != nil {
			return err
		}
		if uc.R.Buffered() == 0 {
			if err := hc.flushClient(); err != nil {
				return err
			}
		}
	}
}

// copyResponseUntilClose relays a body delimited by the upstream closing
// the connection.
func (hc *h1conn) copyResponseUntilClose(uc *upstream.Conn, chunkOut bool) error {
	for {
		uc.ReadDL.Extend(time.Now(), hc.to.Read, uc.SetReadDeadline)
		b, err := uc.R.Peek(1)
		if err == io.EOF {
			if chunkOut {
				hc.bw.WriteString("0\r\n\r\n")
			}
			return hc.flushClient()
		}
		if err != nil {
			return err
		}
		b, _ = uc.R.Peek(uc.R.Buffered())
		if chunkOut {
			hc.bw.WriteString(strconv.FormatInt(int64(len(b)), 16))
			hc.bw.WriteString("\r\n")
		}
		if _, err := hc.bw.Write(b); err != nil {
			return errClientGone
		}
		if chunkOut {
			hc.bw.WriteString("\r\n")
		}
		_, _ = uc.R.Discard(len(b))
		hc.sent += int64(len(b))
		if err := hc.flushClient(); err != nil {
			return err
		}
	}
}

// copyRequestBody sends the client's body upstream: Content-Length bodies
// as they are, chunked bodies re-framed (extensions and trailers dropped).
func (hc *h1conn) copyRequestBody(uc *upstream.Conn) error {
	req := &hc.req
	extend := func() {
		now := time.Now()
		hc.rdl.Extend(now, hc.bodyTimeout, hc.c.SetReadDeadline)
		uc.WriteDL.Extend(now, hc.to.Send, uc.SetWriteDeadline)
	}
	copyN := func(n int64) error {
		for n > 0 {
			if hc.br.Buffered() == 0 {
				extend()
				if _, err := hc.br.Peek(1); err != nil {
					return hc.clientBodyError(err)
				}
			}
			k := min(int64(hc.br.Buffered()), n)
			b, _ := hc.br.Peek(int(k))
			if _, err := uc.W.Write(b); err != nil {
				return noResponse(err)
			}
			_, _ = hc.br.Discard(int(k))
			n -= k
		}
		return nil
	}
	if !req.chunked {
		return copyN(req.contentLength)
	}
	cr := chunkReader{r: hc.br, extend: extend}
	var total int64
	for {
		n, err := cr.next()
		if errors.Is(err, errBadChunk) {
			return err
		}
		if err != nil {
			return hc.clientBodyError(err)
		}
		if total += n; hc.maxBody > 0 && total > hc.maxBody {
			return errBodyTooLarge
		}
		uc.W.WriteString(strconv.FormatInt(n, 16))
		uc.W.WriteString("\r\n")
		if n == 0 {
			uc.W.WriteString("\r\n")
			return nil
		}
		if err := copyN(n); err != nil {
			return err
		}
		uc.W.WriteString("\r\n")
		if err := cr.endChunk(); errors.Is(err, errBadChunk) {
			return err
		} else if err != nil {
			return hc.clientBodyError(err)
		}
	}
}

// clientBodyError is errClientBody for a failed read of the request body,
// counting client-body-timeout when that ended it.
func (hc *h1conn) clientBodyError(err error) error {
	if isTimeout(err) {
		hc.s.p.stats.limitHit(LimitBodyTimeout)
	}
	return errClientBody
}

// ClientBodyTimeout is client-body-timeout: the longest wait between two
// reads of a request body.
const ClientBodyTimeout = 60 * time.Second

// writeForwarded writes the forwarded headers from trusted values, as
// ingress-nginx does with use-forwarded-headers or enable-real-ip.
func (hc *h1conn) writeForwarded(w *bufio.Writer, host []byte) {
	li, fo := &hc.s.li, &hc.fo
	proto, port := li.scheme, li.port
	if fo.proto != "" {
		proto = fo.proto
	}
	if fo.port != "" {
		port = fo.port
	}
	w.WriteString("X-Real-IP: ")
	w.WriteString(fo.client)
	w.WriteString("\r\nX-Forwarded-For: ")
	w.WriteString(fo.xff)
	w.WriteString("\r\nX-Forwarded-Host: ")
	if fo.host != "" {
		w.WriteString(fo.host)
	} else {
		w.Write(host)
	}
	w.WriteString("\r\nX-Forwarded-Port: ")
	w.WriteString(port)
	w.WriteString("\r\nX-Forwarded-Proto: ")
	w.WriteString(proto)
	w.WriteString("\r\nX-Forwarded-Scheme: ")
	w.WriteString(proto)
	w.WriteString("\r\nX-Scheme: ")
	w.WriteString(proto)
	w.WriteString("\r\n")
}

// nonIdempotentMethod reports the methods nginx does not send again once
// an upstream received them: POST, LOCK and PATCH.
func nonIdempotentMethod(m []byte) bool {
	return string(m) == http.MethodPost || string(m) == http.MethodPatch || string(m) == "LOCK"
}
