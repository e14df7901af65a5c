package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/kubetest"
)

// The tests in this file check the TLS annotations and ConfigMap keys end
// to end that only golden and proxy-level tests covered: auth-tls-match-cn,
// auth-tls-error-page, auth-tls-verify-depth, proxy-ssl-protocols,
// proxy-ssl-ciphers, proxy-ssl-verify-depth and proxy-ssl-location-only.
// Backends use 10.244.123.0/24.

// covTLSIntermediate makes an intermediate CA signed by parent.
func covTLSIntermediate(t *testing.T, parent *e2eCA, cn string) *e2eCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent.cert, &key.PublicKey, parent.key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &e2eCA{cert: c, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// covTLSChain issues a leaf from inter and returns it with inter's
// certificate appended, as a peer sends its chain.
func covTLSChain(t *testing.T, inter *e2eCA, subject pkix.Name, usage x509.ExtKeyUsage, names ...string) tls.Certificate {
	t.Helper()
	_, _, pair := inter.issue(t, subject, usage, names...)
	pair.Certificate = append(pair.Certificate, inter.cert.Raw)
	return pair
}

// covTLSClient connects to Strait's HTTPS port whatever the URL's host,
// with SNI from the URL, presenting cert when given and never following
// redirects.
func covTLSClient(t *testing.T, s *strait, cert *tls.Certificate) *http.Client {
	c := s.httpsClient(t, cert)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// covTLSBackend starts an HTTPS echo backend named name on ip:8080 with
// conf (whose certificates it serves).
func covTLSBackend(t *testing.T, ip, name string, conf *tls.Config) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "8080"))
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New(name)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if len(r.TLS.PeerCertificates) > 0 {
				w.Header().Set("X-Client-CN", r.TLS.PeerCertificates[0].Subject.CommonName)
			}
			e.ServeHTTP(w, r)
		}),
		TLSConfig:         conf,
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // the refused handshakes are expected
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
}

