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
		&AuthAlwaysSetCookie,
		&AuthMethod,
		&AuthRealm,
		&AuthRequestRedirect,
		&AuthResponseHeaders,
		&AuthSecret,
		&AuthSecretType,
		&AuthSignin,
		&AuthSigninRedirectParam,
		&AuthTLSErrorPage,
		&AuthTLSMatchCN,
		&AuthTLSPassCertificate,
		&AuthTLSSecret,
		&AuthTLSVerifyClient,
		&AuthTLSVerifyDepth,
		&AuthType,
		&AuthURL,
		&BackendProtocol,
		&Canary,
		&CanaryByCookie,
		&CanaryByHeader,
		&CanaryByHeaderPattern,
		&CanaryByHeaderValue,
		&CanaryWeight,
		&CanaryWeightTotal,
		&CORSAllowCredentials,
		&CORSAllowHeaders,
		&CORSAllowMethods,
		&CORSAllowOrigin,
		&CORSExposeHeaders,
		&CORSMaxAge,
		&CustomHTTPErrors,
		&CustomHeaders,
		&DefaultBackend,
		&DenylistSourceRange,
		&DisableProxyInterceptErrors,
		&EnableCORS,
		&EnableGlobalAuth,
		&LoadBalance,
		&ForceSSLRedirect,
		&FromToWWWRedirect,
		&LimitAllowlist,
		&LimitBurstMultiplier,
		&LimitConnections,
		&LimitRPM,
		&LimitRPS,
		&PermanentRedirect,
		&PermanentRedirectCode,
		&ProxyBodySize,
		&ProxyConnectTimeout,
		&ProxyNextUpstream,
		&ProxyNextUpstreamTimeout,
		&ProxyNextUpstreamTries,
		&ProxyReadTimeout,
		&ProxySendTimeout,
		&ProxySSLCiphers,
		&ProxySSLName,
		&ProxySSLProtocols,
		&ProxySSLSecret,
		&ProxySSLServerName,
		&ProxySSLVerify,
		&ProxySSLVerifyDepth,
		&RewriteTarget,
		&SSLPassthrough,
		&ServerAlias,
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
	return map[string]Support{
		"add-headers":                       Differs,
		"allow-cross-namespace-resources":   Supported,
		"allow-snippet-annotations":         Differs,
		"annotations-risk-level":            Supported,
		"compute-full-forwarded-for":        Supported,
		"custom-http-errors":                Differs,
		"denylist-source-range":             Supported,
		"disable-proxy-intercept-errors":    Supported,
		"enable-real-ip":                    Supported,
		"enable-underscores-in-headers":     Supported,
		"force-ssl-redirect":                Supported,
		"forwarded-for-header":              Supported,
		"generate-request-id":               Supported,
		"global-allowed-response-headers":   Supported,
		"global-auth-always-set-cookie":     Supported,
		"global-auth-method":                Supported,
		"global-auth-request-redirect":      Supported,
		"global-auth-response-headers":      Supported,
		"global-auth-signin":                Supported,
		"global-auth-signin-redirect-param": Supported,
		"global-auth-url":                   Supported,
		"hide-headers":                      Supported,
		"hsts":                              Supported,
		"hsts-include-subdomains":           Supported,
		"hsts-max-age":                      Supported,
		"hsts-preload":                      Supported,
		"http-redirect-code":                Supported,
		"limit-conn-status-code":            Supported,
		"limit-req-status-code":             Supported,
		"load-balance":                      Differs,
		"no-auth-locations":                 Supported,
		"no-tls-redirect-locations":         Supported,
		"proxy-body-size":                   Differs,
		"proxy-connect-timeout":             Supported,
		"proxy-next-upstream":               Differs,
		"proxy-next-upstream-timeout":       Supported,
		"proxy-next-upstream-tries":         Supported,
		"proxy-read-timeout":                Supported,
		"proxy-real-ip-cidr":                Supported,
		"proxy-send-timeout":                Supported,
		"proxy-set-headers":                 Differs,
		"proxy-ssl-location-only":           Supported,
		"retry-non-idempotent":              Supported,
		"server-tokens":                     Differs,
		"service-upstream":                  Supported,
		"ssl-ciphers":                       Differs,
		"ssl-protocols":                     Differs,
		"ssl-redirect":                      Supported,
		"upstream-hash-by":                  Differs,
		"upstream-hash-by-subset":           Differs,
		"upstream-hash-by-subset-size":      Supported,
		"use-http2":                         Supported,
		"use-forwarded-headers":             Supported,
		"whitelist-source-range":            Supported,
	}
}
