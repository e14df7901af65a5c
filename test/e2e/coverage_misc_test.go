package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"math"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/kubetest"
)

// The tests in this file check annotations and ConfigMap keys that had
// golden and proxy-level tests but no end-to-end test: canary-weight-total,
// mirror-request-body, proxy-next-upstream-timeout,
// session-cookie-conditional-samesite-none, gzip-level and gzip-types, the
// access-log keys, upstream-keepalive-time, proxy-buffering and
// proxy-request-buffering. Backends use 10.244.124.0/24.

// TestCoverageMiscCanaryWeightTotal: canary-weight 300 of
// canary-weight-total 1000 sends about 30% of requests to the canary; a
// canary-weight-total of 50 (≤ 100) counts as 100, so canary-weight 30
// still sends about 30% (not 60%).
func TestCoverageMiscCanaryWeightTotal(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.124.1", "prod")
	backend(t, "10.244.124.2", "canary")
	o := newObjects(t, c, "covweight")
	o.service("prod")
	o.slice("prod", "10.244.124.1")
	o.service("next")
	o.slice("next", "10.244.124.2")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "big", "big.test", "/", "prod", nil, "")
	annIngress(o, "small", "small.test", "/", "prod", nil, "")
	annIngress(o, "big-canary", "big.test", "/", "next", annMap("canary", "true", "canary-weight", "300", "canary-weight-total", "1000"), "")
	annIngress(o, "small-canary", "small.test", "/", "next", annMap("canary", "true", "canary-weight", "30", "canary-weight-total", "50"), "")
	s := startStrait(t, c)

	none := [2]string{}
	const n, p = 600, 0.3
	mean, sigma := n*p, math.Sqrt(n*p*(1-p))
	for _, host := range []string{"big.test", "small.test"} {
		canary := 0
		for range n {
			code, from := s.canaryGet(t, host, none, none)
			if code != http.StatusOK || (from != "prod" && from != "canary") {
				t.Fatalf("%s: %d from %q", host, code, from)
			}
			if from == "canary" {
				canary++
			}
		}
		if math.Abs(float64(canary)-mean) > 5*sigma {
			t.Errorf("%s: %d of %d requests went to the canary, want %.0f ± %.0f", host, canary, n, mean, 5*sigma)
		}
		t.Logf("%s: %d of %d requests went to the canary", host, canary, n)
	}
	for _, name := range []string{"big-canary", "small-canary"} {
		if w := annWarnings(c, "covweight", name); len(w) > 0 {
			t.Errorf("Ingress %s has warnings: %q", name, w)
		}
	}
}

// TestCoverageMiscMirrorRequestBodyOff: with mirror-request-body "off" the
// mirror receives a POST without its body (and no Content-Length of the
// original), while the Ingress's backend receives the whole body.
func TestCoverageMiscMirrorRequestBodyOff(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.124.10", "a")
	type seen struct {
		method, uri, body string
		length            int64
	}
	got := make(chan seen, 10)
	covServe(t, "10.244.124.11", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.RequestURI, string(b), r.ContentLength}
		w.WriteHeader(http.StatusAccepted)
	}), nil)

	o := newObjects(t, c, "covmirror")
	o.service("web")
	o.slice("web", "10.244.124.10")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "app", "mb.test", "/", "web", annMap(
		"mirror-target", "http://10.244.124.11:8080/copy$request_uri",
		"mirror-request-body", "off"), "")
	s := startStrait(t, c)

	req, _ := http.NewRequest(http.MethodPost, "http://"+s.http+"/orders?id=9", strings.NewReader("secret-order-body"))
	req.Host = "mb.test"
	resp, err := plainClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e echo.Echo
	_ = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != 200 || e.Backend != "a" || e.Body != "secret-order-body" {
		t.Fatalf("POST: %d from %q with body %q, want 200 from a with the body", resp.StatusCode, e.Backend, e.Body)
	}
	select {
	case m := <-got:
		if m.uri != "/copy/orders?id=9" || m.body != "" || m.length > 0 {
			t.Errorf("mirror received %s %s with body %q (Content-Length %d), want /copy/orders?id=9 without a body", m.method, m.uri, m.body, m.length)
		}
		t.Logf("mirror received %s %s, body %q, Content-Length %d", m.method, m.uri, m.body, m.length)
	case <-time.After(5 * time.Second):
		t.Fatal("the mirror received nothing")
	}
	if w := annWarnings(c, "covmirror", "app"); len(w) > 0 {
		t.Errorf("Ingress has warnings: %q", w)
	}
}

