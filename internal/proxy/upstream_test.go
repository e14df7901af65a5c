package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

func TestUpstreamKeepAlive(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		cl, ep := countingBackend(t, echo.New("ka"))
		h := startProxy(t, eng, testTimeouts, singleHost("ka.test", "ka", ep), false)
		c := newClient(t)
		const n = 100
		for i := 0; i < n; i++ {
			if r := get(t, c, h.url(fmt.Sprintf("/r%d", i)), "ka.test"); r.status != http.StatusOK {
				t.Fatalf("request %d: status %d", i, r.status)
			}
		}
		if got := cl.accepted.Load(); got > 3 {
			t.Errorf("%d sequential requests opened %d upstream connections, want keep-alive reuse (at most 3)", n, got)
		}
	})
}

// staleResponse is a complete keep-alive response: Content-Length, no
// Connection: close. The raw backend closes the connection silently soon
// after.
const staleResponse = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"

func TestUpstreamClosesIdleConnections(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		rb, ep := startRawBackend(t, 0, 50*time.Millisecond, staleResponse)
		h := startProxy(t, eng, testTimeouts, singleHost("stale.test", "b", ep), false)
		c := newClient(t)
		const n = 30
		failed := 0
		for i := 0; i < n; i++ {
			req, _ := http.NewRequest(http.MethodGet, h.url("/"), nil)
			req.Host = "stale.test"
			resp, err := c.Do(req)
			if err != nil {
				failed++
				t.Errorf("request %d: %v", i, err)
			} else {
				body, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK || string(body) != "ok" {
					failed++
					t.Errorf("request %d: %d %q", i, resp.StatusCode, body)
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		if failed != 0 {
			t.Errorf("%d of %d requests failed", failed, n)
		}
		// The test is only meaningful if the pooled connections really were
		// closed under the proxy.
		if got := rb.accepted.Load(); got < n {
			t.Errorf("backend accepted %d connections for %d requests; the scenario did not happen", got, n)
		}
	})
}

func TestUpstreamClosesManyIdleConnections(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		// Four requests at once leave four idle connections in the pool; the
		// backend then closes them all, without Connection: close. A later GET must not fail however many
		// dead connections it meets before a live one: nginx does not count
		// failures on cached connections against proxy-next-upstream-tries.
		rb, ep := startRawBackend(t, 200*time.Millisecond, 50*time.Millisecond, staleResponse)
		h := startProxy(t, eng, testTimeouts, singleHost("stale.test", "b", ep), false)
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
				req, _ := http.NewRequest(http.MethodGet, h.url("/"), nil)
				req.Host = "stale.test"
				resp, err := c.Do(req)
				if err != nil {
					t.Errorf("burst request: %v", err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}()
		}
		wg.Wait()
		// Three dead connections are enough to exhaust the retries.
		if got := rb.accepted.Load(); got < 3 {
			t.Fatalf("burst opened %d upstream connections, want 4 (at least 3)", got)
		}
		time.Sleep(200 * time.Millisecond) // all four are closed by the backend by now
		r := get(t, newClient(t), h.url("/"), "stale.test")
		if r.status != http.StatusOK || string(r.body) != "ok" {
			t.Errorf("GET after the backend closed 4 idle connections: %d %q, want 200 ok", r.status, r.body)
		}
	})
}

// backendCounts sends n requests and counts the answering echo backends.
func backendCounts(t *testing.T, c *http.Client, url, host string, n int) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for i := 0; i < n; i++ {
		r := get(t, c, url, host)
		if r.status != http.StatusOK {
			t.Fatalf("request %d: status %d, body %q", i, r.status, r.body)
		}
		counts[r.header.Get(echo.BackendHeader)]++
	}
	return counts
}

func TestRoundRobin(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		h := startProxy(t, eng, testTimeouts, singleHost("rr.test", "rr", echoBackend(t, "a"), echoBackend(t, "b")), false)
		counts := backendCounts(t, newClient(t), h.url("/"), "rr.test", 100)
		if len(counts) != 2 || counts["a"] < 49 || counts["a"] > 51 || counts["b"] < 49 || counts["b"] > 51 {
			t.Errorf("100 requests over two endpoints went %v, want 50±1 each", counts)
		}
	})
}

