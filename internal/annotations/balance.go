package annotations

import (
	"errors"
	"fmt"
	"strings"

	"github.com/straitgw/strait/internal/model"
)

// Backend selection: load-balance, upstream-hash-by*, service-upstream.
// They configure the upstream (Service port), which every path using it
// shares: the oldest Ingress referencing the Service decides (catalogue
// sections 1.2 and 3.6).

// LoadBalance is the balancer of the backend.
var LoadBalance = Value[string]{
	Key: Key{
		Name: "load-balance", Scope: ScopeBackend, Risk: RiskLow, Support: Differs, Default: "round_robin", ConfigMapKey: "load-balance",
		Doc: "Balancer of the Service's endpoints: round_robin or ewma (the better of two random endpoints by decayed average response time); affinity and upstream-hash-by take precedence.",
		Notes: "chash, chashsubset, sticky_balanced and sticky_persistent are accepted, as ingress-nginx's validator does, and mean round_robin: " +
			"hashing and stickiness come from upstream-hash-by and affinity. EWMA: response time to the first response byte, decay time 10 s, " +
			"no slow start.",
	},
	Parse: parseLoadBalance,
}

func parseLoadBalance(raw string) (string, error) {
	switch v := strings.TrimSpace(raw); v {
	case "round_robin", "ewma", "chash", "chashsubset", "sticky_balanced", "sticky_persistent":
		return v, nil
	default:
		return "", errors.New("must be round_robin or ewma")
	}
}

// ServiceUpstream proxies to the Service's cluster IP instead of its
// endpoints.
var ServiceUpstream = Value[bool]{
	Key: Key{
		Name: "service-upstream", Scope: ScopeBackend, Risk: RiskLow, Support: Supported, Default: "false", ConfigMapKey: "service-upstream",
		Doc: "Proxies to the Service's cluster IP and port as the only endpoint instead of its EndpointSlices, so kube-proxy balances; affinity and hashing then have one endpoint to choose from.",
	},
	Parse: ParseBool,
}

// UpstreamHashBy is the consistent-hash key expression.
var UpstreamHashBy = Value[*model.HashBy]{
	Key: Key{
		Name: "upstream-hash-by", Scope: ScopeBackend, Risk: RiskHigh, Support: Differs, ConfigMapKey: "upstream-hash-by",
		Doc: "Consistent hashing (ketama-style ring, 160 points per endpoint) on an nginx variable expression such as $request_uri, $remote_addr$host or ${arg_user}-x.",
		Notes: "Variables understood: $request_uri, $uri, $args, $query_string, $arg_NAME, $http_NAME, $cookie_NAME, $remote_addr, " +
			"$binary_remote_addr, $host, $scheme, $request_method. Any other variable is refused (the Ingress's paths answer 503). " +
			"The ring is Strait's own: the same key maps to another endpoint than in ingress-nginx.",
	},
	Parse: ParseHashBy,
}

// UpstreamHashBySubset hashes to a group of endpoints.
var UpstreamHashBySubset = Value[bool]{
	Key: Key{
		Name: "upstream-hash-by-subset", Scope: ScopeBackend, Risk: RiskLow, Support: Differs, Default: "false", ConfigMapKey: "upstream-hash-by-subset",
		Doc:   "With upstream-hash-by, hashes each key to a group of upstream-hash-by-subset-size endpoints and picks one of them at random per request.",
		Notes: "The group is the next endpoints on the ring from the key's point, not ingress-nginx's fixed partition of the endpoints.",
	},
	Parse: ParseBool,
}

// UpstreamHashBySubsetSize is the size of the groups.
var UpstreamHashBySubsetSize = Value[int]{
	Key: Key{
		Name: "upstream-hash-by-subset-size", Scope: ScopeBackend, Risk: RiskLow, Support: Supported, Default: "3", ConfigMapKey: "upstream-hash-by-subset-size",
		Doc: "Number of endpoints in each group of upstream-hash-by-subset.",
	},
	Parse: func(raw string) (int, error) {
		n, err := ParseInt(raw)
		if err == nil && n < 1 {
			err = errors.New("must be at least 1")
		}
		return n, err
	},
}

// maxHashByLen bounds an expression; real ones are a few variables long.
const maxHashByLen = 256

