package annotations

import "errors"

// RewriteTarget replaces the request URI sent upstream, with $1..$9 taken
// from the path's regex capture groups.
var RewriteTarget = Value[string]{
	Key: Key{
		Name: "rewrite-target", Scope: ScopeLocation, Risk: RiskMedium, Support: Differs,
		Doc: "Replaces the whole URI sent upstream with this target, expanding $1..$9 from the path regex's groups; the query string is kept. Switches every path of the host to regex matching.",
		Notes: "Regexes are RE2 (Go's regexp), not PCRE: lookaround and backreferences are refused with a problem on the Ingress, whose paths then answer 503. " +
			"A target starting with http:// or https:// (an nginx redirect) is refused.",
	},
	Parse: parseRewriteTarget,
}

// UseRegex treats the host's paths as case-insensitive, prefix-anchored
// regular expressions.
var UseRegex = Value[bool]{
	Key: Key{
		Name: "use-regex", Scope: ScopeLocation, Risk: RiskLow, Support: Differs, Default: "false",
		Doc:   "Treats the paths of the whole host (every Ingress on it) as case-insensitive regular expressions anchored at the start only; the longest path is tried first.",
		Notes: "RE2 syntax (Go's regexp): a path that needs PCRE features is a problem on its Ingress, whose paths then answer 503.",
	},
	Parse: ParseBool,
}

// XForwardedPrefix sends X-Forwarded-Prefix upstream when a rewrite
// happened.
var XForwardedPrefix = Value[string]{
	Key: Key{
		Name: "x-forwarded-prefix", Scope: ScopeLocation, Risk: RiskMedium, Support: Supported,
		Doc: "Value of the X-Forwarded-Prefix request header, sent only when rewrite-target rewrote the request; $1..$9 expand as in the target.",
	},
	Parse: parseRewriteTarget,
}

// parseRewriteTarget applies ingress-nginx's validator for rewrite targets:
// ^/?[-._~a-zA-Z0-9/:$]*$ (no query, percent-escapes or braces), which
// also refuses absolute URLs' "?" parts.
func parseRewriteTarget(raw string) (string, error) {
	for _, c := range raw {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' || c == '/' || c == ':' || c == '$') {
			return "", errors.New("may contain only letters, digits and -._~/:$")
		}
	}
	if len(raw) > 0 && raw[0] != '/' && raw[0] != '$' {
		return "", errors.New("must be a path starting with / (redirects to absolute URLs are not supported)")
	}
	return raw, nil
}
