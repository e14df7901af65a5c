package annotations

// implemented lists the annotations Strait implements, each defined in its
// own file as a typed Value. Adding one means adding its file and its line
// here.
func implemented() []Annotation {
	return []Annotation{
		&AllowlistSourceRange,
		&AppRoot,
		&BackendProtocol,
		&CORSAllowCredentials,
		&CORSAllowHeaders,
		&CORSAllowMethods,
		&CORSAllowOrigin,
		&CORSExposeHeaders,
		&CORSMaxAge,
		&DenylistSourceRange,
		&EnableAccessLog,
		&EnableCORS,
		&ForceSSLRedirect,
		&MirrorHost,
		&MirrorRequestBody,
		&MirrorTarget,
		&PermanentRedirect,
		&PermanentRedirectCode,
		&ProxyBodySize,
		&ProxyBufferSize,
		&ProxyBuffering,
		&ProxyConnectTimeout,
		&ProxyReadTimeout,
		&ProxyRequestBuffering,
		&ProxySendTimeout,
		&RewriteTarget,
		&SSLRedirect,
		&TemporalRedirect,
		&TemporalRedirectCode,
		&UpstreamVhost,
		&UseRegex,
		&XForwardedPrefix,
	}
}

// annotationKeys returns every known annotation: the implemented ones and
// the rest of ingress-nginx's catalogue.
func annotationKeys() []Key {
	var keys []Key
	have := map[string]bool{}
	for _, a := range implemented() {
		k := a.Describe()
		keys = append(keys, k)
		have[k.Name] = true
	}
	for _, k := range otherAnnotations() {
		if !have[k.Name] {
			keys = append(keys, k)
		}
	}
	return keys
}

// implementedConfigMapKeys lists the ConfigMap keys translate reads, with
// how they are supported; the catalogue's entries for them are updated to
// match.
func implementedConfigMapKeys() map[string]Support {
	return map[string]Support{
		"compute-full-forwarded-for":            Supported,
		"denylist-source-range":                 Supported,
		"disable-access-log":                    Supported,
		"enable-access-log-for-default-backend": Supported,
		"enable-real-ip":                        Supported,
		"forwarded-for-header":                  Supported,
		"force-ssl-redirect":                    Supported,
		"hsts":                                  Supported,
		"hsts-include-subdomains":               Supported,
		"hsts-max-age":                          Supported,
		"hsts-preload":                          Supported,
		"http-redirect-code":                    Supported,
		"log-format-escape-json":                Supported,
		"log-format-escape-none":                Supported,
		"log-format-upstream":                   Supported,
		"no-tls-redirect-locations":             Supported,
		"proxy-body-size":                       Differs,
		"proxy-buffer-size":                     Differs,
		"proxy-buffering":                       Differs,
		"proxy-request-buffering":               Differs,
		"large-client-header-buffers":           Supported,
		"keep-alive":                            Supported,
		"keep-alive-requests":                   Supported,
		"upstream-keepalive-connections":        Supported,
		"upstream-keepalive-requests":           Supported,
		"upstream-keepalive-time":               Supported,
		"upstream-keepalive-timeout":            Supported,
		"use-gzip":                              Supported,
		"gzip-level":                            Supported,
		"gzip-min-length":                       Supported,
		"gzip-types":                            Supported,
		"use-proxy-protocol":                    Supported,
		"proxy-protocol-header-timeout":         Supported,
		"proxy-connect-timeout":                 Supported,
		"proxy-read-timeout":                    Supported,
		"proxy-real-ip-cidr":                    Supported,
		"proxy-send-timeout":                    Supported,
		"skip-access-log-urls":                  Supported,
		"ssl-redirect":                          Supported,
		"use-forwarded-headers":                 Supported,
		"whitelist-source-range":                Supported,
	}
}
