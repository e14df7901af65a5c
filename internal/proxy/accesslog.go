package proxy

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/straitgw/strait/internal/accesslog"
	"github.com/straitgw/strait/internal/metrics"
	"github.com/straitgw/strait/internal/model"
)

// The access log writes one line per request, in log-format-upstream, to
// the proxy's AccessLog writer (standard output in `strait serve`, as
// ingress-nginx writes to /dev/stdout). Both engines fill an
// accesslog.Entry once the response is complete; the HTTP/1 engine reuses
// one Entry and one line buffer per connection, so that logging costs no
// allocation per request, and lines are written in batches.

// accessLog is a generation's compiled access-log configuration; nil when
// the log is off.
type accessLog struct {
	tmpl *accesslog.Template
	out  *accesslog.Writer
	// skip holds request URIs not logged (skip-access-log-urls).
	skip map[string]bool
	// defaultBackend logs requests answered by a host's default action.
	defaultBackend bool
}

// compileAccessLog returns nil when nothing is to be logged. translate
// validated the format; one that still fails to parse falls back to the
// default rather than silencing the log.
func compileAccessLog(m *model.AccessLog, out *accesslog.Writer) *accessLog {
	if out == nil || m.Disabled {
		return nil
	}
	esc := accesslog.EscapeDefault
	switch m.Escape {
	case model.EscapeJSON:
		esc = accesslog.EscapeJSON
	case model.EscapeNone:
		esc = accesslog.EscapeNone
	}
	format := m.Format
	if format == "" {
		format = accesslog.DefaultFormat
	}
	t, err := accesslog.Parse(format, esc)
	if err != nil {
		t, _ = accesslog.Parse(accesslog.DefaultFormat, esc)
	}
	al := &accessLog{tmpl: t, out: out, defaultBackend: m.DefaultBackend}
	if len(m.SkipURIs) > 0 {
		al.skip = make(map[string]bool, len(m.SkipURIs))
		for _, u := range m.SkipURIs {
			al.skip[u] = true
		}
	}
	return al
}

// logs reports whether requests to rt with request URI uri are logged.
func (al *accessLog) logs(rt *route, uri string) bool {
	if rt != nil && (rt.logOff || (rt.logHost && !al.defaultBackend)) {
		return false
	}
	return al.skip == nil || !al.skip[uri]
}

// routeLogInfo fills what the log says about a route: its Ingress and
// path, and the service fields from which ingress-nginx's
// $proxy_upstream_name ("<namespace>-<service>-<port>") is rendered. It is
// derived per logged request from the model the route was compiled from
// (substrings, no allocation), so that compiled routes stay small.
func routeLogInfo(dst *accesslog.Route, rt *route) {
	*dst = accesslog.Route{}
	switch {
	case rt == nil:
		// Refused before routing.
	case rt.logSrc != nil:
		r := rt.logSrc
		dst.Namespace, dst.IngressName, dst.LocationPath = r.Source.Namespace, r.Source.Name, r.Path
		backendLog(dst, r.Action.Backend)
	case rt.logHost:
		// A host's default action, which ingress-nginx logs as
		// upstream-default-backend.
		dst.UpstreamName, dst.LocationPath = "upstream-default-backend", "/"
		if b := rt.logHostBackend; b != "" {
			backendLog(dst, b)
			dst.UpstreamName = ""
		}
	}
}

// backendLog fills the service fields from a backend name,
// "<namespace>/<service>:<port>".
func backendLog(lr *accesslog.Route, backend string) {
	ns, rest, ok := strings.Cut(backend, "/")
	if !ok {
		return
	}
	lr.ServiceNamespace = ns
	lr.ServiceName, lr.ServicePort, _ = strings.Cut(rest, ":")
}

// HTTP/1 engine.

