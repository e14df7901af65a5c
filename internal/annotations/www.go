package annotations

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// FromToWWWRedirect adds a virtual host that redirects www.<host> to
// <host>, or <host> to www.<host>.
var FromToWWWRedirect = Value[bool]{
	Key: Key{
		Name: "from-to-www-redirect", Scope: ScopeHost, Risk: RiskLow, Support: Supported, Default: "false",
		Doc: "Serves www.<host> (or <host> without its www.) with a redirect (http-redirect-code, default 308) to " +
			"<scheme>://<host>:<port><request URI minus one trailing />, unless some Ingress defines that name. " +
			"Over HTTPS it uses the host's certificate when that covers the other name too.",
		Notes: "A malformed value makes the Ingress's paths answer 503 (ingress-nginx rejects the Ingress).",
	},
	Parse: ParseBool,
}

// ServerAlias adds names under which the Ingress's hosts are served too.
var ServerAlias = Value[[]string]{
	Key: Key{
		Name: "server-alias", Scope: ScopeHost, Risk: RiskHigh, Support: Differs,
		Doc: "Comma-separated extra names served like the Ingress's hosts. The oldest Ingress of a host that sets aliases wins; " +
			"aliases that are already a host, or an alias of an older one, are dropped with a problem.",
		Notes: "*.example.com matches exactly one label, as Ingress wildcard hosts do (nginx matches any number). " +
			"Regular-expression aliases (~...) use RE2 syntax (Go's regexp) and get the default certificate over HTTPS. " +
			"A malformed name makes the Ingress's paths answer 503 (ingress-nginx rejects the Ingress).",
	},
	Parse: ParseServerAliases,
}

// ParseServerAliases accepts a comma-separated list of host names, each
// lower-cased: DNS names, "*." wildcards of one label, or "~" followed by
// an RE2 regular expression. Empty entries and duplicates are dropped; the
// result keeps the written order.
func ParseServerAliases(raw string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(raw, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.HasPrefix(f, "~") {
			if _, err := regexp.Compile(f[1:]); err != nil || len(f) == 1 {
				return nil, fmt.Errorf("%q is not a valid RE2 regular expression", f)
			}
		} else {
			f = strings.ToLower(f)
			if err := checkHostName(f); err != nil {
				return nil, fmt.Errorf("%q: %v", f, err)
			}
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no names")
	}
	return out, nil
}

// checkHostName accepts a lower-case DNS name, or "*." followed by one.
func checkHostName(h string) error {
	rest := strings.TrimPrefix(h, "*.")
	if rest == "" || strings.Contains(rest, "*") {
		return errors.New("a wildcard may only be the whole first label")
	}
	if len(rest) > 253 {
		return errors.New("longer than 253 characters")
	}
	for _, label := range strings.Split(rest, ".") {
		if label == "" || len(label) > 63 {
			return errors.New("empty or overlong label")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return errors.New("a label starts and ends with a letter or digit")
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("invalid character %q", c)
			}
		}
	}
	return nil
}
