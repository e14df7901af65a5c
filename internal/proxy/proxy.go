package proxy

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/straitgw/strait/internal/accesslog"
	"github.com/straitgw/strait/internal/metrics"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/oidc"
	"github.com/straitgw/strait/internal/plugin"
	"github.com/straitgw/strait/internal/proxy/upstream"
)

// Timeouts towards upstreams, ingress-nginx's defaults.
const (
	// DefaultReadTimeout is proxy-read-timeout: the longest wait between two
	// reads from an upstream, and the idle limit of upgraded connections.
	DefaultReadTimeout = 60 * time.Second
	// DefaultSendTimeout is proxy-send-timeout: the longest wait between two
	// writes to an upstream.
	DefaultSendTimeout = 60 * time.Second
)

// Proxy serves requests from the current generation. Create it with New and
// feed it models with Apply.
type Proxy struct {
	log      *slog.Logger
	gen      atomic.Pointer[generation]
	registry *upstream.Registry
	certs    *certStore
	tunnels  tunnels
	stats    stats
	// reqs are the request metrics; nil when off.
	reqs *metrics.Requests
	// h2Bufs are the HTTP/2 connections' output and the streams' body
	// buffers (h2server.go).
	h2Bufs sync.Pool
	// h2Work hands HTTP/2 streams to idle stream goroutines.
	h2Work chan *h2stream
	// conns counts client connections (max-worker-connections).
	conns connLimiter
	// clientLimits are the flag-set client-side protections.
	clientLimits ClientLimits
	limits       limitRegistry // rate-limit zones, by Ingress identity
	timeouts     Timeouts
	// auth is the client towards external auth services.
	auth authClient
	// ticketKeys encrypt the TLS listener's session tickets, across
	// generations (see compileServerTLS).
	ticketKeys [2][32]byte
	// alog receives access-log lines; nil when Options.AccessLog is nil.
	alog *accesslog.Writer
	// idle closes idle net/http connections after the keep-alive time.
	idle idleTimers
	// mirrors sends mirror-target copies.
	mirrors *http.Client
	// oidc caches OpenID Connect issuers' discovery and keys, by issuer.
	oidc *oidc.Providers

	// stopping is set by BeginDrain: every HTTP/1 answer closes its
	// connection.
	stopping atomic.Bool

	applyMu sync.Mutex // serialises Apply; requests never take it
	// tracing is the OpenTelemetry tracer provider (tracing.go), guarded
	// by applyMu.
	tracing tracingState
	// plugins are the plugins routes may name; nil for none.
	plugins *plugin.Registry
	// handoffAll makes the HTTP/1 engine hand every route to the net/http
	// handler; tests use it to run the whole suite through the hand-over.
	handoffAll bool
}

// Options configure a Proxy.
type Options struct {
	// Log receives data-plane errors. Nil means slog.Default().
	Log *slog.Logger
	// DefaultCertificate is served when no SNI binding matches. Nil means a
	// self-signed certificate generated at start.
	DefaultCertificate *tls.Certificate
	// Timeouts towards upstreams; zero fields take ingress-nginx's
	// defaults.
	Timeouts Timeouts
	// AccessLog receives one line per request in the model's
	// log-format-upstream, written in batches (FlushAccessLog writes what
	// is pending). Nil means no access log.
	AccessLog io.Writer
	// Outlier configures passive health checking of endpoints. Nil means
	// upstream.DefaultOutlier: eject after 5 failures in a row, for 30 s
	// times the number of recent ejections up to 300 s, at most 50 % of a
	// backend's endpoints at once.
	Outlier *upstream.Outlier
	// Breaker configures the per-backend circuit breaker. Nil means
	// upstream.DefaultBreaker: 10000 requests in flight per backend, 1000
	// more waiting.
	Breaker *upstream.Breaker
	// ClientLimits are client-side protections; zero fields take their
	// defaults.
	ClientLimits ClientLimits
	// Requests receives the request metrics of Ingress routes; nil
	// counts nothing.
	Requests *metrics.Requests
	// Plugins are the plugins routes may name (model.Policy.Plugins);
	// nil means none, and a route naming one fails its requests.
	Plugins *plugin.Registry
}

