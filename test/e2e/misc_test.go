package e2e

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/kubetest"
)

// The tests in this file check the access log, header sizes, keep-alive
// and other ConfigMap keys of catalogue sections 1.3, 1.11 and 2 as a user
// sees them.

// logLines returns the lines of Strait's output (standard output and
// error) that match re.
func (s *strait) logLines(re *regexp.Regexp) []string {
	b, _ := os.ReadFile(s.log)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if re.MatchString(l) {
			out = append(out, l)
		}
	}
	return out
}

// TestAccessLog: every proxied request gets one line on Strait's standard
// output in ingress-nginx's default format, with the upstream name
// <namespace>-<service>-<port>, the endpoint and the request id the
// backend received; an Ingress with enable-access-log "false" gets none;
// a log-format-upstream with escape-json in the ConfigMap switches the
// format without a restart.
func TestAccessLog(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.87.1", "a")
	ctx := context.Background()
	sys := newObjects(t, c, "strait-system")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "strait-config"}, Data: map[string]string{}}
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	o := newObjects(t, c, "logs")
	o.service("web")
	o.slice("web", "10.244.87.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "shop", "shop.test", "/", "web", nil, "")
	annIngress(o, "quiet", "shop.test", "/quiet", "web", annMap("enable-access-log", "false"), "")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")

	send := func(path, agent string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.http+path, nil)
		req.Host = "shop.test"
		req.Header.Set("User-Agent", agent)
		resp, err := plainClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		return resp.Header.Get("X-Request-Id")
	}
	send("/quiet/page", "agent-quiet")
	send("/cart?item=7", "agent-default")
	// The default format, field by field.
	re := regexp.MustCompile(`^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET /cart\?item=7 HTTP/1\.1" 200 \d+ "-" "agent-default" \d+ \d+\.\d{3} ` +
		`\[logs-web-80\] \[\] 10\.244\.87\.1:8080 \d+ \d+\.\d{3} 200 [0-9a-f]{32}$`)
	waitFor(t, 5*time.Second, "the access-log line", func() bool { return len(s.logLines(regexp.MustCompile("agent-default"))) > 0 })
	if lines := s.logLines(regexp.MustCompile("agent-default")); len(lines) != 1 || !re.MatchString(lines[0]) {
		t.Errorf("access log lines %q, want one matching %s", lines, re)
	}
	if lines := s.logLines(regexp.MustCompile("agent-quiet")); len(lines) != 0 {
		t.Errorf("enable-access-log false still logged: %q", lines)
	}

	cur, err := c.Client.CoreV1().ConfigMaps(sys.ns).Get(ctx, cm.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Data = map[string]string{
		"log-format-upstream":    `{"ns":"$namespace","ing":"$ingress_name","status":$status,"ua":"$http_user_agent","upstream":"$proxy_upstream_name"}`,
		"log-format-escape-json": "true",
	}
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	want := `{"ns":"logs","ing":"shop","status":200,"ua":"agent \"json\"","upstream":"logs-web-80"}`
	waitFor(t, 10*time.Second, "the JSON format to apply", func() bool {
		send("/json", `agent "json"`)
		time.Sleep(150 * time.Millisecond)
		for _, l := range s.logLines(regexp.MustCompile(`^\{"ns"`)) {
			if l == want {
				return true
			}
		}
		return false
	})
}

