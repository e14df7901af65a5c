// Package proxy is Strait's data plane: it compiles routing models into
// immutable generations, publishes each with one atomic pointer store, and
// serves HTTP/1.1, HTTP/2 and upgraded connections from whichever
// generation is current. Long-lived state (listeners, upstream pools,
// balancer cursors, parsed certificates) lives outside the generations.
package proxy

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/straitgw/strait/internal/accesslog"
	"github.com/straitgw/strait/internal/metrics"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/plugin"
	"github.com/straitgw/strait/internal/proxy/upstream"
)

// generation is one compiled, immutable routing table. Requests load the
// current generation once and use it to the end.
type generation struct {
	model    *model.Model
	exact    *hostMap
	wildcard *hostMap // keyed by the parent domain, "example.com" for "*.example.com"
	// patterns are regular-expression server aliases, tried in order
	// after exact and wildcard names.
	patterns []hostPattern
	catchAll *vhost
	certs    map[string]*tls.Certificate // by SNI name, exact or "*.parent"
	// defaultCert is the configured default certificate, nil for the one
	// generated at start.
	defaultCert *tls.Certificate
	// hsts is added to every HTTPS response; "" for none.
	hsts []string
	// fwd is the trust in forwarded headers; nil for none.
	fwd *forwarding
	// passthrough maps ssl-passthrough host names to their backends.
	passthrough map[string]*upstream.Backend
	// headers are the ConfigMap's header settings; nil for the defaults.
	headers *globalHeaders
	// tls are the TLS listener's configurations.
	tls serverTLS
	// alog is the access log; nil when off.
	alog *accessLog
	// tracer starts the spans of traced routes; nil when tracing is off.
	tracer trace.Tracer
	// limits are large-client-header-buffers.
	limits headerLimits
	// keepAlive is keep-alive and keep-alive-requests.
	keepAlive clientKeepAlive
	// gzip is use-gzip; nil when off.
	gzip *gzipConf
	// proxyProtocol is use-proxy-protocol (see proxyproto.go), with the
	// time allowed for the header.
	proxyProtocol        bool
	proxyProtocolTimeout time.Duration
	// maxConns is max-worker-connections (see connlimit.go).
	maxConns int64
	// gwPorts route the Gateway API listeners, by Gateway and port.
	gwPorts map[gwKey]*gwPort
	// h2Streams is http2-max-concurrent-streams, for HTTP/2 connections
	// opened while the generation is current.
	h2Streams uint32
	// compiled are the hosts in name order (the model's), and ctx what
	// they were compiled with, for the next generation to reuse; limited
	// are the hosts with limited routes.
	compiled []compiledHost
	limited  []*vhost
	ctx      hostContext
	// aliased is set when a host has aliases, which compileChanged
	// leaves to compileAll.
	aliased bool
}

// vhost is a compiled virtual host.
type vhost struct {
	exact  map[string]*route
	prefix map[string]*route
	regex  []*route // in order, for regex-mode hosts
	def    *route
	// appRoot redirects exactly "/" (app-root); "" for none.
	appRoot string
	// www redirects every request (from-to-www-redirect); nil for none.
	www *model.WWWRedirect
	// clientAuth checks client certificates over HTTPS; nil for none.
	clientAuth *clientAuth
	// limited are the routes with rate or connection limits.
	limited []*route
}

// route is a compiled route: where matched requests go, and the policy
// applied on the way.
type route struct {
	name     string
	backend  *upstream.Backend // nil for direct responses
	status   int
	timeouts Timeouts
	policy   *routePolicy   // nil when the route has nothing to check
	re       *regexp.Regexp // the location regex, in regex-mode hosts
	rewrite  *rewriteRule   // nil without rewrite-target
	// upstreamHost replaces the Host header sent upstream; "" keeps it.
	upstreamHost string
	// affinityPath, when set, makes responses carry the backend's
	// affinity cookie (with this Path unless the cookie has its own).
	affinityPath string
	// full routes are served by the net/http handler on every listener
	// (see handoff.go).
	full bool
	// retry is the route's proxy-next-upstream policy.
	retry retryPolicy
	// canary, when set, takes some requests to another backend.
	canary *canaryRoute
	// errors is the default-backend and custom-http-errors handling; nil
	// for none.
	errors *errorPages
	// headers is the generation's globalHeaders, for the code that has
	// the route but not the generation.
	headers *globalHeaders
	// logSrc is the model route that access-log lines describe; logHost
	// marks a host's default action instead, with the backend it names
	// ("" for a direct answer). A value, not the model host: compiled
	// hosts outlive the model they were compiled from, and would keep it.
	// logOff is set when the Ingress turned its log off.
	logSrc         *model.Route
	logHost        bool
	logHostBackend string
	logOff         bool
	// respHead is the largest upstream response head accepted:
	// proxy-buffer-size when above the engine's default.
	respHead int
	// mirror copies requests to mirror-target; nil for none.
	mirror *mirrorRule
	// stats are the route's request metrics; nil for routes not counted
	// (metrics off, or not an Ingress path).
	stats *metrics.RouteSeries
	// trace are the route's span settings; nil when it is not traced,
	// which costs a request one nil check.
	trace *routeTrace
	// plugins run in the route's phases; nil for none.
	plugins *routePlugins
}

