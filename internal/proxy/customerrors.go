package proxy

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy/upstream"
)

// errorPages is a compiled model.Errors: ingress-nginx's default-backend
// annotation and custom-http-errors, served by the net/http handler only
// (routes that use them are handed over by the HTTP/1 engine).
type errorPages struct {
	// fallback is the default-backend annotation's backend, nil for none;
	// fallbackRoute is the route itself with that backend.
	fallback      *upstream.Backend
	fallbackRoute *route
	// global is --default-backend-service's backend, nil for none.
	global *upstream.Backend
	// codes marks the intercepted statuses, index status-400.
	codes       [200]bool
	intercept   bool // some status is intercepted
	passthrough bool // upstream responses are never intercepted
	// headers the error and fallback backends are told.
	namespace, ingress, service, port string
}

// compileErrors compiles a route's errors policy; nil when it has none.
func compileErrors(e *model.Errors, src model.ObjectRef, rt *route, backends map[string]*upstream.Backend) *errorPages {
	if e == nil {
		return nil
	}
	ep := &errorPages{passthrough: e.UpstreamPassthrough, namespace: src.Namespace, ingress: src.Name, service: e.ServiceName, port: e.ServicePort}
	for _, c := range e.Codes {
		if c >= 400 && c < 600 {
			ep.codes[c-400], ep.intercept = true, true
		}
	}
	if e.DefaultBackend != "" {
		ep.fallback = backends[e.DefaultBackend]
	}
	if e.GlobalBackend != "" {
		ep.global = backends[e.GlobalBackend]
	}
	if ep.fallback != nil {
		fr := *rt
		fr.backend, fr.status = ep.fallback, 0
		fr.name = rt.name + "/default-backend"
		fr.errors = ep
		ep.fallbackRoute = &fr
	}
	return ep
}

// begin prepares a request of a route with error pages. While the route's
// backend cannot serve (no endpoints, or a Service that did not resolve)
// and the default-backend annotation's backend has endpoints, the request
// goes there instead, told why by X-Code: 503 and the other X- headers.
// When statuses are intercepted, the returned writer holds back a
// response with one of them and done then answers with the error
// backend's response instead. done must be deferred by the handler.
func (h *handler) begin(w http.ResponseWriter, r *http.Request, rt *route, fo *forwardedOut) (http.ResponseWriter, *route, func()) {
	ep := rt.errors
	// The upstream, the default backend and the error backend see one
	// request id.
	if r.Header.Get("X-Request-Id") == "" {
		r.Header.Set("X-Request-Id", newRequestID())
	}
	unavailable := (rt.backend == nil && rt.status == http.StatusServiceUnavailable) ||
		(rt.backend != nil && len(rt.backend.Endpoints()) == 0)
	if unavailable && ep.fallback != nil && len(ep.fallback.Endpoints()) > 0 {
		ep.tell(r.Header, http.StatusServiceUnavailable, r)
		rt = ep.fallbackRoute
	}
	if !ep.intercept || upgradeType(r) != "" {
		// An upgrade hijacks the connection; nothing can be replaced.
		return w, rt, func() {}
	}
	iw := &interceptWriter{w: w, h: w.Header().Clone(), ep: ep}
	done := func() {
		if v := recover(); v != nil {
			// An aborted response stays aborted.
			panic(v)
		}
		if iw.code != 0 {
			h.p.errorPage(w, r, rt, iw.code, &h.li, fo)
		}
	}
	return iw, rt, done
}

// tell sets the headers ingress-nginx gives the default and error
// backends; they replace any the client sent.
func (ep *errorPages) tell(hd http.Header, code int, r *http.Request) {
	hd.Set("X-Code", itoa(code))
	hd.Set("X-Format", r.Header.Get("Accept"))
	hd.Set("X-Namespace", ep.namespace)
	hd.Set("X-Ingress-Name", ep.ingress)
	hd.Set("X-Service-Name", ep.service)
	hd.Set("X-Service-Port", ep.port)
}

