package translate

import (
	"errors"
	"net/netip"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
)

// settings are the controller-wide defaults from the ConfigMap, each
// falling back to ingress-nginx's default.
type settings struct {
	sslRedirect, forceSSLRedirect bool
	httpRedirectCode              int
	noTLSRedirectLocations        []string
	bodySize                      int64
	connect, read, send           int
	allow, deny                   []netip.Prefix
	// failClosed is set when a global access list is malformed or a
	// global plugin cannot run.
	failClosed bool
	// plugins are the ConfigMap's plugins (plugins.go).
	plugins []model.PluginRef
	// hsts is the Strict-Transport-Security value, "" for none.
	hsts string
	// forwarding is the trust in forwarded headers.
	forwarding model.Forwarding
	// auth is global-auth-* and no-auth-locations.
	auth globalAuth
	// nextUpstream is the retry policy; retryNonIdempotent adds
	// non_idempotent to every proxy-next-upstream annotation.
	nextUpstream       model.NextUpstream
	retryNonIdempotent bool
	// crossNamespace lets annotations name Secrets of other namespaces
	// (allow-cross-namespace-resources).
	crossNamespace bool
	// customErrors and interceptPassthrough are custom-http-errors and
	// disable-proxy-intercept-errors.
	customErrors         []int
	interceptPassthrough bool
	// limitReqStatus and limitConnStatus answer requests over a limit.
	limitReqStatus, limitConnStatus int
	// headers are the global header settings.
	headers model.Headers
	// allowedResponseHeaders are the lower-case names custom-headers may
	// set (global-allowed-response-headers).
	allowedResponseHeaders map[string]bool
	// balance are the backend-selection defaults.
	balance balanceSettings
	// tls are the TLS features' keys.
	tls tlsSettings
	// http2 offers HTTP/2 to TLS clients (use-http2).
	http2 bool
	// accessLog is the access log's configuration.
	accessLog model.AccessLog
	// client holds the limits on client connections.
	client model.Client
	// upstream holds the upstream keep-alive settings.
	upstream model.Upstream
	// gzip is response compression; nil when off.
	gzip *model.Gzip
	// proxyProtocol is use-proxy-protocol, proxyProtocolTimeout
	// proxy-protocol-header-timeout in seconds (0: the default).
	proxyProtocol        bool
	proxyProtocolTimeout int
	// proxyBufferSize is the ConfigMap's proxy-buffer-size.
	proxyBufferSize int64
	// tracing are the OpenTelemetry keys.
	tracing tracingSettings
}

// Defaults not carried by an annotation's Key.
const (
	defaultHTTPRedirectCode      = 308
	defaultNoTLSRedirectLocation = "/.well-known/acme-challenge"
)