// ParseHashBy parses an upstream-hash-by expression: literals of
// ingress-nginx's charset [A-Za-z0-9-_] and variables written $name or
// ${name}. The empty expression is nil (no hashing).
func ParseHashBy(raw string) (*model.HashBy, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, nil
	}
	if len(s) > maxHashByLen {
		return nil, fmt.Errorf("longer than %d characters", maxHashByLen)
	}
	h := &model.HashBy{Expr: s}
	lit := func(b string) {
		if n := len(h.Parts); n > 0 && h.Parts[n-1].Var == "" {
			h.Parts[n-1].Literal += b
			return
		}
		h.Parts = append(h.Parts, model.HashPart{Literal: b})
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' {
			if !(nameChar(c) || c == '-') {
				return nil, fmt.Errorf("character %q is not allowed (letters, digits, -, _ and $variables)", c)
			}
			lit(s[i : i+1])
			i++
			continue
		}
		i++
		var name string
		if i < len(s) && s[i] == '{' {
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, errors.New("unterminated ${")
			}
			name = s[i+1 : i+end]
			i += end + 1
			for j := 0; j < len(name); j++ {
				if !nameChar(name[j]) {
					return nil, fmt.Errorf("variable name %q: only letters, digits and _", name)
				}
			}
		} else {
			j := i
			for j < len(s) && nameChar(s[j]) {
				j++
			}
			name = s[i:j]
			i = j
		}
		if name == "" {
			return nil, errors.New("$ without a variable name")
		}
		p, err := hashVar(name)
		if err != nil {
			return nil, err
		}
		h.Parts = append(h.Parts, p)
	}
	return h, nil
}

func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// hashVar resolves an nginx variable name (case-sensitive, as nginx's
// are, except the names after arg_, http_ and cookie_ where nginx's own
// rules apply).
func hashVar(name string) (model.HashPart, error) {
	switch name {
	case "request_uri":
		return model.HashPart{Var: model.HashRequestURI}, nil
	case "uri", "document_uri":
		return model.HashPart{Var: model.HashURI}, nil
	case "args", "query_string":
		return model.HashPart{Var: model.HashArgs}, nil
	case "remote_addr", "binary_remote_addr":
		return model.HashPart{Var: model.HashRemoteAddr}, nil
	case "host":
		return model.HashPart{Var: model.HashHost}, nil
	case "scheme":
		return model.HashPart{Var: model.HashScheme}, nil
	case "request_method":
		return model.HashPart{Var: model.HashMethod}, nil
	}
	for _, p := range []struct {
		prefix string
		v      model.HashVar
	}{{"arg_", model.HashArg}, {"http_", model.HashHeader}, {"cookie_", model.HashCookie}} {
		if rest, ok := strings.CutPrefix(name, p.prefix); ok && rest != "" {
			if p.v == model.HashHeader {
				// nginx matches headers case-insensitively, with "_" for
				// "-".
				rest = strings.ReplaceAll(strings.ToLower(rest), "_", "-")
			}
			return model.HashPart{Var: p.v, Name: rest}, nil
		}
	}
	return model.HashPart{}, fmt.Errorf("variable $%s is not one Strait can hash on", name)
}

// Affinity turns on cookie affinity.
var Affinity = Value[string]{
	Key: Key{
		Name: "affinity", Scope: ScopeBackend, Risk: RiskLow, Support: Differs,
		Doc: "With the only value cookie, pins each client to one endpoint of the Service through a cookie, ahead of any hash or load-balance setting.",
		Notes: "The cookie's value is Strait's own (balanced: a random key; persistent: a hash of the endpoint address): cookies issued by " +
			"ingress-nginx are not understood, so clients are re-pinned once after the migration. As in ingress-nginx's controller, affinity " +
			"and affinity-mode come from the oldest Ingress that sets affinity on the Service port, the cookie attributes from the newest. " +
			"Upgraded (WebSocket) requests follow the cookie but do not set it.",
	},
	Parse: oneOf("cookie"),
}

// AffinityMode is balanced or persistent.
var AffinityMode = Value[string]{
	Key: Key{
		Name: "affinity-mode", Scope: ScopeBackend, Risk: RiskMedium, Support: Supported, Default: "balanced",
		Doc: "How the affinity cookie maps to endpoints: balanced re-spreads some clients when the Service scales, persistent keeps them on their endpoint while it exists.",
	},
	Parse: oneOf("balanced", "persistent"),
}

// SessionCookieName is the affinity cookie's name.
var SessionCookieName = Value[string]{
	Key: Key{
		Name: "session-cookie-name", Scope: ScopeBackend, Risk: RiskMedium, Support: Supported, Default: "INGRESSCOOKIE",
		Doc: "Name of the affinity cookie.",
	},
	Parse: charset("letters, digits, - and _", func(c rune) bool { return c < 128 && (nameChar(byte(c)) || c == '-') }),
}

