// Package translate turns a snapshot of cluster objects into a routing model.
// Translate is a pure function: it reads the snapshot, writes nothing, calls
// no network, and reports what it could not honour as per-object problems.
// One bad object only loses (or fails closed) what it owns.
package translate

import (
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/plugin"
	"github.com/straitgw/strait/internal/snapshot"
)

// Options are the controller-wide settings translate needs.
type Options struct {
	// DefaultBackendService is "namespace/name" of the Service that serves
	// requests no rule matches (its first port). Empty means the built-in
	// backend, which answers 404.
	DefaultBackendService string `json:"defaultBackendService,omitempty"`
	// DefaultCertificate is "namespace/name" of the kubernetes.io/tls
	// Secret served when no SNI binding matches (--default-ssl-certificate).
	// Empty, missing or invalid means the certificate generated at start.
	DefaultCertificate string `json:"defaultCertificate,omitempty"`
	// ConfigMap is "namespace/name" of the controller ConfigMap
	// (--configmap), whose keys set controller-wide defaults.
	ConfigMap string `json:"configMap,omitempty"`
	// EnableSSLPassthrough honours the ssl-passthrough annotation
	// (--enable-ssl-passthrough).
	EnableSSLPassthrough bool `json:"enableSSLPassthrough,omitempty"`
	// Plugins are the plugins the data plane can run, against which
	// plugin names and configurations are checked; nil knows none.
	Plugins *plugin.Registry `json:"-"`
}

// Translate builds the model for s. The returned problems are sorted by
// object, then field. It is a Builder with nothing to reuse.
func Translate(s *snapshot.Snapshot, opts Options) (*model.Model, []model.Problem) {
	var b Builder
	r := b.Build(s, opts)
	return r.Model, r.Problems
}

// newTranslator returns a translator for s with the controller-wide
// settings of base: nil reads them from the ConfigMap and the flags (the
// base translation itself), reporting what is wrong with them.
func newTranslator(s *snapshot.Snapshot, opts Options, base *translator) *translator {
	t := &translator{
		snap:          s,
		backends:      map[string]*model.Backend{},
		resolved:      map[backendKey]string{},
		hosts:         map[string]*hostBuilder{},
		certs:         map[string]*certResult{},
		sni:           map[string]string{},
		tlsHosts:      map[string]bool{},
		passthroughOn: opts.EnableSSLPassthrough,
		balance:       map[string]*balanceState{},
		reads:         newReads(),
		plugins:       opts.Plugins,
	}
	if ns, _, ok := strings.Cut(opts.ConfigMap, "/"); ok {
		t.pluginNS = ns
	}
	if base == nil {
		t.settings = t.readSettings(opts.ConfigMap)
		t.gate = t.readRiskGate(opts.ConfigMap)
		t.defaultAction = t.globalDefault(opts)
		t.loadCatalogue()
	} else {
		t.settings, t.gate, t.defaultAction, t.catalogue = base.settings, base.gate, base.defaultAction, base.catalogue
		// The controller's default backend, resolved once by base; each
		// translation decides its balancer (and service-upstream) anew.
		for name, be := range base.backends {
			c := *be
			t.backends[name] = &c
		}
		maps.Copy(t.resolved, base.resolved)
	}
	t.catchAll = newHostBuilder(model.CatchAllHost, t.defaultAction)
	return t
}

// run reads ings (the snapshot's, or one component's) and builds their
// part of the model: hosts, the backends they use, certificates.
func (t *translator) run(ings []*networkingv1.Ingress) *model.Model {
	var canaries []*networkingv1.Ingress
	for _, ing := range ordered(ings) {
		if t.isCanary(ing) {
			canaries = append(canaries, ing)
			continue
		}
		t.ingress(ing)
	}
	// Canaries attach to the routes of primaries, whatever their ages.
	for _, ing := range canaries {
		t.canaryIngress(ing)
	}
	m, _ := t.finish()
	return m
}

