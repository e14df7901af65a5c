package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/kubetest"
)

// The test in this file checks backend failure handling end to end:
// passive health checking ejects endpoints that reset connections or
// answer 503, while clients under continuous load see no failure.

// ctlBackend is an echo backend on ip:8080 whose behaviour the test
// switches while it serves: answering, resetting every connection, or
// answering 503 slowly.
type ctlBackend struct {
	name string
	mode atomic.Int32
	// arrivals counts requests received and connections reset.
	arrivals atomic.Int64
}

const (
	ctlServe = iota
	ctlReset
	ctlSlow503
)

// resetConn closes c with SO_LINGER 0, so that the peer sees a reset.
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// ctlListener resets new connections while its backend resets.
type ctlListener struct {
	net.Listener
	b *ctlBackend
}

func (l ctlListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || l.b.mode.Load() != ctlReset {
			return c, err
		}
		l.b.arrivals.Add(1)
		resetConn(c)
	}
}

func startCtlBackend(t *testing.T, ip, name string) *ctlBackend {
	t.Helper()
	b := &ctlBackend{name: name}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "8080"))
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New(name)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.arrivals.Add(1)
		switch b.mode.Load() {
		case ctlReset:
			// A keep-alive connection opened before the switch.
			if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
				resetConn(c)
			}
		case ctlSlow503:
			time.Sleep(200 * time.Millisecond)
			w.Header().Set(echo.BackendHeader, name)
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
		default:
			e.ServeHTTP(w, r)
		}
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ctlListener{Listener: ln, b: b}) }()
	t.Cleanup(func() { _ = srv.Close() })
	return b
}

// loadStats are one host's results under load.
type loadStats struct {
	mu       sync.Mutex
	total    int
	failed   int
	firstErr string
	by       map[string]int
}

// outlierLoad sends GETs for host from n goroutines until stop is closed.
func outlierLoad(c *http.Client, url, host string, n int, stop <-chan struct{}, wg *sync.WaitGroup) *loadStats {
	st := &loadStats{by: map[string]int{}}
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, name, err := loadGet(c, url, host)
				st.mu.Lock()
				st.total++
				if code != http.StatusOK {
					st.failed++
					if st.firstErr == "" {
						st.firstErr = fmt.Sprintf("status %d from %q, error %v", code, name, err)
					}
				}
				st.by[name]++
				st.mu.Unlock()
			}
		}()
	}
	return st
}

func loadGet(c *http.Client, url, host string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, "", err
	}
	return resp.StatusCode, resp.Header.Get(echo.BackendHeader), nil
}