// readSettings parses the controller ConfigMap. A malformed value is a
// problem on the ConfigMap and leaves that setting at its default.
func (t *translator) readSettings(name string) settings {
	st := settings{httpRedirectCode: defaultHTTPRedirectCode, noTLSRedirectLocations: []string{defaultNoTLSRedirectLocation}}
	var data map[string]string
	var ref model.ObjectRef
	if ns, n, ok := strings.Cut(name, "/"); ok {
		ref = model.ObjectRef{Kind: "ConfigMap", Namespace: ns, Name: n}
		if cm := t.configMap(ns, n); cm != nil {
			data = cm.Data
		}
	}
	st.sslRedirect = configDefault(t, ref, data, &annotations.SSLRedirect)
	st.forceSSLRedirect = configDefault(t, ref, data, &annotations.ForceSSLRedirect)
	st.bodySize = configDefault(t, ref, data, &annotations.ProxyBodySize)
	st.connect = configDefault(t, ref, data, &annotations.ProxyConnectTimeout)
	st.read = configDefault(t, ref, data, &annotations.ProxyReadTimeout)
	st.send = configDefault(t, ref, data, &annotations.ProxySendTimeout)
	if v, ok := data["http-redirect-code"]; ok {
		switch v {
		case "301", "302", "307", "308":
			st.httpRedirectCode = int(v[2]-'0') + 300
		default:
			t.problem(ref, "data.http-redirect-code", "InvalidConfiguration", "http-redirect-code %q must be 301, 302, 307 or 308; using 308", v)
		}
	}
	st.hsts = t.readHSTS(ref, data)
	st.nextUpstream, st.retryNonIdempotent = t.readNextUpstream(ref, data)
	st.forwarding = t.readForwarding(ref, data)
	st.auth = t.readGlobalAuth(ref, data)
	st.crossNamespace = t.configBool(ref, data, "allow-cross-namespace-resources", false)
	st.customErrors, st.interceptPassthrough = t.readErrorSettings(ref, data)
	st.limitReqStatus = t.readLimitStatus(ref, data, "limit-req-status-code")
	st.limitConnStatus = t.readLimitStatus(ref, data, "limit-conn-status-code")
	st.headers = t.readHeaders(ref, data)
	st.allowedResponseHeaders = map[string]bool{}
	if v, ok := data["global-allowed-response-headers"]; ok {
		names, _ := annotations.ParseList(v)
		for _, n := range names {
			st.allowedResponseHeaders[strings.ToLower(n)] = true
		}
	}
	st.balance = t.readBalanceDefaults(ref, data)
	st.tls = t.readTLSSettings(ref, data)
	st.http2 = t.configBool(ref, data, "use-http2", true)
	st.accessLog = t.readAccessLog(ref, data)
	st.tracing = t.readTracing(ref, data)
	if refs, closed := t.globalPlugins(ref, data); closed {
		st.failClosed = true
	} else {
		st.plugins = refs
	}
	st.client = t.readClient(ref, data)
	st.upstream = t.readKeepAlive(ref, data, &st.client)
	t.readConnLimits(ref, data, &st.client)
	st.gzip = t.readGzip(ref, data)
	st.proxyProtocol = t.configBool(ref, data, "use-proxy-protocol", false)
	if v, ok := data["proxy-protocol-header-timeout"]; ok {
		n, err := annotations.ParseNginxDuration(v)
		if err == nil && n < 1 {
			err = errors.New("must be at least 1s")
		}
		if err != nil {
			t.problem(ref, "data.proxy-protocol-header-timeout", "InvalidConfiguration", "proxy-protocol-header-timeout %q: %v; using 5s", v, err)
		} else if n != 5 {
			st.proxyProtocolTimeout = n
		}
	}
	st.proxyBufferSize = configDefault(t, ref, data, &annotations.ProxyBufferSize)
	if v, ok := data["no-tls-redirect-locations"]; ok {
		st.noTLSRedirectLocations, _ = annotations.ParseList(v)
	}
	for _, cidr := range []struct {
		key string
		dst *[]netip.Prefix
	}{{"whitelist-source-range", &st.allow}, {"denylist-source-range", &st.deny}} {
		if v := strings.TrimSpace(data[cidr.key]); v != "" {
			p, err := annotations.ParseCIDRs(v)
			if err != nil {
				// A global access list that cannot be read must not open
				// everything: deny all until it is fixed.
				t.problem(ref, "data."+cidr.key, "InvalidConfiguration", "%s %q: %v; every Ingress path answers 503 until it is fixed (default backends are not affected)", cidr.key, v, err)
				p = []netip.Prefix{}
				st.failClosed = true
			}
			*cidr.dst = p
		}
	}
	return st
}

// configDefault parses a ConfigMap key with the annotation's parser, or
// the annotation's documented default.
func configDefault[T any](t *translator, ref model.ObjectRef, data map[string]string, v *annotations.Value[T]) T {
	if v.ConfigMapKey != "" {
		val, ok, err := (&annotations.Value[T]{Key: annotations.Key{Name: v.ConfigMapKey}, Parse: v.Parse}).Lookup(data, "")
		if err == nil && ok {
			return val
		}
		if err != nil {
			t.problem(ref, "data."+v.ConfigMapKey, "InvalidConfiguration", "%v; using the default %q", err, v.Default)
		}
	}
	val, err := v.Parse(v.Default)
	if err != nil {
		// The registry's own default must parse; a test guards it.
		panic(v.Name + ": default does not parse: " + err.Error())
	}
	return val
}

