package proxy_test

import (
	"net/http"
	"testing"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// TestCanary follows ingress-nginx's decision order on every engine (the
// HTTP/1 engine hands canary routes over): the header (exact value,
// pattern, or always/never), then the cookie, then the weight; a canary
// without endpoints is skipped.
func TestCanary(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		main, canary := echoBackend(t, "main"), echoBackend(t, "canary")
		route := func(c model.Canary) model.Route {
			r := prefixRoute("/", "main")
			if c.Backend == "" {
				c.Backend = "canary"
			}
			if c.WeightTotal == 0 {
				c.WeightTotal = 100
			}
			r.Policy.Canary = &c
			return r
		}
		nf := status(http.StatusNotFound)
		m := &model.Model{
			Hosts: []*model.VirtualHost{
				vhost("always.test", nf, route(model.Canary{Header: "X-Canary", Cookie: "canary"})),
				vhost("value.test", nf, route(model.Canary{Header: "X-Canary", HeaderValue: "yes", Cookie: "canary"})),
				vhost("pattern.test", nf, route(model.Canary{Header: "X-Canary", HeaderPattern: "^v[0-9]+$"})),
				vhost("all.test", nf, route(model.Canary{Header: "X-Canary", Weight: 100})),
				vhost("big.test", nf, route(model.Canary{Weight: 1000, WeightTotal: 1000})),
				vhost("empty.test", nf, route(model.Canary{Backend: "empty", Weight: 100})),
			},
			CatchAll: catchAll404(),
			Backends: []model.Backend{backend("canary", canary), backend("empty"), backend("main", main)},
		}
		h := startProxy(t, e, proxy.Timeouts{}, m, false)
		c := newClient(t)
		for _, tc := range []struct {
			host, header, cookie, want string
		}{
			{"always.test", "", "", "main"},
			{"always.test", "always", "", "canary"},
			{"always.test", "never", "always", "main"}, // never stops the decision
			{"always.test", "other", "", "main"},       // falls through to weight 0
			{"always.test", "other", "always", "canary"},
			{"always.test", "", "always", "canary"},
			{"always.test", "", "never", "main"},
			{"always.test", "", "maybe", "main"},
			{"value.test", "yes", "", "canary"},
			{"value.test", "always", "", "main"}, // always has no meaning with a value
			{"value.test", "Yes", "always", "canary"},
			{"pattern.test", "v12", "", "canary"},
			{"pattern.test", "xv12", "", "main"},
			{"pattern.test", "always", "", "main"},
			{"all.test", "", "", "canary"},
			{"all.test", "never", "", "main"},
			{"big.test", "", "", "canary"},
			{"empty.test", "", "", "main"},
		} {
			req, _ := http.NewRequest(http.MethodGet, h.url("/x"), nil)
			req.Host = tc.host
			if tc.header != "" {
				req.Header.Set("x-canary", tc.header)
			}
			if tc.cookie != "" {
				req.AddCookie(&http.Cookie{Name: "canary", Value: tc.cookie})
			}
			r := do(t, c, req)
			if got := decodeEcho(t, r).Backend; r.status != http.StatusOK || got != tc.want {
				t.Errorf("%s header %q cookie %q: status %d from %q, want 200 from %q", tc.host, tc.header, tc.cookie, r.status, got, tc.want)
			}
		}
	})
}
