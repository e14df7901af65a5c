package proxy

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/straitgw/strait/internal/model"
)

// External authentication (auth-url, global-auth-url), as ingress-nginx's
// auth_request does it: one request to the auth service per client
// request, in the access phase. 2xx lets the request through with the
// auth-response-headers copied into it; 401 (or a 302 to the sign-in URL)
// and 403 are returned; anything else, unreachable included, is a 500.

// maxAuthBody bounds how much of an auth response body is read (and
// thrown away) so that its connection can be reused.
const maxAuthBody = 64 << 10

// extAuth is a compiled model.ExternalAuth.
type extAuth struct {
	url    []model.TemplatePart
	method string // "" for GET
	signin []model.TemplatePart
	// signinSep joins the return-URL parameter to the sign-in URL: "?"
	// or "&"; "" when the URL already carries the parameter.
	signinSep       string
	rdParam         string
	respHeaders     []string
	requestRedirect string
	alwaysSetCookie bool
}

func compileExtAuth(m *model.ExternalAuth) *extAuth {
	if m == nil {
		return nil
	}
	ea := &extAuth{url: m.URL, method: m.Method, signin: m.SignIn, rdParam: m.SignInRedirectParam,
		respHeaders: m.ResponseHeaders, requestRedirect: m.RequestRedirect, alwaysSetCookie: m.AlwaysSetCookie}
	if len(ea.signin) > 0 {
		if ea.rdParam == "" {
			ea.rdParam = "rd"
		}
		// As ingress-nginx, decided on the URL as written: "?" when it has
		// no query, nothing when the parameter is there already, else "&".
		var raw strings.Builder
		for _, p := range ea.signin {
			if p.Var != "" {
				raw.WriteString("$" + p.Var)
			} else {
				raw.WriteString(p.Text)
			}
		}
		_, query, hasQuery := strings.Cut(raw.String(), "?")
		q, _ := url.ParseQuery(query)
		switch {
		case !hasQuery || len(q) == 0:
			ea.signinSep = "?"
		case q.Get(ea.rdParam) != "":
		default:
			ea.signinSep = "&"
		}
	}
	return ea
}

// authClient is the HTTP client towards auth services. It lives as long
// as the Proxy, so that its connection pool outlives generations.
type authClient struct {
	once sync.Once
	c    *http.Client
}