// TestCoverageTLSClientAuth: auth-tls-match-cn answers 403 to a valid
// certificate whose subject does not match and lets a matching one
// through; auth-tls-error-page redirects (302) a client without a valid
// certificate instead of answering 400; auth-tls-verify-depth 1 refuses
// (400) a certificate issued by an intermediate CA, which depth 2 accepts.
func TestCoverageTLSClientAuth(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.123.1", "app")
	clientCA := newE2ECA(t, "client-root")
	inter := covTLSIntermediate(t, clientCA, "client-intermediate")
	_, _, alice := clientCA.issue(t, pkix.Name{CommonName: "alice", Organization: []string{"example"}}, x509.ExtKeyUsageClientAuth)
	_, _, bob := clientCA.issue(t, pkix.Name{CommonName: "bob", Organization: []string{"example"}}, x509.ExtKeyUsageClientAuth)
	carol := covTLSChain(t, inter, pkix.Name{CommonName: "carol"}, x509.ExtKeyUsageClientAuth)
	_, _, mallory := newE2ECA(t, "stranger-ca").issue(t, pkix.Name{CommonName: "mallory"}, x509.ExtKeyUsageClientAuth)

	o := newObjects(t, c, "ctls")
	o.service("app")
	o.slice("app", "10.244.123.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	opaqueSecret(o, "client-ca", map[string][]byte{"ca.crt": clientCA.certPEM})
	annTLSSecret(o, "site-tls", "cn.test", "errpage.test", "depth1.test", "depth2.test")
	const errorPage = "https://errors.example/client-certificate"
	annIngress(o, "match-cn", "cn.test", "/", "app", annMap("auth-tls-secret", "ctls/client-ca", "auth-tls-match-cn", "CN=alice"), "site-tls")
	annIngress(o, "error-page", "errpage.test", "/", "app", annMap("auth-tls-secret", "ctls/client-ca", "auth-tls-error-page", errorPage), "site-tls")
	annIngress(o, "depth1", "depth1.test", "/", "app", annMap("auth-tls-secret", "ctls/client-ca", "auth-tls-verify-depth", "1"), "site-tls")
	annIngress(o, "depth2", "depth2.test", "/", "app", annMap("auth-tls-secret", "ctls/client-ca", "auth-tls-verify-depth", "2"), "site-tls")
	s := startStrait(t, c)

	aliceClient := covTLSClient(t, s, &alice)
	waitFor(t, 15*time.Second, "the client-certificate hosts", func() bool {
		for _, h := range []string{"cn.test", "errpage.test", "depth1.test", "depth2.test"} {
			if r := annDo(aliceClient, "GET", "https://"+h+"/", "", 0); r.code != 200 {
				return false
			}
		}
		return true
	})
	for _, tc := range []struct {
		host, who string
		cert      *tls.Certificate
		code      int
		location  string
	}{
		{"cn.test", "alice (CN=alice,O=example)", &alice, 200, ""},
		{"cn.test", "bob (CN=bob,O=example)", &bob, 403, ""},
		{"errpage.test", "no certificate", nil, 302, errorPage},
		{"errpage.test", "a stranger's certificate", &mallory, 302, errorPage},
		{"errpage.test", "alice", &alice, 200, ""},
		{"depth1.test", "carol (issued by an intermediate)", &carol, 400, ""},
		{"depth1.test", "alice (issued by the root)", &alice, 200, ""},
		{"depth2.test", "carol (issued by an intermediate)", &carol, 200, ""},
	} {
		r := annDo(covTLSClient(t, s, tc.cert), "GET", "https://"+tc.host+"/", "", 0)
		if r.err != nil || r.code != tc.code || r.location != tc.location {
			t.Errorf("%s with %s: %v, want %d %q", tc.host, tc.who, r, tc.code, tc.location)
			continue
		}
		if tc.code == 200 && r.backend != "app" {
			t.Errorf("%s with %s: %v, want the answer of app", tc.host, tc.who, r)
		}
	}
}

// TestCoverageTLSProxySSLParams: proxy-ssl-protocols TLSv1.2 cannot reach
// a TLS 1.3-only backend (502) and TLSv1.3 can; proxy-ssl-ciphers listing
// another suite than the only one a TLS 1.2 backend offers fails (502) and
// listing it works; proxy-ssl-verify-depth 1 refuses a backend certificate
// issued by an intermediate CA (502: the chain has two CA certificates
// above the backend's) and depth 2 accepts it.
func TestCoverageTLSProxySSLParams(t *testing.T) {
	c := kubetest.Start(t)
	ca := newE2ECA(t, "upstream-root")
	inter := covTLSIntermediate(t, ca, "upstream-intermediate")
	_, _, direct := ca.issue(t, pkix.Name{CommonName: "web"}, x509.ExtKeyUsageServerAuth, "web.ctls.svc")
	chained := covTLSChain(t, inter, pkix.Name{CommonName: "web"}, x509.ExtKeyUsageServerAuth, "web.ctls.svc")
	straitCert, straitKey, _ := ca.issue(t, pkix.Name{CommonName: "strait"}, x509.ExtKeyUsageClientAuth)
	covTLSBackend(t, "10.244.123.2", "tls13-only", &tls.Config{Certificates: []tls.Certificate{direct}, MinVersion: tls.VersionTLS13})
	covTLSBackend(t, "10.244.123.3", "one-suite", &tls.Config{Certificates: []tls.Certificate{direct}, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}})
	covTLSBackend(t, "10.244.123.4", "chained", &tls.Config{Certificates: []tls.Certificate{chained}})

	o := newObjects(t, c, "ctls")
	for _, svc := range [][2]string{{"tls13", "10.244.123.2"}, {"suite", "10.244.123.3"}, {"chain", "10.244.123.4"}} {
		o.service(svc[0])
		o.slice(svc[0], svc[1])
	}
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	opaqueSecret(o, "upstream", map[string][]byte{"tls.crt": straitCert, "tls.key": straitKey, "ca.crt": ca.certPEM})
	ann := func(kv ...string) map[string]string {
		return annMap(append([]string{"backend-protocol", "HTTPS", "proxy-ssl-secret", "ctls/upstream"}, kv...)...)
	}
	annIngress(o, "proto12", "proto12.test", "/", "tls13", ann("proxy-ssl-protocols", "TLSv1.2"), "")
	annIngress(o, "proto13", "proto13.test", "/", "tls13", ann("proxy-ssl-protocols", "TLSv1.3"), "")
	annIngress(o, "suite-other", "suite-other.test", "/", "suite", ann("proxy-ssl-ciphers", "ECDHE-ECDSA-AES256-GCM-SHA384"), "")
	annIngress(o, "suite-same", "suite-same.test", "/", "suite", ann("proxy-ssl-ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256"), "")
	verify := []string{"proxy-ssl-verify", "on", "proxy-ssl-name", "web.ctls.svc"}
	annIngress(o, "depth1", "depth1.test", "/", "chain", ann(append(verify, "proxy-ssl-verify-depth", "1")...), "")
	annIngress(o, "depth2", "depth2.test", "/", "chain", ann(append(verify, "proxy-ssl-verify-depth", "2")...), "")
	s := startStrait(t, c)

	waitFor(t, 15*time.Second, "the HTTPS backends", func() bool {
		for _, h := range []string{"proto13.test", "suite-same.test", "depth2.test"} {
			if r := s.annHTTP("GET", h, "/", 0); r.code != 200 {
				return false
			}
		}
		return true
	})
	for _, tc := range []struct {
		host    string
		code    int
		backend string
	}{
		{"proto12.test", 502, ""},
		{"proto13.test", 200, "tls13-only"},
		{"suite-other.test", 502, ""},
		{"suite-same.test", 200, "one-suite"},
		{"depth1.test", 502, ""},
		{"depth2.test", 200, "chained"},
	} {
		if r := s.annHTTP("GET", tc.host, "/", 0); r.err != nil || r.code != tc.code || r.backend != tc.backend {
			t.Errorf("%s: %v, want %d from %q", tc.host, r, tc.code, tc.backend)
		}
	}
}