// logStart begins the entry of the current request when the route is
// logged or counted; it is called once the route is known.
func (hc *h1conn) logStart(g *generation, rt *route, host []byte, https bool) {
	req := &hc.req
	var al *accessLog
	if g.alog != nil && g.alog.logs(rt, bytesString(req.uri)) {
		al = g.alog
	}
	var st *metrics.RouteSeries
	var tr *routeTrace
	if rt != nil {
		st, tr = rt.stats, rt.trace
		if g.tracer == nil {
			tr = nil
		}
	}
	if al == nil && st == nil && tr == nil {
		return
	}
	hc.recording, hc.alog, hc.stats = true, al, st
	hc.reqID = nil
	routeLogInfo(&hc.routeInfo, rt)
	start := hc.reqStart
	if hc.s.p.alog == nil && hc.s.p.reqs == nil {
		// reqStart is only kept for the log and the metrics.
		start = time.Now()
	}
	e := &hc.le
	*e = accesslog.Entry{
		Start:          start,
		RemoteAddr:     bytesString(hc.ip),
		Method:         bytesString(req.method),
		URI:            bytesString(req.uri),
		Proto:          "HTTP/1.1",
		Host:           bytesString(host),
		Scheme:         "http",
		Route:          &hc.routeInfo,
		UpstreamLength: -1,
		RequestLength:  int64(len(req.buf)),
		Headers:        hc,
	}
	if req.minor == 0 {
		e.Proto = "HTTP/1.0"
	}
	if https {
		e.Scheme = "https"
	}
	if hc.fwd != nil {
		e.RemoteAddr = hc.fo.client
	}
	if req.contentLength > 0 {
		e.RequestLength += req.contentLength
	}
	if id := req.lookup("x-request-id"); len(id) > 0 {
		e.ReqID = bytesString(id)
	}
	e.Authorization = bytesString(req.lookup("authorization"))
	if tr != nil {
		hc.startSpan(g, tr, e)
	}
}

// logRefused starts the entry of a request refused before routing (a head
// too large or malformed), which nginx logs too.
func (hc *h1conn) logRefused(g *generation) {
	if g.alog == nil {
		return
	}
	hc.recording, hc.alog, hc.stats = true, g.alog, nil
	hc.reqID, hc.routeInfo = nil, accesslog.Route{}
	hc.le = accesslog.Entry{Start: time.Now(), RemoteAddr: bytesString(hc.ip), Route: &hc.routeInfo, UpstreamLength: -1,
		RequestLength: int64(len(hc.req.buf)), Headers: hc}
}

// logUpstream records the upstream exchange of the current request.
func (hc *h1conn) logUpstream(addr string, status int, length int64) {
	if !hc.recording {
		return
	}
	e := &hc.le
	e.UpstreamAddr, e.UpstreamStatus, e.UpstreamLength = addr, status, length
}

// logStatus records the status and body size of the answer.
func (hc *h1conn) logStatus(status int, body int64) {
	if hc.recording {
		hc.le.Status, hc.le.BodyBytes = status, body
	}
}

// logFinish writes the current request's line and counts it.
func (hc *h1conn) logFinish() {
	al, st := hc.alog, hc.stats
	hc.recording, hc.alog, hc.stats = false, nil, nil
	e := &hc.le
	if e.Status == 0 {
		// Nothing was answered: nginx's 499, the client went away.
		e.Status = 499
	}
	// The id is for the line and the span; counting needs none.
	if (al != nil || hc.span.span != nil) && e.ReqID == "" && (hc.reqID != nil || hc.gh.generateRequestID()) {
		if hc.reqID == nil {
			// Answered before proxying: the id nginx would have made.
			hc.reqID = appendRequestID(hc.reqIDBuf[:0])
		}
		e.ReqID = bytesString(hc.reqID)
	}
	e.End = time.Now()
	finishUpstream(e, hc.upStart)
	if st != nil {
		observe(st, e)
	}
	if al != nil {
		hc.logBuf = al.tmpl.Append(hc.logBuf[:0], e)
		al.out.WriteLine(hc.logBuf)
	}
	if hc.span.span != nil {
		hc.logBuf = hc.span.end(e, hc.logBuf)
	}
	e.Headers = nil
}

