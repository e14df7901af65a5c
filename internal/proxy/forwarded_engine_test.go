package proxy_test

import (
	"net/http"
	"testing"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// TestUseForwardedHeaders checks, on both plain-HTTP engines, what the
// backend receives and what access lists see when the ConfigMap trusts
// forwarded headers (use-forwarded-headers with the default trust of
// proxy-real-ip-cidr 0.0.0.0/0).
func TestUseForwardedHeaders(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		ep := echoBackend(t, "web")
		r := prefixRoute("/", "web")
		r.Policy.AllowSourceRange = []string{"203.0.113.0/24"}
		m := &model.Model{
			Hosts:      []*model.VirtualHost{vhost("app.test", status(http.StatusNotFound), r)},
			CatchAll:   catchAll404(),
			Backends:   []model.Backend{backend("web", ep)},
			Forwarding: model.Forwarding{UseForwardedHeaders: true, RealIPHeader: "X-Forwarded-For", TrustedCIDRs: []string{"0.0.0.0/0"}},
		}
		h := startProxy(t, e, proxy.Timeouts{}, m, false)
		c := newClient(t)

		req, _ := http.NewRequest("GET", h.url("/x"), nil)
		req.Host = "app.test"
		req.Header.Set("X-Forwarded-For", "203.0.113.9, 198.51.100.1")
		req.Header.Set("X-Forwarded-Proto", "https")
		req.Header.Set("X-Forwarded-Port", "443")
		req.Header.Set("X-Forwarded-Host", "front.example")
		res := do(t, c, req)
		if res.status != 200 {
			t.Fatalf("status %d, want 200 (client 203.0.113.9 is in the allowlist)", res.status)
		}
		got := decodeEcho(t, res)
		want := map[string]string{
			"X-Real-Ip": "203.0.113.9", "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https",
			"X-Forwarded-Port": "443", "X-Forwarded-Host": "front.example",
			"X-Original-Forwarded-For": "203.0.113.9, 198.51.100.1",
		}
		for k, v := range want {
			if first(got.Headers[k]) != v {
				t.Errorf("%s = %q, want %q", k, first(got.Headers[k]), v)
			}
		}
		if got.Host != "front.example" {
			t.Errorf("upstream Host %q, want the trusted X-Forwarded-Host", got.Host)
		}

		// Without a forwarded address the client is the peer, which the
		// allowlist refuses.
		res = get(t, c, h.url("/x"), "app.test")
		if res.status != 403 {
			t.Errorf("peer 127.0.0.1: status %d, want 403", res.status)
		}
	})
}
