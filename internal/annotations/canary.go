package annotations

import (
	"errors"
	"regexp"
	"strings"
)

// Canary marks an Ingress as a canary of the Ingress with the same host,
// path and pathType.
var Canary = Value[bool]{
	Key: Key{
		Name: "canary", Scope: ScopeIngress, Risk: RiskLow, Support: Differs, Default: "false",
		Doc: "Marks the Ingress as a canary: each of its paths becomes the alternative backend of the primary (non-canary) Ingress's path with the same host, path and pathType, which receives the requests the canary-* rules select. Only one canary per path; a canary path without a primary is dropped with an Event. Every other annotation of a canary Ingress is ignored, except load-balance, upstream-hash-by and the affinity ones.",
		Notes: "The first step of ingress-nginx's decision, a request pinned by its affinity cookie to the primary or to the canary staying there, " +
			"is not done: affinity and the canary choice are independent. A canary whose Service has no ready endpoints is skipped (the primary answers). " +
			"A canary Ingress's default backend is not used as a canary of the host's default backend.",
	},
	Parse: ParseBool,
}

// CanaryByHeader names the request header that routes to the canary.
var CanaryByHeader = Value[string]{
	Key: Key{
		Name: "canary-by-header", Scope: ScopeIngress, Risk: RiskMedium, Support: Supported,
		Doc: "Request header (name matched case-insensitively) whose value always sends the request to the canary and never to the primary; other values fall through to the cookie and weight rules. With canary-by-header-value or -pattern, a matching value sends it to the canary.",
	},
	Parse: charset("letters, digits and -._~/:", func(c rune) bool {
		return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~/:", c)
	}),
}

// CanaryByHeaderValue is the exact header value that routes to the canary.
var CanaryByHeaderValue = Value[string]{
	Key: Key{
		Name: "canary-by-header-value", Scope: ScopeIngress, Risk: RiskMedium, Support: Supported,
		Doc: "Exact, case-sensitive canary-by-header value that sends the request to the canary; any other value falls through to the cookie and weight rules (always and never lose their meaning).",
	},
	Parse: parseHeaderValue,
}

// CanaryByHeaderPattern is a regular expression the header value is
// searched with.
var CanaryByHeaderPattern = Value[string]{
	Key: Key{
		Name: "canary-by-header-pattern", Scope: ScopeIngress, Risk: RiskMedium, Support: Differs,
		Doc:   "Regular expression searched (unanchored, case-sensitive) in the canary-by-header value; a match sends the request to the canary, no match falls through. Ignored when canary-by-header-value is set.",
		Notes: "The expression is Go's RE2 syntax, not PCRE: a pattern RE2 cannot compile (lookarounds, backreferences) is reported and ignored, so that the header's always and never apply.",
	},
	Parse: parseRE2,
}

// CanaryByCookie names the cookie that routes to the canary.
var CanaryByCookie = Value[string]{
	Key: Key{
		Name: "canary-by-cookie", Scope: ScopeIngress, Risk: RiskMedium, Support: Supported,
		Doc: "Cookie whose value always sends the request to the canary and never to the primary; other values fall through to the weight. Checked after canary-by-header.",
	},
	Parse: charset("cookie-name characters", cookieNameChar),
}

// CanaryWeight is the share of the remaining requests sent to the canary.
var CanaryWeight = Value[int]{
	Key: Key{
		Name: "canary-weight", Scope: ScopeIngress, Risk: RiskLow, Support: Supported, Default: "0",
		Doc: "Requests not decided by header or cookie go to the canary at random, canary-weight out of canary-weight-total; 0 sends none.",
	},
	Parse: ParseSeconds,
}

// CanaryWeightTotal is the denominator of CanaryWeight.
var CanaryWeightTotal = Value[int]{
	Key: Key{
		Name: "canary-weight-total", Scope: ScopeIngress, Risk: RiskLow, Support: Supported, Default: "100",
		Doc: "Denominator of canary-weight; values of 100 and below count as 100.",
	},
	Parse: ParseSeconds,
}

// parseRE2 accepts a non-empty regular expression that Go's regexp
// compiles.
func parseRE2(raw string) (string, error) {
	if _, err := regexp.Compile(raw); err != nil {
		return "", errors.New("not a regular expression Strait can compile (RE2 syntax): " + err.Error())
	}
	return raw, nil
}

// parseHeaderValue accepts a trimmed value without control characters,
// which no request header can carry.
func parseHeaderValue(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	for _, c := range v {
		if c < ' ' || c == 0x7f {
			return "", errors.New("contains a control character")
		}
	}
	return v, nil
}

// cookieNameChar is an RFC 6265 token character.
func cookieNameChar(c rune) bool {
	return c > ' ' && c < 0x7f && !strings.ContainsRune("()<>@,;:\\\"/[]?={}", c)
}
