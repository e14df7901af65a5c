package annotations

import (
	"errors"
	"strings"
)

// Values of auth-type and auth-secret-type.
const (
	AuthTypeBasic      = "basic"
	AuthTypeDigest     = "digest"
	AuthSecretTypeFile = "auth-file"
	AuthSecretTypeMap  = "auth-map"
)

// AuthType turns on HTTP authentication against auth-secret.
var AuthType = Value[string]{
	Key: Key{
		Name: "auth-type", Scope: ScopeLocation, Risk: RiskLow, Support: Differs,
		Doc: "Turns on HTTP basic authentication against the users of auth-secret: a request without valid credentials gets 401 with WWW-Authenticate: Basic realm=\"<auth-realm>\", and the Authorization header is not passed upstream. Ingress paths starting with an entry of the ConfigMap key no-auth-locations are exempt.",
		Notes: "digest is not supported: the Ingress's paths answer 503 (fail closed) with a problem. " +
			"A missing or unreadable auth-secret makes the paths answer 503, as in ingress-nginx; other auth-* annotations without auth-type are reported as having no effect.",
	},
	Parse: parseOneOf(AuthTypeBasic, AuthTypeDigest),
}

// AuthSecret names the Secret holding the users and password hashes.
var AuthSecret = Value[string]{
	Key: Key{
		Name: "auth-secret", Scope: ScopeLocation, Risk: RiskMedium, Support: Differs,
		Doc: "Secret (name, or namespace/name) with the users and password hashes for auth-type; another namespace only with the ConfigMap key allow-cross-namespace-resources.",
		Notes: "Hashes: {PLAIN}, {SHA}, {SSHA}, $apr1$, $1$, $5$, $6$ (at most 9999999 rounds, as musl) and bcrypt $2a$/$2b$/$2y$. " +
			"Classic DES crypt hashes (htpasswd -d) are refused: that user cannot log in, and a problem names the line. " +
			"A missing Secret, a missing auth key or a Secret in another namespace without allow-cross-namespace-resources makes the paths answer 503.",
	},
	Parse: parseSecretRef,
}

// AuthSecretType is the layout of auth-secret.
var AuthSecretType = Value[string]{
	Key: Key{
		Name: "auth-secret-type", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: AuthSecretTypeFile,
		Doc:   "Layout of auth-secret: an htpasswd file under the key auth (auth-file), or one key per user whose value is the password hash (auth-map).",
		Notes: "An invalid value makes the paths answer 503.",
	},
	Parse: parseOneOf(AuthSecretTypeFile, AuthSecretTypeMap),
}

// AuthRealm is the realm of the basic authentication challenge.
var AuthRealm = Value[string]{
	Key: Key{
		Name: "auth-realm", Scope: ScopeLocation, Risk: RiskMedium, Support: Supported,
		Doc: "Realm of the WWW-Authenticate challenge (letters, digits, spaces and -._~/:).",
		Notes: "An invalid value makes the paths answer 503. " +
			"The realm off is an ordinary realm: it does not turn authentication off as nginx's auth_basic off would.",
	},
	Parse: charset("letters, digits, spaces and -._~/:", func(c rune) bool {
		return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune(" -._~/:", c)
	}),
}

// parseOneOf accepts exactly one of the values, trimmed.
func parseOneOf(values ...string) func(string) (string, error) {
	return func(raw string) (string, error) {
		v := strings.TrimSpace(raw)
		for _, ok := range values {
			if v == ok {
				return v, nil
			}
		}
		return "", errors.New("must be " + strings.Join(values, " or "))
	}
}

// parseSecretRef accepts "name" or "namespace/name", each a Kubernetes
// object name.
func parseSecretRef(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	ns, name, hasNS := strings.Cut(v, "/")
	if !hasNS {
		ns, name = "", v
	}
	if hasNS && !dnsLabel(ns) {
		return "", errors.New("the namespace must be a DNS label (lower-case letters, digits and -)")
	}
	if !dnsSubdomain(name) {
		return "", errors.New("must be name or namespace/name, the name a DNS subdomain (lower-case letters, digits, - and .)")
	}
	return v, nil
}
