package annotations

import (
	"errors"
	"net/netip"
)

const limitNotes = "Counted per client IP (after the real-IP rules) on each Strait replica, in one zone per Ingress shared by all its hosts and paths, as ingress-nginx does. Buckets outlive configuration changes and are forgotten when the Ingress is deleted or recreated; at most 65536 client addresses are tracked per zone and limit (idle ones are forgotten first). An invalid value (not an integer, or negative) makes the Ingress's paths answer 503 (fail closed) instead of ingress-nginx's rejection of the Ingress."

// LimitRPS is limit-rps: requests per second per client IP.
var LimitRPS = Value[int]{
	Key: Key{
		Name: "limit-rps", Scope: ScopeLocation, Risk: RiskLow, Support: Supported,
		Doc:   "Requests per second allowed per client IP on each replica, with a burst of limit-burst-multiplier times as many; more get limit-req-status-code (503) at once. 0 is no limit.",
		Notes: limitNotes,
	},
	Parse: ParseCount,
}

// LimitRPM is limit-rpm: requests per minute per client IP.
var LimitRPM = Value[int]{
	Key: Key{
		Name: "limit-rpm", Scope: ScopeLocation, Risk: RiskLow, Support: Supported,
		Doc:   "Requests per minute allowed per client IP on each replica, with a burst of limit-burst-multiplier times as many; more get limit-req-status-code (503). Applies together with limit-rps. 0 is no limit.",
		Notes: limitNotes,
	},
	Parse: ParseCount,
}

// LimitConnections is limit-connections: concurrent requests per client IP.
var LimitConnections = Value[int]{
	Key: Key{
		Name: "limit-connections", Scope: ScopeLocation, Risk: RiskLow, Support: Supported,
		Doc:   "Concurrent requests allowed per client IP on each replica; more get limit-conn-status-code (503). 0 is no limit.",
		Notes: limitNotes,
	},
	Parse: ParseCount,
}

// LimitBurstMultiplier scales the burst of limit-rps and limit-rpm.
var LimitBurstMultiplier = Value[int]{
	Key: Key{
		Name: "limit-burst-multiplier", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: "5",
		Doc: "Burst allowed above limit-rps and limit-rpm, as a multiple of the limit; an invalid value (or one below 1) gives 5.",
	},
	Parse: func(raw string) (int, error) {
		n, err := ParseInt(raw)
		if err != nil {
			return 0, err
		}
		if n < 1 {
			return 0, errors.New("must be at least 1")
		}
		return n, nil
	},
}

// LimitAllowlist exempts clients from the rate and connection limits.
var LimitAllowlist = Value[[]netip.Prefix]{
	Key: Key{
		Name: "limit-allowlist", Aliases: []string{"limit-whitelist"}, Scope: ScopeLocation, Risk: RiskLow, Support: Supported,
		Doc:   "Comma-separated IPs and CIDR ranges exempt from the rate and connection limits.",
		Notes: "An invalid entry makes the Ingress's paths answer 503 (fail closed) instead of ingress-nginx's rejection of the Ingress.",
	},
	Parse: ParseCIDRs,
}

// ParseCount accepts a non-negative integer; 0 means unset. It reads as
// ParseSeconds does.
func ParseCount(raw string) (int, error) { return ParseSeconds(raw) }

// ParseLimitStatus accepts the status a limit answers with: 400 to 599,
// the range nginx's limit_req_status and limit_conn_status accept.
func ParseLimitStatus(raw string) (int, error) {
	n, err := ParseInt(raw)
	if err != nil {
		return 0, err
	}
	if n < 400 || n > 599 {
		return 0, errors.New("not a status between 400 and 599")
	}
	return n, nil
}
