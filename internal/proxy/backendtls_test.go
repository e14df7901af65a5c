package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// TestBackendHTTPS proxies to an HTTPS upstream (backend-protocol: HTTPS)
// with a self-signed certificate, on both plain-HTTP engines, over a
// reused connection.
func TestBackendHTTPS(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		srv := httptest.NewTLSServer(echo.New("secure"))
		t.Cleanup(srv.Close)
		ep := endpointOf(t, srv.Listener.Addr())
		b := backend("secure", ep)
		b.Protocol = model.ProtocolHTTPS
		m := &model.Model{
			Hosts:    []*model.VirtualHost{vhost("tls-backend.test", status(http.StatusNotFound), prefixRoute("/", "secure"))},
			CatchAll: catchAll404(),
			Backends: []model.Backend{b},
		}
		h := startProxy(t, e, proxy.Timeouts{}, m, false)
		c := newClient(t)
		for i := 0; i < 3; i++ {
			r := get(t, c, h.url("/x?y=1"), "tls-backend.test")
			if r.status != 200 {
				t.Fatalf("request %d: status %d, want 200", i, r.status)
			}
			got := decodeEcho(t, r)
			if got.Backend != "secure" || got.URI != "/x?y=1" {
				t.Fatalf("request %d reached %q with URI %q", i, got.Backend, got.URI)
			}
		}
	})
}
