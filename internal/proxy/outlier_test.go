package proxy_test

import (
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
	"github.com/straitgw/strait/internal/proxy/upstream"
)

// resettingBackend accepts connections and resets them at once (SO_LINGER
// 0), counting them.
func resettingBackend(t *testing.T) (*atomic.Int64, model.Endpoint) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			_ = c.(*net.TCPConn).SetLinger(0)
			_ = c.Close()
		}
	}()
	return &n, endpointOf(t, ln.Addr())
}

// sample returns the value of the named data-plane sample.
func sample(t *testing.T, p *proxy.Proxy, name string) float64 {
	t.Helper()
	for _, s := range p.Samples() {
		if s.Name == name {
			return s.Value
		}
	}
	t.Fatalf("no sample %s in %v", name, p.Samples())
	return 0
}

// On every engine an endpoint that resets connections is ejected after
// its fifth failure in a row, and every GET is answered by the others
// (the resets are retried); an endpoint answering 503 is ejected after
// five 503s, which reach the client because the default
// proxy-next-upstream does not retry them.
func TestOutlierEjection(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		resets, resetter := resettingBackend(t)
		var unavailable atomic.Int64
		_, down := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			unavailable.Add(1)
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
		}))
		m := &model.Model{
			Hosts: []*model.VirtualHost{
				vhost("resets.test", toBackend("resets")),
				vhost("down.test", toBackend("down")),
			},
			CatchAll: catchAll404(),
			Backends: []model.Backend{
				backend("resets", echoBackend(t, "a"), resetter, echoBackend(t, "b")),
				backend("down", echoBackend(t, "c"), down, echoBackend(t, "d")),
			},
		}
		h := startProxy(t, e, proxy.Timeouts{Read: 5 * time.Second}, m, false)
		c := newClient(t)
		const n = 60
		for range n {
			if r := get(t, c, h.url("/"), "resets.test"); r.status != http.StatusOK {
				t.Fatalf("resets.test: status %d, want 200 (resets are retried)", r.status)
			}
		}
		if got := resets.Load(); got != upstream.DefaultConsecutiveFailures {
			t.Errorf("the resetting endpoint got %d connections in %d requests, want %d (ejected then)", got, n, upstream.DefaultConsecutiveFailures)
		}
		failed := 0
		for range n {
			switch r := get(t, c, h.url("/"), "down.test"); r.status {
			case http.StatusOK:
			case http.StatusServiceUnavailable:
				failed++
			default:
				t.Fatalf("down.test: status %d", r.status)
			}
		}
		if failed != upstream.DefaultConsecutiveFailures || unavailable.Load() != int64(failed) {
			t.Errorf("down.test: %d answers 503, %d requests reached the endpoint; want %d, ejected then", failed, unavailable.Load(), upstream.DefaultConsecutiveFailures)
		}
		if got := sample(t, h.p, "strait_upstream_ejections_total"); got != 2 {
			t.Errorf("ejections = %v, want 2", got)
		}
		if got := sample(t, h.p, "strait_upstream_ejected_endpoints"); got != 2 {
			t.Errorf("ejected endpoints = %v, want 2", got)
		}
	})
}

// On every engine a backend with MaxRequests in flight answers 503 at
// once, without reaching an endpoint, and admits requests again when one
// ends.
func TestCircuitBreaker(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		arrived := make(chan struct{}, 4)
		release := make(chan struct{})
		var reached atomic.Int64
		_, slow := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reached.Add(1)
			if r.URL.Path == "/slow" {
				arrived <- struct{}{}
				<-release
			}
			_, _ = w.Write([]byte("done"))
		}))
		h := startProxy(t, e, proxy.Timeouts{}, singleHost("slow.test", "slow", slow), false)
		proxy.SetBreaker(h.p, upstream.Breaker{MaxRequests: 1})
		c := newClient(t)
		first := make(chan result, 1)
		go func() {
			req, _ := http.NewRequest(http.MethodGet, h.url("/slow"), nil)
			req.Host = "slow.test"
			resp, err := c.Do(req)
			if err != nil {
				first <- result{}
				return
			}
			_ = resp.Body.Close()
			first <- result{status: resp.StatusCode}
		}()
		<-arrived
		start := time.Now()
		r := get(t, c, h.url("/fast"), "slow.test")
		t.Logf("refused in %v", time.Since(start))
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("second request in flight: status %d, want 503", r.status)
		}
		if reached.Load() != 1 {
			t.Errorf("%d requests reached the backend, want 1", reached.Load())
		}
		close(release)
		if r := <-first; r.status != http.StatusOK {
			t.Errorf("first request: status %d, want 200", r.status)
		}
		if r := get(t, c, h.url("/fast"), "slow.test"); r.status != http.StatusOK {
			t.Errorf("after the first ended: status %d, want 200", r.status)
		}
		if got := sample(t, h.p, "strait_upstream_breaker_rejections_total"); got != 1 {
			t.Errorf("breaker rejections = %v, want 1", got)
		}
	})
}

// Settings that cannot be used are refused when the proxy is created.
func TestFailureHandlingOptions(t *testing.T) {
	for _, o := range []proxy.Options{
		{Outlier: &upstream.Outlier{ConsecutiveFailures: 5, BaseEjectionTime: time.Second, MaxEjectionPercent: 150}},
		{Outlier: &upstream.Outlier{ConsecutiveFailures: -1}},
		{Outlier: &upstream.Outlier{ConsecutiveFailures: 5}},
		{Breaker: &upstream.Breaker{MaxRequests: -1}},
	} {
		if _, err := proxy.New(o); err == nil {
			t.Errorf("proxy.New(%+v %+v) accepted the settings", o.Outlier, o.Breaker)
		}
	}
	if _, err := proxy.New(proxy.Options{Outlier: &upstream.Outlier{}, Breaker: &upstream.Breaker{}}); err != nil {
		t.Errorf("zero settings (both off): %v", err)
	}
}
