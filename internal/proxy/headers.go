package proxy

import (
	"bufio"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
)

// listenerInfo describes the listener a request arrived on; it decides the
// X-Forwarded-Proto and X-Forwarded-Port values, as nginx's $scheme and
// $pass_port do.
type listenerInfo struct {
	scheme string // "http" or "https"
	port   string // sent as X-Forwarded-Port; 443 on the TLS listener
}

// skipRequestHeader reports whether a client header must not be passed
// upstream as it is: hop-by-hop headers, and headers the proxy sets itself.
func skipRequestHeader(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
		"Host", "Content-Length", "Expect",
		"X-Request-Id", "X-Real-Ip", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Port",
		"X-Forwarded-Proto", "X-Forwarded-Scheme", "X-Scheme",
		"X-Original-Forwarded-For", "X-Original-Forwarded-Host":
		return true
	}
	// nginx drops header names with underscores by default
	// (underscores_in_headers off, ignore_invalid_headers on).
	return strings.IndexByte(k, '_') >= 0
}

// skipResponseHeader reports whether an upstream response header is hidden
// from the client: hop-by-hop headers, and those nginx hides by default.
func skipResponseHeader(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
		"Server", "Date", "X-Pad", "X-Accel-Expires", "X-Accel-Redirect", "X-Accel-Limit-Rate",
		"X-Accel-Buffering", "X-Accel-Charset":
		return true
	}
	return false
}

// connectionTokens returns the header names listed in Connection headers,
// which are hop-by-hop for this connection only.
func connectionTokens(h http.Header) []string {
	var out []string
	for _, v := range h["Connection"] {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			if f != "" && !strings.EqualFold(f, "close") && !strings.EqualFold(f, "keep-alive") && !strings.EqualFold(f, "upgrade") {
				out = append(out, http.CanonicalHeaderKey(f))
			}
		}
	}
	return out
}

// newRequestID returns 32 random hex digits, the shape of nginx's
// $request_id.
func newRequestID() string {
	var raw [16]byte
	a, b := rand.Uint64(), rand.Uint64()
	for i := 0; i < 8; i++ {
		raw[i] = byte(a >> (8 * i))
		raw[8+i] = byte(b >> (8 * i))
	}
	var out [32]byte
	hex.Encode(out[:], raw[:])
	return string(out[:])
}

// writeRequestHead writes the request line and headers of the upstream
// request. Header values were validated by the server that parsed them.
func writeRequestHead(bw *bufio.Writer, r *http.Request, li *listenerInfo, upgrade string) {
	uri := r.RequestURI
	if uri == "" || uri[0] != '/' {
		// Absolute-form or HTTP/2 requests: send origin-form.
		uri = r.URL.RequestURI()
	}
	bw.WriteString(r.Method)
	bw.WriteByte(' ')
	bw.WriteString(uri)
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(r.Host)
	bw.WriteString("\r\n")

	hop := connectionTokens(r.Header)
	for k, vv := range r.Header {
		if skipRequestHeader(k) || contains(hop, k) {
			continue
		}
		for _, v := range vv {
			writeHeader(bw, k, v)
		}
	}

	id := r.Header.Get("X-Request-Id")
	if id == "" {
		id = newRequestID()
	}
	ip := clientIP(r.RemoteAddr)
	writeHeader(bw, "X-Request-ID", id)
	writeHeader(bw, "X-Real-IP", ip)
	writeHeader(bw, "X-Forwarded-For", ip)
	writeHeader(bw, "X-Forwarded-Host", r.Host)
	writeHeader(bw, "X-Forwarded-Port", li.port)
	writeHeader(bw, "X-Forwarded-Proto", li.scheme)
	writeHeader(bw, "X-Forwarded-Scheme", li.scheme)
	writeHeader(bw, "X-Scheme", li.scheme)
	if v := r.Header["X-Forwarded-For"]; len(v) > 0 {
		writeHeader(bw, "X-Original-Forwarded-For", strings.Join(v, ", "))
	}
	if v := r.Header.Get("X-Forwarded-Host"); v != "" {
		writeHeader(bw, "X-Original-Forwarded-Host", v)
	}
	if upgrade != "" {
		writeHeader(bw, "Upgrade", upgrade)
		writeHeader(bw, "Connection", "upgrade")
	}
	switch {
	case r.ContentLength > 0 || (r.ContentLength == 0 && len(r.Header["Content-Length"]) > 0):
		bw.WriteString("Content-Length: ")
		bw.WriteString(strconv.FormatInt(r.ContentLength, 10))
		bw.WriteString("\r\n")
	case r.ContentLength < 0:
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	bw.WriteString("\r\n")
}

func writeHeader(bw *bufio.Writer, k, v string) {
	bw.WriteString(k)
	bw.WriteString(": ")
	bw.WriteString(v)
	bw.WriteString("\r\n")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// clientIP strips the port from a RemoteAddr.
func clientIP(remote string) string {
	if i := strings.LastIndexByte(remote, ':'); i >= 0 {
		remote = remote[:i]
	}
	return strings.TrimSuffix(strings.TrimPrefix(remote, "["), "]")
}

func itoa(i int) string { return strconv.Itoa(i) }
