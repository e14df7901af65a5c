package proxy_test

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// errorSeen is what the test error backend was told.
type errorSeen struct {
	Method, URI, Host                                            string
	Code, Format, OriginalURI, Namespace, Ingress, Service, Port string
	RequestID, ForwardedFor                                      string
}

// errorBackend answers with the status named by X-Code (200 without one)
// and a JSON body of what it received, marked X-Error-Backend.
func errorBackend(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header
		seen := errorSeen{Method: r.Method, URI: r.RequestURI, Host: r.Host, Code: h.Get("X-Code"), Format: h.Get("X-Format"),
			OriginalURI: h.Get("X-Original-URI"), Namespace: h.Get("X-Namespace"), Ingress: h.Get("X-Ingress-Name"),
			Service: h.Get("X-Service-Name"), Port: h.Get("X-Service-Port"), RequestID: h.Get("X-Request-ID"), ForwardedFor: h.Get("X-Forwarded-For")}
		code := http.StatusOK
		if n, err := strconv.Atoi(seen.Code); err == nil {
			code = n
		}
		w.Header().Set("X-Error-Backend", name)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(seen)
	})
}

func decodeSeen(t *testing.T, r result) errorSeen {
	t.Helper()
	var s errorSeen
	if err := json.Unmarshal(r.body, &s); err != nil {
		t.Fatalf("error backend body %q: %v", r.body, err)
	}
	return s
}