func TestEndpointChanges(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		a, b, c3 := echoBackend(t, "a"), echoBackend(t, "b"), echoBackend(t, "c")
		h := startProxy(t, eng, testTimeouts, singleHost("ep.test", "svc", a), false)
		c := newClient(t)
		if got := backendCounts(t, c, h.url("/"), "ep.test", 10); got["a"] != 10 {
			t.Fatalf("before any change: %v", got)
		}

		// Requests keep flowing while Apply moves the backend to b.
		var (
			wg     sync.WaitGroup
			errs   atomic.Int64
			served atomic.Int64
		)
		stop := make(chan struct{})
		for g := 0; g < 2; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tr := &http.Transport{}
				defer tr.CloseIdleConnections()
				cl := &http.Client{Transport: tr, Timeout: 5 * time.Second}
				for {
					select {
					case <-stop:
						return
					default:
					}
					req, _ := http.NewRequest(http.MethodGet, h.url("/"), nil)
					req.Host = "ep.test"
					resp, err := cl.Do(req)
					if err != nil {
						errs.Add(1)
						continue
					}
					_, err = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					if err != nil || resp.StatusCode != http.StatusOK {
						errs.Add(1)
						continue
					}
					served.Add(1)
				}
			}()
		}
		time.Sleep(100 * time.Millisecond)
		h.p.Apply(singleHost("ep.test", "svc", b))
		time.Sleep(100 * time.Millisecond)
		close(stop)
		wg.Wait()
		if errs.Load() != 0 {
			t.Errorf("%d of %d requests failed while the endpoints changed", errs.Load(), errs.Load()+served.Load())
		}
		if got := backendCounts(t, c, h.url("/"), "ep.test", 10); got["b"] != 10 {
			t.Errorf("after Apply with endpoint b: %v, want all on b", got)
		}

		// SetEndpoints updates the backend in place.
		if !h.p.SetEndpoints("svc", []model.Endpoint{b, c3}) {
			t.Fatal("SetEndpoints(svc) = false, want true for a backend of the model")
		}
		if got := backendCounts(t, c, h.url("/"), "ep.test", 20); got["b"] != 10 || got["c"] != 10 {
			t.Errorf("after SetEndpoints(b, c): %v, want 10 each", got)
		}
		if !h.p.SetEndpoints("svc", nil) {
			t.Fatal("SetEndpoints(svc, nil) = false")
		}
		checkPlainError(t, "after SetEndpoints(nil)", get(t, c, h.url("/"), "ep.test"), http.StatusServiceUnavailable)
		if !h.p.SetEndpoints("svc", []model.Endpoint{a}) {
			t.Fatal("SetEndpoints(svc, a) = false")
		}
		if got := backendCounts(t, c, h.url("/"), "ep.test", 5); got["a"] != 5 {
			t.Errorf("after SetEndpoints(a): %v", got)
		}
		if h.p.SetEndpoints("no-such-backend", []model.Endpoint{a}) {
			t.Error("SetEndpoints of an unknown backend = true, want false")
		}
	})
}

func TestShortTimeoutsOnReusedConnections(t *testing.T) {
	forEngines(t, func(t *testing.T, eng engine) {
		// Timeouts count from the current request, not from an earlier
		// one on the same pooled connection: requests 150ms apart to a
		// backend that answers at once never come near a 300ms timeout.
		for _, tc := range []struct {
			name string
			to   proxy.Timeouts
		}{
			{"read", proxy.Timeouts{Read: 300 * time.Millisecond}},
			{"send", proxy.Timeouts{Send: 300 * time.Millisecond}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				cl, ep := countingBackend(t, echo.New("b"))
				h := startProxy(t, eng, tc.to, singleHost("short.test", "b", ep), false)
				c := newClient(t)
				for i := 0; i < 7; i++ {
					if i > 0 {
						time.Sleep(150 * time.Millisecond)
					}
					start := time.Now()
					if r := get(t, c, h.url("/"), "short.test"); r.status != http.StatusOK {
						t.Fatalf("request %d (%v after the previous one, answered in %v): %d %q, want 200; upstream connections so far: %d",
							i, 150*time.Millisecond, time.Since(start), r.status, r.body, cl.accepted.Load())
					}
				}
			})
		}
	})
}
