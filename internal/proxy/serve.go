package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Client-side limits, ingress-nginx's defaults.
const (
	// ClientHeaderTimeout is client-header-timeout.
	ClientHeaderTimeout = 60 * time.Second
	// KeepAliveTimeout is keep-alive: how long an idle client connection
	// stays open.
	KeepAliveTimeout = 75 * time.Second
)

// Listen opens a TCP listener with SO_REUSEPORT, so that a new Strait
// process can bind the same port while the old one drains.
func Listen(addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	return lc.Listen(context.Background(), "tcp", addr)
}

// handler binds the proxy to one listener, whose scheme and port go into
// the forwarded headers.
type handler struct {
	p  *Proxy
	li listenerInfo
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil {
		// A guarded HTTP/1 connection over TLS (guardlistener.go).
		r.TLS, _ = r.Context().Value(tlsStateKey{}).(*tls.ConnectionState)
	}
	g := h.p.gen.Load()
	keepAliveHeader(g, w, r)
	if upgradeAsked(r) || h.p.stopping.Load() && r.ProtoMajor == 1 {
		// The guard stops checking after an upgrade request: unless the
		// connection is switched, it carries no further request. Once
		// draining, every HTTP/1 answer closes its connection.
		w.Header().Set("Connection", "close")
	}
	if r.Body != nil && r.Body != http.NoBody {
		// Before any wrapper: the controller needs the server's writer.
		r.Body = &bodyTimeout{r: r.Body, rc: http.NewResponseController(w), d: g.keepAlive.body, stats: &h.p.stats}
	}
	code := g.limits.checkRequest(r)
	if code != 0 {
		h.p.stats.limitHit(LimitHeaderSize)
	} else {
		if code = targetStatus(r); code != 0 {
			h.p.stats.limitHit(LimitMalformed)
		}
	}
	if code != 0 {
		if lw := startLog(g, w, r, nil, clientIP(r.RemoteAddr), r.TLS != nil); lw != nil {
			defer lw.finish()
			w = lw
		}
		plainError(w, code)
		return
	}
	if r.TLS != nil && g.hsts != nil {
		// As ingress-nginx's header filter does, on every HTTPS response;
		// an upstream's own header replaces it.
		w.Header()["Strict-Transport-Security"] = g.hsts
	}
	if g.headers != nil {
		// add-headers (and server-tokens) on every response, Strait's
		// own answers included; respond drops the upstream's.
		h := w.Header()
		for _, kv := range g.headers.responseKV {
			h[kv.Name] = []string{kv.Value}
		}
	}
	vh := g.host(r.Host)
	if vh == g.catchAll {
		if gh := g.sharedGateway(h.p, h.li, r.Host); gh != nil {
			gh.ServeHTTP(w, r)
			return
		}
	}
	if vh.clientAuth != nil && r.TLS == nil {
		vh.clientAuth.strip(r)
	} else if vh.clientAuth != nil {
		// Server level, before anything else (auth-tls-*).
		if code, location := vh.clientAuth.check(r); code != 0 {
			if location != "" {
				w.Header().Set("Location", location)
			}
			plainError(w, code)
			return
		}
	}
	if vh.www != nil {
		h.wwwRedirect(w, r, vh.www, g.fwd)
		return
	}
	upath := r.URL.Path
	if upath == "" && r.URL.Host != "" {
		upath = "/" // absolute form without a path ("GET http://host"), as nginx reads it
	}
	clean, ok := normalizePath(upath)
	if !ok {
		h.p.stats.limitHit(LimitMalformed)
		plainError(w, http.StatusBadRequest)
		return
	}
	if vh.appRoot != "" && clean == "/" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		w.Header().Set("Location", scheme+"://"+r.Host+vh.appRoot)
		plainError(w, http.StatusFound)
		return
	}
	rt := vh.match(clean)
	var fo *forwardedOut
	remote, https := clientIP(r.RemoteAddr), r.TLS != nil
	if g.fwd != nil {
		v := g.fwd.fromHeader(r.Header, remote)
		fo, remote = &v, v.client
		if v.proto != "" {
			https = v.proto == "https"
		}
	}
	if lw := startLog(g, w, r, rt, remote, https); lw != nil {
		w = lw
		defer lw.finish()
	}
	if rt.errors != nil {
		// default-backend and custom-http-errors (customerrors.go).
		var done func()
		w, rt, done = h.begin(w, r, rt, fo)
		defer done()
	}
	if rt.policy != nil {
		uri := r.RequestURI
		if uri == "" || uri[0] != '/' {
			uri = r.URL.RequestURI()
		}
		pr := request{https: https, host: r.Host, uri: uri, remoteIP: remote, contentLength: r.ContentLength, method: r.Method, origin: r.Header.Get("Origin")}
		if hs := rt.policy.respHeaders; hs != nil {
			// custom-headers, on every response of the route.
			h := w.Header()
			for _, kv := range hs {
				if kv.Value == "" {
					delete(h, kv.Name)
				} else {
					h[kv.Name] = []string{kv.Value}
				}
			}
		}
		if c := rt.policy.cors; c != nil {
			if allow := c.allowOrigin(pr.origin); allow != "" {
				h := w.Header()
				for _, kv := range c.headers(allow) {
					h.Set(kv[0], kv[1])
				}
			}
		}
		v := rt.policy.check(&pr)
		if v.preflight {
			w.Header().Set("Content-Type", "text/plain charset=UTF-8")
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if v.status == 0 && rt.backend != nil {
			if len(rt.backend.Endpoints()) == 0 {
				v.status = http.StatusServiceUnavailable
			} else {
				// nginx's preaccess phase: the limits, then access.
				if rt.policy.limit != nil {
					st, release := rt.policy.limit.admit(remote)
					if release != nil {
						defer release()
					}
					v.status = st
				}
				if v.status == 0 {
					v = rt.policy.access(&pr)
				}
				if v.status == 0 && rt.policy.basic != nil {
					v.status = rt.policy.basic.authenticate(w.Header(), r)
				}
			}
		}
		if v.status != 0 {
			if v.status == http.StatusRequestEntityTooLarge {
				h.p.stats.limitHit(LimitBodySize)
			}
			if v.location != "" {
				w.Header().Set("Location", v.location)
			}
			plainError(w, v.status)
			return
		}
		// External auth ends the access phase (after deny/allow).
		if rt.policy.extAuth != nil && rt.backend != nil {
			var ok bool
			if w, ok = h.p.authorize(w, r, rt, &pr, fo); !ok {
				return
			}
		}
		// OpenID Connect login, after the other authentication.
		if rt.policy.oidc != nil && rt.backend != nil && !h.p.oidcLogin(w, r, rt, &pr) {
			return
		}
		if rt.policy.maxBody > 0 && r.ContentLength < 0 {
			// A body of unknown length is counted as it streams.
			r.Body = http.MaxBytesReader(w, r.Body, rt.policy.maxBody)
		}
	}
	if rt.plugins != nil {
		// The route's plugins (plugins.go), around the answer.
		var answered bool
		var done func()
		w, answered, done = h.runPlugins(w, r, rt, remote, https)
		defer done()
		if answered {
			return
		}
	}
	if rt.backend == nil {
		plainError(w, rt.status)
		return
	}
	if rt.canary != nil && rt.canary.pick(r) {
		c := *rt
		c.backend = rt.canary.backend
		rt = &c
		countAs(w, rt.canary.stats)
	}
	if rt.mirror != nil {
		h.p.mirror(rt.mirror, r, https, rt.timeouts.Read)
	}
	w, closeGzip := wrapCompression(g.gzip, w, r)
	defer closeGzip()
	h.p.forward(w, r, rt, &h.li, fo)
}

