package annotations

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// NextUpstreamConditions are the conditions proxy-next-upstream accepts,
// besides "non_idempotent" and "off".
var NextUpstreamConditions = []string{"error", "timeout", "invalid_header", "http_500", "http_502", "http_503", "http_504", "http_403", "http_404", "http_429"}

// NextUpstreamOn is a parsed proxy-next-upstream list.
type NextUpstreamOn struct {
	// Conditions are the retry conditions, sorted, without duplicates;
	// empty for "off".
	Conditions []string
	// NonIdempotent allows retrying POST, LOCK and PATCH requests after
	// they were sent.
	NonIdempotent bool
}

// ProxyNextUpstream lists when a request is retried on another endpoint.
var ProxyNextUpstream = Value[NextUpstreamOn]{
	Key: Key{
		Name: "proxy-next-upstream", Scope: ScopeLocation, Risk: RiskMedium, Support: Differs, Default: "error timeout", ConfigMapKey: "proxy-next-upstream",
		Doc: "Space-separated conditions on which a request is retried on another endpoint: error, timeout, invalid_header, http_500, http_502, http_503, http_504, http_403, http_404, http_429, non_idempotent (also retry POST, LOCK and PATCH once sent), or off. Only before anything was sent to the client.",
		Notes: "error covers failures to connect, to send and to read the response head, and an upstream that closes without answering; invalid_header a malformed response head. " +
			"A request with a body is retried after it was sent only when its body was kept: on paths whose setting differs from the default, bodies of up to 1 MiB are read before the first try; larger bodies and the default setting retry only failures to connect.",
	},
	Parse: ParseNextUpstream,
}

// ProxyNextUpstreamTries caps the tries of one request.
var ProxyNextUpstreamTries = Value[int]{
	Key: Key{
		Name: "proxy-next-upstream-tries", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: "3", ConfigMapKey: "proxy-next-upstream-tries",
		Doc: "Most tries for one request, the first included; 0 is unlimited. No endpoint is tried twice for one request.",
	},
	Parse: ParseSeconds,
}

// ProxyNextUpstreamTimeout bounds the time spent retrying.
var ProxyNextUpstreamTimeout = Value[int]{
	Key: Key{
		Name: "proxy-next-upstream-timeout", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: "0", ConfigMapKey: "proxy-next-upstream-timeout",
		Doc: "Seconds, from the first try, after which no further try starts; 0 is unlimited.",
	},
	Parse: ParseSeconds,
}

// ParseNextUpstream parses a space-separated proxy-next-upstream list. An
// unknown word fails the whole list, as does "off" with anything else.
func ParseNextUpstream(raw string) (NextUpstreamOn, error) {
	var out NextUpstreamOn
	off := false
	fields := strings.Fields(raw)
	if len(fields) == 0 {
		return NextUpstreamOn{}, errors.New("empty list")
	}
	for _, f := range fields {
		switch {
		case f == "off":
			off = true
		case f == "non_idempotent":
			out.NonIdempotent = true
		case slices.Contains(NextUpstreamConditions, f):
			if !slices.Contains(out.Conditions, f) {
				out.Conditions = append(out.Conditions, f)
			}
		default:
			return NextUpstreamOn{}, fmt.Errorf("unknown condition %q (want %s, non_idempotent or off)", f, strings.Join(NextUpstreamConditions, ", "))
		}
	}
	if off {
		if len(fields) > 1 {
			return NextUpstreamOn{}, errors.New("off cannot be combined with other conditions")
		}
		return NextUpstreamOn{}, nil
	}
	slices.Sort(out.Conditions)
	return out, nil
}