// compiledHost is a compiled virtual host with the model host it was
// compiled from.
type compiledHost struct {
	src *model.VirtualHost
	vh  *vhost
}

// hostContext is what compiled hosts depend on beyond their model host:
// a later generation reuses them only while it is the same.
type hostContext struct {
	// headers are the ConfigMap's header settings, compiled into every
	// route; model keeps what they were compiled from.
	headers *globalHeaders
	model   model.Headers
	// full hands every route to the net/http handler.
	full bool
	// backends counts the registry's replaced backends: a replaced one
	// leaves compiled routes pointing at the old object.
	backends uint64
	to       Timeouts
	// reqs are the request metrics, the same for every generation; nil
	// when off.
	reqs *metrics.Requests
	// plugins is the process's plugin registry, the same for every
	// generation; log receives plugin failures.
	plugins *plugin.Registry
	log     *slog.Logger
}

// same reports whether compiled hosts of context o hold in c.
func (o *hostContext) same(c *hostContext) bool {
	return o.full == c.full && o.backends == c.backends && o.to == c.to && reflect.DeepEqual(o.model, c.model)
}

// compile builds a generation from m. backends and certs come from the
// long-lived state and are shared with earlier generations, and so are
// the compiled hosts of prev whose model host and context did not change:
// a change to one host compiles that host alone.
func compile(m *model.Model, backends map[string]*upstream.Backend, certs map[string]*tls.Certificate, ctx hostContext, prev *generation) *generation {
	g := &generation{
		model:    m,
		certs:    make(map[string]*tls.Certificate, len(m.SNI)),
		compiled: make([]compiledHost, len(m.Hosts)),
	}
	if prev != nil && prev.ctx.same(&ctx) {
		ctx.headers = prev.ctx.headers
	} else {
		ctx.headers, prev = compileHeaders(&ctx.model), nil
	}
	g.ctx, g.headers = ctx, ctx.headers
	if prev == nil || !g.compileChanged(m, backends, prev) {
		g.compileAll(m, backends, prev)
	}
	g.catchAll = compileHost(&m.CatchAll, backends, ctx.to)
	g.finishHost(g.catchAll, &m.CatchAll)
	g.fwd = compileForwarding(&m.Forwarding)
	for _, pt := range m.Passthrough {
		if be := backends[pt.Backend]; be != nil {
			if g.passthrough == nil {
				g.passthrough = map[string]*upstream.Backend{}
			}
			g.passthrough[pt.Host] = be
		}
	}
	g.limits = compileHeaderLimits(&m.Client)
	g.keepAlive = compileClientKeepAlive(&m.Client)
	g.maxConns = compileMaxConns(m.Client.MaxConnections, m.Client.MaxConnectionsFromFileLimit)
	g.h2Streams = defaultHTTP2Streams
	if m.Client.HTTP2MaxConcurrentStreams > 0 {
		g.h2Streams = uint32(m.Client.HTTP2MaxConcurrentStreams)
	}
	g.gzip = compileGzip(m.Gzip)
	g.gwPorts = compileGateways(m.Gateways, backends, certs, ctx.to, g.headers)
	g.proxyProtocol = m.ProxyProtocol
	g.proxyProtocolTimeout = proxyHeaderTimeout
	if m.ProxyProtocolHeaderSeconds > 0 {
		g.proxyProtocolTimeout = time.Duration(m.ProxyProtocolHeaderSeconds) * time.Second
	}
	if m.HSTS != "" {
		g.hsts = []string{m.HSTS}
	}
	if m.DefaultCertificate != "" {
		g.defaultCert = certs[m.DefaultCertificate]
	}
	for _, b := range m.SNI {
		if c := certs[b.Certificate]; c != nil {
			g.certs[b.Host] = c
		}
	}
	return g
}

