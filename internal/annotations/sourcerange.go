package annotations

import "net/netip"

// AllowlistSourceRange admits only clients from the listed ranges.
var AllowlistSourceRange = Value[[]netip.Prefix]{
	Key: Key{
		Name: "allowlist-source-range", Aliases: []string{"whitelist-source-range"}, Scope: ScopeLocation, Risk: RiskMedium,
		Support: Supported, ConfigMapKey: "whitelist-source-range",
		Doc:   "Comma-separated IPs and CIDR ranges allowed to reach the Ingress's paths; others get 403.",
		Notes: "An invalid entry makes the paths answer 503 (fail closed), as ingress-nginx does.",
	},
	Parse: ParseCIDRs,
}

// DenylistSourceRange refuses clients from the listed ranges.
var DenylistSourceRange = Value[[]netip.Prefix]{
	Key: Key{
		Name: "denylist-source-range", Scope: ScopeLocation, Risk: RiskMedium, Support: Supported, ConfigMapKey: "denylist-source-range",
		Doc:   "Comma-separated IPs and CIDR ranges refused with 403; checked before the allowlist.",
		Notes: "An invalid entry makes the paths answer 503 (fail closed).",
	},
	Parse: ParseCIDRs,
}