// settle sets the model's controller-wide fields from the settings and
// resolves the default certificate.
func (t *translator) settle(m *model.Model, opts Options) {
	m.HSTS = t.settings.hsts
	m.Forwarding = t.settings.forwarding
	m.Headers = t.settings.headers
	m.ServerTLS = t.settings.tls.server
	m.NoHTTP2 = !t.settings.http2
	m.AccessLog = t.settings.accessLog
	m.Tracing = t.settings.tracing.export
	m.Client = t.settings.client
	m.Upstream = t.settings.upstream
	m.Gzip = t.settings.gzip
	m.ProxyProtocol = t.settings.proxyProtocol
	m.ProxyProtocolHeaderSeconds = t.settings.proxyProtocolTimeout
	if opts.DefaultCertificate != "" {
		t.defaultCertificate(m, opts.DefaultCertificate)
	}
}

// translator carries the state of one Translate call.
type translator struct {
	// plugins is Options.Plugins; pluginNS the namespace of Lua plugins'
	// ConfigMaps, the controller ConfigMap's.
	plugins       *plugin.Registry
	pluginNS      string
	snap          *snapshot.Snapshot
	defaultAction model.Action
	catchAll      *hostBuilder
	catchAllSet   bool
	hosts         map[string]*hostBuilder
	backends      map[string]*model.Backend
	resolved      map[backendKey]string
	certs         map[string]*certResult
	sni           map[string]string
	problems      []model.Problem
	settings      settings
	catalogue     map[string]annotations.Key // built on first use
	gate          riskGate
	// passthroughOn is --enable-ssl-passthrough; passthrough maps hosts
	// to the backend their TLS connections are passed to.
	passthroughOn bool
	passthrough   map[string]string
	// proxySSLHosts are the hosts' server-level proxy-ssl-*, built on
	// first use (see hostProxySSL).
	proxySSLHosts map[string]*model.BackendTLS
	// tlsHosts are the hosts with a certificate configured: rule hosts of
	// Ingresses that have a TLS section, and hosts listed in one. They
	// turn on ssl-redirect.
	tlsHosts map[string]bool
	// seq counts the Ingresses read, oldest first.
	seq int
	// balance collects each backend's selection settings.
	balance map[string]*balanceState
	// reads are the snapshot objects looked at; globalTLS, when set,
	// replaces tlsHosts with every Ingress's (see Builder).
	reads     *reads
	globalTLS map[string]int
	// tlsAsked, when set, records hostHasTLS's answers.
	tlsAsked map[string]bool
	// foreignCatchAll is set when the Ingresses read do not configure
	// the catch-all: its backends are then not reported as used.
	foreignCatchAll bool
}

// hostBuilder collects one virtual host's routes while Ingresses are read
// oldest first.
type hostBuilder struct {
	name    string
	regex   bool   // regex mode, see model.VirtualHost.Regex
	appRoot string // see model.VirtualHost.AppRoot
	// clientAuth is the first usable auth-tls-* of the host's Ingresses;
	// clientAuthDeny is set when one of them names an unusable Secret.
	clientAuth     *model.ClientAuth
	clientAuthDeny bool
	def            model.Action
	routes         []model.Route
	redirect       []sslFlags      // parallel to routes
	index          map[pathKey]int // into routes
	names          hostNames       // server-alias and from-to-www-redirect, see www.go
	aliases        []string        // the aliases kept, see model.VirtualHost.Aliases
}

// sslFlags are a route's HTTPS-redirect settings until host TLS is known.
type sslFlags struct {
	ingressPath string
	ssl, force  bool
}

func newHostBuilder(name string, def model.Action) *hostBuilder {
	return &hostBuilder{name: name, def: def, index: map[pathKey]int{}}
}

type pathKey struct {
	typ  model.PathType
	path string
}

func (t *translator) problem(obj model.ObjectRef, field, reason, format string, args ...any) {
	t.problems = append(t.problems, model.Problem{Object: obj, Field: field, Reason: reason, Message: fmt.Sprintf(format, args...)})
}