// compileChanged compiles the hosts of m that differ from prev's, and
// builds the name maps from prev's by changing only those: at thousands of
// hosts, filling the maps anew costs more than a changed host. Both host
// lists are in name order. It reports false, having done nothing that
// counts, when aliases are involved (they are added after every host, and
// a host of the same name wins), so that compileAll decides.
func (g *generation) compileChanged(m *model.Model, backends map[string]*upstream.Backend, prev *generation) bool {
	if prev.aliased {
		return false
	}
	type change struct {
		name string
		vh   *vhost // nil: removed
	}
	var changes []change
	limits := false
	old := prev.compiled
	// matched says whether the last host was the next of the last
	// generation's, unchanged.
	matched := false
	for i, h := range m.Hosts {
		if len(old) > 0 && old[0].src == h {
			// The model shares unchanged hosts: one pointer comparison
			// spares reading the host, whose memory is cold. Two such
			// hosts in a row are in order, as they were last time.
			if !matched && i > 0 && m.Hosts[i-1].Name >= h.Name {
				return false
			}
			g.compiled[i] = old[0]
			old, matched = old[1:], true
			continue
		}
		if len(h.Aliases) > 0 || i > 0 && m.Hosts[i-1].Name >= h.Name {
			// Aliases, or hosts out of order (translate sorts them).
			return false
		}
		matched = false
		for len(old) > 0 && old[0].src.Name < h.Name {
			changes = append(changes, change{old[0].src.Name, nil})
			limits = limits || len(old[0].vh.limited) > 0
			old = old[1:]
		}
		if len(old) > 0 && old[0].src.Name == h.Name {
			c := old[0]
			old = old[1:]
			if sameHost(c.src, h) {
				g.compiled[i] = compiledHost{h, c.vh}
				continue
			}
			limits = limits || len(c.vh.limited) > 0
		}
		vh := compileHost(h, backends, g.ctx.to)
		g.finishHost(vh, h)
		g.compiled[i] = compiledHost{h, vh}
		changes = append(changes, change{h.Name, vh})
		limits = limits || len(vh.limited) > 0
	}
	for _, c := range old {
		changes = append(changes, change{c.src.Name, nil})
		limits = limits || len(c.vh.limited) > 0
	}
	g.exact, g.wildcard = prev.exact.derive(), prev.wildcard.derive()
	for _, c := range changes {
		key, byName := c.name, g.exact
		if rest, ok := strings.CutPrefix(c.name, "*."); ok {
			key, byName = rest, g.wildcard
		}
		if c.vh == nil {
			byName.del(key)
		} else {
			byName.set(key, c.vh)
		}
	}
	if limits {
		g.collectLimited()
	} else {
		g.limited = prev.limited
	}
	return true
}

// compileAll compiles m's hosts, reusing prev's unchanged ones, and builds
// the name maps: hosts first, then aliases, which never take a host's
// name.
func (g *generation) compileAll(m *model.Model, backends map[string]*upstream.Backend, prev *generation) {
	g.exact, g.wildcard = newHostMap(), newHostMap()
	g.patterns = nil
	var old []compiledHost
	if prev != nil {
		old = prev.compiled
	}
	for i, h := range m.Hosts {
		for len(old) > 0 && old[0].src.Name < h.Name {
			old = old[1:]
		}
		var vh *vhost
		if len(old) > 0 && old[0].src.Name == h.Name && sameHost(old[0].src, h) {
			vh = old[0].vh
		} else {
			vh = compileHost(h, backends, g.ctx.to)
			g.finishHost(vh, h)
		}
		g.compiled[i] = compiledHost{h, vh}
		g.add(h.Name, vh)
	}
	for i, h := range m.Hosts {
		for _, al := range h.Aliases {
			g.add(al, g.compiled[i].vh)
			g.aliased = true
		}
	}
	g.collectLimited()
}

// collectLimited lists the hosts with limited routes.
func (g *generation) collectLimited() {
	g.limited = nil
	for _, c := range g.compiled {
		if len(c.vh.limited) > 0 {
			g.limited = append(g.limited, c.vh)
		}
	}
}

