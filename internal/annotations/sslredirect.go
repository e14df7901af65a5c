package annotations

// SSLRedirect redirects plain-HTTP requests to HTTPS on hosts that have a
// TLS section.
var SSLRedirect = Value[bool]{
	Key: Key{
		Name: "ssl-redirect", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: "true", ConfigMapKey: "ssl-redirect",
		Doc: "Redirects plain-HTTP requests to HTTPS (http-redirect-code, default 308) when the host has a TLS section in any Ingress.",
	},
	Parse: ParseBool,
}

// ForceSSLRedirect redirects to HTTPS even on hosts without TLS, for TLS
// terminated in front of Strait.
var ForceSSLRedirect = Value[bool]{
	Key: Key{
		Name: "force-ssl-redirect", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: "false", ConfigMapKey: "force-ssl-redirect",
		Doc: "Like ssl-redirect, also for hosts without a TLS section (TLS terminated by a load balancer in front).",
	},
	Parse: ParseBool,
}