// TestCustomErrors checks custom-http-errors and the default-backend
// annotation on every engine (routes using them are handed over to the
// net/http handler): upstream and Strait-generated errors with a listed
// status are replaced by the error backend's answer to GET /, which is told
// the original request in X- headers; other statuses pass; without an
// error backend the page is a plain 404; disable-proxy-intercept-errors
// lets upstream errors through; a route without endpoints goes to the
// default backend with X-Code 503.
func TestCustomErrors(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		var lastID atomic.Value
		lastID.Store("")
		web := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			lastID.Store(r.Header.Get("X-Request-ID"))
			switch r.URL.Path {
			case "/404":
				http.Error(w, "upstream 404", http.StatusNotFound)
			case "/500":
				http.Error(w, "upstream 500", http.StatusInternalServerError)
			default:
				w.Header().Set("X-Upstream", "web")
				_, _ = w.Write([]byte("web " + r.Method))
			}
		})
		_, webEP := backendServer(t, web)
		_, errEP := backendServer(t, errorBackend("errors"))
		_, globalEP := backendServer(t, errorBackend("global"))
		src := model.ObjectRef{Kind: "Ingress", Namespace: "shop", Name: "front"}
		route := func(path, be string, errs model.Errors) model.Route {
			r := prefixRoute(path, be)
			r.Source = src
			errs.ServiceName, errs.ServicePort = be, "http"
			r.Policy.Errors = &errs
			return r
		}
		denied := route("/denied", "web", model.Errors{DefaultBackend: "errors", Codes: []int{403, 404, 503}})
		denied.Policy.AllowSourceRange = []string{"192.0.2.0/24"}
		m := &model.Model{
			Hosts: []*model.VirtualHost{
				vhost("app.test", status(404), route("/", "web", model.Errors{DefaultBackend: "errors", GlobalBackend: "global", Codes: []int{403, 404, 503}}), denied),
				vhost("global.test", status(404), route("/", "web", model.Errors{DefaultBackend: "empty", GlobalBackend: "global", Codes: []int{404}})),
				vhost("none.test", status(404), route("/", "web", model.Errors{Codes: []int{404}})),
				vhost("pass.test", status(404), route("/", "web", model.Errors{DefaultBackend: "errors", Codes: []int{404, 502}, UpstreamPassthrough: true}),
					route("/down", "down", model.Errors{DefaultBackend: "errors", Codes: []int{404, 502}, UpstreamPassthrough: true})),
				vhost("fallback.test", status(404), route("/", "empty", model.Errors{DefaultBackend: "errors"}),
					route("/both-empty", "empty", model.Errors{DefaultBackend: "empty"})),
			},
			CatchAll: catchAll404(),
			Backends: []model.Backend{backend("web", webEP), backend("errors", errEP), backend("global", globalEP), backend("empty"), backend("down", closedPort(t))},
		}
		h := startProxy(t, e, proxy.Timeouts{}, m, false)
		c := newClient(t)
		send := func(method, host, path string, hdr ...string) result {
			req, _ := http.NewRequest(method, h.url(path), nil)
			req.Host = host
			for i := 0; i+1 < len(hdr); i += 2 {
				req.Header.Set(hdr[i], hdr[i+1])
			}
			return do(t, c, req)
		}

		// Not listed: passes.
		if r := send("GET", "app.test", "/ok"); r.status != 200 || string(r.body) != "web GET" {
			t.Errorf("200 from upstream: %d %q", r.status, r.body)
		}
		if r := send("GET", "app.test", "/500"); r.status != 500 || string(r.body) != "upstream 500\n" {
			t.Errorf("unlisted 500: %d %q", r.status, r.body)
		}
		// Listed upstream 404: the error backend's answer to GET /.
		r := send("POST", "app.test:8080", "/404?q=1", "Accept", "application/json", "X-Request-ID", "req-1", "X-Code", "forged")
		if r.status != 404 || r.header.Get("X-Error-Backend") != "errors" {
			t.Fatalf("intercepted 404: %d %v %q", r.status, r.header, r.body)
		}
		want := errorSeen{Method: "GET", URI: "/", Host: "app.test:8080", Code: "404", Format: "application/json", OriginalURI: "/404?q=1",
			Namespace: "shop", Ingress: "front", Service: "web", Port: "http", RequestID: "req-1", ForwardedFor: "127.0.0.1"}
		if got := decodeSeen(t, r); got != want {
			t.Errorf("error backend saw %+v, want %+v", got, want)
		}
		// Without a client id, the upstream and the error backend share one.
		r = send("GET", "app.test", "/404")
		if got := decodeSeen(t, r); len(got.RequestID) != 32 || got.RequestID != lastID.Load().(string) {
			t.Errorf("request id: error backend %q, upstream %q", got.RequestID, lastID.Load())
		}
		// HEAD stays HEAD.
		if r := send("HEAD", "app.test", "/404"); r.status != 404 || r.header.Get("X-Error-Backend") != "errors" {
			t.Errorf("HEAD: %d %v", r.status, r.header)
		}
		// Strait's own 403 is replaced too.
		r = send("GET", "app.test", "/denied")
		if r.status != 403 || decodeSeen(t, r).Code != "403" || decodeSeen(t, r).OriginalURI != "/denied" {
			t.Errorf("own 403: %d %q", r.status, r.body)
		}
		// The default backend has no endpoints: the global one answers.
		if r := send("GET", "global.test", "/404"); r.status != 404 || r.header.Get("X-Error-Backend") != "global" {
			t.Errorf("global error backend: %d %v", r.status, r.header)
		}
		// No error backend at all: ingress-nginx's built-in 404.
		checkPlainError(t, "no error backend", send("GET", "none.test", "/404"), 404)
		// disable-proxy-intercept-errors: upstream 404 passes, Strait's 502 does not.
		if r := send("GET", "pass.test", "/404"); r.status != 404 || string(r.body) != "upstream 404\n" {
			t.Errorf("passthrough 404: %d %q", r.status, r.body)
		}
		if r := send("GET", "pass.test", "/down"); r.status != 502 || r.header.Get("X-Error-Backend") != "errors" {
			t.Errorf("own 502 with passthrough: %d %v %q", r.status, r.header, r.body)
		}
		// No endpoints: the request itself goes to the default backend.
		r = send("PUT", "fallback.test", "/some/where?x=1", "Accept", "text/html")
		if r.status != 503 || r.header.Get("X-Error-Backend") != "errors" {
			t.Fatalf("fallback: %d %v %q", r.status, r.header, r.body)
		}
		want = errorSeen{Method: "PUT", URI: "/some/where?x=1", Host: "fallback.test", Code: "503", Format: "text/html",
			Namespace: "shop", Ingress: "front", Service: "empty", Port: "http", ForwardedFor: "127.0.0.1"}
		got := decodeSeen(t, r)
		got.RequestID = ""
		if got != want {
			t.Errorf("default backend saw %+v, want %+v", got, want)
		}
		// A default backend without endpoints is ignored.
		checkPlainError(t, "empty default backend", send("GET", "fallback.test", "/both-empty"), 503)
	})
}