// ordered returns the Ingresses oldest first, ties broken by namespace/name,
// so that "first wins" rules are stable.
func ordered(in []*networkingv1.Ingress) []*networkingv1.Ingress {
	out := append([]*networkingv1.Ingress(nil), in...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	return out
}

func ingressRef(ing *networkingv1.Ingress) model.ObjectRef {
	return model.ObjectRef{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name}
}

func (t *translator) ingress(ing *networkingv1.Ingress) {
	ref := ingressRef(ing)
	if !t.admit(ing, ref) {
		return
	}
	t.seq++
	t.sslPassthrough(ing, ref)
	t.ingressTLS(ing)
	ip := t.ingressPolicy(ing, ref)

	ingDefault := model.Action{}
	if db := ing.Spec.DefaultBackend; db != nil {
		ingDefault = t.backend(ref, ing.Namespace, db, loc{rule: locDefaultBackend}, model.ProtocolHTTP)
		if ingDefault.Backend != "" && !ip.failClosed {
			t.applyBalance(ref, ingDefault.Backend, &ip.balance, "")
		}
		// Only an Ingress without rules configures the catch-all; one with
		// rules keeps its default backend to its own hosts.
		if !t.catchAllSet && len(ing.Spec.Rules) == 0 {
			t.catchAll.def = ingDefault
			t.catchAllSet = true
		}
	}

	for i, rule := range ing.Spec.Rules {
		hb := t.catchAll
		if rule.Host != "" {
			host, err := normalizeHost(rule.Host)
			if err != nil {
				t.problem(ref, fmt.Sprintf("spec.rules[%d].host", i), "InvalidHost", "host %q: %v; rule ignored", rule.Host, err)
				continue
			}
			hb = t.hosts[host]
			if hb != nil && hb.appRoot == "" && ip.appRoot != "" {
				// Host-level: the oldest Ingress that sets it wins.
				hb.appRoot = ip.appRoot
			}
			if hb == nil {
				// The first Ingress to define a host decides what its
				// unmatched paths get.
				def := t.defaultAction
				if ing.Spec.DefaultBackend != nil {
					def = ingDefault
				}
				hb = newHostBuilder(host, def)
				hb.appRoot = ip.appRoot
				t.hosts[host] = hb
			}
			t.hostSettings(hb, ref, &ip)
		}
		hb.addClientAuth(ip.clientAuth)
		if rule.HTTP == nil {
			continue
		}
		for j := range rule.HTTP.Paths {
			t.path(ing, ref, hb, loc{rule: i, path: j}, &rule.HTTP.Paths[j], &ip)
		}
	}
}

// ingressTLS reads an Ingress's TLS section: its certificates, and the
// hosts that have one.
func (t *translator) ingressTLS(ing *networkingv1.Ingress) {
	if len(ing.Spec.TLS) == 0 {
		return
	}
	t.tls(ing)
	for _, h := range tlsHostsOf(ing) {
		t.tlsHosts[h] = true
	}
}

// tlsHostsOf returns the hosts an Ingress gives a certificate: with a TLS
// section, its rule hosts and the hosts the section lists.
func tlsHostsOf(ing *networkingv1.Ingress) []string {
	if len(ing.Spec.TLS) == 0 {
		return nil
	}
	var out []string
	for _, r := range ing.Spec.Rules {
		if h, err := normalizeHost(r.Host); err == nil {
			out = append(out, h)
		}
	}
	for _, e := range ing.Spec.TLS {
		for _, h := range e.Hosts {
			if h, err := normalizeHost(h); err == nil {
				out = append(out, h)
			}
		}
	}
	return out
}

// loc locates a backend or path inside an Ingress. It is formatted into a
// field path only when a problem is reported, which keeps the common case
// free of string building.
type loc struct {
	rule, path int
}

// Special values of loc.rule.
const (
	locDefaultBackend = -1 // spec.defaultBackend
	locFlag           = -2 // a controller flag: no field
)

func (l loc) field(suffix string) string {
	switch l.rule {
	case locDefaultBackend:
		// Suffixes name fields under a path ("..backend.service.name");
		// spec.defaultBackend is itself the backend.
		return "spec.defaultBackend" + strings.TrimPrefix(suffix, ".backend")
	case locFlag:
		return ""
	}
	return "spec.rules[" + strconv.Itoa(l.rule) + "].http.paths[" + strconv.Itoa(l.path) + "]" + suffix
}

// ingressPolicy is what an Ingress's annotations give each of its paths.
type ingressPolicy struct {
	pol        model.Policy
	ssl, force bool
	failClosed bool
	// useRegex and rewrite put the host in regex mode; rewrite and
	// forwardedPrefix become each path's Rewrite.
	useRegex                 bool
	rewrite, forwardedPrefix string
	// protocol is spoken to the Ingress's backends.
	protocol model.Protocol
	// appRoot is the Ingress's app-root, a host-level setting.
	appRoot string
	// auth is the Ingress's external authentication settings.
	auth ingressAuth
	// errors is the default-backend and custom-http-errors policy, without
	// the route's Service.
	errors *model.Errors
	// aliases (server-alias) and fromToWWW (from-to-www-redirect) are
	// host-level settings.
	aliases   []string
	fromToWWW bool
	// balance is what the Ingress says about its backends' selection.
	balance balanceSettings
	// backendTLS is TLS towards the Ingress's HTTPS, GRPCS and AUTO_HTTP
	// backends (proxy-ssl-*); clientAuth its hosts' auth-tls-*.
	backendTLS *model.BackendTLS
	clientAuth *model.ClientAuth
}

// pathKey normalises an Ingress path into the key routes are merged by;
// an invalid path is reported and ok is false.
func (t *translator) pathKey(ref model.ObjectRef, l loc, p *networkingv1.HTTPIngressPath) (k pathKey, ok bool) {
	path := p.Path
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") {
		t.problem(ref, l.field(".path"), "InvalidPath", "path %q must start with \"/\"; path ignored", p.Path)
		return k, false
	}
	typ := model.PathPrefix
	if p.PathType != nil {
		switch *p.PathType {
		case networkingv1.PathTypeExact:
			typ = model.PathExact
		case networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific:
		default:
			t.problem(ref, l.field(".pathType"), "InvalidPathType", "unknown pathType %q; path ignored", *p.PathType)
			return k, false
		}
	}
	if typ == model.PathPrefix && len(path) > 1 {
		// Prefix matching is element-wise, so a trailing slash adds nothing.
		path = strings.TrimRight(path, "/")
		if path == "" {
			path = "/"
		}
	}
	return pathKey{typ, path}, true
}

