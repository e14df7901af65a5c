package proxy

import (
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/straitgw/strait/internal/model"
)

// routePolicy is a compiled model.Policy: the checks made before a request
// is proxied, in ingress-nginx's phase order.
type routePolicy struct {
	maxBody      int64
	redirectURL  string
	redirectCode int
	httpsCode    int
	deny, allow  []netip.Prefix
	cors         *corsRule
	extAuth      *extAuth    // auth-url; nil for none
	basic        *basicAuth  // nil without auth-type basic
	oidc         *oidcAuth   // nil without strait.dev/oidc-issuer
	limit        *routeLimit // rate and connection limits; nil for none
	// respHeaders are set on every response (custom-headers); respNames
	// are their lower-case names, whose upstream values are dropped.
	respHeaders []model.Header
	respNames   map[string]bool
}

// compilePolicy returns nil when the policy checks nothing, so that plain
// routes pay nothing per request.
func compilePolicy(p *model.Policy) *routePolicy {
	rp := &routePolicy{maxBody: p.MaxBodyBytes, httpsCode: p.HTTPSRedirectCode}
	if p.Redirect != nil {
		rp.redirectURL, rp.redirectCode = p.Redirect.URL, p.Redirect.Code
	}
	rp.deny = prefixes(p.DenySourceRange)
	rp.allow = prefixes(p.AllowSourceRange)
	rp.cors = compileCORS(p.CORS)
	rp.extAuth = compileExtAuth(p.ExternalAuth)
	rp.basic = compileBasicAuth(p.BasicAuth)
	rp.oidc = compileOIDC(p.OIDC)
	rp.limit = compileLimit(p.Limit)
	if len(p.ResponseHeaders) > 0 {
		rp.respHeaders, rp.respNames = p.ResponseHeaders, map[string]bool{}
		for _, h := range p.ResponseHeaders {
			rp.respNames[strings.ToLower(h.Name)] = true
		}
	}
	if rp.maxBody == 0 && rp.redirectCode == 0 && rp.httpsCode == 0 && rp.deny == nil && rp.allow == nil && rp.cors == nil &&
		rp.extAuth == nil && rp.basic == nil && rp.oidc == nil && rp.limit == nil && rp.respHeaders == nil {
		return nil
	}
	return rp
}

func prefixes(list []string) []netip.Prefix {
	if list == nil {
		return nil
	}
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		// translate wrote these from parsed prefixes; an entry that does
		// not parse matches nothing, which for an allow list denies.
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// policyTimeouts converts the route's timeouts, keeping the proxy's
// defaults for those not set.
func policyTimeouts(p *model.Policy, def Timeouts) Timeouts {
	to := def
	if p.ConnectTimeout > 0 {
		to.Connect = time.Duration(p.ConnectTimeout) * time.Second
	}
	if p.ReadTimeout > 0 {
		to.Read = time.Duration(p.ReadTimeout) * time.Second
	}
	if p.SendTimeout > 0 {
		to.Send = time.Duration(p.SendTimeout) * time.Second
	}
	return to
}

// verdict is the outcome of the checks: 0 to proxy, else a status to
// answer with and, for redirects, the Location.
type verdict struct {
	status   int
	location string
	// preflight marks a CORS preflight answer: 204 with the CORS headers.
	preflight bool
}

// request is what the checks need to know of a request, from either HTTP
// engine.
type request struct {
	https         bool
	host          string // Host header, possibly with a port
	uri           string // origin-form request target
	remoteIP      string
	contentLength int64 // -1 when unknown
	method        string
	origin        string // the Origin header
}

// check applies the checks that come before the upstream is looked at, in
// ingress-nginx's order: body size (nginx checks it when selecting the
// location), the configured redirect, then the HTTPS redirect.
func (rp *routePolicy) check(r *request) verdict {
	if rp.maxBody > 0 && r.contentLength > rp.maxBody {
		return verdict{status: http.StatusRequestEntityTooLarge}
	}
	// A CORS preflight is answered in nginx's rewrite phase, before the
	// redirects: every OPTIONS with origin *, else one from an allowed
	// origin (others go upstream).
	if rp.cors != nil && r.method == http.MethodOptions && rp.cors.allowOrigin(r.origin) != "" {
		return verdict{status: http.StatusNoContent, preflight: true}
	}
	if rp.redirectCode != 0 {
		return verdict{status: rp.redirectCode, location: rp.redirectURL}
	}
	if rp.httpsCode != 0 && !r.https {
		return verdict{status: rp.httpsCode, location: httpsLocation(r.host, r.uri)}
	}
	return verdict{}
}

// access applies the deny and allow lists, which nginx checks in its
// access phase: after the 503 for a backend without endpoints.
func (rp *routePolicy) access(r *request) verdict {
	if rp.deny != nil || rp.allow != nil {
		ip, err := netip.ParseAddr(r.remoteIP)
		if err != nil {
			return verdict{status: http.StatusForbidden}
		}
		ip = ip.Unmap()
		for _, p := range rp.deny {
			if p.Contains(ip) {
				return verdict{status: http.StatusForbidden}
			}
		}
		if rp.allow != nil {
			for _, p := range rp.allow {
				if p.Contains(ip) {
					return verdict{}
				}
			}
			return verdict{status: http.StatusForbidden}
		}
	}
	return verdict{}
}

// httpsLocation is ingress-nginx's HTTPS redirect target: the host without
// its port, the request URI with one trailing slash removed.
func httpsLocation(host, uri string) string {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		host = host[:i]
	}
	uri = strings.TrimSuffix(uri, "/")
	return "https://" + host + uri
}