// finishHost sets what a newly compiled host takes from the generation:
// the global headers, client-certificate checks, and the hand-over of
// every route to the net/http handler when the generation needs it.
func (g *generation) finishHost(vh *vhost, h *model.VirtualHost) {
	if h.ClientAuth != nil {
		vh.setClientAuth(compileClientAuth(h.ClientAuth))
	}
	vh.each(func(r *route) {
		r.headers = g.headers
		if r.logSrc != nil && !r.logHost {
			r.plugins = compilePlugins(r.logSrc.Policy.Plugins, g.ctx.plugins, g.ctx.log)
		}
		r.full = r.full || g.ctx.full
		if reqs := g.ctx.reqs; reqs != nil && r.logSrc != nil && r.logSrc.Source.Kind == "Ingress" {
			key := routeKey(h.Name, r.logSrc)
			r.stats = reqs.Series(key)
			if r.canary != nil {
				key.Canary = upstreamName(r.logSrc.Policy.Canary.Backend)
				r.canary.stats = reqs.Series(key)
			}
		}
	})
}

// routeKey names a route's request series with ingress-nginx's labels.
func routeKey(host string, r *model.Route) metrics.RouteKey {
	if host == model.CatchAllHost {
		// ingress-nginx's server_name for rules without a host.
		host = "_"
	}
	k := metrics.RouteKey{Namespace: r.Source.Namespace, Ingress: r.Source.Name, Host: host, Path: r.Path}
	var lr accesslog.Route
	backendLog(&lr, r.Action.Backend)
	k.Service = lr.ServiceName
	return k
}

// upstreamName renders a backend name ("<namespace>/<service>:<port>")
// as ingress-nginx's upstream name, "<namespace>-<service>-<port>".
func upstreamName(backend string) string {
	var lr accesslog.Route
	backendLog(&lr, backend)
	if lr.ServiceName == "" {
		return backend
	}
	return lr.ServiceNamespace + "-" + lr.ServiceName + "-" + lr.ServicePort
}

// sameHost reports whether b is a, as far as compiling goes: translate
// shares the routes of hosts it did not translate again, so the same
// route array (and the same settings) means the same host.
func sameHost(a, b *model.VirtualHost) bool {
	return a == b || a.Name == b.Name && a.Regex == b.Regex && a.AppRoot == b.AppRoot && a.Default == b.Default &&
		a.RedirectTo == b.RedirectTo && a.ClientAuth == b.ClientAuth && sameArray(a.Routes, b.Routes) && sameArray(a.Aliases, b.Aliases)
}

