package gatewayapi

import (
	"strconv"
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/straitgw/strait/internal/model"
)

// defaultCORSMaxAge is the API's default of maxAge, in seconds.
const defaultCORSMaxAge = 5

// corsFilter is a CORS filter: origins normalised to lower case with
// their port, methods and header names checked.
func corsFilter(f *gatewayv1.HTTPCORSFilter) (*model.GatewayCORS, *ruleProblem) {
	if f == nil {
		return nil, unsupported("the filter has no configuration")
	}
	c := &model.GatewayCORS{MaxAgeSeconds: defaultCORSMaxAge}
	if f.MaxAge > 0 {
		c.MaxAgeSeconds = f.MaxAge
	} else if f.MaxAge < 0 {
		return nil, unsupported("maxAge %d is negative", f.MaxAge)
	}
	if f.AllowCredentials != nil {
		c.AllowCredentials = *f.AllowCredentials
	}
	for _, o := range f.AllowOrigins {
		n, ok := corsOrigin(string(o))
		if !ok {
			return nil, unsupported("allowOrigins: %q is not \"*\" or scheme://host[:port] with http or https", o)
		}
		c.AllowOrigins = append(c.AllowOrigins, n)
	}
	for _, m := range f.AllowMethods {
		if !isToken(string(m)) {
			return nil, unsupported("allowMethods: %q is not a method", m)
		}
		c.AllowMethods = append(c.AllowMethods, string(m))
	}
	for _, list := range []struct {
		field string
		in    []gatewayv1.HTTPHeaderName
		out   *[]string
	}{{"allowHeaders", f.AllowHeaders, &c.AllowHeaders}, {"exposeHeaders", f.ExposeHeaders, &c.ExposeHeaders}} {
		for _, h := range list.in {
			if !isToken(string(h)) {
				return nil, unsupported("%s: %q is not a header name", list.field, h)
			}
			*list.out = append(*list.out, string(h))
		}
	}
	for _, list := range []struct {
		field string
		v     []string
	}{{"allowOrigins", c.AllowOrigins}, {"allowMethods", c.AllowMethods}, {"allowHeaders", c.AllowHeaders}, {"exposeHeaders", c.ExposeHeaders}} {
		for _, v := range list.v {
			if v == "*" && len(list.v) > 1 {
				return nil, unsupported("%s: \"*\" may not be listed with other values", list.field)
			}
		}
	}
	return c, nil
}

// corsOrigin normalises an allowed origin: "*", or
// "scheme://host:port" in lower case with the scheme's default port
// written; the host may be "*" or start with "*.".
func corsOrigin(o string) (string, bool) {
	if o == "*" {
		return o, true
	}
	scheme, rest, ok := strings.Cut(strings.ToLower(o), "://")
	if !ok || scheme != "http" && scheme != "https" {
		return "", false
	}
	host, port, hasPort := strings.Cut(rest, ":")
	if hasPort {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return "", false
		}
	} else {
		port = "80"
		if scheme == "https" {
			port = "443"
		}
	}
	name := strings.TrimPrefix(host, "*.")
	if host != "*" && !validHostname(name) {
		return "", false
	}
	return scheme + "://" + host + ":" + port, true
}
