package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/kubetest"
)

// TestSSLPassthrough: with --enable-ssl-passthrough, TLS connections whose
// SNI names a host with ssl-passthrough reach the Service's endpoint
// unterminated (the client sees the backend's own certificate), while
// other hosts on the same port are terminated by Strait as usual.
func TestSSLPassthrough(t *testing.T) {
	c := kubetest.Start(t)
	cert := tlsEchoBackend(t, "10.244.29.1", "inner")
	annBackend(t, "10.244.29.2", "a")
	o := newObjects(t, c, "pass")
	o.service("secure")
	o.slice("secure", "10.244.29.1")
	o.service("web")
	o.slice("web", "10.244.29.2")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	prefix := networkingv1.PathTypePrefix
	routeIngress(o, "pass", "pass.test", "/", prefix, "secure", annMap("ssl-passthrough", "true"))
	annTLSSecret(o, "term-tls", "term.test")
	annIngress(o, "term", "term.test", "/", "web", nil, "term-tls")

	s := startStrait(t, c, "--enable-ssl-passthrough")
	get := func(sni string) (*http.Response, error) {
		tr := &http.Transport{
			TLSClientConfig: &tls.Config{ServerName: sni, InsecureSkipVerify: true},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, s.https)
			},
		}
		defer tr.CloseIdleConnections()
		return (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + sni + "/x")
	}
	resp, err := get("pass.test")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get(echo.BackendHeader) != "inner" || !bytes.Equal(resp.TLS.PeerCertificates[0].Raw, cert.Certificate[0]) {
		t.Errorf("pass.test: answered by %q with certificate %v; want the backend, with its own certificate", resp.Header.Get(echo.BackendHeader), resp.TLS.PeerCertificates[0].Subject)
	}
	resp, err = get("term.test")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get(echo.BackendHeader) != "a" || bytes.Equal(resp.TLS.PeerCertificates[0].Raw, cert.Certificate[0]) {
		t.Errorf("term.test: answered by %q; want Strait to terminate TLS and proxy to a", resp.Header.Get(echo.BackendHeader))
	}
	if w := annWarnings(c, "pass", "pass"); len(w) > 0 {
		t.Errorf("Ingress pass has warnings: %q", w)
	}
}
