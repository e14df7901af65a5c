package e2e

import (
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/kubetest"
)

// clientFrom returns a plain-HTTP client whose connections come from the
// local address ip (one of the pod range's, local in the test's network
// namespace), so that one test can be many clients.
func clientFrom(t *testing.T, ip string) *http.Client {
	tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}).DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Timeout: 10 * time.Second, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// TestRateLimits: limit-rps 2 with limit-burst-multiplier 1 lets a quick
// burst through only partly (503 for the rest) while another Ingress on
// the same host and another client are unaffected; limit-allowlist
// exempts its clients; limit-connections refuses a second concurrent
// request of one client (catalogue 1.8).
func TestRateLimits(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.60.1", "a")
	o := newObjects(t, c, "ratelimit")
	o.service("web")
	o.slice("web", "10.244.60.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	const host = "rl.test"
	annIngress(o, "limited", host, "/limited", "web", annMap("limit-rps", "2", "limit-burst-multiplier", "1", "limit-allowlist", "10.244.60.200/32"), "")
	annIngress(o, "free", host, "/", "web", nil, "")
	annIngress(o, "conns", host, "/conns", "web", annMap("limit-connections", "1"), "")

	s := startStrait(t, c)
	url := "http://" + s.http
	burst := func(cl *http.Client, path string) (ok, limited int) {
		for i := 0; i < 10; i++ {
			r := annDo(cl, "GET", url+path, host, 0)
			switch {
			case r.err == nil && r.code == 200 && r.backend == "a":
				ok++
			case r.err == nil && r.code == 503 && r.backend == "":
				limited++
			default:
				t.Errorf("GET %s: %v", path, r)
			}
		}
		return ok, limited
	}
	a := clientFrom(t, "10.244.60.100")
	if ok, lim := burst(a, "/limited"); ok < 1 || lim < 5 {
		t.Errorf("burst of 10 on /limited: %d answered, %d limited; want most limited (rps 2, burst 2)", ok, lim)
	}
	if ok, lim := burst(a, "/other"); ok != 10 || lim != 0 {
		t.Errorf("burst of 10 on another Ingress of the host: %d answered, %d limited; want all answered", ok, lim)
	}
	if r := annDo(clientFrom(t, "10.244.60.101"), "GET", url+"/limited", host, 0); r.code != 200 {
		t.Errorf("another client on /limited: %v, want 200", r)
	}
	if ok, lim := burst(clientFrom(t, "10.244.60.200"), "/limited"); ok != 10 || lim != 0 {
		t.Errorf("allowlisted client: %d answered, %d limited; want all answered", ok, lim)
	}

	// limit-connections 1: a slow request holds the client's only slot.
	var wg sync.WaitGroup
	wg.Add(1)
	var slow annResp
	go func() {
		defer wg.Done()
		slow = annDo(clientFrom(t, "10.244.60.100"), "GET", url+"/conns?sleep=2s", host, 0)
	}()
	time.Sleep(500 * time.Millisecond)
	if r := annDo(a, "GET", url+"/conns", host, 0); r.code != 503 || r.backend != "" {
		t.Errorf("second concurrent request of one client: %v, want 503", r)
	}
	if r := annDo(clientFrom(t, "10.244.60.101"), "GET", url+"/conns", host, 0); r.code != 200 {
		t.Errorf("concurrent request of another client: %v, want 200", r)
	}
	wg.Wait()
	if slow.code != 200 {
		t.Errorf("slow request: %v, want 200", slow)
	}
	if r := annDo(a, "GET", url+"/conns", host, 0); r.code != 200 {
		t.Errorf("after the slow request: %v, want 200", r)
	}
	for _, name := range []string{"limited", "free", "conns"} {
		if w := annWarnings(c, "ratelimit", name); len(w) > 0 {
			t.Errorf("Ingress %s has warnings: %q", name, w)
		}
	}
}
