package proxy_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
	"github.com/straitgw/strait/internal/proxy/upstream"
)

// TestNextUpstream checks proxy-next-upstream on every engine: the
// default retries refused connections and bodyless requests an upstream
// dropped, but not a POST it received; http_502 moves on from a 502,
// bodies included when kept; off answers the first failure.
func TestNextUpstream(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		good := echoBackend(t, "good")
		_, dropper := startRawBackend(t, 0, 0, "")
		_, bad := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "bad gateway", http.StatusBadGateway)
		}))
		refused := closedPort(t)
		with := func(host, be string, nu *model.NextUpstream) *model.VirtualHost {
			r := prefixRoute("/", be)
			r.Policy.NextUpstream = nu
			return vhost(host, status(http.StatusNotFound), r)
		}
		on502 := &model.NextUpstream{On: []string{"error", "http_502", "timeout"}, Tries: 3}
		on502post := &model.NextUpstream{On: []string{"error", "http_502", "timeout"}, NonIdempotent: true, Tries: 3}
		m := &model.Model{
			Hosts: []*model.VirtualHost{
				with("refused.test", "refused", nil),
				with("dropped.test", "dropped", nil),
				with("502.test", "502", on502),
				with("502post.test", "502", on502post),
				with("off.test", "refused", &model.NextUpstream{Tries: 3}),
				with("once.test", "502", &model.NextUpstream{On: []string{"http_502"}, Tries: 1}),
			},
			CatchAll: catchAll404(),
			Backends: []model.Backend{
				backend("502", bad, good),
				backend("dropped", dropper, good),
				backend("refused", refused, good),
			},
		}
		h := startProxy(t, e, proxy.Timeouts{Read: 5 * time.Second}, m, false)
		// The cases without retries count answers from the failing
		// endpoints, which passive health checking would soon eject.
		proxy.SetOutlier(h.p, upstream.Outlier{})
		c := newClient(t)
		send := func(method, host, body string) result {
			var req *http.Request
			if body != "" {
				req, _ = http.NewRequest(method, h.url("/x"), strings.NewReader(body))
			} else {
				req, _ = http.NewRequest(method, h.url("/x"), nil)
			}
			req.Host = host
			return do(t, c, req)
		}
		count := func(method, host, body string, n int) (ok, failed int) {
			for range n {
				r := send(method, host, body)
				switch r.status {
				case http.StatusOK:
					ok++
					if got := decodeEcho(t, r); got.Backend != "good" || got.Body != body {
						t.Errorf("%s %s: answered by %q with body %q, want good with %q", method, host, got.Backend, got.Body, body)
					}
				case http.StatusBadGateway:
					failed++
				default:
					t.Errorf("%s %s: status %d", method, host, r.status)
				}
			}
			return ok, failed
		}
		for _, tc := range []struct {
			method, host, body string
			allOK              bool
		}{
			{"GET", "refused.test", "", true},
			{"POST", "refused.test", "a=1", true}, // nothing was sent: any method moves on
			{"GET", "dropped.test", "", true},
			{"POST", "dropped.test", "", false}, // sent, and POST is not idempotent
			{"GET", "502.test", "", true},
			{"PUT", "502.test", "kept body", true},
			{"POST", "502.test", "", false},
			{"POST", "502post.test", "kept body", true},
			{"GET", "off.test", "", false},
			{"GET", "once.test", "", false},
		} {
			ok, failed := count(tc.method, tc.host, tc.body, 4)
			if tc.allOK && failed > 0 {
				t.Errorf("%s %s: %d of 4 requests failed with 502, want none", tc.method, tc.host, failed)
			}
			if !tc.allOK && (failed == 0 || ok == 0) {
				t.Errorf("%s %s: %d answered, %d failed with 502; want both (no retry, round robin)", tc.method, tc.host, ok, failed)
			}
		}
	})
}