// sameArray reports whether a and b are the same slice of one array.
func sameArray[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func compileHost(h *model.VirtualHost, backends map[string]*upstream.Backend, to Timeouts) *vhost {
	vh := &vhost{exact: map[string]*route{}, prefix: map[string]*route{}, appRoot: h.AppRoot}
	for i := range h.Routes {
		r := &h.Routes[i]
		cr := compileAction(r.Name, r.Action, backends, to)
		cr.timeouts = policyTimeouts(&r.Policy, to)
		cr.policy = compilePolicy(&r.Policy)
		cr.rewrite = compileRewrite(r.Path, r.Policy.Rewrite)
		cr.upstreamHost = r.Policy.UpstreamHost
		cr.retry = compileRetry(r.Policy.NextUpstream)
		cr.canary = compileCanary(r.Policy.Canary, backends)
		cr.errors = compileErrors(r.Policy.Errors, r.Source, cr, backends)
		cr.affinityPath = r.Policy.AffinityCookiePath
		cr.full = cr.full || needsFull(&r.Policy) || grpcBackend(cr.backend)
		cr.logSrc, cr.logOff = r, r.Policy.AccessLogOff
		cr.mirror = compileMirror(r.Policy.Mirror)
		cr.trace = compileTrace(r)
		cr.respHead = int(max(r.Policy.ProxyBufferBytes, maxHeadBytes))
		if cr.policy != nil && cr.policy.limit != nil {
			vh.limited = append(vh.limited, cr)
		}
		if h.Regex {
			re, err := regexp.Compile("(?i)^" + r.Path)
			if err != nil {
				// translate turned such routes into 503s already.
				cr.status, cr.backend = http.StatusServiceUnavailable, nil
				re = regexp.MustCompile(`^$`)
			}
			cr.re = re
			vh.regex = append(vh.regex, cr)
			continue
		}
		if r.PathType == model.PathExact {
			vh.exact[r.Path] = cr
		} else {
			vh.prefix[r.Path] = cr
		}
	}
	vh.def = compileAction(h.Name+"/default", h.Default, backends, to)
	if h.RedirectTo != nil {
		vh.www = h.RedirectTo
		vh.def.full = true
	}
	vh.def.logHost, vh.def.logHostBackend = true, h.Default.Backend
	return vh
}

func compileAction(name string, a model.Action, backends map[string]*upstream.Backend, to Timeouts) *route {
	r := &route{name: name, status: a.Status, timeouts: to, retry: defaultRetry()}
	if a.Backend == "" && a.Status == 0 {
		// An empty action is a bug upstream of here; fail closed.
		r.status = http.StatusInternalServerError
	}
	if a.Backend != "" {
		r.backend = backends[a.Backend]
		if r.backend == nil {
			// translate guarantees every referenced backend exists; fail
			// closed rather than route elsewhere if that ever breaks.
			r.status = http.StatusServiceUnavailable
		}
		// Hashing and affinity read the request's key, which only the
		// net/http handler does.
		r.full = r.backend != nil && r.backend.Keyed()
	}
	return r
}

// add serves vh under name, an exact name or a one-label wildcard, unless
// the name is taken.
func (g *generation) add(name string, vh *vhost) {
	if re, ok := strings.CutPrefix(name, "~"); ok {
		// translate checked that it compiles.
		if c, err := regexp.Compile(re); err == nil {
			g.patterns = append(g.patterns, hostPattern{c, vh})
		}
		return
	}
	if strings.HasPrefix(name, "*.") {
		if g.wildcard.get(name[2:]) == nil {
			g.wildcard.set(name[2:], vh)
		}
	} else if g.exact.get(name) == nil {
		g.exact.set(name, vh)
	}
}

// hostPattern is a regular-expression server alias.
type hostPattern struct {
	re *regexp.Regexp
	vh *vhost
}

// each calls f for every route of the host.
func (vh *vhost) each(f func(*route)) {
	for _, r := range vh.exact {
		f(r)
	}
	for _, r := range vh.prefix {
		f(r)
	}
	for _, r := range vh.regex {
		f(r)
	}
	f(vh.def)
}

// limitedRoutes calls f for every route with limits.
func (g *generation) limitedRoutes(f func(*route)) {
	for _, vh := range g.limited {
		for _, r := range vh.limited {
			f(r)
		}
	}
	for _, r := range g.catchAll.limited {
		f(r)
	}
}

// routes calls f for every route of the generation.
func (g *generation) routes(f func(*route)) {
	each := func(_ string, vh *vhost) { vh.each(f) }
	g.exact.each(each)
	g.wildcard.each(each)
	g.catchAll.each(f)
}

// host finds the virtual host for a Host header value: exact name first,
// then the one-label wildcard, then the catch-all.
func (g *generation) host(hostport string) *vhost {
	h := stripPort(hostport)
	h = lower(h)
	if vh := g.exact.get(h); vh != nil {
		return vh
	}
	if g.wildcard.n > 0 {
		if i := strings.IndexByte(h, '.'); i > 0 {
			if vh := g.wildcard.get(h[i+1:]); vh != nil {
				return vh
			}
		}
	}
	for _, p := range g.patterns {
		if p.re.MatchString(h) {
			return p.vh
		}
	}
	return g.catchAll
}

// match finds the route for a normalised path: an exact route, else the
// longest element-wise prefix, else the host's default.
func (vh *vhost) match(path string) *route {
	if vh.regex != nil {
		for _, r := range vh.regex {
			if r.re.MatchString(path) {
				return r
			}
		}
		return vh.def
	}
	if r := vh.exact[path]; r != nil {
		return r
	}
	if len(vh.prefix) > 0 {
		p := path
		for len(p) > 1 && p[len(p)-1] == '/' {
			p = p[:len(p)-1]
		}
		for {
			if r := vh.prefix[p]; r != nil {
				return r
			}
			if p == "/" || p == "" {
				break
			}
			i := strings.LastIndexByte(p, '/')
			if i <= 0 {
				p = "/"
			} else {
				p = p[:i]
			}
		}
	}
	return vh.def
}

// certificate picks the certificate for an SNI name: exact, then the
// wildcard for its parent; nil means the default certificate.
func (g *generation) certificate(name string) *tls.Certificate {
	if name == "" {
		return nil
	}
	name = lower(name)
	if c := g.certs[name]; c != nil {
		return c
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		return g.certs["*"+name[i:]]
	}
	return nil
}

// stripPort removes a ":port" suffix, keeping IPv6 literals intact.
func stripPort(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
		if strings.HasPrefix(h, "[") {
			return strings.TrimSuffix(h[1:i], "]")
		}
		if strings.IndexByte(h[:i], ':') < 0 {
			return h[:i]
		}
	}
	return strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
}

// lower lower-cases s, allocating only when it has upper-case letters.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