// ingressPolicy reads the location annotations of an Ingress. failClosed
// reports an invalid value that must not be served around (a redirect or
// an access list): the Ingress's paths then answer 503.
func (t *translator) ingressPolicy(ing *networkingv1.Ingress, ref model.ObjectRef) (ip ingressPolicy) {
	a := ing.Annotations
	pol := &ip.pol
	st := &t.settings
	bad := func(err error, what string) {
		t.problem(ref, "metadata.annotations", annotationReason(err), "%v; %s", err, what)
	}
	lookup := func(v *annotations.Value[int], def int) int {
		n, ok, err := v.Lookup(a, annotations.Prefix)
		if err != nil {
			bad(err, "using the default "+itoa(def))
			return def
		}
		if !ok {
			return def
		}
		return n
	}
	pol.ConnectTimeout = lookup(&annotations.ProxyConnectTimeout, st.connect)
	pol.ReadTimeout = lookup(&annotations.ProxyReadTimeout, st.read)
	pol.SendTimeout = lookup(&annotations.ProxySendTimeout, st.send)

	pol.MaxBodyBytes = st.bodySize
	read(a, &annotations.ProxyBodySize, &pol.MaxBodyBytes, bad, "using the default")
	ip.ssl, ip.force = st.sslRedirect, st.forceSSLRedirect
	read(a, &annotations.SSLRedirect, &ip.ssl, bad, "using the default")
	read(a, &annotations.ForceSSLRedirect, &ip.force, bad, "using the default")
	pol.CORS = t.cors(a, bad)
	pol.NextUpstream = t.nextUpstream(a, bad)
	read(a, &annotations.UpstreamVhost, &pol.UpstreamHost, bad, "the client's Host is sent")
	read(a, &annotations.AppRoot, &ip.appRoot, bad, "no app-root redirect")
	read(a, &annotations.UseRegex, &ip.useRegex, bad, "using the default (false)")
	logged := true
	read(a, &annotations.EnableAccessLog, &logged, bad, "requests are logged")
	pol.AccessLogOff = !logged
	pol.Tracing = t.routeTracing(a, bad)
	t.bufferPolicy(a, pol, bad)
	pol.Mirror = mirrorPolicy(a, bad)
	ip.protocol = model.ProtocolHTTP
	proto := string(ip.protocol)
	// Speaking HTTP to a gRPC or TLS upstream would fail in confusing
	// ways: fail closed and say why.
	if read(a, &annotations.BackendProtocol, &proto, bad, "the Ingress's paths answer 503 until it is changed") {
		ip.failClosed = true
	}
	ip.protocol = model.Protocol(proto)
	if ip.inheritsProxySSL() {
		// As in nginx, proxy-ssl-* only matter where TLS is spoken.
		var fail bool
		if ip.backendTLS, fail = t.proxySSL(ing, bad); fail {
			ip.failClosed = true
		}
	}
	ip.clientAuth = t.clientAuth(ing, bad)
	// Proxying to the unrewritten path would reach the wrong upstream
	// resource: fail closed instead.
	if read(a, &annotations.RewriteTarget, &ip.rewrite, bad, "the Ingress's paths answer 503 until it is fixed") {
		ip.failClosed = true
	}
	if ip.rewrite != "" {
		read(a, &annotations.XForwardedPrefix, &ip.forwardedPrefix, bad, "X-Forwarded-Prefix is not sent")
	}

	// temporal-redirect wins over permanent-redirect.
	for _, r := range []struct {
		url  *annotations.Value[string]
		code *annotations.Value[int]
		def  int
	}{{&annotations.TemporalRedirect, &annotations.TemporalRedirectCode, 302}, {&annotations.PermanentRedirect, &annotations.PermanentRedirectCode, 301}} {
		u, ok, err := r.url.Lookup(a, annotations.Prefix)
		if err != nil {
			bad(err, "the Ingress's paths answer 503 until it is fixed")
			ip.failClosed = true
			break
		}
		if !ok {
			continue
		}
		code := lookup(r.code, r.def)
		pol.Redirect = &model.Redirect{URL: u, Code: code}
		break
	}

	if h, closed := t.customHeaders(ing, bad); closed {
		ip.failClosed = true
	} else {
		pol.ResponseHeaders = h
	}
	if lim, closed := t.rateLimit(ing, bad); closed {
		ip.failClosed = true
	} else {
		pol.Limit = lim
	}
	if st.failClosed {
		ip.failClosed = true
	}
	if refs, closed := t.routePlugins(ref, a); closed {
		ip.failClosed = true
	} else {
		pol.Plugins = refs
	}
	if e, closed := t.errorsPolicy(ing, ref, bad); closed {
		ip.failClosed = true
	} else {
		ip.errors = e
	}
	if t.hostPolicy(&ip, a, bad) {
		ip.failClosed = true
	}
	var authClosed bool
	if ip.auth, authClosed = t.ingressAuth(a, bad); authClosed {
		ip.failClosed = true
	}
	for _, l := range []struct {
		v   *annotations.Value[[]netip.Prefix]
		dst *[]string
		def []netip.Prefix
	}{{&annotations.DenylistSourceRange, &pol.DenySourceRange, st.deny}, {&annotations.AllowlistSourceRange, &pol.AllowSourceRange, st.allow}} {
		p, ok, err := l.v.Lookup(a, annotations.Prefix)
		if err != nil {
			bad(err, "the Ingress's paths answer 503 until it is fixed")
			ip.failClosed = true
			continue
		}
		if !ok {
			p = l.def
		}
		for _, x := range p {
			*l.dst = append(*l.dst, x.String())
		}
	}
	if ba, closed := t.basicAuth(ing, ref, a, bad); closed {
		ip.failClosed = true
	} else {
		pol.BasicAuth = ba
	}
	if o, closed := t.oidcPolicy(ing, ref, a, bad); closed {
		ip.failClosed = true
	} else {
		pol.OIDC = o
	}
	if bal, closed := t.ingressBalance(a, ip.useRegex, bad); closed {
		ip.failClosed = true
	} else {
		ip.balance = bal
	}
	t.snippets(a, ref)
	return ip
}