// TestCoverageMiscNextUpstreamTimeout: with proxy-next-upstream
// "error timeout http_502", -tries 0 (unlimited) and -timeout "1", four
// endpoints that each answer 502 after 600 ms: a request is tried on two
// of them (the third try would start after 1 s) and answers 502 after
// about 1.2 s, instead of trying all four (2.4 s).
func TestCoverageMiscNextUpstreamTimeout(t *testing.T) {
	c := kubetest.Start(t)
	var mu sync.Mutex
	hits := 0
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		time.Sleep(600 * time.Millisecond)
		http.Error(w, "bad gateway", http.StatusBadGateway)
	})
	ips := []string{"10.244.124.21", "10.244.124.22", "10.244.124.23", "10.244.124.24"}
	for _, ip := range ips {
		covServe(t, ip, slow, nil)
	}
	o := newObjects(t, c, "covnut")
	o.service("slow")
	o.slice("slow", ips...)
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "app", "nut.test", "/", "slow", annMap(
		"proxy-next-upstream", "error timeout http_502",
		"proxy-next-upstream-tries", "0",
		"proxy-next-upstream-timeout", "1"), "")
	s := startStrait(t, c)

	client := &http.Client{Timeout: 10 * time.Second}
	for i := range 3 {
		mu.Lock()
		hits = 0
		mu.Unlock()
		start := time.Now()
		r := covDo(client, "GET", "http://"+s.http+"/", "nut.test", "")
		took := time.Since(start)
		mu.Lock()
		n := hits
		mu.Unlock()
		if r.err != nil || r.code != http.StatusBadGateway {
			t.Errorf("request %d: %v, want 502", i, r)
		}
		if n != 2 || took < 1100*time.Millisecond || took > 2*time.Second {
			t.Errorf("request %d: tried %d endpoints and answered after %v; want 2 tries and about 1.2 s (4 tries take 2.4 s)", i, n, took.Round(time.Millisecond))
		}
		t.Logf("request %d: %v after %d tries in %v", i, r, n, took.Round(time.Millisecond))
	}
	if w := annWarnings(c, "covnut", "app"); len(w) > 0 {
		t.Errorf("Ingress has warnings: %q", w)
	}
}

// TestCoverageMiscConditionalSameSiteNone: with affinity cookie,
// session-cookie-samesite None and
// session-cookie-conditional-samesite-none "true", the affinity cookie
// carries SameSite=None, also for a user agent that ingress-nginx would
// spare it (Chrome 51): the docs say Strait always sends it.
func TestCoverageMiscConditionalSameSiteNone(t *testing.T) {
	c := kubetest.Start(t)
	o := newObjects(t, c, "covsamesite")
	ips := []string{"10.244.124.71", "10.244.124.72", "10.244.124.73"}
	for i, ip := range ips {
		backend(t, ip, string(rune('1'+i)))
	}
	o.service("web")
	o.slice("web", ips...)
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "sticky", "ss.test", "/", "web", annMap(
		"affinity", "cookie",
		"session-cookie-name", "route",
		"session-cookie-samesite", "None",
		"session-cookie-conditional-samesite-none", "true"), "")
	s := startStrait(t, c)

	for _, ua := range []string{
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.103 Safari/537.36",
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.http+"/x", nil)
		req.Host = "ss.test"
		req.Header.Set("User-Agent", ua)
		resp, err := plainClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		sc := resp.Header.Values("Set-Cookie")
		if resp.StatusCode != 200 || len(sc) != 1 || !strings.HasPrefix(sc[0], "route=") || !strings.Contains(sc[0], "; SameSite=None") {
			t.Errorf("User-Agent %q: %d Set-Cookie %q, want one route cookie with SameSite=None", ua, resp.StatusCode, sc)
		}
		t.Logf("User-Agent %.40q...: Set-Cookie %q", ua, sc)
	}
	if w := annWarnings(c, "covsamesite", "sticky"); len(w) > 0 {
		t.Errorf("Ingress has warnings: %q", w)
	}
}

