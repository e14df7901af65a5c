package proxy

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/straitgw/strait/internal/proxy/upstream"
)

// backendFor returns the route a request is proxied with: rt, or for an
// AUTO_HTTP backend and a request that came over TLS, a copy of rt that
// speaks HTTPS to the endpoints (nginx's $scheme).
func backendFor(r *http.Request, rt *route) *route {
	if r.TLS == nil || rt.backend == nil {
		return rt
	}
	if s := rt.backend.ForTLS(); s != rt.backend {
		c := *rt
		c.backend = s
		return &c
	}
	return rt
}

// forwardH2 proxies a request to a gRPC backend over HTTP/2 (h2c for GRPC,
// h2 over TLS for GRPCS), streaming both ways and passing the trailers
// back. The upstream request carries the same headers as an HTTP/1 one.
func (p *Proxy) forwardH2(w http.ResponseWriter, r *http.Request, rt *route, li *listenerInfo, fo *forwardedOut, tr *http.Transport) {
	ep := rt.backend.Pick()
	if ep == nil {
		plainError(w, http.StatusServiceUnavailable)
		return
	}
	tg := requestTarget(r, rt)
	tg.fo = fo
	// The HTTP/1 head writer decides the upstream headers for every
	// engine; reading its output back gives them to the HTTP/2 request.
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	writeRequestHead(bw, r, li, "", tg)
	_ = bw.Flush()
	head, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		plainError(w, http.StatusBadRequest)
		return
	}
	u, err := url.ParseRequestURI(tg.uri)
	if err != nil {
		plainError(w, http.StatusBadRequest)
		return
	}
	u.Scheme, u.Host = "http", ep.Addr
	if tr.DialTLSContext != nil {
		u.Scheme = "https"
	}
	// The read timeout (grpc_read_timeout, from proxy-read-timeout) runs
	// until the response head and then between two reads of the body.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	st := &h2Stream{}
	st.timer = time.AfterFunc(rt.timeouts.Read, func() { st.expired.Store(true); cancel() })
	defer st.timer.Stop()
	out := (&http.Request{Method: r.Method, URL: u, Header: head.Header, Host: head.Host, ContentLength: r.ContentLength, Body: r.Body}).WithContext(ctx)
	out.Header.Del("Content-Length")
	out.Header.Del("Transfer-Encoding")
	// gRPC servers require it; nginx's grpc_pass always sends it.
	out.Header.Set("Te", "trailers")
	if r.ContentLength == 0 {
		out.Body = http.NoBody
	}
	resp, err := tr.RoundTrip(out)
	if err != nil {
		if r.Context().Err() != nil {
			return
		}
		p.log.Warn("upstream request failed", "route", rt.name, "upstream", ep.Addr, "error", err)
		code := errorStatus(err)
		if st.expired.Load() {
			code = http.StatusGatewayTimeout
		}
		plainError(w, code)
		return
	}
	st.resp = resp
	p.respond(w, r, st, resp, rt, ep.Addr)
}

// h2Stream is one HTTP/2 exchange: the transport owns the connection, so
// releasing or closing it only ends the stream.
type h2Stream struct {
	resp    *http.Response
	timer   *time.Timer // cancels the exchange when the read timeout passes
	expired atomic.Bool
}

func (s *h2Stream) extendRead(d time.Duration) { s.timer.Reset(d) }
func (s *h2Stream) Close() error               { return s.resp.Body.Close() }
func (s *h2Stream) Release()                   { _ = s.resp.Body.Close() }

// grpcBackend reports a backend spoken to over HTTP/2, which only the
// net/http handler can serve.
func grpcBackend(b *upstream.Backend) bool { return b != nil && b.HTTP2() != nil }
