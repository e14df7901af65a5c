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
	// listen is the port the listener is bound to: Gateway listeners
	// of that port without addresses of their own share it (gwshared.go).
	listen int32
}

// Classes of client request headers.
const (
	hdrPass = iota
	hdrDrop
	hdrRequestID
	hdrXFF
	hdrXFHost
)

// requestHeaderClasses lists the client request headers that are not passed
// upstream as they are: hop-by-hop headers and framing (dropped, the proxy
// writes its own), and those the proxy derives its forwarded headers from.
// Both HTTP engines use this one list.
var requestHeaderClasses = map[string]int{
	"connection": hdrDrop, "proxy-connection": hdrDrop, "keep-alive": hdrDrop, "te": hdrDrop,
	"trailer": hdrDrop, "transfer-encoding": hdrDrop, "upgrade": hdrDrop,
	// Proxy is never forwarded (httpoxy): backends may read it as their
	// own outgoing proxy.
	"proxy": hdrDrop,
	"host":  hdrDrop, "content-length": hdrDrop, "expect": hdrDrop,
	"x-real-ip": hdrDrop, "x-forwarded-port": hdrDrop, "x-forwarded-proto": hdrDrop,
	"x-forwarded-scheme": hdrDrop, "x-scheme": hdrDrop,
	"x-original-forwarded-for": hdrDrop, "x-original-forwarded-host": hdrDrop,
	"x-request-id":     hdrRequestID,
	"x-forwarded-for":  hdrXFF,
	"x-forwarded-host": hdrXFHost,
}

// responseHeadersHidden lists the upstream response headers clients never
// see: hop-by-hop headers, and those nginx hides by default.
var responseHeadersHidden = map[string]bool{
	"connection": true, "proxy-connection": true, "keep-alive": true, "te": true, "trailer": true,
	"transfer-encoding": true, "upgrade": true,
	"server": true, "date": true, "x-pad": true, "x-accel-expires": true, "x-accel-redirect": true,
	"x-accel-limit-rate": true, "x-accel-buffering": true, "x-accel-charset": true,
}

// classifyRequestHeader decides what happens to a client header. Names with
// an underscore are dropped, as nginx does by default
// (underscores_in_headers off).
func classifyRequestHeader[T string | []byte](name T) int {
	return classifyHeader(name, false, false)
}

// classifyHeader is classifyRequestHeader, passing names with an
// underscore when underscores is set (enable-underscores-in-headers), and
// names with characters other than letters, digits, "-" and "_" (valid
// HTTP tokens nginx still drops, ignore_invalid_headers) when invalid is.
func classifyHeader[T string | []byte](name T, underscores, invalid bool) int {
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-':
		case c == '_':
			if !underscores {
				return hdrDrop
			}
		default:
			if !invalid {
				return hdrDrop
			}
		}
	}
	var lc [32]byte
	if !lowerInto(&lc, name) {
		return hdrPass
	}
	return requestHeaderClasses[string(lc[:len(name)])]
}

// skipRequestHeader reports whether a client header is not passed on as it
// is.
func skipRequestHeader[T string | []byte](name T) bool {
	return classifyRequestHeader(name) != hdrPass
}

// skipResponseHeader reports whether an upstream response header is hidden
// from the client. Content-Length is not hidden here: each engine decides
// the framing of what it sends.
func skipResponseHeader[T string | []byte](name T) bool {
	var lc [32]byte
	return lowerInto(&lc, name) && responseHeadersHidden[string(lc[:len(name)])]
}

// lowerInto lower-cases an ASCII name into buf; names longer than buf are
// none of the listed headers.
func lowerInto[T string | []byte](buf *[32]byte, name T) bool {
	if len(name) > len(buf) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return true
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
	var id [32]byte
	return string(appendRequestID(id[:0]))
}

// appendRequestID appends a new request id to dst.
func appendRequestID(dst []byte) []byte {
	var raw [16]byte
	a, b := rand.Uint64(), rand.Uint64()
	for i := 0; i < 8; i++ {
		raw[i] = byte(a >> (8 * i))
		raw[8+i] = byte(b >> (8 * i))
	}
	return hex.AppendEncode(dst, raw[:])
}