// TestHeaderLimits: with ingress-nginx's default large-client-header-buffers
// ("4 8k") a request line over 8k gets 414 and a cookie over 8k gets 400;
// raised to "4 16k" in the ConfigMap, a 12k cookie reaches the backend.
func TestHeaderLimits(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.88.1", "a")
	ctx := context.Background()
	sys := newObjects(t, c, "strait-system")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "strait-config"}, Data: map[string]string{}}
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	o := newObjects(t, c, "sizes")
	o.service("web")
	o.slice("web", "10.244.88.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "app", "sizes.test", "/", "web", nil, "")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")

	send := func(path, cookie string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.http+path, nil)
		req.Host = "sizes.test"
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := plainClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	long := func(n int) string { return strings.Repeat("x", n) }
	for _, tc := range []struct {
		what, path, cookie string
		want               int
	}{
		{"short request", "/", "", 200},
		{"7k cookie", "/", "a=" + long(7<<10), 200},
		{"9k URI", "/" + long(9<<10), "", 414},
		{"9k cookie", "/", "a=" + long(9<<10), 400},
		{"12k cookie", "/", "a=" + long(12<<10), 400},
	} {
		if got := send(tc.path, tc.cookie); got != tc.want {
			t.Errorf("default limits, %s: %d, want %d", tc.what, got, tc.want)
		}
	}
	cur, err := c.Client.CoreV1().ConfigMaps(sys.ns).Get(ctx, cm.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Data = map[string]string{"large-client-header-buffers": "4 16k"}
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "large-client-header-buffers 4 16k to apply", func() bool {
		return send("/", "a="+long(12<<10)) == 200
	})
	if got := send("/", "a="+long(20<<10)); got != 400 {
		t.Errorf("4 16k, 20k cookie: %d, want 400", got)
	}
}

// TestKeepAlive: with keep-alive-requests "2" the second response on a
// client connection says Connection: close and the connection ends; with
// upstream-keepalive-connections "0" the backend is asked to close every
// connection (Connection: close).
func TestKeepAlive(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.89.1", "a")
	ctx := context.Background()
	sys := newObjects(t, c, "strait-system")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "strait-config"},
		Data: map[string]string{"keep-alive-requests": "2", "upstream-keepalive-connections": "0"}}
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	o := newObjects(t, c, "keepalive")
	o.service("web")
	o.slice("web", "10.244.89.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "app", "ka.test", "/", "web", nil, "")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")

	conn, err := net.DialTimeout("tcp", s.http, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	for i := 1; i <= 2; i++ {
		if _, err := io.WriteString(conn, "GET /x HTTP/1.1\r\nHost: ka.test\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		var e echo.Echo
		err = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("request %d: %d, %v", i, resp.StatusCode, err)
		}
		if resp.Close != (i == 2) {
			t.Errorf("request %d: Connection: close %v, want %v", i, resp.Close, i == 2)
		}
		if got := e.Headers["Connection"]; len(got) != 1 || got[0] != "close" {
			t.Errorf("request %d: backend got Connection %q, want close", i, got)
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after keep-alive-requests: read %v, want EOF", err)
	}
}

// TestGzip: with use-gzip in the ConfigMap, a JSON answer reaches a client
// that accepts gzip compressed (Content-Encoding: gzip, Vary), and one
// that does not accept it gets it plain.
func TestGzip(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.90.1", "a")
	ctx := context.Background()
	sys := newObjects(t, c, "strait-system")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "strait-config"},
		Data: map[string]string{"use-gzip": "true", "gzip-min-length": "10", "gzip-disable": "msie6, oldbot"}}
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	o := newObjects(t, c, "gzip")
	o.service("web")
	o.slice("web", "10.244.90.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "app", "gz.test", "/", "web", nil, "")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")

	client := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	ua := ""
	fetch := func(accept string) (*http.Response, echo.Echo) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.http+"/data", nil)
		req.Host = "gz.test"
		if ua != "" {
			req.Header.Set("User-Agent", ua)
		}
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body io.Reader = resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(resp.Body)
			if err != nil {
				t.Fatalf("bad gzip stream: %v", err)
			}
			body = zr
		}
		var e echo.Echo
		if err := json.NewDecoder(body).Decode(&e); err != nil {
			t.Fatalf("decoding the answer (Content-Encoding %q): %v", resp.Header.Get("Content-Encoding"), err)
		}
		return resp, e
	}
	resp, e := fetch("gzip, br")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Vary") != "Accept-Encoding" || e.Backend != "a" {
		t.Errorf("Accept-Encoding gzip: %d, Content-Encoding %q, Vary %q, backend %q", resp.StatusCode,
			resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"), e.Backend)
	}
	resp, e = fetch("")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "" || e.Backend != "a" {
		t.Errorf("no Accept-Encoding: %d, Content-Encoding %q, backend %q", resp.StatusCode, resp.Header.Get("Content-Encoding"), e.Backend)
	}
	// gzip-disable: the listed user agents get plain answers.
	for _, agent := range []string{"Mozilla/4.0 (compatible; MSIE 6.0; Windows 98)", "OldBot/2"} {
		ua = agent
		if resp, e := fetch("gzip"); resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "" || e.Backend != "a" {
			t.Errorf("User-Agent %q: %d, Content-Encoding %q, want plain", agent, resp.StatusCode, resp.Header.Get("Content-Encoding"))
		}
	}
}

