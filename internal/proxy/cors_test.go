package proxy_test

import (
	"net/http"
	"testing"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// TestCORS checks ingress-nginx's CORS behaviour on both plain-HTTP
// engines: in * mode every OPTIONS is a 204 preflight and every response
// carries the headers; in list mode only allowed origins (exact, or one
// label for *.) get them, other preflights go upstream; the upstream's own
// CORS headers are replaced.
func TestCORS(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Access-Control-Allow-Origin", "https://upstream.example")
			w.Header().Set("X-Method", r.Method)
		})
		_, ep := backendServer(t, upstream)
		all := prefixRoute("/", "web")
		all.Policy.CORS = &model.CORS{AllowMethods: "GET, POST", AllowHeaders: "Content-Type", AllowCredentials: true, MaxAge: 600}
		list := prefixRoute("/", "web")
		list.Policy.CORS = &model.CORS{AllowOrigins: []string{"https://app.example.com", "https://*.example.org"}, AllowMethods: "GET", AllowHeaders: "X-A", ExposeHeaders: "X-B", MaxAge: 60}
		m := &model.Model{
			Hosts: []*model.VirtualHost{
				vhost("all.test", status(http.StatusNotFound), all),
				vhost("list.test", status(http.StatusNotFound), list),
			},
			CatchAll: catchAll404(), Backends: []model.Backend{backend("web", ep)},
		}
		h := startProxy(t, e, proxy.Timeouts{}, m, false)
		c := newClient(t)
		send := func(method, host, origin string) result {
			req, _ := http.NewRequest(method, h.url("/x"), nil)
			req.Host = host
			if origin != "" {
				req.Header.Set("Origin", origin)
			}
			return do(t, c, req)
		}

		r := send(http.MethodOptions, "all.test", "")
		if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("Access-Control-Allow-Credentials") != "true" ||
			r.header.Get("Access-Control-Allow-Methods") != "GET, POST" || r.header.Get("Access-Control-Max-Age") != "600" || len(r.body) != 0 {
			t.Errorf("* preflight: %d %v %q", r.status, r.header, r.body)
		}
		r = send(http.MethodGet, "all.test", "")
		if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("X-Method") != "GET" {
			t.Errorf("* GET: %d ACAO %q", r.status, r.header.Get("Access-Control-Allow-Origin"))
		}

		r = send(http.MethodOptions, "list.test", "https://app.example.com")
		if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || r.header.Get("Access-Control-Expose-Headers") != "X-B" ||
			r.header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("allowed preflight: %d %v", r.status, r.header)
		}
		r = send(http.MethodOptions, "list.test", "https://evil.example")
		if r.status != 200 || r.header.Get("X-Method") != "OPTIONS" || r.header.Get("Access-Control-Allow-Origin") != "https://upstream.example" {
			t.Errorf("disallowed preflight must reach the upstream untouched: %d %v", r.status, r.header)
		}
		r = send(http.MethodGet, "list.test", "https://a.example.org")
		if r.header.Get("Access-Control-Allow-Origin") != "https://a.example.org" {
			t.Errorf("one-label wildcard origin: ACAO %q", r.header.Get("Access-Control-Allow-Origin"))
		}
		r = send(http.MethodGet, "list.test", "https://a.b.example.org")
		if got := r.header.Get("Access-Control-Allow-Origin"); got != "https://upstream.example" {
			t.Errorf("two labels must not match: ACAO %q", got)
		}
	})
}
