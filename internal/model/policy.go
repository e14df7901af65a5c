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
	// ConnectTimeout, ReadTimeout and SendTimeout are in seconds.
	ConnectTimeout int `json:"connectTimeout"`
	ReadTimeout    int `json:"readTimeout"`
	SendTimeout    int `json:"sendTimeout"`
}

// Redirect is a fixed redirect answer.
type Redirect struct {
	// URL goes into the Location header as it is.
	URL string `json:"url"`
	// Code is the 3xx status.
	Code int `json:"code"`
}