// read sets *dst from an annotation when it is present and valid. A
// malformed value is reported, saying what happens instead (instead), and
// leaves *dst unchanged; read then returns true.
func read[T any](a map[string]string, v *annotations.Value[T], dst *T, bad func(error, string), instead string) (malformed bool) {
	val, ok, err := v.Lookup(a, annotations.Prefix)
	if err != nil {
		bad(err, instead)
		return true
	}
	if ok {
		*dst = val
	}
	return false
}

// configBool reads a boolean ConfigMap key; a malformed value is a problem
// on the ConfigMap and gives def.
func (t *translator) configBool(ref model.ObjectRef, data map[string]string, k string, def bool) bool {
	v, ok := data[k]
	if !ok {
		return def
	}
	b, err := annotations.ParseBool(v)
	if err != nil {
		t.problem(ref, "data."+k, "InvalidConfiguration", "%s %q is not a boolean; using %v", k, v, def)
		return def
	}
	return b
}

// snippets reports snippet annotations, which Strait never interprets, and
// annotations it does not implement or does not know.
func (t *translator) snippets(a map[string]string, ref model.ObjectRef) {
	t.loadCatalogue()
	for k := range a {
		name, ok := strings.CutPrefix(k, annotations.Prefix)
		if !ok {
			continue
		}
		if !strings.HasSuffix(name, "-snippet") {
			key, known := t.catalogue[name]
			switch {
			case !known:
				// Rare, so the registry is read again for the hint.
				hint := ""
				if s := annotations.All().Suggest(name); s != "" {
					hint = " (" + s + ")"
				}
				t.problem(ref, "metadata.annotations["+k+"]", "UnknownAnnotation", "%s is not an ingress-nginx annotation Strait knows; it has no effect%s", k, hint)
			case key.Support == annotations.Unsupported:
				t.problem(ref, "metadata.annotations["+k+"]", "UnsupportedAnnotation", "%s is not supported by Strait yet and has no effect (see docs/annotations.md)", k)
			}
			continue
		}
		allowed := "allow-snippet-annotations is false, so it is dropped"
		if t.gate.allowSnippets {
			allowed = "Strait never interprets snippets, even with allow-snippet-annotations"
		}
		t.problem(ref, "metadata.annotations["+k+"]", "SnippetNotSupported",
			"%s is raw nginx configuration: "+allowed+"; the rest of the Ingress is served. Use typed annotations instead: custom-headers or add-headers for response headers, permanent-redirect or temporal-redirect for redirects, allowlist-source-range or denylist-source-range for access rules", k)
	}
}

// httpsRedirect decides a route's HTTPS redirect: ssl-redirect when the host
// has TLS, force-ssl-redirect regardless, never for paths under
// no-tls-redirect-locations (matched against the Ingress path, as
// ingress-nginx does).
func (t *translator) httpsRedirect(path string, hostTLS, ssl, force bool) int {
	if !(force || (ssl && hostTLS)) {
		return 0
	}
	for _, p := range t.settings.noTLSRedirectLocations {
		if strings.HasPrefix(path, p) {
			return 0
		}
	}
	return t.settings.httpRedirectCode
}

