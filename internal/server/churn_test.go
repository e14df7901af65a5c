package server_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/straitgw/strait/internal/echo"
)

// TestChurn rewrites the manifests directory every 100 ms for 20 s (routes
// added and removed, endpoints and certificates changed) while clients send
// requests over keep-alive HTTP/1.1 and HTTP/2 connections and a WebSocket
// stays open. Requests on the route that exists throughout must never
// fail, each new route must serve (the lag from file write to first answer
// is printed as a measurement; the bound asserted is only that propagation
// happens, since a shared machine's scheduling says nothing about Strait),
// and the WebSocket must still echo after more than 100 changes.
func TestChurn(t *testing.T) {
	const (
		churnFor = 20 * time.Second
		tick     = 100 * time.Millisecond
		// maxLag catches a route that only shows up after some later,
		// unrelated change: far above the milliseconds measured.
		maxLag = 3 * time.Second
	)
	e1, e2, e3 := backend(t, "e1"), backend(t, "e2"), backend(t, "e3")
	certA, keyA := selfSigned(t, "stable.test")
	certB, keyB := selfSigned(t, "stable.test")

	dir := t.TempDir()
	writeFile(t, dir, "stable.yaml", stableManifests)
	writeFile(t, dir, "slices.yaml", slices("stable", e1, e2))
	writeFile(t, dir, "cert.yaml", tlsSecret("stable-tls", certA, keyA))
	writeFile(t, dir, "churn.yaml", churnRoutes(-1, e3))

	srv := start(t, dir)
	httpBase := "http://" + srv.HTTPAddr()
	httpsAddr := srv.HTTPSAddr()

	ws := dialWebSocket(t, srv.HTTPAddr(), "stable.test")
	defer ws.Close()
	wsEcho(t, ws, "before")

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var ok, failed atomic.Int64
	var errMu sync.Mutex
	var errs []string
	fail := func(format string, args ...any) {
		failed.Add(1)
		errMu.Lock()
		if len(errs) < 10 {
			errs = append(errs, fmt.Sprintf(format, args...))
		}
		errMu.Unlock()
	}
	client := func(c *http.Client, url string) {
		defer wg.Done()
		for ctx.Err() == nil {
			req, _ := http.NewRequest("GET", url, nil)
			req.Host = "stable.test"
			resp, err := c.Do(req)
			if err != nil {
				fail("%s: %v", url, err)
				continue
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || err != nil {
				fail("%s: status %d, body error %v", url, resp.StatusCode, err)
				continue
			}
			ok.Add(1)
		}
	}
	h1 := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}
	h2 := &http.Client{Transport: &http.Transport{
		ForceAttemptHTTP2: true,
		TLSClientConfig:   &tls.Config{ServerName: "stable.test", InsecureSkipVerify: true},
	}}
	// Two HTTP/1.1 clients and one HTTP/2 client keep the stable route
	// busy without starving the control plane of the two cores.
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go client(h1, httpBase+"/stable")
	}
	wg.Add(1)
	go client(h2, "https://"+httpsAddr+"/stable")

	// The prober measures, for each new route, the time from its file
	// being in place to the first 200.
	type probe struct {
		host    string
		written time.Time
	}
	probes := make(chan probe, 1000)
	var lags []time.Duration
	var late []string
	probeDone := make(chan struct{})
	go func() {
		defer close(probeDone)
		pc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
		for p := range probes {
			for {
				req, _ := http.NewRequest("GET", httpBase+"/", nil)
				req.Host = p.host
				resp, err := pc.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == 200 {
						lags = append(lags, time.Since(p.written))
						break
					}
				}
				if time.Since(p.written) > 2*time.Second {
					late = append(late, p.host)
					break
				}
				time.Sleep(500 * time.Microsecond)
			}
		}
	}()

	changes := 0
	begin := time.Now()
	next := begin
	for i := 0; time.Since(begin) < churnFor; i++ {
		// Every tick changes routes, endpoints and the certificate: one
		// route is added and one removed, the stable Service's endpoints
		// alternate, and its certificate flips between two keys.
		writeFile(t, dir, "churn.yaml", churnRoutes(i, e3))
		written := time.Now()
		if i%2 == 0 {
			writeFile(t, dir, "slices.yaml", slices("stable", e2, e3))
			writeFile(t, dir, "cert.yaml", tlsSecret("stable-tls", certB, keyB))
		} else {
			writeFile(t, dir, "slices.yaml", slices("stable", e1, e2))
			writeFile(t, dir, "cert.yaml", tlsSecret("stable-tls", certA, keyA))
		}
		probes <- probe{host: fmt.Sprintf("r%d.test", i), written: written}
		changes++
		next = next.Add(tick)
		time.Sleep(time.Until(next))
	}
	close(probes)
	<-probeDone
	stop()
	wg.Wait()

	wsEcho(t, ws, "after")

	sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
	t.Logf("%d change rounds in %v; stable route: %d ok, %d failed", changes, churnFor, ok.Load(), failed.Load())
	if len(lags) > 0 {
		q := func(f float64) time.Duration { return lags[int(f*float64(len(lags)-1))] }
		t.Logf("new route serving after file write: min %v p50 %v p90 %v p99 %v max %v (n=%d)",
			q(0), q(0.5), q(0.9), q(0.99), q(1), len(lags))
		if q(1) > maxLag {
			t.Errorf("slowest new route took %v to serve, want at most %v", q(1), maxLag)
		}
	}
	if failed.Load() > 0 {
		t.Errorf("%d requests failed on the stable route; first errors:\n%s", failed.Load(), strings.Join(errs, "\n"))
	}
	if len(late) > 0 {
		t.Errorf("routes never served: %v", late)
	}
	if changes < 100 {
		t.Errorf("only %d change rounds; the test needs at least 100", changes)
	}
	if ok.Load() == 0 {
		t.Error("no request succeeded")
	}
	// The certificate last written is what new handshakes get.
	if got, want := servedCert(t, httpsAddr, "stable.test"), lastCert(changes, certA, certB); got != want {
		t.Error("new TLS handshakes do not get the certificate last written")
	}
}

