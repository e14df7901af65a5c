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
