package proxy

import (
	"context"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2stream is one HTTP/2 stream: the request, its body and the response
// writer in one allocation.
type h2stream struct {
	c      *h2conn
	id     uint32
	ctx    context.Context
	cancel context.CancelFunc
	req    *http.Request
	rw     h2rw // the handler's goroutine only

	// Under c.mu.
	gone       bool // reset, by either side, or the connection ended
	remoteDone bool // the request ended (END_STREAM)
	localDone  bool // the response ended
	bodyClosed bool // the handler closed the body: DATA is dropped
	// needsContinue: the client waits for 100 Continue before it sends
	// the body; the first read sends it.
	needsContinue bool
	body          []byte
	bodyBase      []byte    // body's buffer from its start, reused once drained
	bodyCond      sync.Cond // the body's reader waits on it
	declLen       int64     // the request's Content-Length, -1 without one
	recvd         int64     // body bytes received
	// recvWindow is what the client may still send on the stream,
	// recvUnacked what the handler read and was not yet given back,
	// sendWindow the stream's window for response DATA.
	recvWindow  int64
	recvUnacked int64
	sendWindow  int64
	rdl, wdl    time.Time // the body's read deadline, the response's write deadline
}

func (c *h2conn) newStream(id uint32) *h2stream {
	st := &h2stream{c: c, id: id, declLen: -1, recvWindow: h2StreamWindow}
	st.bodyCond.L = &c.mu
	st.ctx, st.cancel = context.WithCancel(c.ctx)
	st.rw = h2rw{st: st, declLen: -1}
	return st
}

// request builds st's request from its header block; a code other than
// NO_ERROR makes it a malformed request (RFC 9113, 8.1.1), reset with
// that code.
func (st *h2stream) request(f *http2.MetaHeadersFrame) http2.ErrCode {
	const malformed = http2.ErrCodeProtocol
	var method, scheme, path, authority string
	for _, hf := range f.PseudoFields() {
		switch hf.Name {
		case ":method":
			method = hf.Value
		case ":scheme":
			scheme = hf.Value
		case ":path":
			path = hf.Value
		case ":authority":
			authority = hf.Value
		default:
			// :protocol: extended CONNECT is not offered.
			return malformed
		}
	}
	connect := method == http.MethodConnect
	switch {
	case !httpguts.ValidHeaderFieldName(method): // a token
		return malformed
	case connect && (scheme != "" || path != "" || authority == ""):
		return malformed
	case !connect && (scheme == "" || path == ""):
		return malformed
	}
	regular := f.RegularFields()
	hdr := make(http.Header, len(regular))
	// Single values share one array.
	vals := make([]string, len(regular))
	var cookies []string
	for i, hf := range regular {
		switch hf.Name {
		case "connection", "proxy-connection", "keep-alive", "transfer-encoding", "upgrade":
			// Connection-specific fields have no place in HTTP/2 (RFC
			// 9113, 8.2.2).
			return malformed
		case "te":
			if hf.Value != "trailers" {
				return malformed
			}
		case "cookie":
			// Split cookie fields are joined (RFC 9113, 8.2.3).
			cookies = append(cookies, hf.Value)
			continue
		}
		k := http.CanonicalHeaderKey(hf.Name)
		if vv, ok := hdr[k]; ok {
			hdr[k] = append(vv, hf.Value)
		} else {
			vals[i] = hf.Value
			hdr[k] = vals[i : i+1 : i+1]
		}
	}
	if len(cookies) > 0 {
		hdr["Cookie"] = []string{strings.Join(cookies, "; ")}
	}
	var u *url.URL
	uri := path
	switch {
	case connect:
		u, uri = &url.URL{Host: authority}, authority
	case path == "*":
		u = &url.URL{Path: "*"}
	default:
		var err error
		if u, err = url.ParseRequestURI(path); err != nil {
			return malformed
		}
	}
	if authority == "" {
		authority = hdr.Get("Host")
	}
	cl := int64(-1)
	if vv := hdr["Content-Length"]; len(vv) > 0 {
		for _, v := range vv[1:] {
			if v != vv[0] {
				return malformed
			}
		}
		n, err := strconv.ParseUint(vv[0], 10, 63)
		if err != nil {
			return malformed
		}
		cl = int64(n)
	}
	var body io.ReadCloser = http.NoBody
	var trailer http.Header
	if f.StreamEnded() {
		if cl > 0 {
			return malformed
		}
		cl = 0
		st.remoteDone = true
	} else {
		body = (*h2body)(st)
		st.declLen = cl
		if vv := hdr["Expect"]; len(vv) == 1 && strings.EqualFold(vv[0], "100-continue") {
			st.needsContinue = true
		}
		trailer = declaredTrailers(hdr["Trailer"])
	}
	r := &http.Request{Method: method, URL: u, Proto: "HTTP/2.0", ProtoMajor: 2, Header: hdr,
		Body: body, ContentLength: cl, Host: authority, RemoteAddr: st.c.remote,
		RequestURI: uri, TLS: st.c.tlsState, Trailer: trailer}
	st.req = r.WithContext(st.ctx)
	return http2.ErrCodeNo
}

// declaredTrailers returns the fields a Trailer header announces, with no
// values yet; nil when none.
func declaredTrailers(decl []string) http.Header {
	var t http.Header
	for _, v := range decl {
		for k := range strings.SplitSeq(v, ",") {
			k = http.CanonicalHeaderKey(textproto.TrimString(k))
			switch k {
			case "", "Transfer-Encoding", "Trailer", "Content-Length":
				continue // not allowed as trailers
			}
			if t == nil {
				t = http.Header{}
			}
			t[k] = nil
		}
	}
	return t
}

// h2body is a stream's request body.
type h2body h2stream

func (b *h2body) Read(p []byte) (int, error) {
	st := (*h2stream)(b)
	c := st.c
	c.mu.Lock()
	defer c.mu.Unlock()
	var timer *time.Timer
	if st.needsContinue {
		st.needsContinue = false
		if !st.gone && len(st.body) == 0 && !st.remoteDone {
			c.writeHeadersLocked(st.id, http.StatusContinue, nil, nil, false)
			c.kick()
		}
	}
	for len(st.body) == 0 {
		switch {
		case st.bodyClosed:
			return 0, http.ErrBodyReadAfterClose
		case st.remoteDone:
			return 0, io.EOF
		case st.gone:
			if c.werr != nil {
				return 0, errH2Closed
			}
			return 0, errH2Reset
		}
		if !st.rdl.IsZero() {
			d := time.Until(st.rdl)
			if d <= 0 {
				return 0, os.ErrDeadlineExceeded
			}
			if timer == nil {
				timer = time.AfterFunc(d, func() {
					c.mu.Lock()
					st.bodyCond.Broadcast()
					c.mu.Unlock()
				})
				defer timer.Stop()
			} else {
				timer.Reset(d)
			}
		}
		st.bodyCond.Wait()
	}
	n := copy(p, st.body)
	st.body = st.body[n:]
	c.consumedLocked(st, int64(n))
	return n, nil
}

// Close drops what the handler did not read; DATA still to come is
// dropped as it arrives.
func (b *h2body) Close() error {
	st := (*h2stream)(b)
	c := st.c
	c.mu.Lock()
	if !st.bodyClosed {
		st.bodyClosed = true
		if n := len(st.body); n > 0 {
			c.consumedLocked(nil, int64(n))
		}
		st.body, st.bodyBase = nil, nil
		st.bodyCond.Broadcast()
	}
	c.mu.Unlock()
	return nil
}

// appendBody adds received bytes to the body, reusing its buffer once the
// handler drained it. c.mu is held.
func (st *h2stream) appendBody(data []byte) {
	if len(st.body) == 0 && st.bodyBase != nil {
		st.body = st.bodyBase[:0]
	}
	st.body = append(st.body, data...)
	if len(st.body) == len(data) {
		st.bodyBase = st.body
	}
}

// runH2 runs st's handler on an idle stream goroutine, or on a new one.
// Stream goroutines are reused so that a handler starts on a stack that
// has grown already.
func (p *Proxy) runH2(st *h2stream) {
	select {
	case p.h2Work <- st:
	default:
		go p.h2Worker(st)
	}
}

func (p *Proxy) h2Worker(st *h2stream) {
	t := time.NewTimer(h2WorkerIdle)
	defer t.Stop()
	for {
		st.serve()
		t.Reset(h2WorkerIdle)
		select {
		case st = <-p.h2Work:
		case <-t.C:
			return
		}
	}
}

// serve runs the handler and ends the stream after it.
func (st *h2stream) serve() {
	rw := &st.rw
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				st.c.p.log.Error("HTTP/2 handler failed", "panic", v)
			}
			rw.end(false)
			return
		}
		rw.end(true)
	}()
	st.c.h.ServeHTTP(rw, st.req)
}