// TestWWWRedirectAndAliases checks from-to-www-redirect hosts (308 with the
// port always written, one trailing slash dropped) and server-alias names.
func TestWWWRedirectAndAliases(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		ep := echoBackend(t, "web")
		site := vhost("example.test", status(404), prefixRoute("/", "web"))
		site.Aliases = []string{"*.alias.test", "alias.test", `~^app\d+\.test$`}
		m := &model.Model{
			Hosts: []*model.VirtualHost{
				site,
				{Name: "www.example.test", RedirectTo: &model.WWWRedirect{Host: "example.test", Code: 308}, Default: status(308)},
			},
			CatchAll: catchAll404(),
			Backends: []model.Backend{backend("web", ep)},
		}
		h := startProxy(t, e, proxy.Timeouts{}, m, e == engineNetHTTP)
		c := newClient(t)
		port := strconv.Itoa(h.port)
		if h.tlsAddr != "" {
			// The TLS listener reports port 443, as ingress-nginx's does.
			tc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			r := get(t, tc, "https://"+h.tlsAddr+"/foo/", "www.example.test")
			if r.status != 308 || r.header.Get("Location") != "https://example.test:443/foo" {
				t.Errorf("HTTPS: %d Location %q", r.status, r.header.Get("Location"))
			}
		}
		for _, tc := range []struct{ path, loc string }{
			{"/", "http://example.test:" + port},
			{"/foo/", "http://example.test:" + port + "/foo"},
			{"/foo?a=1", "http://example.test:" + port + "/foo?a=1"},
		} {
			r := get(t, c, h.url(tc.path), "WWW.example.test")
			if r.status != 308 || r.header.Get("Location") != tc.loc {
				t.Errorf("GET %s: %d Location %q, want 308 %q", tc.path, r.status, r.header.Get("Location"), tc.loc)
			}
		}
		for _, host := range []string{"example.test", "alias.test", "x.alias.test", "APP12.test:80"} {
			if r := get(t, c, h.url("/a"), host); r.status != 200 || decodeEcho(t, r).Backend != "web" {
				t.Errorf("host %s: %d", host, r.status)
			}
		}
		checkPlainError(t, "two labels below a wildcard alias", get(t, c, h.url("/a"), "y.x.alias.test"), 404)
		checkPlainError(t, "not matching the pattern", get(t, c, h.url("/a"), "app.test"), 404)

		// With use-forwarded-headers, scheme and port are the forwarded ones.
		fm := *m
		fm.Forwarding = model.Forwarding{UseForwardedHeaders: true, RealIPHeader: "X-Forwarded-For", TrustedCIDRs: []string{"0.0.0.0/0"}}
		fh := startProxy(t, e, proxy.Timeouts{}, &fm, false)
		req, _ := http.NewRequest(http.MethodGet, fh.url("/x/"), nil)
		req.Host = "www.example.test"
		req.Header.Set("X-Forwarded-Proto", "https")
		req.Header.Set("X-Forwarded-Port", "8443")
		if r := do(t, c, req); r.status != 308 || r.header.Get("Location") != "https://example.test:8443/x" {
			t.Errorf("forwarded: %d Location %q", r.status, r.header.Get("Location"))
		}
	})
}
