package model

// Policy is what a route does around proxying, from the annotations of
// the Ingress it comes from (and the ConfigMap defaults). The data plane
// applies it in ingress-nginx's phase order: body size, redirect, HTTPS
// redirect, no endpoints (503), deny and allow lists, then proxying with
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
	// CORS, when set, answers preflights and adds CORS headers.
	CORS *CORS `json:"cors,omitempty"`
	// UpstreamHost, when set, is the Host header sent upstream.
	UpstreamHost string `json:"upstreamHost,omitempty"`
	// Rewrite, when set, replaces the URI sent upstream.
	Rewrite *Rewrite `json:"rewrite,omitempty"`
	// ConnectTimeout, ReadTimeout and SendTimeout are in seconds.
	ConnectTimeout int `json:"connectTimeout"`
	ReadTimeout    int `json:"readTimeout"`
	SendTimeout    int `json:"sendTimeout"`
	// Errors, when set, sends requests to a fallback backend while the
	// route's has no endpoints (default-backend) and replaces error
	// responses (custom-http-errors).
	Errors *Errors `json:"errors,omitempty"`
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
