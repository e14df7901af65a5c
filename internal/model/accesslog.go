package model

// AccessLog is the access log's configuration, from the ConfigMap keys
// disable-access-log, log-format-upstream, log-format-escape-json,
// log-format-escape-none, skip-access-log-urls and
// enable-access-log-for-default-backend.
type AccessLog struct {
	// Disabled turns the access log off for every request.
	Disabled bool `json:"disabled,omitempty"`
	// Format is the line format with nginx variables, validated by
	// translate; "" means ingress-nginx's default format.
	Format string `json:"format,omitempty"`
	// Escape is how variable values are escaped: "" (nginx's default
	// \xHH escaping), "json" or "none".
	Escape string `json:"escape,omitempty"`
	// SkipURIs are request URIs (path and query, exactly) not logged,
	// sorted.
	SkipURIs []string `json:"skipURIs,omitempty"`
	// DefaultBackend also logs requests answered by a host's default
	// action, which ingress-nginx leaves out by default.
	DefaultBackend bool `json:"defaultBackend,omitempty"`
}

// Escape values of AccessLog.
const (
	EscapeJSON = "json"
	EscapeNone = "none"
)
