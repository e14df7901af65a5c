package annotations

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
)

// The auth-tls-* annotations ask TLS clients of a host for a certificate
// and verify it. They are host-level: the oldest Ingress of the host that
// yields a CA decides them all.

// AuthTLSSecret names the Secret with the CA that client certificates are
// verified against.
var AuthTLSSecret = Value[string]{
	Key: Key{
		Name: "auth-tls-secret", Scope: ScopeHost, Risk: RiskMedium, Support: Differs,
		Doc: "Secret (namespace/name) with the CA bundle (ca.crt, optionally ca.crl) that client certificates of the host are verified against. " +
			"A Secret that is missing, has no valid ca.crt or is in another namespace (without allow-cross-namespace-resources) makes the whole host answer 403 over HTTPS.",
		Notes: "As in ingress-nginx, the certificate is only asked for on HTTPS: plain-HTTP requests are not checked (keep ssl-redirect on). " +
			"The certificate is asked for during the handshake and checked per request, so a missing or invalid one gets HTTP 400.",
	},
	Parse: ParseNamespacedName,
}

// AuthTLSVerifyClient says whether a client certificate is required.
var AuthTLSVerifyClient = Value[string]{
	Key: Key{
		Name: "auth-tls-verify-client", Scope: ScopeHost, Risk: RiskMedium, Support: Supported, Default: "on",
		Doc: "on: a valid client certificate is required (400 otherwise); optional: one is asked for and, when sent, must be valid; " +
			"optional_no_ca: one is asked for and never refused, the result goes upstream; off: none is asked for.",
	},
	Parse: parseVerifyClient,
}

// AuthTLSVerifyDepth bounds the client certificate chain.
var AuthTLSVerifyDepth = Value[int]{
	Key: Key{
		Name: "auth-tls-verify-depth", Scope: ScopeHost, Risk: RiskLow, Support: Supported, Default: "1",
		Doc: "Longest client-certificate chain accepted: the number of CA certificates above the client's.",
	},
	Parse: parseDepth,
}

// AuthTLSPassCertificate sends the client certificate upstream.
var AuthTLSPassCertificate = Value[bool]{
	Key: Key{
		Name: "auth-tls-pass-certificate-to-upstream", Scope: ScopeHost, Risk: RiskLow, Support: Supported, Default: "false",
		Doc: "Sends the client certificate, URL-encoded PEM, to the upstream in the ssl-client-cert header.",
	},
	Parse: ParseBool,
}

// AuthTLSMatchCN restricts the host to client certificates whose subject
// matches a regular expression.
var AuthTLSMatchCN = Value[string]{
	Key: Key{
		Name: "auth-tls-match-cn", Scope: ScopeHost, Risk: RiskHigh, Support: Differs,
		Doc: "Regular expression, starting with CN=, that the client certificate's whole subject (e.g. CN=alice,O=example) must match, unanchored and case-sensitive; " +
			"otherwise, or without a certificate, the host answers 403.",
		Notes: "The expression is Go's RE2 syntax, never nginx configuration; an expression RE2 cannot compile is a problem and the host answers 403 (fails closed).",
	},
	Parse: parseMatchCN,
}

// AuthTLSErrorPage is where clients without a valid certificate are sent.
var AuthTLSErrorPage = Value[string]{
	Key: Key{
		Name: "auth-tls-error-page", Scope: ScopeHost, Risk: RiskHigh, Support: Differs,
		Doc:   "Absolute http(s) URL that clients whose certificate is missing or invalid are redirected to (302) instead of getting 400.",
		Notes: "Named nginx locations (@name) are not supported and are a problem; the 400 is kept.",
	},
	Parse: parseErrorPage,
}

func parseMatchCN(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if !strings.HasPrefix(s, "CN=") {
		return "", errors.New("must start with CN=")
	}
	if _, err := regexp.Compile(s); err != nil {
		return "", errors.New("not a regular expression Strait can compile (RE2)")
	}
	return s, nil
}

func parseErrorPage(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if strings.HasPrefix(s, "@") {
		return "", errors.New("named locations are not supported")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(s, " \t\r\n\"") {
		return "", errors.New("must be an absolute http or https URL")
	}
	return s, nil
}

// Verification modes of auth-tls-verify-client.
const (
	VerifyOn           = "on"
	VerifyOff          = "off"
	VerifyOptional     = "optional"
	VerifyOptionalNoCA = "optional_no_ca"
)

func parseVerifyClient(raw string) (string, error) {
	switch s := strings.TrimSpace(raw); s {
	case VerifyOn, VerifyOff, VerifyOptional, VerifyOptionalNoCA:
		return s, nil
	}
	return "", errors.New("must be on, off, optional or optional_no_ca")
}