// client returns the shared client, made on first use with the proxy's
// connect timeout (proxy-connect-timeout).
func (a *authClient) client(connect time.Duration) *http.Client {
	a.once.Do(func() {
		a.c = &http.Client{
			Transport: &http.Transport{
				Proxy:               nil, // never an environment proxy
				DialContext:         (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext,
				MaxIdleConnsPerHost: 64,
				IdleConnTimeout:     60 * time.Second,
				DisableCompression:  true, // the client's Accept-Encoding goes as it is
				// nginx's proxy_ssl_verify is off by default, and auth
				// services behind in-cluster certificates rely on it; the
				// name is still sent as SNI.
				TLSClientConfig:   &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12},
				ForceAttemptHTTP2: false,
			},
			// A redirect from the auth service is an error (500), never
			// followed.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	})
	return a.c
}

// authVars expands the URL templates' variables for one request.
type authVars struct {
	scheme, httpHost, uri, remote, method string
}

func (v *authVars) get(name string) string {
	switch name {
	case "scheme":
		return v.scheme
	case "host":
		return lower(stripPort(v.httpHost))
	case "http_host":
		return v.httpHost
	case "request_uri":
		return v.uri
	case "escaped_request_uri":
		return escapeComponent(v.uri)
	case "remote_addr":
		return v.remote
	case "request_method":
		return v.method
	case "args":
		_, q, _ := strings.Cut(v.uri, "?")
		return q
	}
	return ""
}

func (v *authVars) expand(parts []model.TemplatePart) string {
	var b strings.Builder
	for _, p := range parts {
		if p.Var != "" {
			b.WriteString(v.get(p.Var))
		} else {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// escapeComponent escapes s as a URI component, as nginx's
// set_escape_uri does: everything but letters, digits and -._~.
func escapeComponent(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// authSkipHeader reports client headers not sent to the auth service:
// hop-by-hop and framing headers, Host (the auth URL's is sent),
// X-Forwarded-Proto (ingress-nginx clears it), names with "_" (nginx drops
// them) and those the proxy sets itself.
func authSkipHeader(k string) bool {
	if strings.IndexByte(k, '_') >= 0 {
		return true
	}
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
		"Host", "Content-Length", "Expect", "X-Forwarded-Proto",
		"X-Original-Url", "X-Original-Method", "X-Sent-From", "X-Real-Ip", "X-Forwarded-For",
		"X-Auth-Request-Redirect", "X-Request-Id", "X-Original-Uri", "X-Scheme":
		return true
	}
	return false
}

// authorize asks the auth service about r. It returns the writer to
// proxy the response with (adding the auth Set-Cookie) and true, or false
// when it has answered the client itself.
func (p *Proxy) authorize(w http.ResponseWriter, r *http.Request, rt *route, pr *request, fo *forwardedOut) (http.ResponseWriter, bool) {
	ea := rt.policy.extAuth
	vars := authVars{scheme: "http", httpHost: r.Host, uri: pr.uri, remote: pr.remoteIP, method: r.Method}
	if pr.https {
		vars.scheme = "https"
	}
	// The auth service and the upstream see the same request id.
	id := r.Header.Get("X-Request-Id")
	if id == "" {
		id = newRequestID()
		r.Header.Set("X-Request-Id", id)
	}
	target := vars.expand(ea.url)
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil {
		// Only $host or $http_host can make the URL bad: a Host header
		// that does not fit in a URL.
		p.log.Warn("external auth URL is invalid for this request", "route", rt.name, "url", target)
		plainError(w, http.StatusInternalServerError)
		return nil, false
	}

	h := make(http.Header, len(r.Header)+9)
	hop := connectionTokens(r.Header)
	for k, vv := range r.Header {
		if !authSkipHeader(k) && !contains(hop, k) {
			h[k] = vv
		}
	}
	h.Set("X-Original-Url", vars.scheme+"://"+r.Host+pr.uri)
	h.Set("X-Original-Method", r.Method)
	h.Set("X-Sent-From", "nginx-ingress-controller")
	h.Set("X-Real-Ip", pr.remoteIP)
	xff := pr.remoteIP
	if fo != nil && fo.xff != "" {
		xff = fo.xff
	}
	h.Set("X-Forwarded-For", xff)
	redirect := ea.requestRedirect
	if redirect == "" {
		redirect = pr.uri
	}
	h.Set("X-Auth-Request-Redirect", redirect)
	h.Set("X-Request-Id", id)
	method := http.MethodGet
	if ea.method != "" {
		method = ea.method
		h.Set("X-Original-Uri", pr.uri)
		h.Set("X-Scheme", vars.scheme)
	}

	ctx, cancel := context.WithTimeout(r.Context(), p.timeouts.Connect+p.timeouts.Read)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		plainError(w, http.StatusInternalServerError)
		return nil, false
	}
	req.Header = h
	req.Host = u.Hostname()
	if strings.IndexByte(req.Host, ':') >= 0 {
		req.Host = "[" + req.Host + "]"
	}
	resp, err := p.auth.client(p.timeouts.Connect).Do(req)
	if err != nil {
		if r.Context().Err() != nil {
			abortClientGone()
		}
		p.log.Warn("external auth request failed", "route", rt.name, "host", u.Host, "error", err)
		plainError(w, http.StatusInternalServerError)
		return nil, false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAuthBody))
	_ = resp.Body.Close()

	cookies := resp.Header["Set-Cookie"]
	deny := func(code int) {
		if len(cookies) > 0 && (ea.alwaysSetCookie || addHeaderCode(code)) {
			w.Header()["Set-Cookie"] = cookies
		}
		plainError(w, code)
	}
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		// The auth service's word replaces the client's, and a header
		// it did not send is removed, so that clients cannot spoof it.
		for _, k := range ea.respHeaders {
			if vv := resp.Header[k]; len(vv) > 0 && vv[0] != "" {
				r.Header[k] = vv
			} else {
				delete(r.Header, k)
			}
		}
		if len(cookies) > 0 {
			w = &cookieWriter{ResponseWriter: w, cookies: cookies, always: ea.alwaysSetCookie}
		}
		return w, true
	case code == http.StatusUnauthorized && ea.signin != nil:
		loc := vars.expand(ea.signin)
		if ea.signinSep != "" {
			loc += ea.signinSep + ea.rdParam + "=" + vars.scheme + "://" + r.Host + escapeComponent(pr.uri)
		}
		w.Header().Set("Location", loc)
		deny(http.StatusFound)
	case code == http.StatusUnauthorized:
		if v := resp.Header["Www-Authenticate"]; len(v) > 0 {
			w.Header()["Www-Authenticate"] = v
		}
		deny(code)
	case code == http.StatusForbidden:
		deny(code)
	default:
		p.log.Warn("external auth answered an unexpected status", "route", rt.name, "host", u.Host, "status", code)
		deny(http.StatusInternalServerError)
	}
	return nil, false
}

// addHeaderCode reports the statuses nginx's add_header (without always)
// applies to.
func addHeaderCode(code int) bool {
	switch code {
	case 200, 201, 204, 206, 301, 302, 303, 304, 307, 308:
		return true
	}
	return false
}

// cookieWriter adds the auth service's Set-Cookie to the response the
// client gets, when its status allows (see addHeaderCode).
type cookieWriter struct {
	http.ResponseWriter
	cookies []string
	always  bool
	wrote   bool
}

// WriteHeader implements http.ResponseWriter.
func (c *cookieWriter) WriteHeader(code int) {
	if !c.wrote && code >= 200 {
		c.wrote = true
		if c.always || addHeaderCode(code) {
			h := c.Header()
			h["Set-Cookie"] = slices.Concat(h["Set-Cookie"], c.cookies)
		}
	}
	c.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (c *cookieWriter) Write(b []byte) (int, error) {
	if !c.wrote {
		c.WriteHeader(http.StatusOK)
	}
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushes,
// hijacking for upgrades).
func (c *cookieWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
