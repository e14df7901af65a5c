package proxy

import (
	"net/http"
	"strings"

	"github.com/straitgw/strait/internal/accesslog"
)

// The engines' side of tracing (tracing.go): starting a request's span
// and sending its context upstream.

// startSpan starts the span of the HTTP/1 engine's current request, once
// its entry is filled. Values pointing into the connection's buffers are
// copied: the span outlives the request until it is exported.
func (hc *h1conn) startSpan(g *generation, tr *routeTrace, e *accesslog.Entry) {
	req := &hc.req
	var tp, ts string
	if tr.trust {
		tp, ts = bytesString(req.lookup("traceparent")), strings.Clone(bytesString(req.lookup("tracestate")))
	}
	path, query, _ := strings.Cut(strings.Clone(e.URI), "?")
	proto := "1.1"
	if req.minor == 0 {
		proto = "1.0"
	}
	tr.startSpan(&hc.span, g.tracer, e.Start, tp, ts, requestAttrs(strings.Clone(e.Method), path, query, e.Scheme,
		strings.Clone(e.Host), proto, strings.Clone(e.RemoteAddr), string(hc.ip), strings.Clone(bytesString(req.lookup("user-agent"))))...)
}

// isTraceHeader reports whether name is traceparent or tracestate, which a
// traced request replaces.
func isTraceHeader(name []byte) bool {
	return (len(name) == len("traceparent") && equalFold(name, "traceparent")) ||
		(len(name) == len("tracestate") && equalFold(name, "tracestate"))
}

// startHTTPSpan starts the span of a request served by the net/http
// handler and sets the trace headers sent upstream.
func startHTTPSpan(lw *logWriter, g *generation, tr *routeTrace, r *http.Request) {
	e := &lw.e
	var tp, ts string
	if tr.trust {
		tp, ts = r.Header.Get("Traceparent"), r.Header.Get("Tracestate")
	}
	proto := "2"
	if r.ProtoMajor == 1 {
		proto = "1." + itoa(r.ProtoMinor)
	}
	tr.startSpan(&lw.span, g.tracer, e.Start, tp, ts, requestAttrs(e.Method, r.URL.Path, r.URL.RawQuery, e.Scheme, e.Host, proto,
		e.RemoteAddr, clientIP(r.RemoteAddr), r.Header.Get("User-Agent"))...)
	h := r.Header
	delete(h, "Tracestate")
	h["Traceparent"] = []string{string(lw.span.traceparent[:])}
	if lw.span.tracestate != "" {
		h["Tracestate"] = []string{lw.span.tracestate}
	}
}
