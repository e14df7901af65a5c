package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/kubetest"
)

// The tests in this file check ConfigMap keys and annotations of the proxy
// path end to end that no other test covers: HSTS, the real-IP rules,
// no-tls-redirect-locations, server-tokens and hide-headers, the connect,
// send and keep-alive timeouts, EWMA, hashing to a subset and retrying
// non-idempotent requests. Backends use 10.244.121.0/24.

// covResp is what these tests see of one response.
type covResp struct {
	code    int
	header  http.Header
	backend string
	err     error
}

func (r covResp) String() string {
	if r.err != nil {
		return "error: " + r.err.Error()
	}
	return fmt.Sprintf("%d from %q", r.code, r.backend)
}

// covDo sends one request with Host host and the given body ("" for none).
func covDo(c *http.Client, method, url, host, body string) covResp {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return covResp{err: err}
	}
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		return covResp{err: err}
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return covResp{code: resp.StatusCode, header: resp.Header, backend: resp.Header.Get(echo.BackendHeader), err: err}
}

// covServe serves h on ip:8080 until the test ends; connState, when not
// nil, sees the backend's connection state changes.
func covServe(t *testing.T, ip string, h http.Handler, connState func(net.Conn, http.ConnState)) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "8080"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ConnState: connState}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
}

// covConfigMap creates the controller ConfigMap strait-system/strait-config
// with data.
func covConfigMap(t *testing.T, c *kubetest.Cluster, data map[string]string) {
	t.Helper()
	sys := newObjects(t, c, "strait-system")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "strait-config"}, Data: data}
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// covUpdateConfigMap sets the keys of set in the controller ConfigMap and
// removes those of del.
func covUpdateConfigMap(t *testing.T, c *kubetest.Cluster, set map[string]string, del ...string) {
	t.Helper()
	ctx := context.Background()
	cur, err := c.Client.CoreV1().ConfigMaps("strait-system").Get(ctx, "strait-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cur.Data == nil {
		cur.Data = map[string]string{}
	}
	for k, v := range set {
		cur.Data[k] = v
	}
	for _, k := range del {
		delete(cur.Data, k)
	}
	if _, err := c.Client.CoreV1().ConfigMaps("strait-system").Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestCoverageProxyHSTS: HTTPS responses carry Strict-Transport-Security
// "max-age=31536000; includeSubDomains" by default; hsts-max-age,
// hsts-include-subdomains and hsts-preload change it live; hsts "false"
// removes it. Plain-HTTP responses never carry it.
func TestCoverageProxyHSTS(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.121.1", "a")
	covConfigMap(t, c, map[string]string{"ssl-redirect": "false"})
	o := newObjects(t, c, "covhsts")
	o.service("web")
	o.slice("web", "10.244.121.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	const host = "hsts.test"
	annTLSSecret(o, "hsts-tls", host)
	annIngress(o, "app", host, "/", "web", nil, "hsts-tls")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")
	https := s.annHTTPSClient(t)

	check := func(stage, want string) {
		t.Helper()
		r := covDo(https, "GET", "https://"+host+"/x", host, "")
		if r.err != nil || r.code != 200 || r.backend != "a" {
			t.Fatalf("%s: HTTPS GET gave %v, want 200 from a", stage, r)
		}
		if got := r.header.Values("Strict-Transport-Security"); (want == "" && len(got) != 0) || (want != "" && (len(got) != 1 || got[0] != want)) {
			t.Errorf("%s: HTTPS Strict-Transport-Security %q, want %q", stage, got, want)
		}
		p := covDo(plainClient, "GET", "http://"+s.http+"/x", host, "")
		if p.err != nil || p.code != 200 {
			t.Fatalf("%s: plain GET gave %v, want 200", stage, p)
		}
		if got := p.header.Values("Strict-Transport-Security"); len(got) != 0 {
			t.Errorf("%s: plain HTTP response carries Strict-Transport-Security %q", stage, got)
		}
	}
	hsts := func() string {
		r := covDo(https, "GET", "https://"+host+"/", host, "")
		return r.header.Get("Strict-Transport-Security")
	}
	check("default", "max-age=31536000; includeSubDomains")

	covUpdateConfigMap(t, c, map[string]string{"hsts-max-age": "600", "hsts-include-subdomains": "false", "hsts-preload": "true"})
	waitFor(t, 5*time.Second, "hsts-max-age to apply", func() bool { return strings.HasPrefix(hsts(), "max-age=600") })
	check("max-age 600, no includeSubDomains, preload", "max-age=600; preload")

	covUpdateConfigMap(t, c, map[string]string{"hsts-include-subdomains": "true"})
	waitFor(t, 5*time.Second, "hsts-include-subdomains to apply", func() bool { return strings.Contains(hsts(), "includeSubDomains") })
	check("max-age 600, includeSubDomains, preload", "max-age=600; includeSubDomains; preload")

	covUpdateConfigMap(t, c, map[string]string{"hsts": "false"})
	waitFor(t, 5*time.Second, "hsts false to apply", func() bool { return hsts() == "" })
	check("hsts false", "")
}

// TestCoverageProxyRealIP: with use-forwarded-headers, X-Forwarded-For is
// trusted only from a peer inside proxy-real-ip-cidr (the test client is
// 127.0.0.1); enable-real-ip with forwarded-for-header CF-Connecting-IP
// takes X-Real-IP from that header and ignores X-Forwarded-For.
func TestCoverageProxyRealIP(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.121.2", "a")
	covConfigMap(t, c, map[string]string{"ssl-redirect": "false", "use-forwarded-headers": "true", "proxy-real-ip-cidr": "10.0.0.0/8"})
	o := newObjects(t, c, "covrealip")
	o.service("web")
	o.slice("web", "10.244.121.2")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	const host = "realip.test"
	annIngress(o, "app", host, "/", "web", nil, "")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")

	xff := map[string]string{"X-Forwarded-For": "203.0.113.7"}
	expect := func(stage string, hdr map[string]string, want map[string]string) {
		t.Helper()
		e := s.headerProbe(t, false, host, "/", hdr)
		for k, v := range want {
			if got := e.Headers[k]; len(got) != 1 || got[0] != v {
				t.Errorf("%s: backend got %s %q, want [%q]", stage, k, got, v)
			}
		}
	}
	// 127.0.0.1 is outside 10.0.0.0/8: its X-Forwarded-For is not trusted.
	expect("untrusted peer", xff, map[string]string{"X-Real-Ip": "127.0.0.1", "X-Forwarded-For": "127.0.0.1"})

	covUpdateConfigMap(t, c, map[string]string{"proxy-real-ip-cidr": "10.0.0.0/8, 127.0.0.0/8"})
	waitFor(t, 5*time.Second, "proxy-real-ip-cidr to apply", func() bool {
		return firstValue(s.headerProbe(t, false, host, "/", xff).Headers["X-Real-Ip"]) == "203.0.113.7"
	})
	expect("trusted peer", xff, map[string]string{"X-Real-Ip": "203.0.113.7", "X-Forwarded-For": "203.0.113.7"})

	// enable-real-ip alone, reading CF-Connecting-IP.
	covUpdateConfigMap(t, c, map[string]string{"enable-real-ip": "true", "forwarded-for-header": "CF-Connecting-IP"}, "use-forwarded-headers")
	cf := map[string]string{"X-Forwarded-For": "203.0.113.7", "CF-Connecting-IP": "198.51.100.20"}
	waitFor(t, 5*time.Second, "enable-real-ip to apply", func() bool {
		return firstValue(s.headerProbe(t, false, host, "/", cf).Headers["X-Real-Ip"]) == "198.51.100.20"
	})
	expect("enable-real-ip CF-Connecting-IP", cf, map[string]string{"X-Real-Ip": "198.51.100.20"})
	expect("enable-real-ip without the header", xff, map[string]string{"X-Real-Ip": "127.0.0.1"})

	// The same header from an untrusted peer is ignored.
	covUpdateConfigMap(t, c, map[string]string{"proxy-real-ip-cidr": "10.0.0.0/8"})
	waitFor(t, 5*time.Second, "proxy-real-ip-cidr to apply again", func() bool {
		return firstValue(s.headerProbe(t, false, host, "/", cf).Headers["X-Real-Ip"]) == "127.0.0.1"
	})
}

// TestCoverageProxyNoTLSRedirect: on a TLS host, plain-HTTP requests are
// redirected to HTTPS except on Ingress paths under
// no-tls-redirect-locations; a custom prefix replaces the default list.
func TestCoverageProxyNoTLSRedirect(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.121.3", "a")
	covConfigMap(t, c, map[string]string{})
	o := newObjects(t, c, "covnotls")
	o.service("web")
	o.slice("web", "10.244.121.3")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	const host = "notls.test"
	annTLSSecret(o, "notls-tls", host)
	annIngress(o, "app", host, "/", "web", nil, "notls-tls")
	annIngress(o, "public", host, "/public", "web", nil, "notls-tls")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")

	// Default: every path but /.well-known/acme-challenge is redirected.
	for _, path := range []string{"/x", "/public/x"} {
		if r := s.annHTTP("GET", host, path, 0); r.code != 308 || r.location != "https://"+host+path {
			t.Errorf("default: GET %s gave %v, want 308 to https://%s%s", path, r, host, path)
		}
	}

	covUpdateConfigMap(t, c, map[string]string{"no-tls-redirect-locations": "/public"})
	waitFor(t, 5*time.Second, "no-tls-redirect-locations to apply", func() bool {
		return s.annHTTP("GET", host, "/public/x", 0).code == 200
	})
	for range 3 {
		if r := s.annHTTP("GET", host, "/public/x", 0); r.code != 200 || r.backend != "a" {
			t.Errorf("/public listed: GET /public/x gave %v, want 200 from a", r)
		}
		if r := s.annHTTP("GET", host, "/other", 0); r.code != 308 || r.location != "https://"+host+"/other" {
			t.Errorf("/public listed: GET /other gave %v, want 308 to https://%s/other", r, host)
		}
	}
	// HTTPS still serves the listed path.
	if r := covDo(s.annHTTPSClient(t), "GET", "https://"+host+"/public/x", host, ""); r.code != 200 || r.backend != "a" {
		t.Errorf("HTTPS GET /public/x gave %v, want 200 from a", r)
	}
}

// TestCoverageProxyServerTokensHideHeaders: by default responses carry no
// Server header and upstream headers pass through; server-tokens "true"
// adds "Server: strait" and hide-headers removes the listed upstream
// response header (case-insensitively), keeping the others.
func TestCoverageProxyServerTokensHideHeaders(t *testing.T) {
	c := kubetest.Start(t)
	e := echo.New("a")
	covServe(t, "10.244.121.4", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Powered-By", "PHP/8.3")
		w.Header().Set("X-Kept", "yes")
		e.ServeHTTP(w, r)
	}), nil)
	covConfigMap(t, c, map[string]string{"ssl-redirect": "false"})
	o := newObjects(t, c, "covtokens")
	o.service("web")
	o.slice("web", "10.244.121.4")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	const host = "tokens.test"
	annIngress(o, "app", host, "/", "web", nil, "")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")

	get := func() covResp { return covDo(plainClient, "GET", "http://"+s.http+"/", host, "") }
	r := get()
	if r.code != 200 || r.backend != "a" {
		t.Fatalf("default: %v, want 200 from a", r)
	}
	if v := r.header.Values("Server"); len(v) != 0 {
		t.Errorf("default: Server %q, want none", v)
	}
	if v := r.header.Get("X-Powered-By"); v != "PHP/8.3" {
		t.Errorf("default: X-Powered-By %q, want PHP/8.3 passed through", v)
	}

	covUpdateConfigMap(t, c, map[string]string{"server-tokens": "true", "hide-headers": "x-powered-by"})
	waitFor(t, 5*time.Second, "server-tokens to apply", func() bool { return get().header.Get("Server") == "strait" })
	r = get()
	if r.code != 200 || r.backend != "a" {
		t.Fatalf("server-tokens: %v, want 200 from a", r)
	}
	if v := r.header.Values("Server"); len(v) != 1 || v[0] != "strait" {
		t.Errorf("server-tokens true: Server %q, want [strait]", v)
	}
	if v := r.header.Values("X-Powered-By"); len(v) != 0 {
		t.Errorf("hide-headers x-powered-by: X-Powered-By %q still sent", v)
	}
	if v := r.header.Get("X-Kept"); v != "yes" {
		t.Errorf("hide-headers: X-Kept %q, want yes (only listed headers hidden)", v)
	}
}