func (t *translator) path(ing *networkingv1.Ingress, ref model.ObjectRef, hb *hostBuilder, l loc, p *networkingv1.HTTPIngressPath, ip *ingressPolicy) {
	k, ok := t.pathKey(ref, l, p)
	if !ok {
		return
	}
	typ, path := k.typ, k.path
	if i, ok := hb.index[k]; ok {
		if owner := hb.routes[i].Source; owner == ref {
			t.problem(ref, l.field(".path"), "PathConflict",
				"%s path %q on host %q appears earlier in this Ingress; this one is ignored", typ, path, hb.name)
		} else {
			t.problem(ref, l.field(".path"), "PathConflict",
				"%s path %q on host %q is already served by %s, which takes precedence (older, or first by namespace/name); this path is ignored", typ, path, hb.name, owner)
		}
		return
	}
	bt := ip.backendTLS
	if bt == nil && ip.inheritsProxySSL() {
		bt = t.hostProxySSL(hb.name)
	}
	action := t.backendTLS(ref, ing.Namespace, &p.Backend, l, ip.protocol, bt)
	auth, authBroken := t.authFor(ip.auth, p.Path)
	failClosed := ip.failClosed || authBroken
	if failClosed {
		// ingress-nginx's denied location answers 503 before anything
		// else: no redirect, no check is kept around it.
		action = model.Action{Status: http.StatusServiceUnavailable}
	}
	pol := ip.pol
	pol.ExternalAuth = auth
	if failClosed {
		pol = model.Policy{AccessLogOff: ip.pol.AccessLogOff, Tracing: ip.pol.Tracing}
	} else {
		pol.Errors = routeErrors(ip.errors, &p.Backend)
		if action.Backend != "" {
			pol.AffinityCookiePath = t.applyBalance(ref, action.Backend, &ip.balance, p.Path)
		}
	}
	if pol.BasicAuth != nil && t.authExempt(p.Path) {
		pol.BasicAuth = nil
	}
	if pol.OIDC != nil && t.authExempt(p.Path) {
		pol.OIDC = nil
	}
	// A target equal to the path rewrites nothing and, as in
	// ingress-nginx, does not switch the host to regex mode.
	if ip.rewrite != "" && ip.rewrite != p.Path {
		pol.Rewrite = &model.Rewrite{Target: ip.rewrite, ForwardedPrefix: ip.forwardedPrefix}
		hb.regex = true
	}
	if ip.useRegex {
		hb.regex = true
	}
	hb.index[k] = len(hb.routes)
	hb.routes = append(hb.routes, model.Route{
		Name:     "ingress/" + ing.Namespace + "/" + ing.Name + "/rule/" + strconv.Itoa(l.rule) + "/path/" + strconv.Itoa(l.path),
		Source:   ref,
		PathType: typ,
		Path:     path,
		Action:   action,
		Policy:   pol,
	})
	// Whether the host has TLS is known only once every Ingress is read.
	if failClosed {
		hb.redirect = append(hb.redirect, sslFlags{ingressPath: p.Path})
	} else {
		hb.redirect = append(hb.redirect, sslFlags{ingressPath: p.Path, ssl: ip.ssl, force: ip.force})
	}
}

