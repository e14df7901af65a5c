package model

// Policy is what a route does around proxying, from the annotations of
// the Ingress it comes from (and the ConfigMap defaults). The data plane
// applies it in ingress-nginx's phase order: body size, redirect, HTTPS
// redirect, no endpoints (503), deny and allow lists, basic authentication,
// then proxying with
// the timeouts.
type Policy struct {
	// MaxBodyBytes is the largest request body accepted (413 beyond);
	// 0 means no limit.
	MaxBodyBytes int64 `json:"maxBodyBytes"`
	// Redirect, when set, answers every request with a redirect.
	Redirect *Redirect `json:"redirect,omitempty"`
	// HTTPSRedirectCode, when not 0, redirects plain-HTTP requests to
	// HTTPS with this status.
	HTTPSRedirectCode int `json:"httpsRedirectCode,omitempty"`
	// DenySourceRange lists CIDR ranges refused with 403.
	DenySourceRange []string `json:"denySourceRange,omitempty"`
	// AllowSourceRange, when not empty, lists the only CIDR ranges
	// admitted; others get 403.
	AllowSourceRange []string `json:"allowSourceRange,omitempty"`
	// BasicAuth, when set, requires HTTP basic authentication after the
	// deny and allow lists (auth-type: basic).
	BasicAuth *BasicAuth `json:"basicAuth,omitempty"`
	// OIDC, when set, requires an OpenID Connect session after external
	// and basic authentication (strait.dev/oidc-issuer).
	OIDC *OIDC `json:"oidc,omitempty"`
	// Limit, when set, limits the requests of each client IP (limit-rps,
	// limit-rpm, limit-connections); it runs after the redirects and
	// before the deny and allow lists.
	Limit *RateLimit `json:"limit,omitempty"`
	// ResponseHeaders are set on every response (custom-headers), sorted
	// by Name; each replaces the upstream's header of that name, and an
	// empty Value only removes it.
	ResponseHeaders []Header `json:"responseHeaders,omitempty"`
	// CORS, when set, answers preflights and adds CORS headers.
	CORS *CORS `json:"cors,omitempty"`
	// UpstreamHost, when set, is the Host header sent upstream.
	UpstreamHost string `json:"upstreamHost,omitempty"`
	// Rewrite, when set, replaces the URI sent upstream.
	Rewrite *Rewrite `json:"rewrite,omitempty"`
	// ExternalAuth, when set, asks an authentication service about each
	// request in the access phase, after the deny and allow lists.
	ExternalAuth *ExternalAuth `json:"externalAuth,omitempty"`
	// ConnectTimeout, ReadTimeout and SendTimeout are in seconds.
	ConnectTimeout int `json:"connectTimeout"`
	ReadTimeout    int `json:"readTimeout"`
	SendTimeout    int `json:"sendTimeout"`
	// NextUpstream, when set, replaces the default retry policy
	// (proxy-next-upstream "error timeout", 3 tries, no time limit).
	NextUpstream *NextUpstream `json:"nextUpstream,omitempty"`
	// Canary, when set, sends some requests to another backend (a canary
	// Ingress attached to this route).
	Canary *Canary `json:"canary,omitempty"`
	// Errors, when set, sends requests to a fallback backend while the
	// route's has no endpoints (default-backend) and replaces error
	// responses (custom-http-errors).
	Errors *Errors `json:"errors,omitempty"`
	// AffinityCookiePath, when not empty, makes the route set its
	// backend's affinity cookie on responses to requests without a valid
	// one, with this Path unless the cookie names its own. Routes without
	// it honour the cookie but never set it.
	AffinityCookiePath string `json:"affinityCookiePath,omitempty"`
	// Tracing, when set, gives each request a server span
	// (enable-opentelemetry); it takes effect only with Model.Tracing.
	Tracing *RouteTracing `json:"tracing,omitempty"`
	// AccessLogOff leaves the route's requests out of the access log
	// (enable-access-log: "false").
	AccessLogOff bool `json:"accessLogOff,omitempty"`
	// ProxyBufferBytes is proxy-buffer-size when it is not the default
	// 4k (0): upstream response heads up to the larger of it and 32k are
	// accepted.
	ProxyBufferBytes int64 `json:"proxyBufferBytes,omitempty"`
	// Mirror, when set, sends a copy of every proxied request elsewhere
	// (mirror-target).
	Mirror *Mirror `json:"mirror,omitempty"`
	// Plugins run in the route's request phases (plugin.go), the
	// ConfigMap's global ones first.
	Plugins []PluginRef `json:"plugins,omitempty"`
}