func lastCert(changes int, a, b string) string {
	if (changes-1)%2 == 0 {
		return b
	}
	return a
}

func backend(t *testing.T, name string) *url.URL {
	t.Helper()
	s := httptest.NewServer(echo.New(name))
	t.Cleanup(s.Close)
	u, _ := url.Parse(s.URL)
	return u
}

// writeFile replaces a file atomically, as editors and kubectl-like tools
// do, so the watcher never sees a half-written file.
func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

const stableManifests = `
apiVersion: v1
kind: Service
metadata: {name: stable, namespace: churn}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: churn, namespace: churn}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: stable
  namespace: churn
  # Both schemes are exercised; HTTP must not redirect.
  annotations: {nginx.ingress.kubernetes.io/ssl-redirect: "false"}
spec:
  tls: [{hosts: [stable.test], secretName: stable-tls}]
  rules:
  - host: stable.test
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: stable, port: {number: 80}}}}
`

func slices(svc string, eps ...*url.URL) string {
	var b strings.Builder
	for i, u := range eps {
		fmt.Fprintf(&b, `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %s-%d
  namespace: churn
  labels: {kubernetes.io/service-name: %s}
addressType: IPv4
ports: [{name: http, port: %s}]
endpoints: [{addresses: ["%s"], conditions: {ready: true}}]
`, svc, i, svc, u.Port(), u.Hostname())
	}
	return b.String()
}

// churnWindow is how many routes the churn file holds: each rewrite adds
// one and removes the oldest, which stays long enough (2 s) for the prober
// to measure every route even if it falls behind.
const churnWindow = 20

// churnRoutes holds the routes r(i-churnWindow+1)..r(i), so each call adds
// one route and removes one.
func churnRoutes(i int, ep *url.URL) string {
	var b strings.Builder
	b.WriteString(slices("churn", ep))
	for j := i - churnWindow + 1; j <= i; j++ {
		if j < 0 {
			continue
		}
		fmt.Fprintf(&b, `---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: r%d, namespace: churn}
spec:
  rules:
  - host: r%d.test
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: churn, port: {name: http}}}}
`, j, j)
	}
	return b.String()
}

func tlsSecret(name, cert, key string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: %s, namespace: churn}
type: kubernetes.io/tls
stringData:
  tls.crt: |
%s
  tls.key: |
%s
`, name, indent(cert, "    "), indent(key, "    "))
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = pre + lines[i]
	}
	return strings.Join(lines, "\n")
}

func dialWebSocket(t *testing.T, addr, host string) *websocket.Conn {
	t.Helper()
	h := http.Header{}
	h.Set("Host", host)
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial("ws://"+addr+"/ws", h)
	if err != nil {
		t.Fatalf("websocket dial: %v (response %v)", err, resp)
	}
	return c
}

func wsEcho(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatalf("websocket write %q: %v", msg, err)
	}
	_, got, err := c.ReadMessage()
	if err != nil || string(got) != msg {
		t.Fatalf("websocket echo of %q: got %q, %v", msg, got, err)
	}
}