// regexRoutes turns a regex-mode host's routes into regex routes: each
// takes its Ingress path as written, which must compile as a Go regexp
// (RE2). One that does not is a problem on its Ingress and answers 503,
// rather than matching something else or nothing.
func (t *translator) regexRoutes(hb *hostBuilder) {
	for i := range hb.routes {
		r := &hb.routes[i]
		raw := hb.redirect[i].ingressPath
		if raw == "" {
			raw = "/"
		}
		r.Path = raw
		if _, err := regexp.Compile("(?i)^" + raw); err != nil {
			t.problem(r.Source, "", "InvalidRegex",
				"path %q on host %q is a regular expression here (use-regex or rewrite-target on the host), and it is not valid RE2: %v; the path answers 503", raw, hb.name, err)
			r.Action = model.Action{Status: http.StatusServiceUnavailable}
		}
	}
}

// hostHasTLS reports whether a certificate is configured for host, itself
// or through the wildcard of its parent.
func (t *translator) hostHasTLS(host string) bool {
	has := func(h string) bool {
		if t.globalTLS != nil {
			return t.globalTLS[h] > 0
		}
		return t.tlsHosts[h]
	}
	on := has(host)
	if i := strings.IndexByte(host, '.'); !on && i > 0 && !strings.HasPrefix(host, "*.") {
		on = has("*" + host[i:])
	}
	if t.tlsAsked != nil {
		t.tlsAsked[host] = on
	}
	return on
}

func itoa(i int) string { return strconv.Itoa(i) }

// normalizeHost lower-cases a rule host and checks its shape: a DNS name,
// or "*." followed by one (a wildcard matches exactly one label).
func normalizeHost(h string) (string, error) {
	h = strings.ToLower(strings.TrimSpace(h))
	rest := h
	if strings.HasPrefix(h, "*.") {
		rest = h[2:]
	}
	if rest == "" || strings.Contains(rest, "*") {
		return "", fmt.Errorf("a wildcard may only be the whole first label")
	}
	for _, c := range rest {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return "", fmt.Errorf("invalid character %q", c)
		}
	}
	if strings.HasPrefix(rest, ".") || strings.HasSuffix(rest, ".") || strings.Contains(rest, "..") {
		return "", fmt.Errorf("empty label")
	}
	return h, nil
}