// readHSTS builds the Strict-Transport-Security value from the hsts keys:
// on by default, max-age one year, includeSubDomains, no preload.
func (t *translator) readHSTS(ref model.ObjectRef, data map[string]string) string {
	if !t.configBool(ref, data, "hsts", true) {
		return ""
	}
	age := 31536000
	if v, ok := data["hsts-max-age"]; ok {
		n, err := annotations.ParseSeconds(v)
		if err != nil {
			t.problem(ref, "data.hsts-max-age", "InvalidConfiguration", "hsts-max-age %q: %v; using 31536000", v, err)
		} else {
			age = n
		}
	}
	out := "max-age=" + itoa(age)
	if t.configBool(ref, data, "hsts-include-subdomains", true) {
		out += "; includeSubDomains"
	}
	if t.configBool(ref, data, "hsts-preload", false) {
		out += "; preload"
	}
	return out
}

// readForwarding reads the keys that decide which forwarded headers are
// trusted. Without use-forwarded-headers or enable-real-ip nothing is.
func (t *translator) readForwarding(ref model.ObjectRef, data map[string]string) model.Forwarding {
	f := model.Forwarding{
		UseForwardedHeaders:     t.configBool(ref, data, "use-forwarded-headers", false),
		ComputeFullForwardedFor: t.configBool(ref, data, "compute-full-forwarded-for", false),
		EnableRealIP:            t.configBool(ref, data, "enable-real-ip", false),
		RealIPHeader:            "X-Forwarded-For",
		TrustedCIDRs:            []string{"0.0.0.0/0"},
	}
	if v := strings.TrimSpace(data["forwarded-for-header"]); v != "" {
		f.RealIPHeader = v
	}
	if v := strings.TrimSpace(data["proxy-real-ip-cidr"]); v != "" {
		p, err := annotations.ParseCIDRs(v)
		if err != nil {
			// Trusting nobody is the safe reading of a list that cannot be
			// read: client addresses are then the peers'.
			t.problem(ref, "data.proxy-real-ip-cidr", "InvalidConfiguration", "proxy-real-ip-cidr %q: %v; no proxy is trusted", v, err)
			f.TrustedCIDRs = nil
		} else {
			f.TrustedCIDRs = f.TrustedCIDRs[:0]
			for _, x := range p {
				f.TrustedCIDRs = append(f.TrustedCIDRs, x.String())
			}
		}
	}
	if !f.UseForwardedHeaders && !f.EnableRealIP {
		return model.Forwarding{}
	}
	return f
}

// cors reads enable-cors and the cors-* annotations; a malformed value is
// reported and its default used, as ingress-nginx does.
func (t *translator) cors(a map[string]string, bad func(error, string)) *model.CORS {
	on, ok, err := annotations.EnableCORS.Lookup(a, annotations.Prefix)
	if err != nil {
		bad(err, "CORS stays off")
		return nil
	}
	if !ok || !on {
		return nil
	}
	c := &model.CORS{}
	str := func(v *annotations.Value[string]) string {
		s, ok, err := v.Lookup(a, annotations.Prefix)
		if err != nil {
			bad(err, "using the default "+v.Default)
		}
		if err != nil || !ok {
			s, _ = v.Parse(v.Default)
		}
		return s
	}
	c.AllowMethods = str(&annotations.CORSAllowMethods)
	c.AllowHeaders = str(&annotations.CORSAllowHeaders)
	c.ExposeHeaders = str(&annotations.CORSExposeHeaders)
	if o, ok, err := annotations.CORSAllowOrigin.Lookup(a, annotations.Prefix); err != nil {
		bad(err, "allowing every origin (*), the default")
	} else if ok {
		c.AllowOrigins = o
	}
	c.AllowCredentials = true
	if v, ok, err := annotations.CORSAllowCredentials.Lookup(a, annotations.Prefix); err != nil {
		bad(err, "using the default true")
	} else if ok {
		c.AllowCredentials = v
	}
	c.MaxAge = 1728000
	if v, ok, err := annotations.CORSMaxAge.Lookup(a, annotations.Prefix); err != nil {
		bad(err, "using the default 1728000")
	} else if ok {
		c.MaxAge = v
	}
	return c
}
