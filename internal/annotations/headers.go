package annotations

import (
	"errors"
	"fmt"
	"net/textproto"
	"slices"
	"strings"
)

// CustomHeaders names the ConfigMap of response headers of an Ingress.
var CustomHeaders = Value[string]{
	Key: Key{
		Name: "custom-headers", Scope: ScopeLocation, Risk: RiskMedium, Support: Differs,
		Doc: "ConfigMap (namespace/name) whose entries are set as response headers on every response of the Ingress's paths, replacing the upstream's; every name must be listed in the ConfigMap key global-allowed-response-headers.",
		Notes: "As in ingress-nginx, a missing ConfigMap or a header not allowed makes the paths answer 503. Strait also answers 503 for an entry it refuses: an invalid name or value, an nginx variable ($name) or a header the proxy writes itself. " +
			"A ConfigMap in another namespace is refused (503) whatever allow-cross-namespace-resources says. The allow list is compared without regard to case.",
	},
	Parse: parseConfigMapRef,
}

// parseConfigMapRef accepts "namespace/name".
func parseConfigMapRef(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	ns, name, ok := strings.Cut(v, "/")
	if !ok || !dnsName(ns) || !dnsName(name) {
		return "", errors.New("not namespace/name")
	}
	return v, nil
}

// dnsName reports whether s is a plausible Kubernetes object name.
func dnsName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// ParseCustomHeader checks one entry of a custom-headers ConfigMap: a
// response header whose name has only letters, digits, "-" and "_", as
// ingress-nginx requires.
func ParseCustomHeader(name, value string) (Header, error) {
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return Header{}, errors.New("the header name may contain only letters, digits, - and _")
		}
	}
	return ParseResponseHeader(name, value)
}

// Header is one header entry of a ConfigMap that proxy-set-headers or
// add-headers names: a canonical name and its value.
type Header struct {
	Name string `json:"name"`
	// Value is the value as written, trimmed.
	Value string `json:"value"`
	// Parts, set only when the value uses variables, are its literal
	// text and variables in order.
	Parts []ValuePart `json:"parts,omitempty"`
}

// ValuePart is literal Text, or the variable Var (one of HeaderVariables).
type ValuePart struct {
	Text string `json:"text,omitempty"`
	Var  string `json:"var,omitempty"`
}

// HeaderVariables are the nginx variables a proxy-set-headers value may
// use, as $name or ${name}: the few that need no nginx configuration to
// mean something.
var HeaderVariables = []string{"host", "msec", "remote_addr", "scheme"}

// Headers a ConfigMap entry may not set: the proxy writes them itself
// (framing, hop-by-hop, and the forwarded headers of catalogue 2.1), so
// a second value would contradict its own.
var (
	managedRequestHeaders = map[string]bool{
		"host": true, "content-length": true, "transfer-encoding": true, "connection": true, "keep-alive": true,
		"proxy-connection": true, "te": true, "trailer": true, "upgrade": true, "expect": true,
		"x-request-id": true, "x-real-ip": true, "x-forwarded-for": true, "x-forwarded-host": true,
		"x-forwarded-port": true, "x-forwarded-proto": true, "x-forwarded-scheme": true, "x-scheme": true,
		"x-original-forwarded-for": true, "x-original-forwarded-host": true, "x-forwarded-prefix": true,
	}
	managedResponseHeaders = map[string]bool{
		"content-length": true, "transfer-encoding": true, "connection": true, "keep-alive": true,
		"proxy-connection": true, "te": true, "trailer": true, "upgrade": true, "date": true,
	}
)

// ParseRequestHeader checks one entry of the proxy-set-headers ConfigMap.
// An empty value removes the client's header of that name, as nginx's
// proxy_set_header does.
func ParseRequestHeader(name, value string) (Header, error) {
	h, err := parseHeader(name, value, managedRequestHeaders, true)
	if err != nil {
		return Header{}, err
	}
	if strings.IndexByte(h.Value, '$') >= 0 {
		if h.Parts, err = parseVariables(h.Value); err != nil {
			return Header{}, err
		}
	}
	return h, nil
}

// parseVariables splits a value into literal text and the variables of
// HeaderVariables, written $name or ${name}.
func parseVariables(v string) ([]ValuePart, error) {
	var parts []ValuePart
	text := func(s string) {
		if s == "" {
			return
		}
		if n := len(parts); n > 0 && parts[n-1].Var == "" {
			parts[n-1].Text += s
			return
		}
		parts = append(parts, ValuePart{Text: s})
	}
	for {
		i := strings.IndexByte(v, '$')
		if i < 0 {
			text(v)
			return parts, nil
		}
		text(v[:i])
		v = v[i+1:]
		var name string
		if strings.HasPrefix(v, "{") {
			end := strings.IndexByte(v, '}')
			if end < 0 {
				return nil, errors.New("unterminated ${")
			}
			name, v = v[1:end], v[end+1:]
		} else {
			n := 0
			for n < len(v) && (v[n] >= 'a' && v[n] <= 'z' || v[n] >= 'A' && v[n] <= 'Z' || v[n] >= '0' && v[n] <= '9' || v[n] == '_') {
				n++
			}
			name, v = v[:n], v[n:]
		}
		if !slices.Contains(HeaderVariables, name) {
			return nil, fmt.Errorf("nginx variable %q is not supported (only $%s)", name, strings.Join(HeaderVariables, ", $"))
		}
		parts = append(parts, ValuePart{Var: name})
	}
}

// ParseResponseHeader checks one entry of the add-headers ConfigMap. An
// empty value removes the upstream's header of that name, as
// more_set_headers does.
func ParseResponseHeader(name, value string) (Header, error) {
	return parseHeader(name, value, managedResponseHeaders, false)
}

// parseHeader checks a name and a value; vars lets the value hold "$",
// which the caller parses.
func parseHeader(name, value string, managed map[string]bool, vars bool) (Header, error) {
	if name == "" {
		return Header{}, errors.New("empty header name")
	}
	for i := 0; i < len(name); i++ {
		if !tokenChar(name[i]) {
			return Header{}, errors.New("the header name may contain only letters, digits and !#$%&'*+-.^_`|~")
		}
	}
	if managed[strings.ToLower(name)] {
		return Header{}, errors.New("the proxy sets this header itself")
	}
	value = strings.Trim(value, " \t")
	for i := 0; i < len(value); i++ {
		c := value[i]
		switch {
		case c == '$' && !vars:
			// nginx would expand a variable here; Strait never evaluates
			// strings, and a literal "$..." would differ silently.
			return Header{}, errors.New("nginx variables ($name) are not supported in header values")
		case c < ' ' && c != '\t' || c == 0x7f:
			return Header{}, errors.New("control characters are not allowed in header values")
		}
	}
	return Header{Name: textproto.CanonicalMIMEHeaderKey(name), Value: value}, nil
}

// tokenChar reports whether c may appear in an HTTP token (RFC 9110).
func tokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