func (t *translator) finish() (*model.Model, []model.Problem) {
	setRedirects := func(hb *hostBuilder, hostTLS bool) {
		for i := range hb.routes {
			f := hb.redirect[i]
			hb.routes[i].Policy.HTTPSRedirectCode = t.httpsRedirect(f.ingressPath, hostTLS, f.ssl, f.force)
		}
		if hb.regex {
			t.regexRoutes(hb)
		}
	}
	setRedirects(t.catchAll, false)
	m := &model.Model{CatchAll: t.catchAll.build(), Hosts: make([]*model.VirtualHost, 0, len(t.hosts))}
	m.Hosts = append(m.Hosts, t.resolveNames()...)
	for _, hb := range t.hosts {
		setRedirects(hb, t.hostHasTLS(hb.name))
		h := hb.build()
		m.Hosts = append(m.Hosts, &h)
	}
	slices.SortFunc(m.Hosts, func(a, b *model.VirtualHost) int { return strings.Compare(a.Name, b.Name) })

	t.finishBalance()
	used := make(map[string]bool, len(t.backends))
	markUsed := func(h *model.VirtualHost) {
		if h.Default.Backend != "" {
			used[h.Default.Backend] = true
		}
		for i := range h.Routes {
			if b := h.Routes[i].Action.Backend; b != "" {
				used[b] = true
			}
			if c := h.Routes[i].Policy.Canary; c != nil {
				used[c.Backend] = true
			}
		}
	}
	if !t.foreignCatchAll {
		markUsed(&m.CatchAll)
		markErrorBackends(&m.CatchAll, used)
	}
	for _, h := range m.Hosts {
		markUsed(h)
		markErrorBackends(h, used)
	}
	for host, b := range t.passthrough {
		used[b] = true
		m.Passthrough = append(m.Passthrough, model.Passthrough{Host: host, Backend: b})
	}
	slices.SortFunc(m.Passthrough, func(a, b model.Passthrough) int { return strings.Compare(a.Host, b.Host) })
	for name, b := range t.backends {
		if used[name] {
			m.Backends = append(m.Backends, *b)
		}
	}
	sort.Slice(m.Backends, func(i, j int) bool { return m.Backends[i].Name < m.Backends[j].Name })

	certUsed := map[string]bool{}
	for host, cert := range t.sni {
		if cert == "" {
			continue // the default certificate
		}
		m.SNI = append(m.SNI, model.SNIBinding{Host: host, Certificate: cert})
		certUsed[cert] = true
	}
	sort.Slice(m.SNI, func(i, j int) bool { return m.SNI[i].Host < m.SNI[j].Host })
	for name, c := range t.certs {
		if c.cert != nil && certUsed[name] {
			m.Certificates = append(m.Certificates, *c.cert)
		}
	}
	sort.Slice(m.Certificates, func(i, j int) bool { return m.Certificates[i].Name < m.Certificates[j].Name })

	return m, t.problems
}

// sortProblems orders problems by object, then field.
func sortProblems(ps []model.Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Object != b.Object {
			return a.Object.String() < b.Object.String()
		}
		return a.Field < b.Field
	})
}

// build orders the routes by precedence: Exact before Prefix, longer paths
// before shorter ones.
func (hb *hostBuilder) build() model.VirtualHost {
	vh := model.VirtualHost{Name: hb.name, Default: hb.def, Routes: hb.routes, Regex: hb.regex, AppRoot: hb.appRoot, Aliases: hb.aliases, ClientAuth: hb.buildClientAuth()}
	if hb.regex {
		// ingress-nginx's order for regex locations: longer paths first,
		// then descending by string; the first match wins.
		slices.SortFunc(vh.Routes, func(a, b model.Route) int {
			if len(a.Path) != len(b.Path) {
				return len(b.Path) - len(a.Path)
			}
			if c := strings.Compare(b.Path, a.Path); c != 0 {
				return c
			}
			return strings.Compare(a.Name, b.Name)
		})
		return vh
	}
	slices.SortFunc(vh.Routes, func(a, b model.Route) int {
		if a.PathType != b.PathType {
			if a.PathType == model.PathExact {
				return -1
			}
			return 1
		}
		if len(a.Path) != len(b.Path) {
			return len(b.Path) - len(a.Path)
		}
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return vh
}