// TestMirror: with mirror-target, mirror-host and the default
// mirror-request-body, a POST answered by the Ingress's backend is also
// received by the mirror, with the request URI appended, the mirror-host
// Host and the body.
func TestMirror(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.91.1", "a")
	type seen struct{ uri, host, body string }
	got := make(chan seen, 10)
	ln, err := net.Listen("tcp", "10.244.91.2:8080")
	if err != nil {
		t.Fatal(err)
	}
	msrv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.RequestURI, r.Host, string(b)}
		w.WriteHeader(http.StatusAccepted)
	})}
	go func() { _ = msrv.Serve(ln) }()
	t.Cleanup(func() { _ = msrv.Close() })

	o := newObjects(t, c, "mirror")
	o.service("web")
	o.slice("web", "10.244.91.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "app", "m.test", "/", "web", annMap(
		"mirror-target", "http://10.244.91.2:8080/copy$request_uri",
		"mirror-host", "shadow.test"), "")
	s := startStrait(t, c)

	req, _ := http.NewRequest(http.MethodPost, "http://"+s.http+"/orders?id=7", strings.NewReader("order-body"))
	req.Host = "m.test"
	resp, err := plainClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e echo.Echo
	_ = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != 200 || e.Backend != "a" || e.Body != "order-body" {
		t.Fatalf("POST: %d from %q with body %q", resp.StatusCode, e.Backend, e.Body)
	}
	select {
	case m := <-got:
		if m != (seen{"/copy/orders?id=7", "shadow.test", "order-body"}) {
			t.Errorf("mirror received %+v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the mirror received nothing")
	}
	if w := annWarnings(c, "mirror", "app"); len(w) > 0 {
		t.Errorf("Ingress has warnings: %q", w)
	}
}

// TestProxyProtocol: with use-proxy-protocol in the ConfigMap, a request
// prefixed with a PROXY v1 header reaches the backend with the client
// address the header names (X-Real-IP, X-Forwarded-For), and a connection
// without one is refused.
func TestProxyProtocol(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.92.1", "a")
	ctx := context.Background()
	sys := newObjects(t, c, "strait-system")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "strait-config"}, Data: map[string]string{"use-proxy-protocol": "true"}}
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	o := newObjects(t, c, "pp")
	o.service("web")
	o.slice("web", "10.244.92.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "app", "pp.test", "/", "web", nil, "")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")

	send := func(header string) (*echo.Echo, error) {
		t.Helper()
		conn, err := net.DialTimeout("tcp", s.http, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(conn, header+"GET /who HTTP/1.1\r\nHost: pp.test\r\nConnection: close\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var e echo.Echo
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			return nil, err
		}
		return &e, nil
	}
	e, err := send("PROXY TCP4 203.0.113.7 10.0.0.1 51000 80\r\n")
	if err != nil {
		t.Fatalf("with a PROXY header: %v", err)
	}
	if ip, xff := e.Headers["X-Real-Ip"], e.Headers["X-Forwarded-For"]; len(ip) != 1 || ip[0] != "203.0.113.7" || len(xff) != 1 || xff[0] != "203.0.113.7" {
		t.Errorf("backend saw X-Real-IP %q, X-Forwarded-For %q; want 203.0.113.7", ip, xff)
	}
	if _, err := send(""); err == nil {
		t.Error("a connection without a PROXY header was answered")
	}
}
