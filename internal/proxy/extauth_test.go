package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// authRecorder is a test auth service: X-Test-Auth on the client request
// picks its answer (allow → 200 with X-Auth-User and a cookie, forbid →
// 403, moved → 302, none → 401 with WWW-Authenticate and a cookie); it
// keeps the last request it got.
type authRecorder struct {
	mu   sync.Mutex
	last *http.Request
}

func (a *authRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.last = r.Clone(r.Context())
	a.mu.Unlock()
	w.Header().Add("Set-Cookie", "auth=1; Path=/")
	switch r.Header.Get("X-Test-Auth") {
	case "allow":
		w.Header().Set("X-Auth-User", "alice")
		w.WriteHeader(http.StatusOK)
	case "forbid":
		w.WriteHeader(http.StatusForbidden)
	case "moved":
		w.Header().Set("Location", "/elsewhere")
		w.WriteHeader(http.StatusFound)
	default:
		w.Header().Set("WWW-Authenticate", `Bearer realm="test"`)
		w.WriteHeader(http.StatusUnauthorized)
	}
}

func (a *authRecorder) request() *http.Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last
}

func text(s string) model.TemplatePart { return model.TemplatePart{Text: s} }
func tvar(s string) model.TemplatePart { return model.TemplatePart{Var: s} }
func authRoute(ea model.ExternalAuth) model.Route {
	r := prefixRoute("/", "web")
	r.Policy.ExternalAuth = &ea
	return r
}