// covUnresponsive makes ip:8080 an address that never answers a SYN: a
// listener with a backlog of 0 whose accept queue is filled and never
// accepted from, so the kernel drops further SYNs.
func covUnresponsive(t *testing.T, ip string) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	sa := &syscall.SockaddrInet4{Port: 8080}
	copy(sa.Addr[:], net.ParseIP(ip).To4())
	if err := syscall.Bind(fd, sa); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort(ip, "8080")
	for range 8 {
		conn, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			return // the queue is full: SYNs are dropped
		}
		t.Cleanup(func() { _ = conn.Close() })
	}
	t.Fatalf("%s still accepts connections after 8 dials", addr)
}

// TestCoverageProxyTimeouts: proxy-connect-timeout "1" turns an endpoint
// that never answers into a 504 after about 1 s (the default is 5 s);
// proxy-send-timeout "1" is accepted and a POST is still served;
// keep-alive "1" closes an idle client connection after about 1 s;
// upstream-keepalive-requests "2" sends at most 2 requests over one
// upstream connection and with upstream-keepalive-timeout "1" an upstream
// connection idle for 1.5 s is not reused but closed.
func TestCoverageProxyTimeouts(t *testing.T) {
	c := kubetest.Start(t)
	covUnresponsive(t, "10.244.121.10")
	annBackend(t, "10.244.121.11", "send")
	var mu sync.Mutex
	opened, open := 0, map[net.Conn]bool{}
	e := echo.New("ka")
	covServe(t, "10.244.121.12", e, func(conn net.Conn, st http.ConnState) {
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
	covConfigMap(t, c, map[string]string{
		"ssl-redirect":                "false",
		"keep-alive":                  "1",
		"upstream-keepalive-timeout":  "1",
		"upstream-keepalive-requests": "2",
	})
	o := newObjects(t, c, "covtimeouts")
	for svc, ip := range map[string]string{"dead": "10.244.121.10", "send": "10.244.121.11", "ka": "10.244.121.12"} {
		o.service(svc)
		o.slice(svc, ip)
	}
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "dead", "dead.test", "/", "dead", annMap("proxy-connect-timeout", "1"), "")
	annIngress(o, "send", "send.test", "/", "send", annMap("proxy-send-timeout", "1"), "")
	annIngress(o, "ka", "ka.test", "/", "ka", nil, "")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")

	// proxy-connect-timeout.
	start := time.Now()
	r := covDo(&http.Client{Timeout: 10 * time.Second}, "GET", "http://"+s.http+"/", "dead.test", "")
	took := time.Since(start)
	if r.err != nil || r.code != 504 {
		t.Errorf("unresponsive endpoint: %v after %v, want 504", r, took.Round(time.Millisecond))
	}
	if took < 900*time.Millisecond || took > 3*time.Second {
		t.Errorf("unresponsive endpoint with proxy-connect-timeout 1: answered after %v, want about 1 s", took.Round(time.Millisecond))
	}
	t.Logf("connect timeout: %v after %v", r, took.Round(time.Millisecond))

	// proxy-send-timeout.
	body := strings.Repeat("x", 200000)
	for range 3 {
		r := s.annHTTP("POST", "send.test", "/", len(body))
		if r.code != 200 || r.backend != "send" || r.bodyLen != len(body) {
			t.Errorf("proxy-send-timeout 1: POST gave %v with %d body bytes, want 200 from send with %d", r, r.bodyLen, len(body))
		}
	}

	// keep-alive: an idle client connection is closed after about 1 s.
	conn, err := net.Dial("tcp", s.http)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: ka.test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Close {
		t.Fatalf("keep-alive: first response %d (Close %v), want 200 kept open", resp.StatusCode, resp.Close)
	}
	idle := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = br.ReadByte()
	closed := time.Since(idle)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("keep-alive 1: idle client connection still open after %v", closed.Round(time.Millisecond))
	} else if closed < 700*time.Millisecond || closed > 3*time.Second {
		t.Errorf("keep-alive 1: idle client connection closed after %v (%v), want about 1 s", closed.Round(time.Millisecond), err)
	}
	t.Logf("keep-alive: idle connection closed after %v (%v)", closed.Round(time.Millisecond), err)

	// upstream-keepalive-requests 2: after a pause longer than
	// upstream-keepalive-timeout (so that no pooled connection is reused),
	// 6 sequential requests open 3 upstream connections (the default would
	// reuse one).
	time.Sleep(1500 * time.Millisecond)
	ka := func(what string) {
		t.Helper()
		if r := covDo(plainClient, "GET", "http://"+s.http+"/", "ka.test", ""); r.code != 200 || r.backend != "ka" {
			t.Fatalf("%s: %v, want 200 from ka", what, r)
		}
	}
	before, _ := counts()
	for range 6 {
		ka("upstream-keepalive-requests")
	}
	after, _ := counts()
	if n := after - before; n < 3 || n > 4 {
		t.Errorf("upstream-keepalive-requests 2: 6 sequential requests used %d new upstream connections, want 3", n)
	}
	t.Logf("upstream-keepalive-requests 2: 6 requests over %d new upstream connections", after-before)

	// upstream-keepalive-timeout 1: a connection idle for 1.5 s is not
	// reused (the default 60 s would reuse it); the old one is closed.
	// (Each of the 6 connections above served its 2 requests and was
	// closed, so the next request opens a fresh one.)
	ka("upstream-keepalive-timeout, first request")
	time.Sleep(1500 * time.Millisecond)
	before, _ = counts()
	ka("upstream-keepalive-timeout, after 1.5 s idle")
	if after, _ := counts(); after != before+1 {
		t.Errorf("upstream-keepalive-timeout 1: after 1.5 s idle the request used %d new upstream connections, want 1", after-before)
	}
	waitFor(t, 3*time.Second, "the expired upstream connection to be closed", func() bool { _, n := counts(); return n <= 1 })
}

