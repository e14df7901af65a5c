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
// matched.
func gatewayRedirect(r *http.Request, rd *model.GatewayRedirect, clean string, match model.PathMatch, scheme string) string {
	u := url.URL{Scheme: scheme, Host: stripPort(r.Host), Path: clean, RawQuery: r.URL.RawQuery}
	port := ""
	if _, p, err := net.SplitHostPort(r.Host); err == nil {
		port = p
	}
	if rd.Scheme != "" && rd.Scheme != scheme {
		u.Scheme, port = rd.Scheme, "" // the new scheme's default port
	}
	if rd.Hostname != "" {
		u.Host = rd.Hostname
	}
	if rd.Port != 0 {
		port = strconv.Itoa(int(rd.Port))
	}
	if port == "80" && u.Scheme == "http" || port == "443" && u.Scheme == "https" {
		port = ""
	}
	if port != "" {
		u.Host = net.JoinHostPort(u.Host, port)
	}
	if rd.Path != nil {
		u.Path = modifyPath(u.Path, rd.Path, match)
	}
	return u.String()
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