// TestExternalAuth checks auth-url on every plain-HTTP engine: the auth
// request's method, headers and Host; 2xx lets the request through with
// auth-response-headers copied (and spoofed ones removed) and the auth
// cookie; 401 with WWW-Authenticate, 403, and 500 for redirects and an
// unreachable service; the sign-in redirect in its three forms.
func TestExternalAuth(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		auth := &authRecorder{}
		authSrv, _ := backendServer(t, auth)
		authHost := strings.TrimPrefix(authSrv.URL, "http://")
		down := closedPort(t)
		// An https auth service with a self-signed certificate, which
		// nginx does not verify either.
		tlsAuth := httptest.NewTLSServer(auth)
		t.Cleanup(tlsAuth.Close)
		base := []model.TemplatePart{text(authSrv.URL + "/verify?uri="), tvar("escaped_request_uri")}
		m := &model.Model{
			Hosts: []*model.VirtualHost{
				vhost("a.test", status(404), authRoute(model.ExternalAuth{URL: base, ResponseHeaders: []string{"X-Auth-User", "X-Auth-Groups"}})),
				vhost("post.test", status(404), authRoute(model.ExternalAuth{URL: base, Method: "POST", RequestRedirect: "https://back.example/x"})),
				vhost("signin.test", status(404), authRoute(model.ExternalAuth{URL: base, SignIn: []model.TemplatePart{text("https://login.example/start")}})),
				vhost("signin2.test", status(404), authRoute(model.ExternalAuth{URL: base, SignIn: []model.TemplatePart{text("https://login.example/start?x=1")}, SignInRedirectParam: "back"})),
				vhost("signin3.test", status(404), authRoute(model.ExternalAuth{URL: base,
					SignIn: []model.TemplatePart{text("https://"), tvar("host"), text("/start?rd="), tvar("escaped_request_uri")}})),
				vhost("always.test", status(404), authRoute(model.ExternalAuth{URL: base, AlwaysSetCookie: true})),
				vhost("tls.test", status(404), authRoute(model.ExternalAuth{URL: []model.TemplatePart{text(tlsAuth.URL + "/")}})),
				vhost("down.test", status(404), authRoute(model.ExternalAuth{URL: []model.TemplatePart{text("http://" + down.Host + ":" + itoa(int(down.Port)) + "/")}})),
			},
			CatchAll: catchAll404(),
			Backends: []model.Backend{backend("web", echoBackend(t, "web"))},
		}
		h := startProxy(t, e, proxy.Timeouts{}, m, false)
		c := newClient(t)
		send := func(method, host, path string, hdr ...string) result {
			t.Helper()
			req, _ := http.NewRequest(method, h.url(path), nil)
			req.Host = host
			for i := 0; i+1 < len(hdr); i += 2 {
				req.Header.Add(hdr[i], hdr[i+1])
			}
			return do(t, c, req)
		}

		// Allowed: the upstream gets the auth service's X-Auth-User, not
		// the client's, and no X-Auth-Groups at all; the client gets the
		// cookie.
		r := send("GET", "a.test", "/app/x?q=1&r=2", "X-Test-Auth", "allow", "X-Auth-User", "mallory", "X-Auth-Groups", "admin",
			"Cookie", "s=1", "X-Forwarded-Proto", "https", "X-Request-ID", "rid-1")
		if r.status != 200 {
			t.Fatalf("allowed: status %d, body %q", r.status, r.body)
		}
		ec := decodeEcho(t, r)
		if got := ec.Headers["X-Auth-User"]; !slices.Equal(got, []string{"alice"}) {
			t.Errorf("upstream X-Auth-User = %q, want [alice]", got)
		}
		if got, ok := ec.Headers["X-Auth-Groups"]; ok {
			t.Errorf("upstream X-Auth-Groups = %q, want it removed", got)
		}
		if got := r.header.Values("Set-Cookie"); !slices.Contains(got, "auth=1; Path=/") {
			t.Errorf("allowed: Set-Cookie %q, want the auth cookie", got)
		}
		ar := auth.request()
		want := map[string]string{
			"X-Original-Url":          "http://a.test/app/x?q=1&r=2",
			"X-Original-Method":       "GET",
			"X-Sent-From":             "nginx-ingress-controller",
			"X-Real-Ip":               "127.0.0.1",
			"X-Forwarded-For":         "127.0.0.1",
			"X-Auth-Request-Redirect": "/app/x?q=1&r=2",
			"X-Request-Id":            "rid-1",
			"Cookie":                  "s=1",
			"X-Forwarded-Proto":       "",
			"X-Original-Uri":          "",
		}
		for k, v := range want {
			if got := ar.Header.Get(k); got != v {
				t.Errorf("auth request %s = %q, want %q", k, got, v)
			}
		}
		if ar.Method != "GET" || ar.Host != strings.Split(authHost, ":")[0] || ar.URL.RequestURI() != "/verify?uri=%2Fapp%2Fx%3Fq%3D1%26r%3D2" || ar.ContentLength != 0 {
			t.Errorf("auth request: %s %s Host %q length %d", ar.Method, ar.URL.RequestURI(), ar.Host, ar.ContentLength)
		}
		if got := ec.Headers["X-Request-Id"]; !slices.Equal(got, []string{"rid-1"}) {
			t.Errorf("upstream X-Request-Id = %q", got)
		}

		// A generated request id is the same for both.
		r = send("GET", "a.test", "/", "X-Test-Auth", "allow")
		if id := auth.request().Header.Get("X-Request-Id"); id == "" || !slices.Equal(decodeEcho(t, r).Headers["X-Request-Id"], []string{id}) {
			t.Errorf("request ids: auth %q, upstream %q", id, decodeEcho(t, r).Headers["X-Request-Id"])
		}

		// 401 with its challenge, no cookie (401 is not an add_header
		// status); 403; 500 for a redirect and for an unreachable service.
		r = send("GET", "a.test", "/x")
		checkPlainError(t, "401", r, 401)
		if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="test"` {
			t.Errorf("401: WWW-Authenticate %q", got)
		}
		if got := r.header.Values("Set-Cookie"); len(got) != 0 {
			t.Errorf("401: Set-Cookie %q, want none", got)
		}
		checkPlainError(t, "403", send("GET", "a.test", "/x", "X-Test-Auth", "forbid"), 403)
		checkPlainError(t, "auth redirect", send("GET", "a.test", "/x", "X-Test-Auth", "moved"), 500)
		if r := send("GET", "tls.test", "/x", "X-Test-Auth", "allow"); r.status != 200 {
			t.Errorf("https auth service: %d %q", r.status, r.body)
		}
		checkPlainError(t, "auth down", send("GET", "down.test", "/x", "X-Test-Auth", "allow"), 500)

		// auth-always-set-cookie: the cookie on a 403 too.
		r = send("GET", "always.test", "/x", "X-Test-Auth", "forbid")
		if r.status != 403 || !slices.Contains(r.header.Values("Set-Cookie"), "auth=1; Path=/") {
			t.Errorf("always-set-cookie 403: %d Set-Cookie %q", r.status, r.header.Values("Set-Cookie"))
		}

		// auth-method: the method, X-Original-URI and X-Scheme, and
		// auth-request-redirect.
		send("GET", "post.test", "/p?a=b", "X-Test-Auth", "allow")
		ar = auth.request()
		if ar.Method != "POST" || ar.Header.Get("X-Original-Uri") != "/p?a=b" || ar.Header.Get("X-Scheme") != "http" ||
			ar.Header.Get("X-Auth-Request-Redirect") != "https://back.example/x" || ar.Header.Get("X-Original-Method") != "GET" {
			t.Errorf("auth-method POST: %s %v", ar.Method, ar.Header)
		}

		// Sign-in redirects, with the auth cookie. $escaped_request_uri
		// escapes the whole URI, slashes included, as set_escape_uri does.
		for _, tc := range []struct{ host, path, location string }{
			{"signin.test", "/a/b?c=d", "https://login.example/start?rd=http://signin.test%2Fa%2Fb%3Fc%3Dd"},
			{"signin2.test", "/a", "https://login.example/start?x=1&back=http://signin2.test%2Fa"},
			{"signin3.test", "/a?b=c", "https://signin3.test/start?rd=%2Fa%3Fb%3Dc"},
		} {
			r = send("GET", tc.host, tc.path)
			if r.status != 302 || r.header.Get("Location") != tc.location || !slices.Contains(r.header.Values("Set-Cookie"), "auth=1; Path=/") {
				t.Errorf("%s%s: %d Location %q Set-Cookie %q, want 302 %q", tc.host, tc.path, r.status, r.header.Get("Location"), r.header.Values("Set-Cookie"), tc.location)
			}
		}
		// A 403 is not redirected.
		checkPlainError(t, "signin 403", send("GET", "signin.test", "/", "X-Test-Auth", "forbid"), 403)
	})
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// TestExternalAuthCookieStatus: after a 2xx from the auth service, its
// Set-Cookie joins the upstream's on the client response only when that
// response's status is one nginx's add_header applies to (2xx, 3xx), and
// on every status with auth-always-set-cookie.
func TestExternalAuthCookieStatus(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		auth := &authRecorder{}
		authSrv, _ := backendServer(t, auth)
		_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Set-Cookie", "up=1")
			if strings.HasPrefix(r.URL.Path, "/fail") {
				w.WriteHeader(http.StatusInternalServerError)
			}
			_, _ = w.Write([]byte("body"))
		}))
		url := []model.TemplatePart{text(authSrv.URL + "/")}
		m := &model.Model{
			Hosts: []*model.VirtualHost{
				vhost("a.test", status(404), authRoute(model.ExternalAuth{URL: url})),
				vhost("always.test", status(404), authRoute(model.ExternalAuth{URL: url, AlwaysSetCookie: true})),
			},
			CatchAll: catchAll404(),
			Backends: []model.Backend{backend("web", ep)},
		}
		h := startProxy(t, e, proxy.Timeouts{}, m, false)
		c := newClient(t)
		for _, tc := range []struct {
			host, path string
			code       int
			cookies    []string
		}{
			{"a.test", "/ok", 200, []string{"up=1", "auth=1; Path=/"}},
			{"a.test", "/fail", 500, []string{"up=1"}},
			{"always.test", "/fail", 500, []string{"up=1", "auth=1; Path=/"}},
		} {
			req, _ := http.NewRequest("GET", h.url(tc.path), nil)
			req.Host = tc.host
			req.Header.Set("X-Test-Auth", "allow")
			r := do(t, c, req)
			if r.status != tc.code || !slices.Equal(r.header.Values("Set-Cookie"), tc.cookies) || string(r.body) != "body" {
				t.Errorf("%s%s: %d Set-Cookie %q body %q; want %d %q", tc.host, tc.path, r.status, r.header.Values("Set-Cookie"), r.body, tc.code, tc.cookies)
			}
		}
	})
}
