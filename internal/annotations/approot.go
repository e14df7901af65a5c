package annotations

import (
	"errors"
	"strings"
)

// AppRoot redirects a host's root to the application's path.
var AppRoot = Value[string]{
	Key: Key{
		Name: "app-root", Scope: ScopeHost, Risk: RiskMedium, Support: Supported,
		Doc: "Redirects requests for exactly / on the host (302, query dropped) to this path, before any other check; the oldest Ingress of the host that sets it wins.",
	},
	Parse: parseAppRoot,
}

// UpstreamVhost replaces the Host header sent upstream.
var UpstreamVhost = Value[string]{
	Key: Key{
		Name: "upstream-vhost", Scope: ScopeLocation, Risk: RiskLow, Support: Differs,
		Doc:   "Host header sent to the upstream instead of the client's.",
		Notes: "nginx variables ($host and the like) are not expanded: a value with $ is a problem and the client's Host is sent.",
	},
	Parse: parseUpstreamVhost,
}

func parseAppRoot(raw string) (string, error) {
	v, err := parseRewriteTarget(strings.TrimSpace(raw))
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(v, "/") || strings.Contains(v, "$") {
		return "", errors.New("must be a path starting with /, without variables")
	}
	return v, nil
}

// parseUpstreamVhost accepts a host name with an optional port.
func parseUpstreamVhost(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == ':' || c == '_') {
			return "", errors.New("must be a host name, optionally with a port (nginx variables are not expanded)")
		}
	}
	return v, nil
}
