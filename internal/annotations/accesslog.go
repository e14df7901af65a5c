package annotations

import "github.com/straitgw/strait/internal/accesslog"

// EnableAccessLog leaves an Ingress's requests out of the access log when
// false.
var EnableAccessLog = Value[bool]{
	Key: Key{
		Name: "enable-access-log", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: "true",
		Doc: "Whether requests to the Ingress's paths are written to the access log (Strait's standard output, one line per request in log-format-upstream).",
	},
	Parse: ParseBool,
}

// LogFormatUpstream is the ConfigMap key log-format-upstream: an nginx log
// format whose variables must all be known to Strait.
var LogFormatUpstream = Value[string]{
	Key: Key{
		Name: "log-format-upstream", ConfigMapKey: "log-format-upstream", Support: Supported, Default: accesslog.DefaultFormat,
		Doc: "Access-log format of HTTP requests, with nginx variables.",
	},
	Parse: ParseLogFormat,
}

// ParseLogFormat accepts an nginx log format made of literal text and the
// variables Strait fills (see internal/accesslog); it returns the format
// as given.
func ParseLogFormat(raw string) (string, error) {
	if _, err := accesslog.Parse(raw, accesslog.EscapeDefault); err != nil {
		return "", err
	}
	return raw, nil
}