// TestCoverageTLSProxySSLLocationOnly: with the ConfigMap's
// proxy-ssl-location-only true, an HTTPS path of another Ingress of the
// host does not inherit the host's proxy-ssl-secret, so a backend requiring
// Strait's client certificate refuses it (502) while the Ingress that sets
// proxy-ssl-secret keeps working; set back to false, the path inherits it.
func TestCoverageTLSProxySSLLocationOnly(t *testing.T) {
	c := kubetest.Start(t)
	ca := newE2ECA(t, "upstream-ca")
	_, _, serverPair := ca.issue(t, pkix.Name{CommonName: "web"}, x509.ExtKeyUsageServerAuth, "web.ctls.svc")
	straitCert, straitKey, _ := ca.issue(t, pkix.Name{CommonName: "strait"}, x509.ExtKeyUsageClientAuth)
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	covTLSBackend(t, "10.244.123.5", "mtls-upstream", &tls.Config{Certificates: []tls.Certificate{serverPair},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: roots})

	ctx := context.Background()
	sys := newObjects(t, c, "strait-system")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "strait-config"}, Data: map[string]string{"proxy-ssl-location-only": "true"}}
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	o := newObjects(t, c, "ctls")
	o.service("web")
	o.slice("web", "10.244.123.5")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	opaqueSecret(o, "upstream-mtls", map[string][]byte{"tls.crt": straitCert, "tls.key": straitKey, "ca.crt": ca.certPEM})
	annIngress(o, "backend-mtls", "lo.test", "/", "web", annMap("backend-protocol", "HTTPS", "proxy-ssl-secret", "ctls/upstream-mtls",
		"proxy-ssl-verify", "on", "proxy-ssl-name", "web.ctls.svc"), "")
	time.Sleep(1100 * time.Millisecond) // a later creation timestamp: backend-mtls is the host's oldest Ingress
	annIngress(o, "backend-other", "lo.test", "/other", "web", annMap("backend-protocol", "HTTPS"), "")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")

	waitFor(t, 15*time.Second, "the backend mTLS route", func() bool {
		return s.annHTTP("GET", "lo.test", "/", 0).code == 200
	})
	// Until its own route is in place, /other is served by the route of
	// /; then it answers 502 and keeps doing so.
	waitFor(t, 15*time.Second, "lo.test/other to answer 502 without a client certificate", func() bool {
		return s.annHTTP("GET", "lo.test", "/other", 0).code == 502
	})
	if r := annDoHeaders(t, plainClient, "http://"+s.http+"/", "lo.test"); r.Get("X-Client-CN") != "strait" {
		t.Errorf("lo.test/: upstream saw client %q, want strait", r.Get("X-Client-CN"))
	}
	time.Sleep(200 * time.Millisecond)
	if r := s.annHTTP("GET", "lo.test", "/other", 0); r.code != 502 {
		t.Errorf("lo.test/other with proxy-ssl-location-only true: %v, want 502 (no client certificate inherited)", r)
	}

	cm.Data["proxy-ssl-location-only"] = "false"
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "lo.test/other to inherit proxy-ssl-secret", func() bool {
		return s.annHTTP("GET", "lo.test", "/other", 0).code == 200
	})
	if r := annDoHeaders(t, plainClient, "http://"+s.http+"/other", "lo.test"); r.Get("X-Client-CN") != "strait" {
		t.Errorf("lo.test/other with proxy-ssl-location-only false: upstream saw client %q, want strait", r.Get("X-Client-CN"))
	}
}
