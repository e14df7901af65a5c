package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/kubetest"
)

// headerProbe sends GET path with Host host and the given request headers
// over plain HTTP or HTTPS, and returns what the echo backend received.
func (s *strait) headerProbe(t *testing.T, https bool, host, path string, hdr map[string]string) echo.Echo {
	t.Helper()
	addr, scheme := s.http, "http"
	tr := &http.Transport{}
	if https {
		addr, scheme = s.https, "https"
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true, ServerName: host}
	}
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequest("GET", scheme+"://"+host+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s://%s%s: %v", scheme, host, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e echo.Echo
	if resp.StatusCode != 200 || json.Unmarshal(b, &e) != nil {
		t.Fatalf("GET %s://%s%s: %d %q", scheme, host, path, resp.StatusCode, b)
	}
	return e
}

var requestIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// TestDefaultUpstreamHeaders checks the request headers a backend receives
// by default (catalogue 2.1) over HTTP and HTTPS: Host as the client sent
// it, a generated 32-hex X-Request-ID (an incoming one kept), X-Real-IP and
// X-Forwarded-For set to the client address (incoming X-Forwarded-* not
// trusted, kept in X-Original-Forwarded-For/-Host), X-Forwarded-Host,
// X-Forwarded-Port 80 or 443, X-Forwarded-Proto, X-Forwarded-Scheme and
// X-Scheme from the connection; the Proxy header (httpoxy) and headers
// with underscores or other characters nginx does not expect dropped. Then, with use-forwarded-headers and
// compute-full-forwarded-for in the ConfigMap, the incoming values are
// trusted and the chain extended.
func TestDefaultUpstreamHeaders(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.28.1", "a")
	ctx := context.Background()
	sys := newObjects(t, c, "strait-system")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "strait-config"}, Data: map[string]string{"ssl-redirect": "false"}}
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	o := newObjects(t, c, "hdrs")
	o.service("web")
	o.slice("web", "10.244.28.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annTLSSecret(o, "hdrs-tls", "hdrs.test")
	annIngress(o, "app", "hdrs.test", "/", "web", nil, "hdrs-tls")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")

	incoming := map[string]string{
		"X-Forwarded-For":   "203.0.113.7",
		"X-Forwarded-Host":  "spoofed.example",
		"X-Forwarded-Proto": "https",
		"X-Forwarded-Port":  "8443",
		"Proxy":             "http://evil.example:3128",
		"X_Underscore":      "dropped",
		"X.Dotted":          "dropped",
	}
	if p := negotiatedProtocol(t, s.https, "hdrs.test"); p != "h2" {
		t.Errorf("default: ALPN gave %q, want h2", p)
	}
	for _, https := range []bool{false, true} {
		e := s.headerProbe(t, https, "hdrs.test", "/h?x=1", incoming)
		// X-Forwarded-Port is the listen port, mapped to 443 on the
		// HTTPS listener as ingress-nginx does.
		proto, port := "http", port(s.http)
		if https {
			proto, port = "https", "443"
		}
		client := "127.0.0.1"
		want := map[string]string{
			"X-Real-Ip":                 client,
			"X-Forwarded-For":           client,
			"X-Forwarded-Host":          "hdrs.test",
			"X-Forwarded-Port":          port,
			"X-Forwarded-Proto":         proto,
			"X-Forwarded-Scheme":        proto,
			"X-Scheme":                  proto,
			"X-Original-Forwarded-For":  "203.0.113.7",
			"X-Original-Forwarded-Host": "spoofed.example",
		}
		for k, v := range want {
			if got := e.Headers[k]; len(got) != 1 || got[0] != v {
				t.Errorf("https %v: backend got %s %q, want [%q]", https, k, got, v)
			}
		}
		if e.Host != "hdrs.test" {
			t.Errorf("https %v: backend got Host %q, want hdrs.test", https, e.Host)
		}
		for _, k := range []string{"Proxy", "X_underscore", "X_Underscore", "X.Dotted", "X.dotted"} {
			if v, ok := e.Headers[k]; ok {
				t.Errorf("https %v: backend got %s %q, want none", https, k, v)
			}
		}
		if id := firstValue(e.Headers["X-Request-Id"]); !requestIDPattern.MatchString(id) {
			t.Errorf("https %v: X-Request-ID %q is not 32 hex digits", https, id)
		}
	}
	if e := s.headerProbe(t, false, "hdrs.test", "/", map[string]string{"X-Request-ID": "abc-123"}); firstValue(e.Headers["X-Request-Id"]) != "abc-123" {
		t.Errorf("incoming X-Request-ID not kept: %q", e.Headers["X-Request-Id"])
	}

	// Trust the forwarded headers (proxy-real-ip-cidr defaults to
	// everyone) and extend the chain.
	cur, err := c.Client.CoreV1().ConfigMaps(sys.ns).Get(ctx, cm.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Data["use-forwarded-headers"] = "true"
	cur.Data["compute-full-forwarded-for"] = "true"
	cur.Data["use-http2"] = "false"
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "use-forwarded-headers to apply", func() bool {
		return firstValue(s.headerProbe(t, false, "hdrs.test", "/", incoming).Headers["X-Real-Ip"]) == "203.0.113.7"
	})
	// use-http2 "false": TLS clients are offered HTTP/1.1 only.
	if p := negotiatedProtocol(t, s.https, "hdrs.test"); p != "http/1.1" {
		t.Errorf("use-http2 false: ALPN gave %q, want http/1.1", p)
	}
	e := s.headerProbe(t, false, "hdrs.test", "/", incoming)
	for k, v := range map[string]string{
		"X-Real-Ip":         "203.0.113.7",
		"X-Forwarded-For":   "203.0.113.7, 127.0.0.1",
		"X-Forwarded-Host":  "spoofed.example",
		"X-Forwarded-Proto": "https",
		"X-Forwarded-Port":  "8443",
	} {
		if got := firstValue(e.Headers[k]); got != v {
			t.Errorf("use-forwarded-headers: backend got %s %q, want %q", k, got, v)
		}
	}
}

// negotiatedProtocol returns the ALPN protocol Strait's TLS listener picks
// for a client offering h2 and http/1.1.
func negotiatedProtocol(t *testing.T, addr, sni string) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: sni, InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().NegotiatedProtocol
}