// SessionCookiePath is the affinity cookie's Path.
var SessionCookiePath = Value[string]{
	Key: Key{
		Name: "session-cookie-path", Scope: ScopeBackend, Risk: RiskMedium, Support: Supported,
		Doc: "Path attribute of the affinity cookie; defaults to the Ingress path as written and must be set with use-regex.",
	},
	Parse: func(raw string) (string, error) {
		v := strings.TrimSpace(raw)
		if !strings.HasPrefix(v, "/") {
			return "", errors.New("must start with /")
		}
		return v, cookieAttr(v)
	},
}

// SessionCookieDomain is the affinity cookie's Domain.
var SessionCookieDomain = Value[string]{
	Key: Key{
		Name: "session-cookie-domain", Scope: ScopeBackend, Risk: RiskMedium, Support: Supported,
		Doc: "Domain attribute of the affinity cookie.",
	},
	Parse: charset("letters, digits, - and .", func(c rune) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.'
	}),
}

// SessionCookieSameSite is the affinity cookie's SameSite.
var SessionCookieSameSite = Value[string]{
	Key: Key{
		Name: "session-cookie-samesite", Scope: ScopeBackend, Risk: RiskLow, Support: Supported,
		Doc: "SameSite attribute of the affinity cookie: None, Lax or Strict.",
	},
	Parse: func(raw string) (string, error) {
		switch v := strings.TrimSpace(raw); strings.ToLower(v) {
		case "none":
			return "None", nil
		case "lax":
			return "Lax", nil
		case "strict":
			return "Strict", nil
		}
		return "", errors.New("must be None, Lax or Strict")
	},
}

// SessionCookieConditionalSameSiteNone drops SameSite=None for old user
// agents in ingress-nginx.
var SessionCookieConditionalSameSiteNone = Value[bool]{
	Key: Key{
		Name: "session-cookie-conditional-samesite-none", Scope: ScopeBackend, Risk: RiskLow, Support: Differs, Default: "false",
		Doc:   "Omits SameSite=None for user agents known to reject it.",
		Notes: "Strait has no list of such user agents: SameSite=None is always sent.",
	},
	Parse: ParseBool,
}

// SessionCookieSecure forces the Secure attribute on or off.
var SessionCookieSecure = Value[bool]{
	Key: Key{
		Name: "session-cookie-secure", Scope: ScopeBackend, Risk: RiskLow, Support: Supported,
		Doc: "Whether the affinity cookie is Secure; when unset, it is for requests that arrived over TLS at Strait.",
	},
	Parse: ParseBool,
}

// SessionCookieExpires is the cookie's lifetime as an Expires date.
var SessionCookieExpires = Value[int]{
	Key: Key{
		Name: "session-cookie-expires", Scope: ScopeBackend, Risk: RiskMedium, Support: Supported,
		Doc: "Lifetime in seconds of the affinity cookie, sent as an Expires date.",
	},
	Parse: ParseSeconds,
}

// SessionCookieMaxAge is the cookie's Max-Age.
var SessionCookieMaxAge = Value[int]{
	Key: Key{
		Name: "session-cookie-max-age", Scope: ScopeBackend, Risk: RiskMedium, Support: Supported,
		Doc: "Max-Age in seconds of the affinity cookie; without it or session-cookie-expires the cookie ends with the browser session.",
	},
	Parse: ParseSeconds,
}

// SessionCookieChangeOnFailure re-pins clients whose endpoint failed.
var SessionCookieChangeOnFailure = Value[bool]{
	Key: Key{
		Name: "session-cookie-change-on-failure", Scope: ScopeBackend, Risk: RiskLow, Support: Supported, Default: "false",
		Doc: "When the cookie's endpoint fails, retry another endpoint and re-issue the cookie for it, instead of retrying the same endpoint.",
	},
	Parse: ParseBool,
}

// oneOf accepts exactly one of the given words.
func oneOf(words ...string) func(string) (string, error) {
	return func(raw string) (string, error) {
		v := strings.TrimSpace(raw)
		for _, w := range words {
			if v == w {
				return v, nil
			}
		}
		return "", fmt.Errorf("must be one of %s", strings.Join(words, ", "))
	}
}

// cookieAttr refuses what would end or corrupt a Set-Cookie attribute.
func cookieAttr(v string) error {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x21 || c >= 0x7f || c == ';' || c == ',' || c == '"' || c == '\\' {
			return fmt.Errorf("character %q is not allowed in a cookie attribute", c)
		}
	}
	return nil
}
