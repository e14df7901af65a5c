package annotations

// SSLPassthrough passes a host's TLS connections unterminated to the
// Service of its "/" path.
var SSLPassthrough = Value[bool]{
	Key: Key{
		Name: "ssl-passthrough", Scope: ScopeHost, Risk: RiskLow, Support: Differs, Default: "false",
		Doc:   "With --enable-ssl-passthrough, TLS connections whose SNI names one of the Ingress's hosts are passed unterminated to an endpoint of the Service of that host's \"/\" path; other annotations have no effect on them. Plain HTTP to the host is served as usual.",
		Notes: "Connections go to the Service's endpoints, round robin, and are closed after 600 s without traffic either way (ingress-nginx's proxy-stream-timeout). The first Ingress (oldest) to claim a host wins; without the flag the annotation is reported and has no effect.",
	},
	Parse: ParseBool,
}