// observe counts a finished request in its route's metrics.
func observe(st *metrics.RouteSeries, e *accesslog.Entry) {
	st.Observe(&metrics.Observation{
		Method: e.Method, Status: e.Status, Duration: e.End.Sub(e.Start),
		RequestBytes: e.RequestLength, ResponseBytes: e.BodyBytes,
		Upstream: e.UpstreamAddr != "", UpstreamDuration: e.UpstreamTime,
	})
}

// RequestHeader implements accesslog.Headers for the HTTP/1 engine.
func (hc *h1conn) RequestHeader(name string) string {
	return bytesString(hc.req.lookupFold(name))
}

// ResponseHeader implements accesslog.Headers for the HTTP/1 engine.
func (hc *h1conn) ResponseHeader(name string) string {
	return bytesString(hc.resp.lookupFold(name))
}

// lookup returns the first value of the header with the lower-case name,
// without copying.
func (h *head) lookup(name string) []byte {
	for i := range h.fields {
		if equalFold(h.fields[i].name, name) {
			return h.fields[i].value
		}
	}
	return nil
}

// lookupFold is lookup for a name in any case.
func (h *head) lookupFold(name string) []byte {
	for i := range h.fields {
		if f := h.fields[i].name; len(f) == len(name) && equalFoldBytes(f, []byte(name)) {
			return h.fields[i].value
		}
	}
	return nil
}

// net/http handler.

// logWriter records what the net/http handler answers for the access log
// and the request metrics.
type logWriter struct {
	http.ResponseWriter
	// al is nil when the request is counted but not logged, stats nil
	// when it is logged but not counted.
	al    *accessLog
	stats *metrics.RouteSeries
	e     accesslog.Entry
	r     *http.Request
	// upstream is the upstream response's header, for
	// $upstream_http_<name>.
	upstream http.Header
	upStart  time.Time
	wrote    bool
	route    accesslog.Route
	// span is the request's span; span.span is nil when it is not
	// traced.
	span reqSpan
}

// finishUpstream completes the upstream fields once the response is over:
// nginx's upstream time runs from connecting to the last byte.
func finishUpstream(e *accesslog.Entry, start time.Time) {
	if e.UpstreamAddr == "" {
		return
	}
	e.UpstreamTime = e.End.Sub(start)
	if e.UpstreamLength < 0 {
		e.UpstreamLength = e.BodyBytes
	}
}

// startLog returns a logWriter when the request is logged or counted,
// else nil; rt is nil for requests refused before routing.
func startLog(g *generation, w http.ResponseWriter, r *http.Request, rt *route, remote string, https bool) *logWriter {
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	var al *accessLog
	if g.alog != nil && g.alog.logs(rt, uri) {
		al = g.alog
	}
	var st *metrics.RouteSeries
	var tr *routeTrace
	if rt != nil {
		st, tr = rt.stats, rt.trace
		if g.tracer == nil {
			tr = nil
		}
	}
	if al == nil && st == nil && tr == nil {
		return nil
	}
	lw := &logWriter{ResponseWriter: w, al: al, stats: st, r: r}
	routeLogInfo(&lw.route, rt)
	lw.e = accesslog.Entry{
		Start: time.Now(), RemoteAddr: remote, Method: r.Method, URI: uri, Proto: r.Proto, Host: r.Host,
		Scheme: "http", Route: &lw.route, UpstreamLength: -1, Authorization: r.Header.Get("Authorization"), Headers: lw,
	}
	if https {
		lw.e.Scheme = "https"
	}
	// The id sent upstream is the one logged, as nginx's $req_id.
	// With generate-request-id false there is none to log unless the
	// client sent one, as ingress-nginx's $req_id.
	if al != nil {
		id := r.Header.Get("X-Request-Id")
		if id == "" && g.headers.generateRequestID() {
			id = newRequestID()
			r.Header.Set("X-Request-Id", id)
		}
		lw.e.ReqID = id
	}
	lw.e.RequestLength = requestHeadLength(r)
	if r.ContentLength > 0 {
		lw.e.RequestLength += r.ContentLength
	}
	if tr != nil {
		startHTTPSpan(lw, g, tr, r)
	}
	return lw
}