// refuse answers st with a plain error status, without its handler.
func (c *h2conn) refuse(st *h2stream, code int) {
	plainError(&st.rw, code)
	st.rw.end(true)
}

// h2rw is a stream's http.ResponseWriter.
type h2rw struct {
	st          *h2stream
	hdr         http.Header
	status      int
	wroteHeader bool
	sentHeader  bool
	declLen     int64    // the response's Content-Length, -1 without one
	written     int64    // body bytes the handler wrote
	trailers    []string // declared in the Trailer header
	buf         []byte   // body bytes not yet framed
	bufp        *[]byte
	err         error // the stream is gone: writes fail with it
}

// Header returns the response header.
func (rw *h2rw) Header() http.Header {
	if rw.hdr == nil {
		rw.hdr = make(http.Header, 8)
	}
	return rw.hdr
}

// WriteHeader sets the status. An informational status (1xx) is sent at
// once, with the header as it is.
func (rw *h2rw) WriteHeader(code int) {
	if rw.wroteHeader {
		return
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		c := rw.st.c
		c.mu.Lock()
		if !rw.st.gone {
			c.writeHeadersLocked(rw.st.id, code, rw.hdr, nil, false)
			c.kick()
		}
		c.mu.Unlock()
		return
	}
	rw.status, rw.wroteHeader = code, true
	if vv := rw.hdr["Content-Length"]; len(vv) == 1 {
		if n, err := strconv.ParseInt(vv[0], 10, 64); err == nil && n >= 0 {
			rw.declLen = n
		}
	}
	for k := range declaredTrailers(rw.hdr["Trailer"]) {
		rw.trailers = append(rw.trailers, k)
	}
}

