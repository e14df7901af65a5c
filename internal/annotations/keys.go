package annotations

// implemented lists the annotations Strait implements, each defined in its
// own file as a typed Value. Adding one means adding its file and its line
// here.
func implemented() []Annotation {
	return []Annotation{
		&Affinity,
		&AffinityMode,
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
		&EnableCORS,
		&LoadBalance,
		&ForceSSLRedirect,
		&PermanentRedirect,
		&PermanentRedirectCode,
		&ProxyBodySize,
		&ProxyConnectTimeout,
		&ProxyReadTimeout,
		&ProxySendTimeout,
		&RewriteTarget,
		&ServiceUpstream,
		&SessionCookieChangeOnFailure,
		&SessionCookieConditionalSameSiteNone,
		&SessionCookieDomain,
		&SessionCookieExpires,
		&SessionCookieMaxAge,
		&SessionCookieName,
		&SessionCookiePath,
		&SessionCookieSameSite,
		&SessionCookieSecure,
		&SSLRedirect,
		&TemporalRedirect,
		&TemporalRedirectCode,
		&UpstreamHashBy,
		&UpstreamHashBySubset,
		&UpstreamHashBySubsetSize,
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
	m := map[string]Support{
		"compute-full-forwarded-for": Supported,
		"denylist-source-range":      Supported,
		"enable-real-ip":             Supported,
		"forwarded-for-header":       Supported,
		"force-ssl-redirect":         Supported,
		"hsts":                       Supported,
		"hsts-include-subdomains":    Supported,
		"hsts-max-age":               Supported,
		"hsts-preload":               Supported,
		"http-redirect-code":         Supported,
		"load-balance":               Differs,
		"no-tls-redirect-locations":  Supported,
		"proxy-body-size":            Differs,
		"proxy-connect-timeout":      Supported,
		"proxy-read-timeout":         Supported,
		"proxy-real-ip-cidr":         Supported,
		"proxy-send-timeout":         Supported,
		"service-upstream":           Supported,
		"ssl-redirect":               Supported,
		"upstream-hash-by":           Differs,
		"upstream-hash-by-subset":    Differs,
		"use-forwarded-headers":      Supported,
		"whitelist-source-range":     Supported,
	}
	m["upstream-hash-by-subset-size"] = Supported
	return m
}
