package annotations

import "github.com/straitgw/strait/internal/accesslog"

// EnableAccessLog leaves an Ingress's requests out of the access log when
// false.
var EnableAccessLog = Value[bool]{
	Key: Key{
		Name: "enable-access-log", Scope: ScopeLocation, Risk: RiskLow, Support: Supported, Default: "true",
		Doc: "Whether requests to the Ingress's paths are written to the access log (Strait's standard output, one line per request in log-format-upstream).",
		Notes: "The ConfigMap's log-format-upstream may use $remote_addr, $remote_user, $time_local, $time_iso8601, $msec, $request, $status, $body_bytes_sent, $bytes_sent, " +
			"$request_length, $request_time, $proxy_upstream_name, $proxy_alternative_upstream_name, $upstream_addr, $upstream_response_length, $upstream_response_time, " +
			"$upstream_status, $req_id, $namespace, $ingress_name, $service_name, $service_port, $location_path, $host, $request_uri, $uri, $args, $scheme, " +
			"$server_protocol, $request_method, $http_<header> and $upstream_http_<header>; a format with another variable is reported on the ConfigMap and the default is used.",
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