// target is the request target sent upstream: the client's, or the one a
// rewrite produced, with the X-Forwarded-Prefix that goes with it.
type target struct {
	uri, prefix string
	// fo holds the trusted forwarded values; nil when none are trusted.
	fo *forwardedOut
	// upstreamHost replaces the Host header (upstream-vhost).
	upstreamHost string
	// gh are the global header settings; nil for the defaults.
	gh *globalHeaders
	// closeConn asks the upstream to close the connection
	// (upstream-keepalive-connections 0).
	closeConn bool
}

// requestTarget returns the origin-form target of r, rewritten when the
// route says so.
func requestTarget(r *http.Request, rt *route) target {
	uri := r.RequestURI
	if uri == "" || uri[0] != '/' {
		// Absolute-form or HTTP/2 requests: send origin-form.
		uri = r.URL.RequestURI()
	}
	if clean := cleanPath(r.URL.Path); clean != r.URL.Path {
		// The backend receives the path the route was matched by.
		uri = forwardURI(uri, r.URL.Path, clean)
	}
	if rt.rewrite != nil {
		if p, prefix, ok := rt.rewrite.apply(cleanPath(r.URL.Path)); ok {
			return target{uri: withQuery(p, uri), prefix: prefix, upstreamHost: rt.upstreamHost, gh: rt.headers}
		}
	}
	return target{uri: uri, upstreamHost: rt.upstreamHost, gh: rt.headers}
}

// writeRequestHead writes the request line and headers of the upstream
// request. Header values were validated by the server that parsed them.
func writeRequestHead(bw *bufio.Writer, r *http.Request, li *listenerInfo, upgrade string, tg target) {
	uri := tg.uri
	bw.WriteString(r.Method)
	bw.WriteByte(' ')
	bw.WriteString(uri)
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	host := r.Host
	if tg.fo != nil && tg.fo.host != "" {
		host = tg.fo.host
	}
	fwdHost := host
	if tg.upstreamHost != "" {
		host = tg.upstreamHost
	}
	bw.WriteString(host)
	bw.WriteString("\r\n")

	hop := connectionTokens(r.Header)
	under, invalid := tg.gh.passUnderscores(), tg.gh.passInvalidNames()
	for k, vv := range r.Header {
		if classifyHeader(k, under, invalid) != hdrPass || contains(hop, k) || tg.gh.replacesString(k) {
			continue
		}
		for _, v := range vv {
			writeHeader(bw, k, v)
		}
	}

	id := r.Header.Get("X-Request-Id")
	if id == "" && tg.gh.generateRequestID() {
		id = newRequestID()
	}
	ip, xff, proto, port := clientIP(r.RemoteAddr), "", li.scheme, li.port
	if fo := tg.fo; fo != nil {
		ip, xff = fo.client, fo.xff
		if fo.proto != "" {
			proto = fo.proto
		}
		if fo.port != "" {
			port = fo.port
		}
	}
	if xff == "" {
		xff = ip
	}
	if id != "" {
		writeHeader(bw, "X-Request-ID", id)
	}
	writeHeader(bw, "X-Real-IP", ip)
	writeHeader(bw, "X-Forwarded-For", xff)
	writeHeader(bw, "X-Forwarded-Host", fwdHost)
	writeHeader(bw, "X-Forwarded-Port", port)
	writeHeader(bw, "X-Forwarded-Proto", proto)
	writeHeader(bw, "X-Forwarded-Scheme", proto)
	writeHeader(bw, "X-Scheme", proto)
	if v := r.Header["X-Forwarded-For"]; len(v) > 0 {
		writeHeader(bw, "X-Original-Forwarded-For", strings.Join(v, ", "))
	}
	if v := r.Header.Get("X-Forwarded-Host"); v != "" {
		writeHeader(bw, "X-Original-Forwarded-Host", v)
	}
	if tg.prefix != "" {
		writeHeader(bw, "X-Forwarded-Prefix", tg.prefix)
	}
	if tg.gh != nil {
		for _, kv := range tg.gh.upstreamKV {
			writeHeader(bw, kv.Name, kv.Value)
		}
		if tg.gh.dynamic != nil {
			tg.gh.writeDynamic(bw, &headerVars{host: r.Host, remoteAddr: ip, scheme: li.scheme})
		}
	}
	if upgrade != "" {
		writeHeader(bw, "Upgrade", upgrade)
		writeHeader(bw, "Connection", "upgrade")
	} else if tg.closeConn {
		writeHeader(bw, "Connection", "close")
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