// TestOutlierEjection: two Services of three endpoints each under
// continuous GET load. In Service "ej", endpoint b starts resetting every
// connection, then endpoint c starts answering 503 after 200 ms; in
// Service "h1", endpoint b starts resetting. Each failing endpoint is
// ejected after its fifth failure in a row, after which (plus a short
// settle for requests already on their way) no request reaches it, and no
// client request fails.
//
// The "ej" Ingress sets proxy-next-upstream "error timeout http_503": by
// default, as in nginx, a 503 is the upstream's answer and goes to the
// client, so c's 503s would reach clients until c is ejected. With
// http_503, each is retried on another endpoint instead. Resets are
// errors, retried by the default policy too; the "h1" Ingress keeps that
// default, so the HTTP/1 engine serves it (the annotation hands "ej" to
// the net/http handler), and both engines are checked.
//
// --outlier-max-ejection-percent=100 lets two of ej's three endpoints be
// ejected (the default, 50 %, allows one); the last endpoint in service
// is never ejected.
func TestOutlierEjection(t *testing.T) {
	c := kubetest.Start(t)
	o := newObjects(t, c, "outlier")
	ej := map[string]*ctlBackend{}
	h1 := map[string]*ctlBackend{}
	for i, name := range []string{"a", "b", "c"} {
		ej[name] = startCtlBackend(t, fmt.Sprintf("10.244.132.%d", i+1), name)
		h1[name] = startCtlBackend(t, fmt.Sprintf("10.244.133.%d", i+1), name)
	}
	o.service("ej")
	o.slice("ej", "10.244.132.1", "10.244.132.2", "10.244.132.3")
	o.service("h1")
	o.slice("h1", "10.244.133.1", "10.244.133.2", "10.244.133.3")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "ej", "ej.test", "/", "ej", annMap("proxy-next-upstream", "error timeout http_503"), "")
	annIngress(o, "h1", "h1.test", "/", "h1", nil, "")
	s := startStrait(t, c, "--outlier-max-ejection-percent=100")
	url := "http://" + s.http + "/"
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	waitFor(t, 10*time.Second, "both Services to serve", func() bool {
		a, _, _ := loadGet(client, url, "ej.test")
		b, _, _ := loadGet(client, url, "h1.test")
		return a == 200 && b == 200
	})

	stop := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	ejLoad := outlierLoad(client, url, "ej.test", 4, stop, &wg)
	h1Load := outlierLoad(client, url, "h1.test", 4, stop, &wg)
	const settle = 500 * time.Millisecond
	time.Sleep(1500 * time.Millisecond)

	ejB0, h1B0 := ej["b"].arrivals.Load(), h1["b"].arrivals.Load()
	ej["b"].mode.Store(ctlReset)
	h1["b"].mode.Store(ctlReset)
	took := waitFor(t, 10*time.Second, "the resetting endpoints to be ejected", func() bool {
		return s.metric("strait_upstream_ejections_total") >= 2
	})
	t.Logf("resetting endpoints ejected %v after the switch", took)
	time.Sleep(settle)
	ejB, h1B := ej["b"].arrivals.Load(), h1["b"].arrivals.Load()

	ejC0 := ej["c"].arrivals.Load()
	ej["c"].mode.Store(ctlSlow503)
	took = waitFor(t, 10*time.Second, "the 503 endpoint to be ejected", func() bool {
		return s.metric("strait_upstream_ejections_total") >= 3
	})
	t.Logf("503 endpoint ejected %v after the switch", took)
	time.Sleep(settle)
	ejC := ej["c"].arrivals.Load()

	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()
	elapsed := time.Since(start)

	for _, x := range []struct {
		what             string
		b                *ctlBackend
		switched, before int64
	}{{"ej b (reset)", ej["b"], ejB0, ejB}, {"h1 b (reset)", h1["b"], h1B0, h1B}, {"ej c (503)", ej["c"], ejC0, ejC}} {
		after := x.b.arrivals.Load() - x.before
		t.Logf("%s: %d arrivals while healthy, %d from the switch to ejection and settle, %d after", x.what, x.switched, x.before-x.switched, after)
		if after != 0 {
			t.Errorf("%s: %d requests or connections reached it after its ejection", x.what, after)
		}
	}
	for _, x := range []struct {
		host string
		st   *loadStats
	}{{"ej.test", ejLoad}, {"h1.test", h1Load}} {
		t.Logf("%s: %d requests in %v, %d failed, answered by %v", x.host, x.st.total, elapsed.Round(time.Millisecond), x.st.failed, x.st.by)
		if x.st.failed != 0 {
			t.Errorf("%s: %d of %d GETs failed (first: %s), want none", x.host, x.st.failed, x.st.total, x.st.firstErr)
		}
		if x.st.total < 100 {
			t.Errorf("%s: only %d requests under load", x.host, x.st.total)
		}
	}
	if got := s.metric("strait_upstream_ejected_endpoints"); got != 3 {
		t.Errorf("strait_upstream_ejected_endpoints = %v, want 3", got)
	}
	if got := s.metric("strait_upstream_ejections_total"); got != 3 {
		t.Errorf("strait_upstream_ejections_total = %v, want 3", got)
	}
}