// TestCoverageMiscGzipLevelTypes: with use-gzip, gzip-types
// "application/json" and gzip-level "9", a JSON answer is compressed at
// the best level (the gzip header's XFL byte is 2; level 1 would give 4),
// and a text/plain answer, compressed by default, is not (it is not
// listed). No problem is reported on the ConfigMap.
func TestCoverageMiscGzipLevelTypes(t *testing.T) {
	c := kubetest.Start(t)
	body := strings.Repeat(`{"item":"abcdefghij","n":12345}`, 100)
	covServe(t, "10.244.124.30", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", r.URL.Query().Get("type"))
		_, _ = io.WriteString(w, body)
	}), nil)
	covConfigMap(t, c, map[string]string{
		"use-gzip":        "true",
		"gzip-level":      "9",
		"gzip-types":      "application/json",
		"gzip-min-length": "10",
	})
	o := newObjects(t, c, "covgzip")
	o.service("web")
	o.slice("web", "10.244.124.30")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "app", "gzl.test", "/", "web", nil, "")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")

	client := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	fetch := func(ctype string) (string, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.http+"/data?type="+ctype, nil)
		req.Host = "gzl.test"
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d, %v", ctype, resp.StatusCode, err)
		}
		return resp.Header.Get("Content-Encoding"), raw
	}

	enc, raw := fetch("application/json")
	if enc != "gzip" {
		t.Errorf("application/json (listed in gzip-types): Content-Encoding %q, want gzip", enc)
	} else {
		if len(raw) < 10 || raw[0] != 0x1f || raw[1] != 0x8b {
			t.Fatalf("application/json: not a gzip stream: % x", raw[:min(len(raw), 10)])
		}
		if raw[8] != 2 {
			t.Errorf("application/json: gzip XFL byte %d, want 2 (gzip-level 9, best compression)", raw[8])
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || string(plain) != body {
			t.Errorf("application/json: decompressed %d bytes (%v), want the %d-byte body", len(plain), err, len(body))
		}
		t.Logf("application/json: %d bytes compressed to %d, XFL %d", len(body), len(raw), raw[8])
	}
	enc, raw = fetch("text/plain")
	if enc != "" || string(raw) != body {
		t.Errorf("text/plain (not listed in gzip-types): Content-Encoding %q, %d bytes; want the plain %d-byte body", enc, len(raw), len(body))
	}
	if w := covConfigMapWarnings(c); len(w) > 0 {
		t.Errorf("ConfigMap has warnings: %q", w)
	}
}

// covConfigMapWarnings returns the Warning Events on the controller
// ConfigMap.
func covConfigMapWarnings(c *kubetest.Cluster) []string {
	list, err := c.Client.CoreV1().Events("strait-system").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		return []string{"listing Events: " + err.Error()}
	}
	var out []string
	for _, e := range list.Items {
		if e.Type == "Warning" && e.InvolvedObject.Kind == "ConfigMap" && e.InvolvedObject.Name == "strait-config" {
			out = append(out, e.Reason+": "+e.Message)
		}
	}
	return out
}

// TestCoverageMiscAccessLog: with log-format-escape-none, a quote in a
// logged header value (the user agent) stays a plain quote (the default
// escape writes \x22); a URI in skip-access-log-urls gets no line while
// another URI does; after disable-access-log "true" is set (together with
// a hide-headers change that shows when the update applied), requests get
// no access-log lines at all.
func TestCoverageMiscAccessLog(t *testing.T) {
	c := kubetest.Start(t)
	e := echo.New("a")
	covServe(t, "10.244.124.40", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Marker", "yes")
		e.ServeHTTP(w, r)
	}), nil)
	covConfigMap(t, c, map[string]string{
		"log-format-escape-none": "true",
		"skip-access-log-urls":   "/skipped,/health",
	})
	o := newObjects(t, c, "covlog")
	o.service("web")
	o.slice("web", "10.244.124.40")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "app", "log.test", "/", "web", nil, "")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")

	send := func(path, agent string) covResp {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.http+path, nil)
		req.Host = "log.test"
		req.Header.Set("User-Agent", agent)
		resp, err := plainClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		return covResp{code: resp.StatusCode, header: resp.Header}
	}
	lines := func(marker string) []string { return s.logLines(regexp.MustCompile(regexp.QuoteMeta(marker))) }
	access := regexp.MustCompile(` HTTP/1\.1" \d{3} `)

	send("/skipped", "ua-skip")
	send("/health", "ua-skip")
	send("/skipped/not", "ua-kept-1")
	send("/esc", `ua-esc "quoted"`)
	waitFor(t, 5*time.Second, "the access-log lines", func() bool { return len(lines("ua-esc")) > 0 && len(lines("ua-kept-1")) > 0 })
	if l := lines("ua-esc"); len(l) != 1 || !strings.Contains(l[0], `"GET /esc HTTP/1.1" 200 `) || !strings.Contains(l[0], ` "ua-esc "quoted"" `) {
		t.Errorf("log-format-escape-none: lines %q, want one with the user agent unescaped: \"ua-esc \"quoted\"\"", l)
	}
	if l := lines("ua-kept-1"); len(l) != 1 || !strings.Contains(l[0], `"GET /skipped/not HTTP/1.1" 200 `) {
		t.Errorf("/skipped/not (not listed): lines %q, want one", l)
	}
	time.Sleep(200 * time.Millisecond)
	if l := lines("ua-skip"); len(l) != 0 {
		t.Errorf("skip-access-log-urls /skipped,/health: still logged %q", l)
	}

	covUpdateConfigMap(t, c, map[string]string{"disable-access-log": "true", "hide-headers": "X-Marker"})
	waitFor(t, 10*time.Second, "the ConfigMap update to apply", func() bool {
		return send("/probe", "ua-probe").header.Get("X-Marker") == ""
	})
	time.Sleep(300 * time.Millisecond)
	before := len(s.logLines(access))
	for i := range 5 {
		send("/off/"+string(rune('a'+i)), "ua-off")
	}
	time.Sleep(500 * time.Millisecond)
	if l := lines("ua-off"); len(l) != 0 {
		t.Errorf("disable-access-log true: still logged %q", l)
	}
	if after := len(s.logLines(access)); after != before {
		t.Errorf("disable-access-log true: %d new access-log lines, want none", after-before)
	}
}