// ClientLimits are the client-side protections set by flags rather than
// by the ConfigMap (see docs/architecture.md, "Client-side limits").
type ClientLimits struct {
	// PressureHeaderTimeout is --pressure-header-timeout (default 5 s):
	// while more than three quarters of max-worker-connections are open,
	// a connection that has waited longer for a request head (TLS
	// handshake included) is closed.
	PressureHeaderTimeout time.Duration
	// SendTimeout is --client-send-timeout (default 60 s): the longest a
	// write to a client may block, nginx's send_timeout.
	SendTimeout time.Duration
	// HTTP2MaxResets is --http2-max-resets (default 200): the most
	// RST_STREAM frames an HTTP/2 client may send on one connection in a
	// burst, and per second sustained; beyond, the connection is closed
	// with GOAWAY.
	HTTP2MaxResets int
	// HTTP2MaxContinuations is --http2-max-continuations (default 16):
	// the most CONTINUATION frames in one HTTP/2 header block; beyond, the
	// connection is closed with GOAWAY.
	HTTP2MaxContinuations int
}

// Defaults of ClientLimits' HTTP/2 fields.
const (
	DefaultHTTP2MaxResets        = 200
	DefaultHTTP2MaxContinuations = 16
)

func (c ClientLimits) withDefaults() ClientLimits {
	if c.PressureHeaderTimeout <= 0 {
		c.PressureHeaderTimeout = DefaultPressureHeaderTimeout
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = DefaultClientSendTimeout
	}
	if c.HTTP2MaxResets <= 0 {
		c.HTTP2MaxResets = DefaultHTTP2MaxResets
	}
	if c.HTTP2MaxContinuations <= 0 {
		c.HTTP2MaxContinuations = DefaultHTTP2MaxContinuations
	}
	return c
}

// Timeouts bound the upstream side of a request.
type Timeouts struct {
	// Connect is proxy-connect-timeout (default 5 s).
	Connect time.Duration
	// Read is proxy-read-timeout (default 60 s): the longest wait between
	// two reads from an upstream, and the idle limit of upgraded
	// connections.
	Read time.Duration
	// Send is proxy-send-timeout (default 60 s): the longest wait between
	// two writes to an upstream.
	Send time.Duration
}

func (t Timeouts) withDefaults() Timeouts {
	if t.Connect <= 0 {
		t.Connect = upstream.DefaultConnectTimeout
	}
	if t.Read <= 0 {
		t.Read = DefaultReadTimeout
	}
	if t.Send <= 0 {
		t.Send = DefaultSendTimeout
	}
	return t
}

// New returns a Proxy serving an empty model (everything 404) until the
// first Apply.
func New(opts Options) (*Proxy, error) {
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	def := opts.DefaultCertificate
	if def == nil {
		c, err := SelfSignedCertificate()
		if err != nil {
			return nil, err
		}
		def = c
	}
	to := opts.Timeouts.withDefaults()
	keys, err := newTicketKeys()
	if err != nil {
		return nil, err
	}
	p := &Proxy{log: log, registry: upstream.NewRegistry(to.Connect), certs: newCertStore(def), timeouts: to, ticketKeys: keys,
		clientLimits: opts.ClientLimits.withDefaults(), h2Work: make(chan *h2stream), plugins: opts.Plugins}
	p.conns.init(p)
	p.h2Bufs.New = func() any { b := make([]byte, 0, 16<<10); return &b }
	if o := opts.Outlier; o != nil {
		if err := o.Validate(); err != nil {
			return nil, err
		}
		p.registry.SetOutlier(*o)
	}
	if b := opts.Breaker; b != nil {
		if err := b.Validate(); err != nil {
			return nil, err
		}
		p.registry.SetBreaker(*b)
	}
	p.mirrors = newMirrorClient()
	p.oidc = oidc.NewProviders(nil)
	if p.reqs = opts.Requests; p.reqs != nil {
		p.reqs.OnCollect(p.pruneSeries)
	}
	if opts.AccessLog != nil {
		p.alog = accesslog.NewWriter(opts.AccessLog)
	}
	p.Apply(&model.Model{CatchAll: model.VirtualHost{Name: model.CatchAllHost, Default: model.Action{Status: http.StatusNotFound}}})
	return p, nil
}