// requestHeadLength estimates the request head's size on the wire.
func requestHeadLength(r *http.Request) int64 {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4 + len("Host: \r\n") + len(r.Host) + 2
	for k, vv := range r.Header {
		for _, v := range vv {
			n += len(k) + len(v) + 4
		}
	}
	return int64(n)
}

func (lw *logWriter) WriteHeader(code int) {
	if !lw.wrote && (code >= 200 || code == http.StatusSwitchingProtocols) {
		lw.wrote = true
		lw.e.Status = code
	}
	lw.ResponseWriter.WriteHeader(code)
}

func (lw *logWriter) Write(b []byte) (int, error) {
	if !lw.wrote {
		lw.wrote = true
		lw.e.Status = http.StatusOK
	}
	n, err := lw.ResponseWriter.Write(b)
	lw.e.BodyBytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (flushes,
// hijacking for upgrades).
func (lw *logWriter) Unwrap() http.ResponseWriter { return lw.ResponseWriter }

// Flush keeps streaming responses streaming through the wrapper.
func (lw *logWriter) Flush() {
	if f, ok := lw.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack serves upgrades through the wrapper.
func (lw *logWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	lw.wrote, lw.e.Status = true, http.StatusSwitchingProtocols
	return http.NewResponseController(lw.ResponseWriter).Hijack()
}

// RequestHeader implements accesslog.Headers.
func (lw *logWriter) RequestHeader(name string) string { return lw.r.Header.Get(name) }

// ResponseHeader implements accesslog.Headers.
func (lw *logWriter) ResponseHeader(name string) string { return lw.upstream.Get(name) }

// finish counts the request and writes its line.
func (lw *logWriter) finish() {
	e := &lw.e
	if e.Status == 0 {
		e.Status = 499
	}
	e.End = time.Now()
	finishUpstream(e, lw.upStart)
	if lw.stats != nil {
		observe(lw.stats, e)
	}
	if lw.al != nil {
		line := lw.al.tmpl.Append(make([]byte, 0, 256), e)
		lw.al.out.WriteLine(line)
	}
	if lw.span.span != nil {
		lw.span.end(e, nil)
	}
}

// findLogWriter returns the logWriter under w's wrappers, or nil.
func findLogWriter(w http.ResponseWriter) *logWriter {
	for {
		if lw, ok := w.(*logWriter); ok {
			return lw
		}
		// Other wrappers (gzip) sit between the handler and the log.
		u, wraps := w.(interface{ Unwrap() http.ResponseWriter })
		if !wraps {
			return nil
		}
		w = u.Unwrap()
	}
}

// countAs makes the request that w answers count in st: a canary
// request counts in the canary's series.
func countAs(w http.ResponseWriter, st *metrics.RouteSeries) {
	if lw := findLogWriter(w); lw != nil && lw.stats != nil {
		lw.stats = st
	}
}

// logUpstreamResponse records the upstream exchange when w logs; start
// is when connecting began.
func logUpstreamResponse(w http.ResponseWriter, addr string, resp *http.Response, start time.Time) {
	lw := findLogWriter(w)
	if lw == nil {
		return
	}
	lw.e.UpstreamAddr, lw.e.UpstreamStatus, lw.upStart = addr, resp.StatusCode, start
	lw.e.UpstreamLength = resp.ContentLength
	lw.upstream = resp.Header
}
