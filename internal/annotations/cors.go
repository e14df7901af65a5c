package annotations

import (
	"errors"
	"strings"
)

// EnableCORS turns on CORS handling for the Ingress's paths.
var EnableCORS = Value[bool]{
	Key: Key{
		Name: "enable-cors", Scope: ScopeLocation, Risk: RiskLow, Support: Differs, Default: "false",
		Doc:   "Answers CORS preflights (OPTIONS) with 204 and adds the CORS headers to every response, replacing the upstream's.",
		Notes: "Origins in a list are matched against the whole Origin (anchored at both ends); ingress-nginx anchors only the end.",
	},
	Parse: ParseBool,
}

// CORSAllowOrigin lists the allowed origins; "*" allows all.
var CORSAllowOrigin = Value[[]string]{
	Key: Key{
		Name: "cors-allow-origin", Scope: ScopeLocation, Risk: RiskMedium, Support: Supported, Default: "*",
		Doc: "Comma-separated origins (scheme://host[:port], scheme://*.domain[:port] for one label, null) or *; a matching Origin is echoed back.",
	},
	Parse: parseOrigins,
}

// CORSAllowMethods is Access-Control-Allow-Methods.
var CORSAllowMethods = Value[string]{
	Key: Key{
		Name: "cors-allow-methods", Scope: ScopeLocation, Risk: RiskMedium, Support: Supported, Default: "GET, PUT, POST, DELETE, PATCH, OPTIONS",
		Doc: "Value of Access-Control-Allow-Methods (letters, commas and spaces).",
	},
	Parse: charset("letters, commas and spaces", func(c rune) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == ',' || c == ' ' }),
}

// CORSAllowHeaders is Access-Control-Allow-Headers.
var CORSAllowHeaders = Value[string]{
	Key: Key{
		Name: "cors-allow-headers", Scope: ScopeLocation, Risk: RiskMedium, Support: Supported,
		Default: "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization",
		Doc:     "Value of Access-Control-Allow-Headers.",
	},
	Parse: charset("letters, digits, -, _, commas and spaces", headerListChar),
}

// CORSExposeHeaders is Access-Control-Expose-Headers.
var CORSExposeHeaders = Value[string]{
	Key: Key{
		Name: "cors-expose-headers", Scope: ScopeLocation, Risk: RiskMedium, Support: Supported,
		Doc: "Value of Access-Control-Expose-Headers; not sent when empty.",
	},
	Parse: charset("letters, digits, -, _, * and commas", func(c rune) bool { return headerListChar(c) || c == '*' }),
}

// CORSAllowCredentials sends Access-Control-Allow-Credentials: true.
var CORSAllowCredentials = Value[bool]{
	Key: Key{
		Name: "cors-allow-credentials", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: "true",
		Doc: "Sends Access-Control-Allow-Credentials: true (also with origin *, as ingress-nginx does).",
	},
	Parse: ParseBool,
}

// CORSMaxAge is Access-Control-Max-Age in seconds.
var CORSMaxAge = Value[int]{
	Key: Key{
		Name: "cors-max-age", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: "1728000",
		Doc: "Value of Access-Control-Max-Age, in seconds.",
	},
	Parse: ParseSeconds,
}

func headerListChar(c rune) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == ',' || c == ' '
}

// charset returns a parser accepting only the runes ok allows.
func charset(what string, ok func(rune) bool) func(string) (string, error) {
	return func(raw string) (string, error) {
		v := strings.TrimSpace(raw)
		for _, c := range v {
			if !ok(c) {
				return "", errors.New("may contain only " + what)
			}
		}
		return v, nil
	}
}

// parseOrigins returns nil for "*" (every origin), else the origins
// lower-cased. An entry that is not an origin fails the list.
func parseOrigins(raw string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(raw, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		switch {
		case f == "":
			continue
		case f == "*":
			return nil, nil
		case f == "null":
		default:
			scheme, rest, ok := strings.Cut(f, "://")
			if !ok || (scheme != "http" && scheme != "https") || rest == "" || strings.ContainsAny(rest, "/?#@ ") ||
				strings.Contains(strings.TrimPrefix(rest, "*."), "*") {
				return nil, errors.New("entries must be scheme://host[:port], scheme://*.domain[:port], null or *")
			}
		}
		out = append(out, f)
	}
	return out, nil
}
