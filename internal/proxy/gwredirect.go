package proxy

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/straitgw/strait/internal/model"
)

// gatewayRedirect is the Location of a RequestRedirect: the request's
// URL with the parts the filter sets replaced; clean is the path match
// matched, l the listener the request came in by. As the API has it, the
// port is the filter's, else the well-known port of the scheme the
// filter sets, else the listener's; port 80 with http and 443 with https
// are left out.
func gatewayRedirect(r *http.Request, rd *model.GatewayRedirect, clean string, match model.PathMatch, l *model.Listener) string {
	scheme := "http"
	if l.TLS {
		scheme = "https"
	}
	port := int(l.Port)
	if rd.Scheme != "" {
		scheme, port = rd.Scheme, wellKnownPort(rd.Scheme)
	}
	if rd.Port != 0 {
		port = int(rd.Port)
	}
	host := rd.Hostname
	if host == "" {
		host = stripPort(r.Host)
	}
	if port == wellKnownPort(scheme) {
		if strings.IndexByte(host, ':') >= 0 {
			host = "[" + host + "]" // an IPv6 literal
		}
	} else {
		host = net.JoinHostPort(host, strconv.Itoa(port))
	}
	u := url.URL{Scheme: scheme, Host: host, Path: clean, RawQuery: r.URL.RawQuery}
	if rd.Path != nil {
		u.Path = modifyPath(clean, rd.Path, match)
	}
	return u.String()
}

// wellKnownPort is the default port of http and https.
func wellKnownPort(scheme string) int {
	if scheme == "https" {
		return 443
	}
	return 80
}

// modifyPath applies a path modifier to path, which match matched.
func modifyPath(path string, pm *model.PathModifier, match model.PathMatch) string {
	if pm.Type != model.ReplacePrefixMatch {
		return pm.Value
	}
	rest := strings.TrimPrefix(path, strings.TrimSuffix(match.Value, "/"))
	if p := strings.TrimSuffix(pm.Value, "/") + rest; p != "" {
		return p
	}
	return "/"
}