// bodyAllowed reports whether a response of status may have a body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// Write adds to the response body. Small writes are gathered; a response
// that fits in h2BodyChunk leaves in one piece with its headers.
func (rw *h2rw) Write(p []byte) (int, error) {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(rw.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if rw.err != nil {
		return 0, rw.err
	}
	if rw.declLen >= 0 && rw.written+int64(len(p)) > rw.declLen {
		return 0, http.ErrContentLength
	}
	rw.written += int64(len(p))
	if rw.st.req.Method == http.MethodHead {
		return len(p), nil
	}
	if len(rw.buf)+len(p) <= h2BodyChunk {
		if rw.bufp == nil {
			rw.bufp = rw.st.c.p.h2Bufs.Get().(*[]byte)
			rw.buf = (*rw.bufp)[:0]
		}
		rw.buf = append(rw.buf, p...)
		return len(p), nil
	}
	if err := rw.emit(p, false, nil); err != nil {
		rw.err = err
		return 0, err
	}
	return len(p), nil
}

// WriteString is Write without a copy to bytes for callers that have a
// string.
func (rw *h2rw) WriteString(s string) (int, error) { return rw.Write([]byte(s)) }

// FlushError sends the headers and what is gathered of the body.
func (rw *h2rw) FlushError() error {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	if rw.err != nil {
		return rw.err
	}
	if err := rw.emit(nil, false, nil); err != nil {
		rw.err = err
	}
	return rw.err
}

// Flush is FlushError without the error (http.Flusher).
func (rw *h2rw) Flush() { _ = rw.FlushError() }

// SetReadDeadline bounds the waits of the request body's reads.
func (rw *h2rw) SetReadDeadline(t time.Time) error {
	c := rw.st.c
	c.mu.Lock()
	rw.st.rdl = t
	rw.st.bodyCond.Broadcast()
	c.mu.Unlock()
	return nil
}

// SetWriteDeadline bounds the waits of the response's writes for the
// client's flow-control window and for room in the connection's output.
// Unlike a net.Conn's, it ends nothing between writes: the handler's
// next write fails if it has to wait past it.
func (rw *h2rw) SetWriteDeadline(t time.Time) error {
	c := rw.st.c
	c.mu.Lock()
	rw.st.wdl = t
	c.mu.Unlock()
	return nil
}

// end completes the response once the handler returned, or resets the
// stream when it failed (ok false) or its response could not be sent.
func (rw *h2rw) end(ok bool) {
	st := rw.st
	c := st.c
	if ok && rw.err == nil {
		if !rw.wroteHeader {
			rw.WriteHeader(http.StatusOK)
		}
		tr := rw.trailerFields()
		if !rw.sentHeader && tr == nil && bodyAllowed(rw.status) && rw.hdr["Content-Length"] == nil &&
			(rw.written > 0 || st.req.Method != http.MethodHead) {
			// The whole body is known: its length goes with it.
			rw.Header()["Content-Length"] = []string{strconv.FormatInt(rw.written, 10)}
		}
		if err := rw.emit(nil, true, tr); err != nil {
			rw.err = err
		}
	}
	if rw.bufp != nil {
		*rw.bufp = rw.buf[:0]
		c.p.h2Bufs.Put(rw.bufp)
		rw.bufp, rw.buf = nil, nil
	}
	c.mu.Lock()
	if !st.gone {
		switch {
		case !ok || rw.err != nil || !st.localDone:
			// The client must not take a cut response for a whole one.
			c.resetLocked(st, http2.ErrCodeInternal)
		case !st.remoteDone:
			// The response is complete before the request: the rest of
			// it is not wanted (RFC 9113, 8.1).
			c.resetLocked(st, http2.ErrCodeNo)
		default:
			st.gone = true
			c.closeLocked(st)
		}
	}
	c.running--
	c.mu.Unlock()
	st.cancel()
	c.updateIdle()
}

// trailerFields returns the trailers the handler set: declared fields, and
// those named with http.TrailerPrefix; nil when none.
func (rw *h2rw) trailerFields() http.Header {
	var t http.Header
	for _, k := range rw.trailers {
		if vv := rw.hdr[k]; len(vv) > 0 {
			if t == nil {
				t = http.Header{}
			}
			t[k] = vv
		}
	}
	for k, vv := range rw.hdr {
		if strings.HasPrefix(k, http.TrailerPrefix) && len(vv) > 0 {
			if t == nil {
				t = http.Header{}
			}
			t[k[len(http.TrailerPrefix):]] = vv
		}
	}
	return t
}

// emit sends the headers unless sent, the gathered body and p; end ends
// the stream, with trailers when there are.
func (rw *h2rw) emit(p []byte, end bool, trailers http.Header) error {
	st := rw.st
	c := st.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if st.gone {
		if c.werr != nil {
			return errH2Closed
		}
		return errH2Reset
	}
	dataEnd := end && trailers == nil
	if !rw.sentHeader {
		rw.sentHeader = true
		st.needsContinue = false // the final status answers the expectation
		only := dataEnd && len(rw.buf) == 0 && len(p) == 0
		c.writeHeadersLocked(st.id, rw.status, rw.hdr, rw.trailers, only)
		if only {
			st.localDone = true
			c.kick()
			return nil
		}
	}
	if len(rw.buf) > 0 {
		if err := c.writeDataLocked(st, rw.buf, dataEnd && len(p) == 0); err != nil {
			return err
		}
		rw.buf = rw.buf[:0]
		if dataEnd && len(p) == 0 {
			st.localDone = true
		}
	}
	if len(p) > 0 || dataEnd && !st.localDone {
		if err := c.writeDataLocked(st, p, dataEnd); err != nil {
			return err
		}
	}
	if trailers != nil {
		c.writeHeadersLocked(st.id, 0, trailers, nil, true)
	}
	if end {
		st.localDone = true
	}
	c.kick()
	return nil
}

// writeDataLocked frames b as DATA on st, as the flow-control windows and
// the connection's output allow, waiting for them within st's write
// deadline; end sets END_STREAM on the last frame (an empty b sends an
// empty one). c.mu is held; waiting releases it.
func (c *h2conn) writeDataLocked(st *h2stream, b []byte, end bool) error {
	var timer *time.Timer
	for {
		n := 0
		for {
			if st.gone {
				return errH2Reset
			}
			if c.werr != nil {
				return c.werr
			}
			if len(c.out) < h2OutMax {
				if len(b) == 0 {
					break
				}
				if n = int(min(int64(len(b)), st.sendWindow, c.sendWindow, int64(c.peerFrame))); n > 0 {
					break
				}
			}
			if !st.wdl.IsZero() {
				d := time.Until(st.wdl)
				if d <= 0 {
					if timer != nil {
						timer.Stop()
					}
					return os.ErrDeadlineExceeded
				}
				if timer == nil {
					timer = time.AfterFunc(d, c.wake)
				} else {
					timer.Reset(d)
				}
			}
			c.kick()
			c.cond.Wait()
		}
		last := end && n == len(b)
		_ = c.fr.WriteData(st.id, last, b[:n])
		st.sendWindow -= int64(n)
		c.sendWindow -= int64(n)
		b = b[n:]
		if len(b) == 0 {
			if timer != nil {
				timer.Stop()
			}
			return nil
		}
	}
}

// wake wakes the connection's waiting writers (a write deadline passed).
func (c *h2conn) wake() {
	c.mu.Lock()
	c.cond.Broadcast()
	c.mu.Unlock()
}

// writeHeadersLocked sends a header block: a response's (status is its
// code), or trailers (status 0). Connection-specific fields are dropped;
// "Connection: close" from the handler (keep-alive-requests reached)
// starts a graceful GOAWAY. skip are the declared trailers, sent later.
func (c *h2conn) writeHeadersLocked(id uint32, status int, h http.Header, skip []string, end bool) {
	c.hbuf.Reset()
	enc := c.henc
	closeConn := false
	if status != 0 {
		_ = enc.WriteField(hpack.HeaderField{Name: ":status", Value: statusText(status)})
		if _, ok := h["Date"]; !ok {
			_ = enc.WriteField(hpack.HeaderField{Name: "date", Value: c.dateLocked()[0]})
		}
	}
	for k, vv := range h {
		lk := lowerHeader(k)
		switch lk {
		case "connection":
			for _, v := range vv {
				closeConn = closeConn || httpguts.HeaderValuesContainsToken([]string{v}, "close")
			}
			continue
		case "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
			continue
		}
		if status != 0 && (strings.HasPrefix(k, http.TrailerPrefix) || contains(skip, k)) {
			continue
		}
		if !httpguts.ValidHeaderFieldName(k) {
			continue
		}
		for _, v := range vv {
			if httpguts.ValidHeaderFieldValue(v) {
				_ = enc.WriteField(hpack.HeaderField{Name: lk, Value: v})
			}
		}
	}
	block := c.hbuf.Bytes()
	frag := block[:min(len(block), c.peerFrame)]
	_ = c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: frag, EndStream: end, EndHeaders: len(frag) == len(block)})
	for rest := block[len(frag):]; len(rest) > 0; {
		n := min(len(rest), c.peerFrame)
		_ = c.fr.WriteContinuation(id, n == len(rest), rest[:n])
		rest = rest[n:]
	}
	if closeConn && status != 0 {
		c.goAwayLocked(http2.ErrCodeNo)
	}
}

// lowerHeader returns a header name as HTTP/2 sends it, in lower case;
// the usual names without an allocation.
func lowerHeader(k string) string {
	switch k {
	case "Content-Type":
		return "content-type"
	case "Content-Length":
		return "content-length"
	case "Date":
		return "date"
	case "Server":
		return "server"
	case "Cache-Control":
		return "cache-control"
	case "Content-Encoding":
		return "content-encoding"
	case "Etag":
		return "etag"
	case "Last-Modified":
		return "last-modified"
	case "Location":
		return "location"
	case "Set-Cookie":
		return "set-cookie"
	case "Vary":
		return "vary"
	case "Expires":
		return "expires"
	case "Accept-Ranges":
		return "accept-ranges"
	case "Strict-Transport-Security":
		return "strict-transport-security"
	case "Connection":
		return "connection"
	case "Keep-Alive":
		return "keep-alive"
	case "Transfer-Encoding":
		return "transfer-encoding"
	case "Trailer":
		return "trailer"
	case "Upgrade":
		return "upgrade"
	case "Proxy-Connection":
		return "proxy-connection"
	}
	return lower(k)
}
