package proxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
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
	u.Scheme = "http"
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
	head.Header.Del("Content-Length")
	head.Header.Del("Transfer-Encoding")
	// gRPC servers require it; nginx's grpc_pass always sends it.
	head.Header.Set("Te", "trailers")
	// The transport closes the body it is given, even when it fails to
	// connect; the client's stays open for a try on another endpoint.
	body := &keptBody{r: r.Body}
	var (
		ep    *upstream.Endpoint
		resp  *http.Response
		tries int
		// dialFailed is set when the last try's failure to connect was
		// reported already.
		dialFailed bool
	)
	for {
		if ep = rt.backend.Pick(); ep == nil {
			plainError(w, http.StatusServiceUnavailable)
			return
		}
		tu := *u
		tu.Host = ep.Addr
		out := (&http.Request{Method: r.Method, URL: &tu, Header: head.Header.Clone(), Host: head.Host, ContentLength: r.ContentLength, Body: body}).WithContext(ctx)
		if r.ContentLength == 0 {
			out.Body = http.NoBody
		}
		resp, err = tr.RoundTrip(out)
		var oe *net.OpError
		dialFailed = false
		if err != nil && body.n.Load() == 0 && errors.As(err, &oe) && oe.Op == "dial" && r.Context().Err() == nil {
			tries++
			p.log.Warn("connect to upstream failed", "route", rt.name, "upstream", ep.Addr, "error", err)
			p.reportFailure(rt.backend, ep)
			dialFailed = true
			if tries < maxTries && tries < len(rt.backend.Endpoints()) {
				continue
			}
		}
		break
	}
	if err != nil {
		if r.Context().Err() != nil {
			abortClientGone()
		}
		p.log.Warn("upstream request failed", "route", rt.name, "upstream", ep.Addr, "error", err)
		if !dialFailed {
			p.reportFailure(rt.backend, ep)
		}
		code := errorStatus(err)
		if st.expired.Load() {
			code = http.StatusGatewayTimeout
		}
		plainError(w, code)
		return
	}
	st.resp = resp
	p.reportStatus(rt.backend, ep, resp.StatusCode)
	p.respond(w, r, st, resp, rt, ep.Addr)
}

// keptBody is a request body the transport may read but not close; n
// counts the bytes read, so that a request is tried again only when none
// were.
type keptBody struct {
	r io.Reader
	n atomic.Int64 // the transport may read from another goroutine
}

func (b *keptBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func (b *keptBody) Close() error { return nil }

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

// buffered is 0: what the HTTP/2 transport holds is not known here.
func (s *h2Stream) buffered() int { return 0 }

// grpcBackend reports a backend spoken to over HTTP/2, which only the
// net/http handler can serve.
func grpcBackend(b *upstream.Backend) bool { return b != nil && b.HTTP2() != nil }
