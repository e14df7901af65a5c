package annotations

// snippetNotes starts the Notes of every *-snippet annotation and ConfigMap
// key.
const snippetNotes = "Never interpreted: snippets are raw nginx configuration, the source of the injection CVEs; "

// Notes shared by several keys.
const (
	notesNoOpBuffer = "Tunes nginx's buffering to memory and temporary files; Strait streams through Go buffers of its own and accepts any value."
	notesAuthPool   = "Tunes nginx's connection pool to the auth service, and has no effect in ingress-nginx with HTTP/2 on (the default); a Go HTTP client reuses connections without it."
)

// otherAnnotations describes the ingress-nginx annotations Strait does not
// (yet) implement or deliberately ignores: every annotation of
// ingress-nginx's annotations-risk list (catalogue section 1), then the
// legacy ones removed from ingress-nginx (section 1.12). Implementations
// take a key out of the Unsupported ones by defining it in a file of its
// own and listing it in implemented(), which takes precedence here.
func otherAnnotations() []Key {
	return []Key{
		{
			Name: "add-base-url", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported,
			Doc:   "Inserted a <base> tag into HTML responses.",
			Notes: "Removed from ingress-nginx in 2018; there is no replacement: the application has to produce correct links (x-forwarded-prefix tells it its prefix).",
		},
		{
			Name: "affinity", Scope: ScopeBackend, Risk: RiskLow, Support: Unsupported,
			Doc: "With the only value cookie, pins each client to one endpoint of the Service through a cookie, ahead of any hash or load-balance setting.",
		},
		{
			Name: "affinity-canary-behavior", Scope: ScopeBackend, Risk: RiskLow, Support: Unsupported, Default: "sticky",
			Doc: "Whether clients pinned to a canary stay on it (sticky) or affinity is left out of the canary decision (legacy).",
		},
		{
			Name: "affinity-mode", Scope: ScopeBackend, Risk: RiskMedium, Support: Unsupported, Default: "balanced",
			Doc: "How the affinity cookie maps to endpoints: balanced re-spreads some clients when the Service scales, persistent keeps them on their endpoint while it exists.",
		},
		{
			Name: "allowlist-source-range", Aliases: []string{"whitelist-source-range"}, Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported,
			ConfigMapKey: "whitelist-source-range",
			Doc:          "Comma-separated IPs and CIDR ranges allowed to reach the Ingress's paths; every other client gets 403.",
		},
		{
			Name: "app-root", Scope: ScopeHost, Risk: RiskMedium, Support: Unsupported,
			Doc: "Redirects requests for exactly / on the host to this path with a 302.",
		},
		{
			Name: "auth-always-set-cookie", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "false",
			Doc: "Passes the auth service's Set-Cookie to the client on error responses too, not only on success.",
		},
		{
			Name: "auth-cache-duration", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported, Default: "200 202 401 5m",
			Doc: "Which auth-service response codes are cached, and for how long.",
		},
		{
			Name: "auth-cache-key", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported,
			Doc: "Expression of request variables that keys a cache of auth-service responses; unset means no caching.",
		},
		{
			Name: "auth-keepalive", Scope: ScopeLocation, Risk: RiskLow, Support: Ignored, Default: "0",
			Doc: "Number of idle connections kept open to the auth-url host.", Notes: notesAuthPool,
		},
		{
			Name: "auth-keepalive-requests", Scope: ScopeLocation, Risk: RiskLow, Support: Ignored, Default: "1000",
			Doc: "Requests sent over one kept-alive connection to the auth service before it is closed.", Notes: notesAuthPool,
		},
		{
			Name: "auth-keepalive-share-vars", Scope: ScopeLocation, Risk: RiskLow, Support: Ignored, Default: "false",
			Doc:   "Whether nginx variables are shared between the auth sub-request and the main request when keepalive is on.",
			Notes: "Concerns nginx variables, which Strait does not have.",
		},
		{
			Name: "auth-keepalive-timeout", Scope: ScopeLocation, Risk: RiskLow, Support: Ignored, Default: "60",
			Doc: "Seconds an idle connection to the auth service stays open.", Notes: notesAuthPool,
		},
		{
			Name: "auth-method", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "GET",
			Doc: "HTTP method of the request sent to auth-url.",
		},
		{
			Name: "auth-proxy-set-headers", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported,
			Doc: "ConfigMap (same namespace) of extra headers sent to the auth service.",
		},
		{
			Name: "auth-realm", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported,
			Doc: "Realm shown in the basic or digest authentication challenge.",
		},
		{
			Name: "auth-request-redirect", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported,
			Doc: "Value of the X-Auth-Request-Redirect header sent to the auth service.",
		},
		{
			Name: "auth-response-headers", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported,
			Doc: "Comma-separated headers copied from the auth service's response into the upstream request, replacing any the client sent.",
		},
		{
			Name: "auth-secret", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported,
			Doc: "Secret (name or namespace/name) holding the users and password hashes for auth-type.",
		},
		{
			Name: "auth-secret-type", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "auth-file",
			Doc: "Layout of auth-secret: an htpasswd file under the key auth (auth-file) or one key per user (auth-map).",
		},
		{
			Name: "auth-signin", Scope: ScopeLocation, Risk: RiskHigh, Support: Unsupported,
			Doc: "URL the client is redirected to (with the original URL as a parameter) when auth-url answers 401.",
		},
		{
			Name: "auth-signin-redirect-param", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported, Default: "rd",
			Doc: "Name of the query parameter of auth-signin that carries the original URL.",
		},
		{
			Name: "auth-snippet", Scope: ScopeLocation, Risk: RiskCritical, Support: Unsupported,
			Doc:   "Raw nginx directives added to the request sent to the auth service.",
			Notes: snippetNotes + "use the typed annotations instead (extra headers to the auth service: auth-proxy-set-headers; method: auth-method).",
		},
		{
			Name: "auth-tls-error-page", Scope: ScopeHost, Risk: RiskHigh, Support: Unsupported,
			Doc: "URL or page served instead of the error when client-certificate verification fails.",
		},
		{
			Name: "auth-tls-match-cn", Scope: ScopeHost, Risk: RiskHigh, Support: Unsupported,
			Doc: "Regular expression the client certificate's subject must match, else 403.",
		},
		{
			Name: "auth-tls-pass-certificate-to-upstream", Scope: ScopeHost, Risk: RiskLow, Support: Unsupported, Default: "false",
			Doc: "Sends the client certificate, URL-encoded PEM, to the upstream in the ssl-client-cert header.",
		},
		{
			Name: "auth-tls-secret", Scope: ScopeHost, Risk: RiskMedium, Support: Unsupported,
			Doc: "Secret (namespace/name) with the CA bundle (ca.crt, optionally ca.crl) that client certificates of the host are verified against.",
		},
		{
			Name: "auth-tls-verify-client", Scope: ScopeHost, Risk: RiskMedium, Support: Unsupported, Default: "on",
			Doc: "Whether a client certificate is required (on), optional (optional, optional_no_ca) or not asked for (off).",
		},
		{
			Name: "auth-tls-verify-depth", Scope: ScopeHost, Risk: RiskLow, Support: Unsupported, Default: "1",
			Doc: "Longest client-certificate chain accepted.",
		},
		{
			Name: "auth-type", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported,
			Doc: "Turns on HTTP authentication against auth-secret, basic or digest.",
		},
		{
			Name: "auth-url", Scope: ScopeLocation, Risk: RiskHigh, Support: Unsupported,
			Doc: "External authentication service asked about each request: 2xx lets it through, 401 and 403 are returned to the client, anything else gives 500.",
		},
		{
			Name: "backend-protocol", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "HTTP",
			Doc: "Protocol spoken to the upstream: HTTP, HTTPS, AUTO_HTTP, GRPC, GRPCS or FCGI.",
		},
		{
			Name: "base-url-scheme", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported,
			Doc:   "Scheme of the <base> tag inserted by add-base-url.",
			Notes: "Removed from ingress-nginx in 2018 together with add-base-url; there is no replacement.",
		},
		{
			Name: "client-body-buffer-size", Scope: ScopeLocation, Risk: RiskLow, Support: Ignored, Default: "8k", ConfigMapKey: "client-body-buffer-size",
			Doc:   "Memory buffer for a request body before nginx spills it to a temporary file.",
			Notes: notesNoOpBuffer,
		},
		{
			Name: "configuration-snippet", Scope: ScopeLocation, Risk: RiskCritical, Support: Unsupported,
			Doc:   "Raw nginx directives added to every path of the Ingress.",
			Notes: snippetNotes + "use the typed annotations instead (response headers: custom-headers or the add-headers ConfigMap key; redirects: permanent-redirect or temporal-redirect; access: allowlist-source-range or denylist-source-range; rate limits: limit-rps, limit-rpm).",
		},
		{
			Name: "connection-proxy-header", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported,
			Doc: "Fixed Connection header (close or keep-alive) sent to the upstream instead of the default.",
		},
		{
			Name: "cors-allow-credentials", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "true",
			Doc: "Whether CORS responses carry Access-Control-Allow-Credentials: true.",
		},
		{
			Name: "cors-allow-headers", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported,
			Default: "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization",
			Doc:     "Value of Access-Control-Allow-Headers.",
		},
		{
			Name: "cors-allow-methods", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported, Default: "GET, PUT, POST, DELETE, PATCH, OPTIONS",
			Doc: "Value of Access-Control-Allow-Methods.",
		},
		{
			Name: "cors-allow-origin", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported, Default: "*",
			Doc: "Comma-separated origins (wildcard subdomains allowed) echoed in Access-Control-Allow-Origin, or * for any.",
		},
		{
			Name: "cors-expose-headers", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported,
			Doc: "Value of Access-Control-Expose-Headers.",
		},
		{
			Name: "cors-max-age", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "1728000",
			Doc: "Seconds browsers may cache a preflight answer (Access-Control-Max-Age).",
		},
		{
			Name: "custom-http-errors", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, ConfigMapKey: "custom-http-errors",
			Doc: "Comma-separated status codes whose responses are replaced by the default backend's answer.",
		},
		{
			Name: "default-backend", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported,
			Doc: "Service of the same namespace that answers when the Ingress's Service has no endpoints and for custom-http-errors.",
		},
		{
			Name: "denylist-source-range", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported, ConfigMapKey: "denylist-source-range",
			Doc: "Comma-separated IPs and CIDR ranges refused with 403.",
		},
		{
			Name: "disable-proxy-intercept-errors", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "false", ConfigMapKey: "disable-proxy-intercept-errors",
			Doc: "Lets the upstream's own error responses through while custom-http-errors still replaces the proxy's errors.",
		},
		{
			Name: "enable-access-log", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "true",
			Doc: "Whether requests to the Ingress's paths are written to the access log.",
		},
		{
			Name: "enable-cors", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "false",
			Doc: "Adds CORS headers to responses and answers preflight OPTIONS requests with 204.",
		},
		{
			Name: "enable-global-auth", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "true",
			Doc: "Set to false to exempt the Ingress from the global-auth-url ConfigMap setting.",
		},
		{
			Name: "enable-influxdb", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported,
			Doc:   "Sent request metrics to InfluxDB.",
			Notes: "Removed from ingress-nginx, which only warns about it; use Strait's Prometheus metrics instead.",
		},
		{
			Name: "enable-modsecurity", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "false",
			Doc:   "Runs the ModSecurity web application firewall on the Ingress's paths.",
			Notes: "Strait has no web application firewall.",
		},
		{
			Name: "enable-opentracing", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported,
			Doc:   "Turned OpenTracing tracing on or off for the Ingress's paths.",
			Notes: "Removed from ingress-nginx (deprecated in 2023); use enable-opentelemetry.",
		},
		{
			Name: "enable-owasp-core-rules", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "false",
			Doc:   "Loads the OWASP core rule set into ModSecurity.",
			Notes: "Strait has no web application firewall.",
		},
		{
			Name: "enable-rewrite-log", Scope: ScopeLocation, Risk: RiskLow, Support: Ignored, Default: "false",
			Doc:   "Logs nginx's rewrite processing at notice level.",
			Notes: "Debug output of nginx's rewrite module, which Strait does not have.",
		},
		{
			Name: "fastcgi-index", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported,
			Doc: "Index file name appended to URIs ending in / for backend-protocol FCGI.",
		},
		{
			Name: "fastcgi-params-configmap", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported,
			Doc: "ConfigMap of FastCGI parameters sent with backend-protocol FCGI.",
		},
		{
			Name: "force-ssl-redirect", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported, Default: "false", ConfigMapKey: "force-ssl-redirect",
			Doc: "Redirects plain HTTP to HTTPS even when the host has no certificate, for TLS terminated in front of the controller.",
		},
		{
			Name: "from-to-www-redirect", Scope: ScopeHost, Risk: RiskLow, Support: Unsupported, Default: "false",
			Doc: "Redirects www.<host> to <host>, or the reverse, unless another Ingress defines that name.",
		},
		{
			Name: "global-rate-limit", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported,
			Doc:   "Limited requests per window across all replicas, counted in memcached.",
			Notes: "Removed from ingress-nginx in 2024; use limit-rps or limit-rpm, which count per replica.",
		},
		{
			Name: "global-rate-limit-ignored-cidrs", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported,
			Doc:   "Client ranges exempt from global-rate-limit.",
			Notes: "Removed from ingress-nginx in 2024; limit-allowlist exempts clients from limit-rps and limit-rpm.",
		},
		{
			Name: "global-rate-limit-key", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported,
			Doc:   "Key that global-rate-limit counted requests by.",
			Notes: "Removed from ingress-nginx in 2024; use limit-rps or limit-rpm.",
		},
		{
			Name: "global-rate-limit-window", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported,
			Doc:   "Time window of global-rate-limit.",
			Notes: "Removed from ingress-nginx in 2024; use limit-rps or limit-rpm.",
		},
		{
			Name: "grpc-backend", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported,
			Doc:   "Proxied to the upstream with gRPC.",
			Notes: "Removed from ingress-nginx in 2018; use backend-protocol: GRPC.",
		},
		{
			Name: "http2-push-preload", Scope: ScopeLocation, Risk: RiskLow, Support: Ignored, Default: "false",
			Doc:   "Turned upstream Link preload headers into HTTP/2 server pushes.",
			Notes: "Already a no-op in ingress-nginx: nginx dropped HTTP/2 server push in 1.25.1.",
		},
		{
			Name: "influxdb-host", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported,
			Doc:   "InfluxDB host for enable-influxdb.",
			Notes: "Removed from ingress-nginx, which only warns about it; use Strait's Prometheus metrics instead.",
		},
		{
			Name: "influxdb-measurement", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported,
			Doc:   "InfluxDB measurement name for enable-influxdb.",
			Notes: "Removed from ingress-nginx, which only warns about it; use Strait's Prometheus metrics instead.",
		},
		{
			Name: "influxdb-port", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported,
			Doc:   "InfluxDB port for enable-influxdb.",
			Notes: "Removed from ingress-nginx, which only warns about it; use Strait's Prometheus metrics instead.",
		},
		{
			Name: "influxdb-server-name", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported,
			Doc:   "Server name reported to InfluxDB for enable-influxdb.",
			Notes: "Removed from ingress-nginx, which only warns about it; use Strait's Prometheus metrics instead.",
		},
		{
			Name: "limit-rate", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "0", ConfigMapKey: "limit-rate",
			Doc: "Bandwidth cap of each response to the client, in KiB per second; 0 is unlimited.",
		},
		{
			Name: "limit-rate-after", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "0", ConfigMapKey: "limit-rate-after",
			Doc: "KiB of each response sent at full speed before limit-rate applies.",
		},
		{
			Name: "load-balance", Scope: ScopeBackend, Risk: RiskLow, Support: Unsupported, Default: "round_robin", ConfigMapKey: "load-balance",
			Doc: "Load-balancing algorithm across the Service's endpoints, round_robin or ewma.",
		},
		{
			Name: "mirror-host", Scope: ScopeLocation, Risk: RiskHigh, Support: Unsupported,
			Doc: "Host header of the mirrored requests; defaults to the host of mirror-target.",
		},
		{
			Name: "mirror-request-body", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "on",
			Doc: "Whether mirrored requests carry the request body.",
		},
		{
			Name: "mirror-target", Scope: ScopeLocation, Risk: RiskHigh, Support: Unsupported,
			Doc: "URL that receives a copy of every request to the Ingress's paths; its responses are discarded.",
		},
		{
			Name: "modsecurity-snippet", Scope: ScopeLocation, Risk: RiskCritical, Support: Unsupported,
			Doc:   "Raw ModSecurity rules for the Ingress's paths.",
			Notes: snippetNotes + "Strait has no web application firewall either.",
		},
		{
			Name: "modsecurity-transaction-id", Scope: ScopeLocation, Risk: RiskHigh, Support: Unsupported,
			Doc:   "Expression that sets the ModSecurity transaction ID.",
			Notes: "Strait has no web application firewall.",
		},
		{
			Name: "opentracing-trust-incoming-span", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported,
			Doc:   "Whether OpenTracing spans continued the client's trace context.",
			Notes: "Removed from ingress-nginx (deprecated in 2023); use opentelemetry-trust-incoming-span.",
		},
		{
			Name: "permanent-redirect", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported,
			Doc: "Answers the Ingress's paths with a redirect to this exact URL (code permanent-redirect-code).",
		},
		{
			Name: "permanent-redirect-code", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "301",
			Doc: "Status code of permanent-redirect, 300 to 308.",
		},
		{
			Name: "preserve-trailing-slash", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported, Default: "false", ConfigMapKey: "preserve-trailing-slash",
			Doc: "Keeps a trailing slash of the path in HTTPS redirects instead of removing it.",
		},
		{
			Name: "proxy-body-size", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported, Default: "1m", ConfigMapKey: "proxy-body-size",
			Doc: "Largest request body accepted (bytes, or with k, m, g; 0 for no limit); larger ones get 413.",
		},
		{
			Name: "proxy-buffer-size", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "4k", ConfigMapKey: "proxy-buffer-size",
			Doc: "Buffer for the upstream's response headers, which bounds their size (larger ones fail with 502 in nginx).",
		},
		{
			Name: "proxy-buffering", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "off", ConfigMapKey: "proxy-buffering",
			Doc: "Whether upstream responses are buffered before being sent to the client, instead of streamed.",
		},
		{
			Name: "proxy-buffers-number", Scope: ScopeLocation, Risk: RiskLow, Support: Ignored, Default: "4", ConfigMapKey: "proxy-buffers-number",
			Doc:   "Number of nginx buffers for an upstream response when proxy-buffering is on.",
			Notes: notesNoOpBuffer,
		},
		{
			Name: "proxy-busy-buffers-size", Scope: ScopeLocation, Risk: RiskLow, Support: Ignored, ConfigMapKey: "proxy-busy-buffers-size",
			Doc:   "How much of the nginx response buffers may be busy sending to the client at once.",
			Notes: notesNoOpBuffer,
		},
		{
			Name: "proxy-connect-timeout", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "5", ConfigMapKey: "proxy-connect-timeout",
			Doc: "Seconds allowed to connect to an upstream; a plain integer.",
		},
		{
			Name: "proxy-cookie-domain", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported, Default: "off", ConfigMapKey: "proxy-cookie-domain",
			Doc: "\"<from> <to>\" rewrite of the Domain attribute of upstream Set-Cookie headers.",
		},
		{
			Name: "proxy-cookie-path", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported, Default: "off", ConfigMapKey: "proxy-cookie-path",
			Doc: "\"<from> <to>\" rewrite of the Path attribute of upstream Set-Cookie headers.",
		},
		{
			Name: "proxy-http-version", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "1.1", ConfigMapKey: "proxy-http-version",
			Doc: "HTTP version spoken to the upstream, 1.0 or 1.1.",
		},
		{
			Name: "proxy-max-temp-file-size", Scope: ScopeLocation, Risk: RiskLow, Support: Ignored, Default: "1024m", ConfigMapKey: "proxy-max-temp-file-size",
			Doc:   "Largest temporary file nginx writes a buffered upstream response to.",
			Notes: notesNoOpBuffer,
		},
		{
			Name: "proxy-read-timeout", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "60", ConfigMapKey: "proxy-read-timeout",
			Doc: "Seconds allowed between two reads from the upstream.",
		},
		{
			Name: "proxy-redirect-from", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported, Default: "off", ConfigMapKey: "proxy-redirect-from",
			Doc: "Text replaced by proxy-redirect-to in the Location and Refresh headers of upstream responses.",
		},
		{
			Name: "proxy-redirect-to", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported, Default: "off", ConfigMapKey: "proxy-redirect-to",
			Doc: "Replacement for proxy-redirect-from in upstream Location and Refresh headers.",
		},
		{
			Name: "proxy-request-buffering", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "on", ConfigMapKey: "proxy-request-buffering",
			Doc: "Whether the whole request body is read before the upstream is contacted (on) or streamed to it (off).",
		},
		{
			Name: "proxy-send-timeout", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "60", ConfigMapKey: "proxy-send-timeout",
			Doc: "Seconds allowed between two writes to the upstream.",
		},
		{
			Name: "proxy-ssl-ciphers", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported, Default: "DEFAULT",
			Doc: "OpenSSL cipher list offered to HTTPS upstreams.",
		},
		{
			Name: "proxy-ssl-name", Scope: ScopeLocation, Risk: RiskHigh, Support: Unsupported,
			Doc: "Name the upstream certificate is verified against, and sent as SNI when proxy-ssl-server-name is on.",
		},
		{
			Name: "proxy-ssl-protocols", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "TLSv1.2",
			Doc: "TLS versions offered to HTTPS upstreams.",
		},
		{
			Name: "proxy-ssl-secret", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported,
			Doc: "Secret (namespace/name) with the client certificate (tls.crt, tls.key) and CA (ca.crt) for HTTPS upstreams; the other proxy-ssl-* annotations need it.",
		},
		{
			Name: "proxy-ssl-server-name", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "off",
			Doc: "Whether SNI is sent to HTTPS upstreams.",
		},
		{
			Name: "proxy-ssl-verify", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "off",
			Doc: "Whether the upstream certificate is verified against the CA of proxy-ssl-secret.",
		},
		{
			Name: "proxy-ssl-verify-depth", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "1",
			Doc: "Longest upstream certificate chain accepted.",
		},
		{
			Name: "relative-redirects", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "false", ConfigMapKey: "relative-redirects",
			Doc: "Makes redirects generated by the proxy itself carry a relative Location.",
		},
		{
			Name: "rewrite-target", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported,
			Doc: "Replaces the request path sent upstream, with $1… standing for the groups captured by the Ingress path.",
		},
		{
			Name: "satisfy", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported,
			Doc: "With any, a request passing either the IP access lists or authentication is let through; with all, it must pass both.",
		},
		{
			Name: "secure-backends", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported,
			Doc:   "Proxied to the upstream with HTTPS.",
			Notes: "Removed from ingress-nginx in 2018; use backend-protocol: HTTPS.",
		},
		{
			Name: "secure-upstream", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported,
			Doc:   "Proxied to the upstream with HTTPS.",
			Notes: "Removed from ingress-nginx in 2023; use backend-protocol: HTTPS, with proxy-ssl-secret and proxy-ssl-verify to check the certificate.",
		},
		{
			Name: "secure-verify-ca-secret", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported,
			Doc:   "Secret with the CA the HTTPS upstream's certificate was verified against.",
			Notes: "Removed from ingress-nginx, which only warns about it; use proxy-ssl-secret with proxy-ssl-verify: on.",
		},
		{
			Name: "server-alias", Scope: ScopeHost, Risk: RiskHigh, Support: Unsupported,
			Doc: "Comma-separated extra host names served like the Ingress's host.",
		},
		{
			Name: "server-snippet", Scope: ScopeHost, Risk: RiskCritical, Support: Unsupported,
			Doc:   "Raw nginx directives added to the host's server block.",
			Notes: snippetNotes + "use the typed annotations instead (HTTPS redirects: ssl-redirect or force-ssl-redirect; other redirects: permanent-redirect or temporal-redirect; response headers: custom-headers or the add-headers ConfigMap key; access: allowlist-source-range or denylist-source-range).",
		},
		{
			Name: "service-upstream", Scope: ScopeBackend, Risk: RiskLow, Support: Unsupported, Default: "false", ConfigMapKey: "service-upstream",
			Doc: "Sends traffic to the Service's cluster IP instead of directly to its endpoints.",
		},
		{
			Name: "session-cookie-change-on-failure", Scope: ScopeBackend, Risk: RiskLow, Support: Unsupported, Default: "false",
			Doc: "Whether a request whose pinned endpoint fails is moved to another endpoint and re-pinned.",
		},
		{
			Name: "session-cookie-conditional-samesite-none", Scope: ScopeBackend, Risk: RiskLow, Support: Unsupported, Default: "false",
			Doc: "Leaves out SameSite=None for browsers known to mishandle it.",
		},
		{
			Name: "session-cookie-domain", Scope: ScopeBackend, Risk: RiskMedium, Support: Unsupported,
			Doc: "Domain attribute of the affinity cookie.",
		},
		{
			Name: "session-cookie-expires", Scope: ScopeBackend, Risk: RiskMedium, Support: Unsupported,
			Doc: "Lifetime in seconds of the affinity cookie, sent as an Expires date.",
		},
		{
			Name: "session-cookie-hash", Scope: ScopeBackend, Risk: RiskLow, Support: Unsupported,
			Doc:   "Hash function of the affinity cookie value.",
			Notes: "Removed from ingress-nginx in 2019; the cookie value has a fixed format and needs no setting.",
		},
		{
			Name: "session-cookie-max-age", Scope: ScopeBackend, Risk: RiskMedium, Support: Unsupported,
			Doc: "Max-Age in seconds of the affinity cookie; without it or session-cookie-expires the cookie ends with the browser session.",
		},
		{
			Name: "session-cookie-name", Scope: ScopeBackend, Risk: RiskMedium, Support: Unsupported, Default: "INGRESSCOOKIE",
			Doc: "Name of the affinity cookie.",
		},
		{
			Name: "session-cookie-partitioned", Scope: ScopeBackend, Risk: RiskLow, Support: Unsupported, Default: "false",
			Doc: "Adds the Partitioned attribute to the affinity cookie.",
		},
		{
			Name: "session-cookie-path", Scope: ScopeBackend, Risk: RiskMedium, Support: Unsupported,
			Doc: "Path attribute of the affinity cookie; defaults to the Ingress path and must be set with use-regex.",
		},
		{
			Name: "session-cookie-samesite", Scope: ScopeBackend, Risk: RiskLow, Support: Unsupported,
			Doc: "SameSite attribute of the affinity cookie: None, Lax or Strict.",
		},
		{
			Name: "session-cookie-secure", Scope: ScopeBackend, Risk: RiskLow, Support: Unsupported,
			Doc: "Whether the affinity cookie is Secure; when unset, it is for requests that arrived over TLS.",
		},
		{
			Name: "ssl-ciphers", Scope: ScopeHost, Risk: RiskLow, Support: Unsupported, ConfigMapKey: "ssl-ciphers",
			Doc: "OpenSSL cipher list offered to the host's TLS clients.",
		},
		{
			Name: "ssl-passthrough", Scope: ScopeHost, Risk: RiskLow, Support: Unsupported, Default: "false",
			Doc: "Passes the host's TLS connections, chosen by SNI, unterminated to the Service of its / path.",
		},
		{
			Name: "ssl-prefer-server-ciphers", Scope: ScopeHost, Risk: RiskLow, Support: Ignored,
			Doc:   "Whether the server's cipher order wins over the client's.",
			Notes: "Go's TLS stack orders cipher suites itself and has no such switch.",
		},
		{
			Name: "ssl-redirect", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "true", ConfigMapKey: "ssl-redirect",
			Doc: "Redirects plain HTTP to HTTPS when the host has a TLS section in any Ingress.",
		},
		{
			Name: "stream-snippet", Scope: ScopeIngress, Risk: RiskCritical, Support: Unsupported,
			Doc:   "Raw nginx TCP/UDP (stream) configuration.",
			Notes: snippetNotes + "there is no typed replacement.",
		},
		{
			Name: "temporal-redirect", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported,
			Doc: "Like permanent-redirect with code temporal-redirect-code, and takes precedence over it.",
		},
		{
			Name: "temporal-redirect-code", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "302",
			Doc: "Status code of temporal-redirect, 300 to 307.",
		},
		{
			Name: "upstream-hash-by", Scope: ScopeBackend, Risk: RiskHigh, Support: Unsupported, ConfigMapKey: "upstream-hash-by",
			Doc: "Expression of request variables (such as $request_uri) whose consistent hash picks the endpoint.",
		},
		{
			Name: "upstream-hash-by-subset", Scope: ScopeBackend, Risk: RiskLow, Support: Unsupported, Default: "false", ConfigMapKey: "upstream-hash-by-subset",
			Doc: "Hashes to a group of endpoints and picks one of them at random.",
		},
		{
			Name: "upstream-hash-by-subset-size", Scope: ScopeBackend, Risk: RiskLow, Support: Unsupported, Default: "3", ConfigMapKey: "upstream-hash-by-subset-size",
			Doc: "Number of endpoints in each group of upstream-hash-by-subset.",
		},
		{
			Name: "upstream-vhost", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported,
			Doc: "Host header sent to the upstream instead of the client's.",
		},
		{
			Name: "use-port-in-redirects", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "false", ConfigMapKey: "use-port-in-redirects",
			Doc: "Includes the listening port in redirects.",
		},
		{
			Name: "use-regex", Scope: ScopeLocation, Risk: RiskLow, Support: Unsupported, Default: "false",
			Doc: "Treats the paths as case-insensitive regular expressions anchored at the start only, for every Ingress of the host.",
		},
		{
			Name: "x-forwarded-prefix", Scope: ScopeLocation, Risk: RiskMedium, Support: Unsupported,
			Doc: "Value of the X-Forwarded-Prefix header sent upstream when rewrite-target changes the path.",
		},
	}
}