// TestCoverageProxyBalancing: load-balance "ewma" steers requests away
// from a slow endpoint; upstream-hash-by with upstream-hash-by-subset and
// -subset-size 2 spreads one key over exactly 2 of 3 endpoints;
// retry-non-idempotent "true" with proxy-next-upstream "error http_502"
// retries a POST answered 502 on the other endpoint (without it, POSTs
// get the 502).
func TestCoverageProxyBalancing(t *testing.T) {
	c := kubetest.Start(t)
	covConfigMap(t, c, map[string]string{"ssl-redirect": "false"})
	o := newObjects(t, c, "covbalance")
	// EWMA: e3 answers 150 ms late.
	e1, e2, e3 := echo.New("e1"), echo.New("e2"), echo.New("e3")
	covServe(t, "10.244.121.21", e1, nil)
	covServe(t, "10.244.121.22", e2, nil)
	covServe(t, "10.244.121.23", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(150 * time.Millisecond)
		e3.ServeHTTP(w, r)
	}), nil)
	o.service("ewma")
	o.slice("ewma", "10.244.121.21", "10.244.121.22", "10.244.121.23")
	// Subset hashing over h1..h3.
	for i := 1; i <= 3; i++ {
		backend(t, fmt.Sprintf("10.244.121.3%d", i), fmt.Sprintf("h%d", i))
	}
	o.service("hash")
	o.slice("hash", "10.244.121.31", "10.244.121.32", "10.244.121.33")
	// Retries: bad answers 502, good is an echo backend reading the body.
	covServe(t, "10.244.121.41", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set(echo.BackendHeader, "bad")
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}), nil)
	annBackend(t, "10.244.121.42", "good")
	o.service("retry")
	o.slice("retry", "10.244.121.41", "10.244.121.42")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "ewma", "ewma.test", "/", "ewma", annMap("load-balance", "ewma"), "")
	annIngress(o, "hash", "hash.test", "/", "hash", annMap(
		"upstream-hash-by", "$request_uri",
		"upstream-hash-by-subset", "true",
		"upstream-hash-by-subset-size", "2"), "")
	annIngress(o, "retry", "retry.test", "/", "retry", annMap("proxy-next-upstream", "error http_502"), "")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")

	// EWMA: after a few requests the slow endpoint is avoided.
	ewma := map[string]int{}
	for range 40 {
		r := covDo(plainClient, "GET", "http://"+s.http+"/", "ewma.test", "")
		if r.code != 200 {
			t.Fatalf("ewma: %v, want 200", r)
		}
		ewma[r.backend]++
	}
	t.Logf("ewma: %v", ewma)
	if ewma["e3"] > 6 || ewma["e1"]+ewma["e2"] != 40-ewma["e3"] {
		t.Errorf("load-balance ewma: 40 requests went to %v; want the slow e3 to get at most 6 (round robin would give it 13)", ewma)
	}

	// Subset: one URI goes to exactly 2 endpoints, others too.
	for _, uri := range []string{"/a", "/b?x=1"} {
		seen := map[string]int{}
		for range 30 {
			r := covDo(plainClient, "GET", "http://"+s.http+uri, "hash.test", "")
			if r.code != 200 {
				t.Fatalf("subset %s: %v, want 200", uri, r)
			}
			seen[r.backend]++
		}
		t.Logf("subset %s: %v", uri, seen)
		if len(seen) != 2 {
			t.Errorf("upstream-hash-by-subset-size 2: 30 requests for %s went to %v, want exactly 2 endpoints", uri, seen)
		}
	}

	// Retries: without retry-non-idempotent, POSTs answered 502 are not
	// retried; GETs are.
	post := func() annResp { return s.annHTTP("POST", "retry.test", "/p", 10) }
	bad := 0
	for range 8 {
		r := post()
		switch {
		case r.code == 502 && r.backend == "bad":
			bad++
		case r.code == 200 && r.backend == "good":
		default:
			t.Errorf("retry-non-idempotent false: POST gave %v", r)
		}
	}
	if bad == 0 {
		t.Errorf("retry-non-idempotent false: no POST got the 502 of the bad endpoint; they are retried")
	}
	for range 6 {
		if r := s.annHTTP("GET", "retry.test", "/g", 0); r.code != 200 || r.backend != "good" {
			t.Errorf("proxy-next-upstream http_502: GET gave %v, want 200 from good (retried)", r)
		}
	}

	covUpdateConfigMap(t, c, map[string]string{"retry-non-idempotent": "true"})
	waitFor(t, 5*time.Second, "retry-non-idempotent to apply", func() bool {
		for range 4 {
			if post().code != 200 {
				return false
			}
		}
		return true
	})
	for range 12 {
		if r := post(); r.code != 200 || r.backend != "good" || r.bodyLen != 10 {
			t.Errorf("retry-non-idempotent true: POST gave %v with %d body bytes, want 200 from good with 10", r, r.bodyLen)
		}
	}
}
