package proxy_test

import (
	"net/http"
	"testing"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// TestAppRootAndUpstreamVhost checks, on both plain-HTTP engines, that
// app-root answers exactly "/" with a 302 to the app path (query dropped,
// other paths untouched) and that upstream-vhost replaces the Host the
// upstream sees while X-Forwarded-Host keeps the client's.
func TestAppRootAndUpstreamVhost(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		ep := echoBackend(t, "web")
		r := prefixRoute("/", "web")
		r.Policy.UpstreamHost = "internal.svc"
		vh := vhost("app.test", status(http.StatusNotFound), r)
		vh.AppRoot = "/app"
		m := &model.Model{Hosts: []*model.VirtualHost{vh}, CatchAll: catchAll404(), Backends: []model.Backend{backend("web", ep)}}
		h := startProxy(t, e, proxy.Timeouts{}, m, false)
		c := newClient(t)

		res := get(t, c, h.url("/?x=1"), "app.test:8080")
		if res.status != http.StatusFound || res.header.Get("Location") != "http://app.test:8080/app" {
			t.Errorf("/: %d to %q, want 302 to http://app.test:8080/app", res.status, res.header.Get("Location"))
		}
		res = get(t, c, h.url("/app/x"), "app.test")
		if res.status != 200 {
			t.Fatalf("/app/x: %d", res.status)
		}
		got := decodeEcho(t, res)
		if got.Host != "internal.svc" || first(got.Headers["X-Forwarded-Host"]) != "app.test" {
			t.Errorf("upstream Host %q, X-Forwarded-Host %q; want internal.svc and app.test", got.Host, first(got.Headers["X-Forwarded-Host"]))
		}
	})
}