// TestCoverageMiscUpstreamKeepaliveTime: with upstream-keepalive-time "2"
// an upstream connection older than 2 s is not reused: requests every
// 250 ms for 4.5 s open 3 upstream connections (one per 2 s; the default
// 1h would reuse one), and the expired ones are closed.
func TestCoverageMiscUpstreamKeepaliveTime(t *testing.T) {
	c := kubetest.Start(t)
	var mu sync.Mutex
	opened, open := 0, map[net.Conn]bool{}
	covServe(t, "10.244.124.50", echo.New("kt"), func(conn net.Conn, st http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch st {
		case http.StateNew:
			opened++
			open[conn] = true
		case http.StateClosed, http.StateHijacked:
			delete(open, conn)
		}
	})
	counts := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		return opened, len(open)
	}
	covConfigMap(t, c, map[string]string{"upstream-keepalive-time": "2"})
	o := newObjects(t, c, "covkatime")
	o.service("web")
	o.slice("web", "10.244.124.50")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "app", "kt.test", "/", "web", nil, "")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")

	before, _ := counts()
	start := time.Now()
	for time.Since(start) < 4500*time.Millisecond {
		if r := covDo(plainClient, "GET", "http://"+s.http+"/", "kt.test", ""); r.code != 200 || r.backend != "kt" {
			t.Fatalf("GET: %v, want 200 from kt", r)
		}
		time.Sleep(250 * time.Millisecond)
	}
	after, _ := counts()
	if n := after - before; n < 2 || n > 4 {
		t.Errorf("upstream-keepalive-time 2: sequential requests over 4.5 s used %d upstream connections, want 3 (one per 2 s)", n)
	}
	t.Logf("upstream-keepalive-time 2: requests over 4.5 s used %d upstream connections", after-before)
	waitFor(t, 5*time.Second, "the expired upstream connections to be closed", func() bool { _, n := counts(); return n <= 1 })
	if w := covConfigMapWarnings(c); len(w) > 0 {
		t.Errorf("ConfigMap has warnings: %q", w)
	}
}

// covChunked is a request body of unknown length (a type the client
// cannot size), so that it is sent chunked.
type covChunked struct{ r io.Reader }

func (c covChunked) Read(p []byte) (int, error) { return c.r.Read(p) }

// TestCoverageMiscBuffering: proxy-buffering "on" and
// proxy-request-buffering "off" are accepted (no Warning Event, while
// proxy-buffering "true" on another Ingress gets InvalidAnnotation), and a
// chunked 300 kB upload reaches the backend whole.
func TestCoverageMiscBuffering(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.124.60", "buf")
	o := newObjects(t, c, "covbuf")
	o.service("web")
	o.slice("web", "10.244.124.60")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "app", "buf.test", "/", "web", annMap("proxy-buffering", "on", "proxy-request-buffering", "off"), "")
	annIngress(o, "bad", "bad.test", "/", "web", annMap("proxy-buffering", "true"), "")
	s := startStrait(t, c)

	const size = 300 << 10
	for i := range 3 {
		req, _ := http.NewRequest(http.MethodPost, "http://"+s.http+"/upload", covChunked{bytes.NewReader(bytes.Repeat([]byte("y"), size))})
		req.Host = "buf.test"
		resp, err := plainClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if got := resp.Header.Get(annBodyHeader); resp.StatusCode != 200 || resp.Header.Get(echo.BackendHeader) != "buf" || got != "307200" {
			t.Errorf("chunked upload %d: %d from %q, backend received %q bytes; want 200 from buf with %d", i, resp.StatusCode, resp.Header.Get(echo.BackendHeader), got, size)
		}
	}
	annWaitWarning(t, c, "covbuf", "bad", "InvalidAnnotation", "proxy-buffering")
	if w := annWarnings(c, "covbuf", "app"); len(w) > 0 {
		t.Errorf("proxy-buffering on, proxy-request-buffering off: warnings %q, want none", w)
	}
}
