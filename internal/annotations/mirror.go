package annotations

import (
	"errors"
	"net/url"
	"strings"
)

// MirrorTarget is the URL that receives a copy of every request.
var MirrorTarget = Value[string]{
	Key: Key{
		Name: "mirror-target", Scope: ScopeLocation, Risk: RiskHigh, Support: Differs,
		Doc:   "URL (http or https, may end in $request_uri, or use $uri, $args, $host, $scheme in its path) that receives a copy of every request to the Ingress's paths; its responses are discarded.",
		Notes: "The copy is sent alongside the proxied request and never delays the answer; ingress-nginx's original request waits for the mirror. Only the variables listed are expanded; any other $ makes the value invalid.",
	},
	Parse: ParseMirrorTarget,
}

// MirrorHost is the Host header of mirrored requests.
var MirrorHost = Value[string]{
	Key: Key{
		Name: "mirror-host", Scope: ScopeLocation, Risk: RiskHigh, Support: Supported,
		Doc: "Host header of the mirrored requests; defaults to the host of mirror-target.",
	},
	Parse: parseHostHeader,
}

// MirrorRequestBody says whether mirrored requests carry the body.
var MirrorRequestBody = Value[bool]{
	Key: Key{
		Name: "mirror-request-body", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: "on",
		Doc: "Whether mirrored requests carry the request body (on or off).",
	},
	Parse: ParseOnOff,
}

// mirrorVars are the variables a mirror target may use.
var mirrorVars = []string{"$request_uri", "$uri", "$args", "$query_string", "$host", "$scheme"}

// mirrorSample is a value variable name may take, substituted to check
// that the target stays a URL with a host once expanded.
func mirrorSample(name string) string {
	switch name {
	case "$host":
		return "h.test"
	case "$scheme":
		return "http"
	case "$args", "$query_string":
		return "q=1"
	}
	return "/x" // $request_uri, $uri
}

// ParseMirrorTarget accepts an absolute http or https URL whose path and
// query may hold the variables of mirrorVars.
func ParseMirrorTarget(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	for _, c := range v {
		if c <= ' ' || c == 0x7f || c == '"' || c == '\'' || c == ';' || c == '{' || c == '}' || c == '#' || c == '\\' {
			return "", errors.New("contains a character not allowed here")
		}
	}
	// Every $ must start a known variable.
	var plain strings.Builder
	for s := v; ; {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			plain.WriteString(s)
			break
		}
		plain.WriteString(s[:i])
		s = s[i:]
		known := false
		for _, name := range mirrorVars {
			if strings.HasPrefix(s, name) && (len(s) == len(name) || !isVarChar(s[len(name)])) {
				known, s = true, s[len(name):]
				plain.WriteString(mirrorSample(name))
				break
			}
		}
		if !known {
			return "", errors.New("may use only the variables $request_uri, $uri, $args, $query_string, $host and $scheme")
		}
	}
	u, err := url.Parse(plain.String())
	if err != nil || !(strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://")) || u.Opaque != "" {
		return "", errors.New("must be an http:// or https:// URL")
	}
	if u.Hostname() == "" || u.User != nil || strings.ContainsAny(u.Host, "@") {
		return "", errors.New("must name a host (without user information)")
	}
	return v, nil
}

// parseHostHeader accepts a host name or address with an optional port.
func parseHostHeader(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]_", c)) {
			return "", errors.New("must be a host name, optionally with a port")
		}
	}
	return v, nil
}
