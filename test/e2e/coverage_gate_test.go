package e2e

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/kubetest"
)

// TestCoverageRiskGateKeys: with annotations-risk-level Critical and
// allow-snippet-annotations "true", an Ingress with a snippet is served
// (the snippet never interpreted, one Warning Event saying so); lowering
// the level to Medium afterwards takes an Ingress with a High annotation
// (upstream-hash-by) out of service, live.
func TestCoverageRiskGateKeys(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.122.1", "a")
	ctx := context.Background()
	sys := newObjects(t, c, "strait-system")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "strait-config"},
		Data: map[string]string{"annotations-risk-level": "Critical", "allow-snippet-annotations": "true"}}
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	o := newObjects(t, c, "gate")
	o.service("web")
	o.slice("web", "10.244.122.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "snippet", "gate.test", "/snippet", "web", annMap("configuration-snippet", `more_set_headers "X-Snippet: yes";`), "")
	annIngress(o, "hash", "gate.test", "/hash", "web", annMap("upstream-hash-by", "$request_uri"), "")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")

	r := s.annHTTP("GET", "gate.test", "/snippet", 0)
	if r.err != nil || r.code != 200 || r.backend != "a" || r.echo.Headers["X-Snippet"] != nil {
		t.Errorf("snippet Ingress at risk level Critical: %v, want 200 from a, the snippet not applied", r)
	}
	annWaitWarning(t, c, "gate", "snippet", "SnippetNotSupported", "configuration-snippet", "never interprets")
	if r := s.annHTTP("GET", "gate.test", "/hash", 0); r.code != 200 {
		t.Errorf("/hash: %v, want 200", r)
	}

	cur, err := c.Client.CoreV1().ConfigMaps(sys.ns).Get(ctx, cm.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Data["annotations-risk-level"] = "Medium"
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "annotations-risk-level Medium to apply", func() bool {
		return s.annHTTP("GET", "gate.test", "/hash", 0).code == 404
	})
	if r := s.annHTTP("GET", "gate.test", "/snippet", 0); r.code != 404 {
		t.Errorf("snippet Ingress at risk level Medium: %v, want 404 (not served)", r)
	}
	annWaitWarning(t, c, "gate", "hash", "AnnotationRiskTooHigh", "upstream-hash-by")
}

// TestCoverageTLSCiphersBufferCORSHeaders: ssl-ciphers limits the TLS 1.2
// suites offered (a client without a listed suite fails its handshake);
// proxy-buffer-size lets an upstream send response headers beyond the
// default limit; cors-allow-headers is the Access-Control-Allow-Headers
// value.
func TestCoverageTLSCiphersBufferCORSHeaders(t *testing.T) {
	c := kubetest.Start(t)
	ln, err := net.Listen("tcp", "10.244.122.2:8080")
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("v", 40<<10)
	e := echo.New("big")
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			w.Header().Set("X-Big", big)
		}
		e.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	ctx := context.Background()
	sys := newObjects(t, c, "strait-system")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "strait-config"},
		Data: map[string]string{"ssl-protocols": "TLSv1.2", "ssl-ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256", "ssl-redirect": "false"}}
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	o := newObjects(t, c, "misc2")
	o.service("web")
	o.slice("web", "10.244.122.2")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annTLSSecret(o, "misc2-tls", "tls.test")
	annIngress(o, "plain", "tls.test", "/", "web", nil, "misc2-tls")
	annIngress(o, "roomy", "tls.test", "/roomy", "web", annMap("proxy-buffer-size", "64k"), "")
	annIngress(o, "cors", "cors.test", "/", "web", annMap("enable-cors", "true", "cors-allow-headers", "X-Token, Content-Type"), "")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")

	handshake := func(suite uint16) error {
		conn, err := tls.Dial("tcp", s.https, &tls.Config{ServerName: "tls.test", InsecureSkipVerify: true,
			MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite}})
		if err == nil {
			conn.Close()
		}
		return err
	}
	if err := handshake(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256); err != nil {
		t.Errorf("listed suite refused: %v", err)
	}
	if err := handshake(tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384); err == nil {
		t.Errorf("a suite not in ssl-ciphers was accepted")
	}

	if r := s.annHTTP("GET", "tls.test", "/big", 0); r.err != nil || r.code != 502 {
		t.Errorf("40 KiB of response headers with the default proxy-buffer-size: %v, want 502", r)
	}
	if r := s.annHTTP("GET", "tls.test", "/roomy/big", 0); r.err != nil || r.code != 200 || r.backend != "big" {
		t.Errorf("40 KiB of response headers with proxy-buffer-size 64k: %v, want 200 from big", r)
	}

	req, _ := http.NewRequest(http.MethodOptions, "http://"+s.http+"/x", nil)
	req.Host = "cors.test"
	req.Header.Set("Origin", "https://app.example")
	resp, err := plainClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Headers") != "X-Token, Content-Type" {
		t.Errorf("preflight: %d, Access-Control-Allow-Headers %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Headers"))
	}
}
