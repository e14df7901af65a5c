package annotations

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// OpenID Connect login, Strait's own annotations (prefix strait.dev/).
// Every value is parsed here; translate resolves the Secrets they name
// into model.OIDC, and the data plane (internal/oidc) talks to the issuer.

// notesOIDC is shared by the OIDC annotations.
const notesOIDC = "Strait's own annotation (prefix strait.dev/); annotations-risk-level does not apply to it. Any malformed oidc-* value, or a Secret that cannot be read, makes the Ingress's paths answer 503 until it is fixed. See docs/oidc.md."

func oidcKey(name, def, doc string, risk Risk) Key {
	return Key{Name: name, Prefix: StraitPrefix, Scope: ScopeLocation, Risk: risk, Support: Supported, Default: def, Doc: doc, Notes: notesOIDC}
}

// OIDCIssuer turns on OpenID Connect login against an issuer.
var OIDCIssuer = Value[string]{
	Key: oidcKey("oidc-issuer", "", "Issuer URL of an OpenID Connect provider: requests to the Ingress's paths need a session from a login at this issuer (authorization code flow with PKCE). "+
		"Its discovery document (<issuer>/.well-known/openid-configuration) and keys are fetched by the data plane when first needed. Needs oidc-client-id and oidc-cookie-secret.", RiskHigh),
	Parse: parseIssuer,
}

// OIDCClientID is the OAuth 2.0 client id registered at the issuer.
var OIDCClientID = Value[string]{
	Key: oidcKey("oidc-client-id", "", "Client id registered at the issuer; ID tokens must name it in their audience.", RiskMedium),
	Parse: charset("printable ASCII without spaces", func(c rune) bool {
		return c > ' ' && c < 0x7f
	}),
}

// OIDCClientSecret names the Secret holding the client secret.
var OIDCClientSecret = Value[string]{
	Key: oidcKey("oidc-client-secret", "", "Secret (name, or namespace/name) whose key client-secret is the client secret sent to the token endpoint. "+
		"Without it the client is public and relies on PKCE alone. Another namespace needs allow-cross-namespace-resources.", RiskMedium),
	Parse: parseSecretRef,
}

// OIDCCookieSecret names the Secret holding the session cookie key.
var OIDCCookieSecret = Value[string]{
	Key:   oidcKey("oidc-cookie-secret", "", "Secret (name, or namespace/name) whose key cookie-secret is the 32-byte key that encrypts and authenticates the session cookies (AES-256-GCM): 32 raw bytes, or their standard or URL-safe base64 (e.g. `openssl rand -base64 32`). Required.", RiskMedium),
	Parse: parseSecretRef,
}

// OIDCScopes are the scopes asked for.
var OIDCScopes = Value[[]string]{
	Key:   oidcKey("oidc-scopes", "openid profile email", "Space- or comma-separated scopes asked for at login; must include openid.", RiskLow),
	Parse: parseScopes,
}

// OIDCRedirectPath is the callback path.
var OIDCRedirectPath = Value[string]{
	Key: oidcKey("oidc-redirect-path", "/oauth2/callback", "Path of the callback the issuer redirects to; the redirect URI is the request's scheme and host plus this path, and must be registered at the issuer. "+
		"A path of the Ingress must cover it, or another Ingress of the host with the same login (a warning says so otherwise).", RiskLow),
	Parse: parseOIDCPath,
}

// OIDCLogoutPath is the logout path.
var OIDCLogoutPath = Value[string]{
	Key:   oidcKey("oidc-logout-path", "/oauth2/logout", "Path that ends the session: its cookies are cleared and the client is sent to the issuer's end_session_endpoint when it has one, else to oidc-post-logout-redirect.", RiskLow),
	Parse: parseOIDCPath,
}

// OIDCPostLogoutRedirect is where the client goes after logout.
var OIDCPostLogoutRedirect = Value[string]{
	Key:   oidcKey("oidc-post-logout-redirect", "", "Where the client lands after logout: an absolute http(s) URL, or a path on the request's host. Sent to the issuer as post_logout_redirect_uri. Without it, logout ends on a plain page of Strait's.", RiskMedium),
	Parse: parsePostLogout,
}

// OIDCClaimHeaders maps claims to upstream request headers.
var OIDCClaimHeaders = Value[[]ClaimHeader]{
	Key: oidcKey("oidc-claim-headers", "", "Comma-separated claim:Header pairs, e.g. email:X-Auth-Email,groups:X-Auth-Groups,sub:X-Auth-User: each claim of the ID token is sent upstream in that header (lists joined with commas). "+
		"Any copy of these headers the client sent is removed first, whether or not the claim exists.", RiskMedium),
	Parse: parseClaimHeaders,
}

// OIDCGroupsClaim names the claim holding the user's groups.
var OIDCGroupsClaim = Value[string]{
	Key:   oidcKey("oidc-groups-claim", "groups", "Claim of the ID token that lists the user's groups, for oidc-allowed-groups.", RiskLow),
	Parse: parseClaimName,
}

// OIDCAllowedGroups restricts login to members of some groups.
var OIDCAllowedGroups = Value[[]string]{
	Key:   oidcKey("oidc-allowed-groups", "", "Comma-separated groups: a user in none of them gets 403 after login.", RiskMedium),
	Parse: parseNonEmptyList,
}

