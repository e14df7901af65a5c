package proxy_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// TestLargeClientHeaderBuffers checks nginx's limits on both engines: with
// the default "4 8k", a request line over 8k is 414 and a header line over
// 8k is 400, while heads of several long lines under 32k pass; raised to
// "4 16k", a 12k cookie passes and a 20k one is 400.
func TestLargeClientHeaderBuffers(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		m := singleHost("big.test", "web", echoBackend(t, "a"))
		h := startProxy(t, e, testTimeouts, m, false)
		req := func(target, header string) int {
			t.Helper()
			return raw(t, h.addr, http.MethodGet, "GET "+target+" HTTP/1.1\r\nHost: big.test\r\n"+header+"Connection: close\r\n\r\n").status
		}
		long := func(n int) string { return strings.Repeat("a", n) }
		for _, tc := range []struct {
			what, target, header string
			want                 int
		}{
			{"7k URI", "/" + long(7<<10), "", 200},
			{"9k URI", "/" + long(9<<10), "", 414},
			{"40k URI", "/" + long(40<<10), "", 414},
			{"7k cookie", "/", "Cookie: " + long(7<<10) + "\r\n", 200},
			{"9k cookie", "/", "Cookie: " + long(9<<10) + "\r\n", 400},
			{"three 7k headers", "/", "X-A: " + long(7<<10) + "\r\nX-B: " + long(7<<10) + "\r\nX-C: " + long(7<<10) + "\r\n", 200},
			{"five 7k headers", "/", strings.Repeat("X-A: "+long(7<<10)+"\r\n", 5), 400},
		} {
			if got := req(tc.target, tc.header); got != tc.want {
				t.Errorf("default limits, %s: %d, want %d", tc.what, got, tc.want)
			}
		}
		m2 := singleHost("big.test", "web", echoBackend(t, "a"))
		m2.Client = model.Client{HeaderBufferBytes: 16 << 10, HeaderBuffers: 4}
		h.p.Apply(m2)
		if got := req("/", "Cookie: "+long(12<<10)+"\r\n"); got != 200 {
			t.Errorf("4 16k, 12k cookie: %d, want 200", got)
		}
		if got := req("/"+long(12<<10), ""); got != 200 {
			t.Errorf("4 16k, 12k URI: %d, want 200", got)
		}
		if got := req("/", "Cookie: "+long(20<<10)+"\r\n"); got != 400 {
			t.Errorf("4 16k, 20k cookie: %d, want 400", got)
		}
		if n := h.p.LimitHits(proxy.LimitHeaderSize); n != 5 {
			t.Errorf("header_size counted %d times, want 5 (one per refused head)", n)
		}
	})
}

// TestProxyBufferSize: upstream response heads larger than the engine's
// default 32k pass when proxy-buffer-size allows them (OIDC cookies).
func TestProxyBufferSize(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			for i := 0; i < 6; i++ {
				w.Header().Add("Set-Cookie", "c"+strconv.Itoa(i)+"="+strings.Repeat("v", 7<<10))
			}
			w.WriteHeader(http.StatusOK)
		}))
		r := prefixRoute("/", "web")
		r.Policy.ProxyBufferBytes = 64 << 10
		m := &model.Model{Hosts: []*model.VirtualHost{vhost("oidc.test", status(404), r)}, CatchAll: catchAll404(), Backends: []model.Backend{backend("web", ep)}}
		h := startProxy(t, e, proxy.Timeouts{}, m, false)
		res := rawGet(t, h.addr, "oidc.test", "/")
		if res.status != 200 || len(res.header["Set-Cookie"]) != 6 {
			t.Errorf("42k response head: %d with %d cookies", res.status, len(res.header["Set-Cookie"]))
		}
	})
}