// errorPage answers with the error backend's response to GET / (HEAD for
// HEAD): the default-backend annotation's backend, else the global one,
// each only while it has endpoints, else a plain 404 as ingress-nginx's
// built-in default server gives. The client gets that response's status
// and body, whatever they are.
func (p *Proxy) errorPage(w http.ResponseWriter, r *http.Request, rt *route, code int, li *listenerInfo, fo *forwardedOut) {
	ep := rt.errors
	be := ep.fallback
	if be == nil || len(be.Endpoints()) == 0 {
		be = ep.global
	}
	if be == nil || len(be.Endpoints()) == 0 {
		plainError(w, http.StatusNotFound)
		return
	}
	method := http.MethodGet
	if r.Method == http.MethodHead {
		method = http.MethodHead
	}
	hd := make(http.Header, len(r.Header)+8)
	for k, vv := range r.Header {
		hd[k] = vv
	}
	ep.tell(hd, code, r)
	hd.Set("X-Original-URI", requestURI(r))
	er := &http.Request{
		Method: method, URL: &url.URL{Path: "/"}, RequestURI: "/", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: hd, Body: http.NoBody, Host: r.Host, RemoteAddr: r.RemoteAddr,
	}
	er = er.WithContext(r.Context())
	ert := &route{name: rt.name + "/error-page", backend: be, timeouts: rt.timeouts}
	p.forward(w, er, ert, li, fo)
}

// requestURI is the request target as the client sent it, in origin form.
func requestURI(r *http.Request) string {
	if uri := r.RequestURI; uri != "" && uri[0] == '/' {
		return uri
	}
	return r.URL.RequestURI()
}

// errIntercepted stops the copy of a response that an error page
// replaces; the upstream connection is closed rather than drained.
var errIntercepted = errors.New("response replaced by an error page")

// interceptWriter holds back the header of a response until its status is
// known: one with an intercepted status is dropped, body and all, and
// recorded in code; any other goes out as it is.
type interceptWriter struct {
	w    http.ResponseWriter
	h    http.Header
	ep   *errorPages
	code int // the intercepted status, 0 for none
	sent bool
	// upstream marks a response copied from the upstream, which
	// disable-proxy-intercept-errors lets through.
	upstream bool
}

// Header returns the header of the response being built.
func (iw *interceptWriter) Header() http.Header { return iw.h }

// markUpstream says the response that follows comes from the upstream.
func (iw *interceptWriter) markUpstream() { iw.upstream = true }

// WriteHeader sends or drops the response header.
func (iw *interceptWriter) WriteHeader(code int) {
	if iw.sent || iw.code != 0 {
		return
	}
	if code < 200 {
		iw.w.WriteHeader(code)
		return
	}
	if code >= 400 && code < 600 && iw.ep.codes[code-400] && !(iw.upstream && iw.ep.passthrough) {
		iw.code = code
		return
	}
	iw.sent = true
	dst := iw.w.Header()
	for k := range dst {
		if _, ok := iw.h[k]; !ok {
			delete(dst, k)
		}
	}
	for k, vv := range iw.h {
		dst[k] = vv
	}
	iw.w.WriteHeader(code)
}

// Write writes body bytes of a response that is let through.
func (iw *interceptWriter) Write(b []byte) (int, error) {
	if !iw.sent && iw.code == 0 {
		iw.WriteHeader(http.StatusOK)
	}
	if iw.code != 0 {
		return 0, errIntercepted
	}
	return iw.w.Write(b)
}

// FlushError flushes a response that is let through.
func (iw *interceptWriter) FlushError() error {
	if iw.code != 0 {
		return errIntercepted
	}
	if !iw.sent {
		iw.WriteHeader(http.StatusOK)
	}
	return http.NewResponseController(iw.w).Flush()
}

// Unwrap gives http.ResponseController the connection's writer.
func (iw *interceptWriter) Unwrap() http.ResponseWriter { return iw.w }