// OIDCRequiredClaims requires claims to have given values.
var OIDCRequiredClaims = Value[[]ClaimRule]{
	Key: oidcKey("oidc-required-claims", "", "Comma-separated claim=value rules, e.g. email_verified=true,hd=example.com: a user whose ID token fails one gets 403 after login. "+
		"A string claim must equal the value, a boolean or number must print as it, a list must contain it.", RiskMedium),
	Parse: parseClaimRules,
}

// OIDCCookieName names the session cookie.
var OIDCCookieName = Value[string]{
	Key:   oidcKey("oidc-cookie-name", "_strait_oidc", "Name of the session cookie; a large session is split into <name>_0, <name>_1, ... and the login state lives in <name>_state_<id>.", RiskLow),
	Parse: parseCookieName,
}

// OIDCSessionMaxAge bounds a session's life.
var OIDCSessionMaxAge = Value[int]{
	Key:   oidcKey("oidc-session-max-age", "24h", "Longest life of a session, refreshes included, as nginx durations (86400, 24h, 1d12h); at least 1m. After it the user logs in again.", RiskLow),
	Parse: parseSessionMaxAge,
}

// ClaimHeader sends one claim upstream in one header.
type ClaimHeader struct {
	Claim  string
	Header string
}

// ClaimRule requires a claim to have a value.
type ClaimRule struct {
	Claim string
	Value string
}

func parseIssuer(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", errors.New("must be an http or https URL without query, fragment or user")
	}
	return v, nil
}

func parseScopes(raw string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, s := range strings.FieldsFunc(raw, func(c rune) bool { return c == ' ' || c == ',' }) {
		for _, c := range s {
			// RFC 6749's scope-token: %x21 / %x23-5B / %x5D-7E.
			if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
				return nil, fmt.Errorf("scope %q has a character scopes may not contain", s)
			}
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if !seen["openid"] {
		return nil, errors.New("must include openid")
	}
	return out, nil
}

func parseOIDCPath(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	if !strings.HasPrefix(v, "/") || v == "/" || strings.ContainsAny(v, "?#%") {
		return "", errors.New("must be a path other than / starting with /, without query, fragment or escapes")
	}
	for _, c := range v {
		if c <= ' ' || c >= 0x7f {
			return "", errors.New("may contain only printable ASCII without spaces")
		}
	}
	return v, nil
}

func parsePostLogout(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	if strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//") {
		if _, err := url.ParseRequestURI(v); err != nil {
			return "", errors.New("not a valid path")
		}
		return v, nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", errors.New("must be an absolute http(s) URL or a path starting with /")
	}
	return v, nil
}

// claimChar reports the runes a claim name may hold: registered and
// common private claim names (letters, digits, _ - . : /).
func claimChar(c rune) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("_-.:/", c)
}

func parseClaimName(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	if v == "" || strings.IndexFunc(v, func(c rune) bool { return !claimChar(c) }) >= 0 {
		return "", errors.New("a claim name may contain only letters, digits and _-.:/")
	}
	return v, nil
}

func parseClaimHeaders(raw string) ([]ClaimHeader, error) {
	var out []ClaimHeader
	seen := map[string]bool{}
	for _, f := range strings.Split(raw, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		// Claim names may hold ":" (URL-named claims): the header is
		// after the last one.
		i := strings.LastIndexByte(f, ':')
		c, h, ok := f[:max(i, 0)], f[i+1:], i >= 0
		if !ok {
			return nil, fmt.Errorf("%q is not claim:Header", f)
		}
		claim, err := parseClaimName(c)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", f, err)
		}
		hs, err := ParseHeaderList(h)
		if err != nil || len(hs) != 1 {
			return nil, fmt.Errorf("%q: the header must be one name of letters, digits, - and _", f)
		}
		if seen[hs[0]] {
			return nil, fmt.Errorf("header %s is named twice", hs[0])
		}
		seen[hs[0]] = true
		out = append(out, ClaimHeader{Claim: claim, Header: hs[0]})
	}
	if len(out) == 0 {
		return nil, errors.New("no claim:Header pairs")
	}
	return out, nil
}

func parseNonEmptyList(raw string) ([]string, error) {
	l, _ := ParseList(raw)
	if len(l) == 0 {
		return nil, errors.New("empty list")
	}
	return l, nil
}

func parseClaimRules(raw string) ([]ClaimRule, error) {
	var out []ClaimRule
	for _, f := range strings.Split(raw, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		c, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not claim=value", f)
		}
		claim, err := parseClaimName(c)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", f, err)
		}
		v = strings.TrimSpace(v)
		if v == "" {
			return nil, fmt.Errorf("%q: empty value", f)
		}
		out = append(out, ClaimRule{Claim: claim, Value: v})
	}
	if len(out) == 0 {
		return nil, errors.New("no claim=value rules")
	}
	return out, nil
}

func parseCookieName(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	// A cookie name is an RFC 7230 token; Strait keeps to a safe subset
	// so that the chunk and state suffixes stay valid too.
	if v == "" || len(v) > 64 || strings.IndexFunc(v, func(c rune) bool {
		return !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.')
	}) >= 0 {
		return "", errors.New("must be 1 to 64 letters, digits, _, - and .")
	}
	if (&http.Cookie{Name: v, Value: "x"}).Valid() != nil {
		return "", errors.New("not a valid cookie name")
	}
	return v, nil
}

func parseSessionMaxAge(raw string) (int, error) {
	n, err := ParseNginxDuration(raw)
	if err != nil {
		return 0, err
	}
	if n < 60 {
		return 0, errors.New("must be at least 1m")
	}
	return n, nil
}