// NextUpstream says when a failed try moves on to another endpoint
// (proxy-next-upstream, -tries, -timeout, retry-non-idempotent). A try is
// repeated only before anything was sent to the client.
type NextUpstream struct {
	// On are the conditions, sorted: error, timeout, invalid_header and
	// http_NNN. Empty means never retry ("off").
	On []string `json:"on,omitempty"`
	// NonIdempotent allows repeating POST, LOCK and PATCH requests that
	// reached an upstream.
	NonIdempotent bool `json:"nonIdempotent,omitempty"`
	// Tries caps the tries of one request, the first included; 0 means
	// no cap.
	Tries int `json:"tries"`
	// TimeoutSeconds is how long after the first try a new try may start;
	// 0 means no limit.
	TimeoutSeconds int `json:"timeoutSeconds,omitempty"`
}

// Canary is an alternative backend of a route and the rules that send a
// request to it, checked in order: the header, the cookie, the weight.
type Canary struct {
	// Backend names an entry of Model.Backends.
	Backend string `json:"backend"`
	// Source is the canary Ingress.
	Source ObjectRef `json:"source"`
	// Header names the request header that decides (canary-by-header):
	// HeaderValue exactly, else a HeaderPattern match, else "always" sends
	// the request to the canary, "never" to the primary; other values fall
	// through.
	Header        string `json:"header,omitempty"`
	HeaderValue   string `json:"headerValue,omitempty"`
	HeaderPattern string `json:"headerPattern,omitempty"`
	// Cookie names the cookie whose value "always" or "never" decides.
	Cookie string `json:"cookie,omitempty"`
	// Weight out of WeightTotal (at least 100) is the chance that a
	// request the rules above left undecided goes to the canary.
	Weight      int `json:"weight"`
	WeightTotal int `json:"weightTotal"`
}

// Errors is ingress-nginx's default-backend annotation and custom error
// pages. The error and fallback backends are told about the request with
// X-Code, X-Format, X-Original-URI, X-Namespace, X-Ingress-Name (from the
// route's Source), X-Service-Name and X-Service-Port.
type Errors struct {
	// DefaultBackend names the Model.Backends entry of the default-backend
	// annotation: it receives the route's requests while the route's
	// backend has no endpoints, and is the first choice for error pages.
	// It is skipped while it has no endpoints itself.
	DefaultBackend string `json:"defaultBackend,omitempty"`
	// GlobalBackend names the --default-backend-service backend, the error
	// backend when DefaultBackend is unset or has no endpoints. With
	// neither, intercepted errors become a plain 404.
	GlobalBackend string `json:"globalBackend,omitempty"`
	// Codes are the intercepted statuses (custom-http-errors), sorted.
	Codes []int `json:"codes,omitempty"`
	// UpstreamPassthrough lets the upstream's own responses through
	// unchanged (disable-proxy-intercept-errors); only the errors Strait
	// answers itself are replaced.
	UpstreamPassthrough bool `json:"upstreamPassthrough,omitempty"`
	// ServiceName and ServicePort are the route's Service as the Ingress
	// names it (the port by number or name).
	ServiceName string `json:"serviceName,omitempty"`
	ServicePort string `json:"servicePort,omitempty"`
}

// Mirror is a mirror-target: a copy of each request goes to Target, whose
// answer is discarded.
type Mirror struct {
	// Target is an http or https URL whose path may hold $request_uri,
	// $uri, $args, $query_string, $host and $scheme.
	Target string `json:"target"`
	// Host is the Host header sent; empty means Target's host.
	Host string `json:"host,omitempty"`
	// NoBody leaves the request body out (mirror-request-body off).
	NoBody bool `json:"noBody,omitempty"`
}

