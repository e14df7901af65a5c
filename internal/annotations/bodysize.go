package annotations

// ProxyBodySize limits request bodies; larger ones get 413.
var ProxyBodySize = Value[int64]{
	Key: Key{
		Name: "proxy-body-size", Scope: ScopeLocation, Risk: RiskLow, Support: Differs, Default: "1m", ConfigMapKey: "proxy-body-size",
		Doc:   "Largest request body accepted (bytes, or with k, m, g; 0 for no limit); larger ones get 413.",
		Notes: "Enforced on the declared Content-Length before anything reaches the upstream; a chunked body that grows past the limit is cut off and the connection closed, where nginx answers 413.",
	},
	Parse: ParseSize,
}
