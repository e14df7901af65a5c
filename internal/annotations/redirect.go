package annotations

import (
	"errors"
	"net/url"
	"strings"
)

// PermanentRedirect answers every request of the Ingress's paths with a
// redirect to a fixed URL.
var PermanentRedirect = Value[string]{
	Key: Key{
		Name: "permanent-redirect", Scope: ScopeLocation, Risk: RiskMedium, Support: Supported,
		Doc: "Answers the Ingress's paths with a redirect (permanent-redirect-code, default 301) to this exact URL; path and query are not appended.",
	},
	Parse: parseRedirectURL,
}

// PermanentRedirectCode is the code of PermanentRedirect.
var PermanentRedirectCode = Value[int]{
	Key: Key{
		Name: "permanent-redirect-code", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: "301",
		Doc:   "Status of permanent-redirect, 300 to 308.",
		Notes: "ingress-nginx falls back to 301 on an out-of-range code; Strait reports it and uses 301 too.",
	},
	Parse: ParseRedirectCode(300, 308),
}

// TemporalRedirect is PermanentRedirect with code 302; it wins when both are
// set.
var TemporalRedirect = Value[string]{
	Key: Key{
		Name: "temporal-redirect", Scope: ScopeLocation, Risk: RiskMedium, Support: Supported,
		Doc: "Like permanent-redirect with temporal-redirect-code (default 302); takes precedence over permanent-redirect.",
	},
	Parse: parseRedirectURL,
}

// TemporalRedirectCode is the code of TemporalRedirect.
var TemporalRedirectCode = Value[int]{
	Key: Key{
		Name: "temporal-redirect-code", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: "302",
		Doc: "Status of temporal-redirect, 300 to 307.",
	},
	Parse: ParseRedirectCode(300, 307),
}

// parseRedirectURL applies ingress-nginx's validator: an absolute http(s)
// URL made of [-._~a-zA-Z0-9/:,?&=] only (no $, %, #), so that no nginx
// variable or escape can hide in it.
func parseRedirectURL(raw string) (string, error) {
	v := strings.TrimSpace(raw)
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~/:,?&=", c)) {
			return "", errors.New("may contain only letters, digits and -._~/:,?&=")
		}
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("not an absolute http or https URL")
	}
	return v, nil
}