// Redirect is a fixed redirect answer.
type Redirect struct {
	// URL goes into the Location header as it is.
	URL string `json:"url"`
	// Code is the 3xx status.
	Code int `json:"code"`
}

// Rewrite replaces the request URI sent upstream (rewrite-target): the
// route's path, as a case-insensitive unanchored regex, is matched against
// the request path, and the whole path becomes Target with $1..$9 expanded
// from the match. The query string is kept.
type Rewrite struct {
	Target string `json:"target"`
	// ForwardedPrefix is sent as X-Forwarded-Prefix when the rewrite
	// happens (x-forwarded-prefix), with $1..$9 expanded too.
	ForwardedPrefix string `json:"forwardedPrefix,omitempty"`
}

// CORS is ingress-nginx's CORS handling (enable-cors and cors-*).
type CORS struct {
	// AllowOrigins are lower-case origins ("scheme://host[:port]", with
	// "*." for one label, or "null"); empty allows every origin ("*").
	AllowOrigins     []string `json:"allowOrigins,omitempty"`
	AllowMethods     string   `json:"allowMethods"`
	AllowHeaders     string   `json:"allowHeaders"`
	ExposeHeaders    string   `json:"exposeHeaders,omitempty"`
	AllowCredentials bool     `json:"allowCredentials"`
	MaxAge           int      `json:"maxAge"`
}

// ExternalAuth is ingress-nginx's external authentication (auth-url and
// auth-*, or the ConfigMap's global-auth-*): a request to URL per client
// request, whose answer lets the request through (2xx), is returned (401,
// 403) or fails it (500).
type ExternalAuth struct {
	// URL is the auth service's URL, a template expanded per request.
	URL []TemplatePart `json:"url"`
	// Method of the auth request; "" means GET.
	Method string `json:"method,omitempty"`
	// SignIn, when set, turns a 401 into a 302 to this URL (a template),
	// carrying the original URL in the SignInRedirectParam parameter.
	SignIn              []TemplatePart `json:"signIn,omitempty"`
	SignInRedirectParam string         `json:"signInRedirectParam,omitempty"`
	// ResponseHeaders are canonical header names copied from the auth
	// response into the upstream request (a client's own are removed).
	ResponseHeaders []string `json:"responseHeaders,omitempty"`
	// RequestRedirect is the X-Auth-Request-Redirect value; "" means the
	// request URI.
	RequestRedirect string `json:"requestRedirect,omitempty"`
	// AlwaysSetCookie passes the auth Set-Cookie on every response, not
	// only 2xx and 3xx ones.
	AlwaysSetCookie bool `json:"alwaysSetCookie,omitempty"`
}

// TemplatePart is literal text or one variable of a URL template.
type TemplatePart struct {
	// Text is literal text.
	Text string `json:"text,omitempty"`
	// Var names an nginx variable: scheme, host, http_host, request_uri,
	// escaped_request_uri, remote_addr, request_method or args.
	Var string `json:"var,omitempty"`
}

// RateLimit is ingress-nginx's per-client limiting of one Ingress: leaky
// buckets of requests per second and per minute (burst RPS×Multiplier and
// RPM×Multiplier, excess requests rejected at once) and a cap on
// concurrent requests, per client IP.
type RateLimit struct {
	// Zone identifies the Ingress ("namespace/name/uid"): every route of
	// the Ingress shares its counters, which outlive generations.
	Zone string `json:"zone"`
	// RPS and RPM are the request rates; 0 is unlimited.
	RPS int `json:"rps,omitempty"`
	RPM int `json:"rpm,omitempty"`
	// Multiplier scales the burst of RPS and RPM (default 5).
	Multiplier int `json:"multiplier,omitempty"`
	// Connections caps concurrent requests; 0 is unlimited.
	Connections int `json:"connections,omitempty"`
	// Allow lists CIDR ranges that are not limited.
	Allow []string `json:"allow,omitempty"`
	// RequestStatus answers requests over RPS or RPM
	// (limit-req-status-code, default 503); ConnectionStatus those over
	// Connections (limit-conn-status-code, default 503).
	RequestStatus    int `json:"requestStatus"`
	ConnectionStatus int `json:"connectionStatus"`
}
