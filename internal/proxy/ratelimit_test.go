package proxy_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// limitModel is a model whose client addresses come from X-Forwarded-For,
// so that one test client can be many clients. Host lim.test has /a and /b
// of one Ingress (zone zoneAB) and /c of another (zone "a/c/1").
func limitModel(ep model.Endpoint, zoneAB string, lim model.RateLimit) *model.Model {
	route := func(path, zone string) model.Route {
		r := prefixRoute(path, "web")
		l := lim
		l.Zone = zone
		r.Policy.Limit = &l
		return r
	}
	return &model.Model{
		Hosts:      []*model.VirtualHost{vhost("lim.test", status(http.StatusNotFound), route("/a", zoneAB), route("/b", zoneAB), route("/c", "a/c/1"))},
		CatchAll:   catchAll404(),
		Backends:   []model.Backend{backend("web", ep)},
		Forwarding: model.Forwarding{UseForwardedHeaders: true, RealIPHeader: "X-Forwarded-For", TrustedCIDRs: []string{"0.0.0.0/0"}},
	}
}

// TestRateLimit checks limit-rps as nginx's limit_req with nodelay, on
// every engine: per client IP (after the real-IP rules), one bucket per
// Ingress shared by its paths, burst = rps × multiplier beyond the first
// request, excess answered at once with the configured status; an
// allowlisted client is not limited; buckets survive a new generation and
// a recreated Ingress (new uid) starts afresh.
func TestRateLimit(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		ep := echoBackend(t, "web")
		lim := model.RateLimit{RPS: 1, Multiplier: 1, Allow: []string{"10.0.0.0/8"}, RequestStatus: 429, ConnectionStatus: 503}
		h := startProxy(t, e, proxy.Timeouts{}, limitModel(ep, "a/ab/1", lim), false)
		c := newClient(t)
		send := func(path, client string) int {
			req, _ := http.NewRequest(http.MethodGet, h.url(path), nil)
			req.Host = "lim.test"
			req.Header.Set("X-Forwarded-For", client)
			return do(t, c, req).status
		}
		// One request, plus a burst of one: the third within the second
		// is refused, whichever path of the Ingress it goes to.
		if got := []int{send("/a", "203.0.113.1"), send("/b", "203.0.113.1"), send("/a", "203.0.113.1")}; got[0] != 200 || got[1] != 200 || got[2] != 429 {
			t.Fatalf("statuses %v, want [200 200 429]", got)
		}
		if s := send("/b", "203.0.113.1"); s != 429 {
			t.Errorf("/b after the burst: %d, want 429 (the Ingress's paths share the bucket)", s)
		}
		if s := send("/c", "203.0.113.1"); s != 200 {
			t.Errorf("/c of another Ingress: %d, want 200", s)
		}
		if s := send("/a", "203.0.113.2"); s != 200 {
			t.Errorf("another client: %d, want 200", s)
		}
		for i := 0; i < 5; i++ {
			if s := send("/a", "10.1.2.3"); s != 200 {
				t.Fatalf("allowlisted client, request %d: %d, want 200", i, s)
			}
		}
		h.p.Apply(limitModel(ep, "a/ab/1", lim))
		if s := send("/a", "203.0.113.1"); s != 429 {
			t.Errorf("after a new generation: %d, want 429 (buckets survive)", s)
		}
		h.p.Apply(limitModel(ep, "a/ab/2", lim))
		if s := send("/a", "203.0.113.1"); s != 200 {
			t.Errorf("recreated Ingress: %d, want 200 (a new zone)", s)
		}
		// The bucket leaks at the rate: after a second one more request
		// passes.
		send("/c", "203.0.113.9")
		send("/c", "203.0.113.9")
		time.Sleep(1100 * time.Millisecond)
		if s := send("/c", "203.0.113.9"); s != 200 {
			t.Errorf("after a second: %d, want 200", s)
		}
	})
}

// TestConnectionLimit checks limit-connections: concurrent requests per
// client IP, released when the request ends.
func TestConnectionLimit(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		release := make(chan struct{})
		arrived := make(chan struct{}, 4)
		_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/a/slow" {
				arrived <- struct{}{}
				<-release
			}
		}))
		lim := model.RateLimit{Connections: 1, Multiplier: 5, RequestStatus: 503, ConnectionStatus: 503}
		h := startProxy(t, e, proxy.Timeouts{}, limitModel(ep, "a/ab/1", lim), false)
		send := func(c *http.Client, path, client string) int {
			req, _ := http.NewRequest(http.MethodGet, h.url(path), nil)
			req.Host = "lim.test"
			req.Header.Set("X-Forwarded-For", client)
			return do(t, c, req).status
		}
		var wg sync.WaitGroup
		wg.Add(1)
		slow, sc := 0, newClient(t)
		go func() {
			defer wg.Done()
			slow = send(sc, "/a/slow", "203.0.113.1")
		}()
		select {
		case <-arrived:
		case <-time.After(5 * time.Second):
			t.Fatal("the slow request did not reach the backend")
		}
		c := newClient(t)
		if s := send(c, "/b", "203.0.113.1"); s != 503 {
			t.Errorf("second concurrent request: %d, want 503", s)
		}
		if s := send(c, "/b", "203.0.113.2"); s != 200 {
			t.Errorf("another client: %d, want 200", s)
		}
		close(release)
		wg.Wait()
		if slow != 200 {
			t.Errorf("slow request: %d, want 200", slow)
		}
		if s := send(c, "/b", "203.0.113.1"); s != 200 {
			t.Errorf("after the slow request ended: %d, want 200", s)
		}
	})
}
