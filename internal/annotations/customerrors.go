package annotations

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// CustomHTTPErrors lists the statuses whose responses are replaced by the
// error backend's answer.
var CustomHTTPErrors = Value[[]int]{
	Key: Key{
		Name: "custom-http-errors", Scope: ScopeLocation, Risk: RiskLow, Support: Differs, ConfigMapKey: "custom-http-errors",
		Doc: "Comma-separated status codes (400 to 599). A response with one of them, from the upstream or from Strait itself (401, 403, 413, 503, ...), " +
			"is replaced by the answer of the error backend (the default-backend annotation's Service, else --default-backend-service, else a 404) " +
			"to a GET / carrying X-Code, X-Format, X-Original-URI, X-Namespace, X-Ingress-Name, X-Service-Name, X-Service-Port and X-Request-ID. " +
			"The annotation replaces the ConfigMap list for the Ingress's paths.",
		Notes: "A malformed list makes the Ingress's paths answer 503 (ingress-nginx rejects the Ingress); spaces around codes and empty entries are accepted, which ingress-nginx refuses. " +
			"The ConfigMap list applies to the paths of Ingresses, not to requests no path matches; WebSocket and other upgrade requests are never intercepted.",
	},
	Parse: ParseStatusList,
}

// DefaultBackend names the Service that answers for an Ingress without
// endpoints and serves its error pages.
var DefaultBackend = Value[string]{
	Key: Key{
		Name: "default-backend", Scope: ScopeLocation, Risk: RiskLow, Support: Supported,
		Doc: "Service of the Ingress's namespace (its first port) that receives the requests of the Ingress's paths while their Service has no endpoints " +
			"(with X-Code: 503 and the other X- headers), and that answers custom-http-errors. While it has no endpoints itself it is ignored.",
		Notes: "An invalid name makes the Ingress's paths answer 503 (ingress-nginx rejects the Ingress); a Service that does not exist is a problem and is ignored.",
	},
	Parse: parseServiceName,
}

// DisableProxyInterceptErrors lets upstream error responses through while
// Strait's own errors are still replaced.
var DisableProxyInterceptErrors = Value[bool]{
	Key: Key{
		Name: "disable-proxy-intercept-errors", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: "false", ConfigMapKey: "disable-proxy-intercept-errors",
		Doc: "Passes the upstream's own error responses to the client unchanged; custom-http-errors still replaces the errors Strait answers itself.",
	},
	Parse: ParseBool,
}

// ParseStatusList accepts a comma-separated list of HTTP statuses from 400
// to 599, spaces around entries and empty entries allowed. The result is
// sorted and without duplicates.
func ParseStatusList(raw string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(raw, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if len(f) != 3 || f[0] < '4' || f[0] > '5' || f[1] < '0' || f[1] > '9' || f[2] < '0' || f[2] > '9' {
			return nil, fmt.Errorf("%q is not a status code between 400 and 599", f)
		}
		out = append(out, int(f[0]-'0')*100+int(f[1]-'0')*10+int(f[2]-'0'))
	}
	if len(out) == 0 {
		return nil, errors.New("no status codes")
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// parseServiceName accepts a Service name: a DNS-1035 label.
func parseServiceName(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	if v == "" {
		return "", errors.New("empty Service name")
	}
	if len(v) > 63 {
		return "", errors.New("a Service name has at most 63 characters")
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' || c == '-':
			if i == 0 {
				return "", errors.New("a Service name starts with a lower-case letter")
			}
		default:
			return "", errors.New("a Service name has only lower-case letters, digits and '-'")
		}
	}
	if v[len(v)-1] == '-' {
		return "", errors.New("a Service name ends with a letter or digit")
	}
	return v, nil
}
