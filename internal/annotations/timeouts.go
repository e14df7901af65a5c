package annotations

// ProxyConnectTimeout bounds connecting to an upstream, in seconds.
var ProxyConnectTimeout = Value[int]{
	Key: Key{
		Name: "proxy-connect-timeout", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: "5", ConfigMapKey: "proxy-connect-timeout",
		Doc: "Seconds allowed to connect to an upstream; a plain integer (\"60s\" is invalid).",
	},
	Parse: ParseSeconds,
}

// ProxyReadTimeout bounds the wait between two reads from an upstream.
var ProxyReadTimeout = Value[int]{
	Key: Key{
		Name: "proxy-read-timeout", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: "60", ConfigMapKey: "proxy-read-timeout",
		Doc: "Seconds allowed between two reads from the upstream (an idle limit, also for WebSockets and streams).",
	},
	Parse: ParseSeconds,
}

// ProxySendTimeout bounds the wait between two writes to an upstream.
var ProxySendTimeout = Value[int]{
	Key: Key{
		Name: "proxy-send-timeout", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: "60", ConfigMapKey: "proxy-send-timeout",
		Doc: "Seconds allowed between two writes to the upstream.",
	},
	Parse: ParseSeconds,
}