// targetStatus refuses, as the HTTP/1 engine does, the request targets
// net/http accepts but Strait does not route: CONNECT's authority form
// (405), the asterisk form, opaque targets and absolute forms with another
// scheme or an invalid authority (400). Only the origin form ("/path") and
// the absolute form with http or https are routed; anything else would be
// matched with an empty path, or one not starting with "/", and forwarded
// as written, which no route expects. It returns 0 for a routable target.
func targetStatus(r *http.Request) int {
	if r.Method == http.MethodConnect {
		return http.StatusMethodNotAllowed
	}
	u := r.URL
	switch {
	case r.RequestURI == "*" || u.Opaque != "":
		return http.StatusBadRequest
	case u.Scheme == "" && u.Host == "":
		if strings.HasPrefix(u.Path, "/") {
			return 0
		}
	case (u.Scheme == "http" || u.Scheme == "https") && validHost([]byte(u.Host)):
		if u.Path == "" || strings.HasPrefix(u.Path, "/") {
			return 0
		}
	}
	return http.StatusBadRequest
}

// Server returns the http.Server for a listener. tlsOn selects the HTTPS
// flavour (certificates by SNI, HTTP/2 by ALPN) and X-Forwarded-Port 443,
// as ingress-nginx reports for its TLS listener.
func (p *Proxy) Server(ln net.Listener, tlsOn bool) *http.Server {
	li := listenerInfo{scheme: "http", port: "80"}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok {
		li.port, li.listen = strconv.Itoa(tcp.Port), int32(tcp.Port)
	}
	if !tlsOn {
		return p.plainServer(li)
	}
	srv := p.plainServer(listenerInfo{scheme: "https", port: "443", listen: li.listen})
	srv.TLSConfig = p.TLSConfig()
	p.configureHTTP2(srv)
	return srv
}

// plainServer returns the net/http server for a listener without its TLS
// configuration.
func (p *Proxy) plainServer(li listenerInfo) *http.Server {
	return &http.Server{
		Handler:           &handler{p: p, li: li},
		ReadHeaderTimeout: ClientHeaderTimeout,
		IdleTimeout:       maxIdleTimeout,
		MaxHeaderBytes:    maxServerHeaderBytes,
		// "OPTIONS *" reaches the handler, which refuses it as nginx does.
		DisableGeneralOptionsHandler: true,
		ConnState:                    p.connState,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return tlsConnContext(countRequests(ctx, c), c)
		},
		// Client errors (bad TLS handshakes, resets) are noise at
		// proxy scale; data-plane errors are logged by the proxy itself.
		ErrorLog: log.New(io.Discard, "", 0),
	}
}

// Serve runs srv on ln until it is shut down.
func Serve(srv *http.Server, ln net.Listener) error {
	var err error
	h, proxying := srv.Handler.(*handler)
	switch {
	case srv.TLSConfig != nil && proxying:
		err = srv.Serve(newGuardListener(ln, srv.TLSConfig, &h.p.stats))
	case srv.TLSConfig != nil:
		err = srv.ServeTLS(ln, "", "")
	case proxying:
		err = srv.Serve(plainGuardListener{ln, &h.p.stats})
	default:
		err = srv.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Tunnels returns the number of open upgraded connections.
func (p *Proxy) Tunnels() int { return p.tunnels.count() }

// CloseTunnels closes every upgraded connection and waits for their copy
// loops to end.
func (p *Proxy) CloseTunnels() {
	p.tunnels.mu.Lock()
	for tn := range p.tunnels.conns {
		_ = tn.client.Close()
		_ = tn.backend.Close()
	}
	p.tunnels.mu.Unlock()
	p.tunnels.wait()
}
