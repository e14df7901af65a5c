package proxy_test

import (
	"net/http"
	"testing"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// TestBasicAuth checks basic authentication on every engine (the HTTP/1
// engine hands such routes to the net/http handler): 401 with the realm's
// challenge without credentials, with a wrong password or an unknown user;
// the upstream never sees the Authorization header of an accepted request;
// a CORS preflight is answered before authentication; the deny list runs
// first; another route of the host is not affected.
func TestBasicAuth(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Saw-Authorization", r.Header.Get("Authorization"))
			w.Header().Set("X-Method", r.Method)
		})
		_, ep := backendServer(t, upstream)
		users := []model.Credential{
			{User: "alice", Hash: "$apr1$saltsalt$LrttParrLPdxvgutaSXWJ0"},                      // secret
			{User: "bob", Hash: "$2y$05$b92SzjHsKqEGT2mT36R7zun1hOgNalEJON9mA01blnX3nOAtiR.jG"}, // secret
			{User: "carol", Hash: "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="},                          // secret
		}
		private := prefixRoute("/private", "web")
		private.Policy.BasicAuth = model.NewBasicAuth("Protected Area", "a/htpasswd", users)
		private.Policy.CORS = &model.CORS{AllowMethods: "GET", AllowHeaders: "Authorization", MaxAge: 60}
		denied := prefixRoute("/denied", "web")
		denied.Policy.BasicAuth = private.Policy.BasicAuth
		denied.Policy.DenySourceRange = []string{"0.0.0.0/0", "::/0"}
		m := &model.Model{
			Hosts:    []*model.VirtualHost{vhost("auth.test", status(http.StatusNotFound), private, denied, prefixRoute("/open", "web"))},
			CatchAll: catchAll404(), Backends: []model.Backend{backend("web", ep)},
		}
		h := startProxy(t, e, proxy.Timeouts{}, m, false)
		c := newClient(t)
		send := func(method, path, user, pass string) result {
			req, _ := http.NewRequest(method, h.url(path), nil)
			req.Host = "auth.test"
			if user != "" || pass != "" {
				req.SetBasicAuth(user, pass)
			}
			return do(t, c, req)
		}
		challenge := `Basic realm="Protected Area"`

		for _, bad := range []struct{ what, user, pass string }{
			{"no credentials", "", ""},
			{"wrong password", "alice", "wrong"},
			{"unknown user", "mallory", "secret"},
			{"bcrypt, wrong password", "bob", "Secret"},
			{"empty password", "carol", ""},
		} {
			r := send(http.MethodGet, "/private/x", bad.user, bad.pass)
			if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != challenge || r.header.Get("X-Method") != "" {
				t.Errorf("%s: %d, WWW-Authenticate %q, reached upstream %v", bad.what, r.status, r.header.Get("WWW-Authenticate"), r.header.Get("X-Method") != "")
			}
		}
		for _, u := range []string{"alice", "bob", "carol"} {
			r := send(http.MethodGet, "/private/x", u, "secret")
			if r.status != http.StatusOK || r.header.Get("X-Method") != "GET" {
				t.Errorf("%s: %d, want 200 from upstream", u, r.status)
			}
			if got := r.header.Get("X-Saw-Authorization"); got != "" {
				t.Errorf("%s: upstream received Authorization %q", u, got)
			}
			if r.header.Get("WWW-Authenticate") != "" {
				t.Errorf("%s: a 200 carries WWW-Authenticate", u)
			}
		}
		// A header that is not Basic is no credentials.
		req, _ := http.NewRequest(http.MethodGet, h.url("/private/x"), nil)
		req.Host = "auth.test"
		req.Header.Set("Authorization", "Bearer abc")
		if r := do(t, c, req); r.status != http.StatusUnauthorized {
			t.Errorf("Bearer token: %d, want 401", r.status)
		}

		// The CORS preflight is answered in the rewrite phase, before auth.
		req, _ = http.NewRequest(http.MethodOptions, h.url("/private/x"), nil)
		req.Host = "auth.test"
		req.Header.Set("Origin", "https://app.example")
		if r := do(t, c, req); r.status != http.StatusNoContent {
			t.Errorf("CORS preflight: %d, want 204 without credentials", r.status)
		}

		// The deny list runs before auth: 403 even with good credentials.
		if r := send(http.MethodGet, "/denied", "alice", "secret"); r.status != http.StatusForbidden {
			t.Errorf("denied client: %d, want 403", r.status)
		}

		// Another route passes Authorization through untouched.
		if r := send(http.MethodGet, "/open", "alice", "whatever"); r.status != http.StatusOK || r.header.Get("X-Saw-Authorization") == "" {
			t.Errorf("open route: %d, Authorization upstream %q", r.status, r.header.Get("X-Saw-Authorization"))
		}
	})
}

// TestBasicAuthNoUsers checks that a route whose Secret has no usable user
// refuses everyone.
func TestBasicAuthNoUsers(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		_, ep := backendServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		r0 := prefixRoute("/", "web")
		r0.Policy.BasicAuth = model.NewBasicAuth("", "a/empty", nil)
		m := &model.Model{Hosts: []*model.VirtualHost{vhost("auth.test", status(404), r0)}, CatchAll: catchAll404(), Backends: []model.Backend{backend("web", ep)}}
		h := startProxy(t, e, proxy.Timeouts{}, m, false)
		req, _ := http.NewRequest(http.MethodGet, h.url("/"), nil)
		req.Host = "auth.test"
		req.SetBasicAuth("", "")
		r := do(t, newClient(t), req)
		if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != `Basic realm=""` {
			t.Errorf("%d %q, want 401 with an empty realm", r.status, r.header.Get("WWW-Authenticate"))
		}
	})
}