// Apply compiles m into a new generation and publishes it. Requests in
// flight finish on the generation they started with; connections, pools
// and balancer state carry over.
func (p *Proxy) Apply(m *model.Model) {
	p.applyMu.Lock()
	defer p.applyMu.Unlock()
	backends := p.registry.Update(m.Backends)
	p.registry.SetKeepAlive(compileUpstreamKeepAlive(&m.Upstream))
	certs := p.certs.update(m.Certificates, p.log)
	ctx := hostContext{
		model: m.Headers,
		// Compression is written once, in the net/http handler.
		full:     p.handoffAll || compileGzip(m.Gzip) != nil,
		backends: p.registry.Replaced(),
		to:       p.timeouts,
		reqs:     p.reqs,
		plugins:  p.plugins,
		log:      p.log,
	}
	g := compile(m, backends, certs, ctx, p.gen.Load())
	p.applyTLS(g, m)
	g.alog = compileAccessLog(&m.AccessLog, p.alog)
	tracer, oldTracer := p.updateTracing(m.Tracing)
	g.tracer = tracer
	p.limits.bind(g)
	p.gen.Store(g)
	if oldTracer != nil {
		shutdownTracer(oldTracer, p.log)
	}
}

// BeginDrain starts the first phase of a shutdown: Strait still serves,
// but every HTTP/1 answer from now on closes its connection, so clients
// that keep connections open move to the replicas or the process that
// take over instead of finding their connection closed under them later.
func (p *Proxy) BeginDrain() { p.stopping.Store(true) }

// FlushAccessLog writes the access-log lines not written yet; call it
// before exiting.
func (p *Proxy) FlushAccessLog() error {
	if p.alog == nil {
		return nil
	}
	return p.alog.Flush()
}

// SetEndpoints updates one backend's endpoints in place without a new
// generation. It reports false when the backend is not in the current
// model, in which case a full Apply is needed.
func (p *Proxy) SetEndpoints(backend string, eps []model.Endpoint) bool {
	return p.registry.SetEndpoints(backend, eps)
}

// Model returns the model the current generation was compiled from.
func (p *Proxy) Model() *model.Model { return p.gen.Load().model }

// TLSConfig returns the server TLS configuration: certificates by SNI from
// the current generation, HTTP/2 and HTTP/1.1 by ALPN, versions and suites
// (ssl-protocols, ssl-ciphers) and client-certificate requests
// (auth-tls-*) from the generation current at each handshake.
func (p *Proxy) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		NextProtos:         []string{"h2", "http/1.1"},
		GetConfigForClient: p.configForClient,
	}
}

// cleanPath normalises the decoded path the way nginx does before matching:
// duplicate slashes merged, "." and ".." resolved, a trailing slash kept.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if !strings.Contains(p, "//") && !strings.Contains(p, "/.") {
		return p
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// normalizePath turns a decoded request path into the path routes are
// matched against, as nginx does: duplicate slashes merged, "." and ".."
// resolved. It reports ok false, for a 400, when the path holds a NUL
// byte, does not start with a slash, or ".." climbs above the root.
func normalizePath(p string) (clean string, ok bool) {
	if p == "" || p[0] != '/' || strings.IndexByte(p, 0) >= 0 || aboveRoot(p) {
		return "", false
	}
	return cleanPath(p), true
}

// aboveRoot reports whether a ".." segment of p climbs above the root.
func aboveRoot(p string) bool {
	if !strings.Contains(p, "..") {
		return false
	}
	depth := 0
	for _, seg := range strings.Split(p[1:], "/") {
		switch seg {
		case "", ".":
		case "..":
			if depth == 0 {
				return true
			}
			depth--
		default:
			depth++
		}
	}
	return false
}

// forwardURI returns the request target sent upstream: the client's own
// when its decoded path is the path that was matched, otherwise the
// matched path, escaped, with the client's query. A backend therefore
// never sees dot segments, merged slashes or encoded slashes that would
// resolve to a path other than the one the route was chosen by.
func forwardURI(uri, decoded, clean string) string {
	if decoded == clean {
		return uri
	}
	return withQuery((&url.URL{Path: clean}).EscapedPath(), uri)
}

// plainError answers with a short text body that names the status only, so
// errors never reveal anything about upstreams or configuration.
func plainError(w http.ResponseWriter, code int) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(statusBody(code))
}

var statusBodies = func() map[int][]byte {
	m := map[int][]byte{}
	for _, c := range []int{300, 301, 302, 303, 304, 305, 306, 307, 308, 400, 403, 404, 413, 414, 431, 500, 501, 502, 503, 504} {
		m[c] = []byte(itoa(c) + " " + http.StatusText(c) + "\n")
	}
	return m
}()

func statusBody(code int) []byte {
	if b, ok := statusBodies[code]; ok {
		return b
	}
	return []byte(itoa(code) + " " + http.StatusText(code) + "\n")
}
