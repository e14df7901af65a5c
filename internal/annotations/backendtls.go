package annotations

import (
	"errors"
	"strings"
)

// The proxy-ssl-* annotations configure TLS towards HTTPS and GRPCS
// upstreams. As in ingress-nginx, all but proxy-ssl-secret are ignored
// unless proxy-ssl-secret is set.

// ProxySSLSecret names the Secret with the client certificate and CA for
// upstream TLS.
var ProxySSLSecret = Value[string]{
	Key: Key{
		Name: "proxy-ssl-secret", Scope: ScopeLocation, Risk: RiskMedium, Support: Differs,
		Doc: "Secret (namespace/name) with the client certificate (tls.crt, tls.key) and CA (ca.crt) for HTTPS and GRPCS upstreams; the other proxy-ssl-* annotations need it. " +
			"A Secret that is missing, incomplete or in another namespace (without allow-cross-namespace-resources) makes the Ingress's paths answer 503.",
		Notes: "As in ingress-nginx, the oldest Ingress of a host with a usable proxy-ssl-secret also sets the proxy-ssl-* of the host's other HTTPS, GRPCS and AUTO_HTTP paths " +
			"that set none (unless the ConfigMap sets proxy-ssl-location-only). Each distinct setting is its own upstream set with its own connections.",
	},
	Parse: ParseNamespacedName,
}

// ProxySSLVerify turns on verification of the upstream certificate.
var ProxySSLVerify = Value[bool]{
	Key: Key{
		Name: "proxy-ssl-verify", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: "off",
		Doc: "Whether the upstream certificate is verified against the CA of proxy-ssl-secret and the name proxy-ssl-name.",
	},
	Parse: ParseOnOff,
}

// ProxySSLVerifyDepth bounds the upstream certificate chain.
var ProxySSLVerifyDepth = Value[int]{
	Key: Key{
		Name: "proxy-ssl-verify-depth", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: "1",
		Doc: "Longest upstream certificate chain accepted: the number of CA certificates above the upstream's.",
	},
	Parse: parseDepth,
}

// ProxySSLName is the name the upstream certificate is checked against.
var ProxySSLName = Value[string]{
	Key: Key{
		Name: "proxy-ssl-name", Scope: ScopeLocation, Risk: RiskHigh, Support: Supported,
		Doc: "Name the upstream certificate is verified against, and sent as SNI when proxy-ssl-server-name is on. " +
			"Without it, nginx's name upstream_balancer is used, which certificates seldom carry.",
	},
	Parse: parseServerName,
}

// ProxySSLServerName sends SNI to the upstream.
var ProxySSLServerName = Value[bool]{
	Key: Key{
		Name: "proxy-ssl-server-name", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: "off",
		Doc: "Whether SNI (proxy-ssl-name) is sent to HTTPS upstreams.",
	},
	Parse: ParseOnOff,
}

// ProxySSLProtocols are the TLS versions offered to upstreams.
var ProxySSLProtocols = Value[TLSVersions]{
	Key: Key{
		Name: "proxy-ssl-protocols", Scope: ScopeLocation, Risk: RiskLow, Support: Differs, Default: "TLSv1.2",
		Doc:   "TLS versions offered to HTTPS upstreams, space-separated (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3).",
		Notes: "Go takes a range of versions: a list with a gap allows the versions in between. SSLv2 and SSLv3 are refused.",
	},
	Parse: ParseTLSVersions,
}

// ProxySSLCiphers are the TLS 1.2 suites offered to upstreams.
var ProxySSLCiphers = Value[[]string]{
	Key: Key{
		Name: "proxy-ssl-ciphers", Scope: ScopeLocation, Risk: RiskMedium, Support: Differs, Default: "DEFAULT",
		Doc: "OpenSSL cipher list offered to HTTPS upstreams.",
		Notes: "OpenSSL suite names are mapped to Go's; family keywords (DEFAULT, HIGH, ...) give Go's default suites, exclusions are accepted, " +
			"suites Go lacks (DHE, CAMELLIA, ...) are skipped, TLS 1.3 suites cannot be chosen. An unknown name is a problem and the default is used.",
	},
	Parse: ParseCipherSuites,
}

// ParseNamespacedName accepts "namespace/name"; the namespace is required,
// as ingress-nginx requires it for Secrets of the TLS annotations.
func ParseNamespacedName(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	ns, name, ok := strings.Cut(s, "/")
	if !ok || !dnsLabel(ns) || !dnsSubdomain(name) {
		return "", errors.New("must be namespace/name")
	}
	return s, nil
}

// ParseOnOff accepts nginx's on and off.
func ParseOnOff(raw string) (bool, error) {
	switch strings.TrimSpace(raw) {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return false, errors.New("must be on or off")
}

func parseDepth(raw string) (int, error) {
	n, err := ParseInt(strings.TrimSpace(raw))
	if err != nil {
		return 0, err
	}
	if n < 0 || n > 100 {
		return 0, errors.New("must be between 0 and 100")
	}
	return n, nil
}

// parseServerName accepts a DNS name (a wildcard label first is allowed).
func parseServerName(raw string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(raw))
	if !dnsSubdomain(strings.TrimPrefix(s, "*.")) {
		return "", errors.New("not a DNS name")
	}
	return s, nil
}

// dnsLabel reports whether s is a DNS label as Kubernetes names need it:
// lower-case letters, digits and "-", at most 63.
func dnsLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// dnsSubdomain reports whether s is dot-separated DNS labels, at most 253.
func dnsSubdomain(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if !dnsLabel(l) {
			return false
		}
	}
	return true
}
