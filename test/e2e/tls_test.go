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
	"math/big"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/kubetest"
)

// The tests in this file check the TLS features end to end (catalogue
// sections 1.2 and 1.7): a gRPC backend reached through the TLS listener,
// an HTTPS backend that requires Strait's client certificate, and client
// certificates checked for a host.

// e2eCA is a certificate authority made for one test.
type e2eCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
}

func newE2ECA(t *testing.T, cn string) *e2eCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &e2eCA{cert: c, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue signs a leaf certificate; it returns the PEM pair and the parsed
// pair.
func (ca *e2eCA) issue(t *testing.T, subject pkix.Name, usage x509.ExtKeyUsage, names ...string) (certPEM, keyPEM []byte, pair tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: subject, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
	if pair, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	return certPEM, keyPEM, pair
}

// opaqueSecret creates an Opaque Secret.
func opaqueSecret(o *objects, name string, data map[string][]byte) {
	o.t.Helper()
	_, err := o.c.CoreV1().Secrets(o.ns).Create(o.ctx(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, Type: corev1.SecretTypeOpaque, Data: data}, metav1.CreateOptions{})
	if err != nil {
		o.t.Fatal(err)
	}
}

// httpsClient connects to Strait's HTTPS port whatever the URL's host,
// with SNI from the URL, presenting cert when given.
func (s *strait) httpsClient(t *testing.T, cert *tls.Certificate) *http.Client {
	conf := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // Strait's test certificate
	if cert != nil {
		conf.Certificates = []tls.Certificate{*cert}
	}
	tr := &http.Transport{
		TLSClientConfig: conf,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, s.https)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Timeout: 10 * time.Second, Transport: tr}
}

// TestBackendProtocolGRPC: a gRPC health service (h2c) behind an Ingress
// with backend-protocol GRPC answers gRPC clients of Strait's TLS
// listener, status codes (carried in trailers) included.
func TestBackendProtocolGRPC(t *testing.T) {
	c := kubetest.Start(t)
	ln, err := net.Listen("tcp", "10.244.31.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("strait.Echo", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(gs, hs)
	go func() { _ = gs.Serve(ln) }()
	t.Cleanup(gs.Stop)

	// The same service over TLS, verified with proxy-ssl-* (GRPCS).
	ca := newE2ECA(t, "grpc-ca")
	_, _, serverPair := ca.issue(t, pkix.Name{CommonName: "health"}, x509.ExtKeyUsageServerAuth, "health.grpc.svc")
	straitCert, straitKey, _ := ca.issue(t, pkix.Name{CommonName: "strait"}, x509.ExtKeyUsageClientAuth)
	tlsLn, err := net.Listen("tcp", "10.244.31.2:8080")
	if err != nil {
		t.Fatal(err)
	}
	gss := grpc.NewServer(grpc.Creds(credentials.NewServerTLSFromCert(&serverPair)))
	healthpb.RegisterHealthServer(gss, hs)
	go func() { _ = gss.Serve(tlsLn) }()
	t.Cleanup(gss.Stop)

	o := newObjects(t, c, "grpc")
	o.service("health")
	o.slice("health", "10.244.31.1")
	o.service("health-tls")
	o.slice("health-tls", "10.244.31.2")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annTLSSecret(o, "grpc-tls", "grpc.test", "grpcs.test")
	opaqueSecret(o, "upstream", map[string][]byte{"tls.crt": straitCert, "tls.key": straitKey, "ca.crt": ca.certPEM})
	annIngress(o, "grpc", "grpc.test", "/", "health", annMap("backend-protocol", "GRPC"), "grpc-tls")
	annIngress(o, "grpcs", "grpcs.test", "/", "health-tls", annMap("backend-protocol", "GRPCS", "proxy-ssl-secret", "grpc/upstream",
		"proxy-ssl-verify", "on", "proxy-ssl-name", "health.grpc.svc"), "grpc-tls")
	s := startStrait(t, c)

	dial := func(host string) healthpb.HealthClient {
		conn, err := grpc.NewClient(s.https, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{ServerName: host, InsecureSkipVerify: true}))) //nolint:gosec // test certificate
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return healthpb.NewHealthClient(conn)
	}
	client := dial("grpc.test")
	var resp *healthpb.HealthCheckResponse
	waitFor(t, 15*time.Second, "the gRPC route", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		resp, err = client.Check(ctx, &healthpb.HealthCheckRequest{Service: "strait.Echo"})
		return err == nil
	})
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Check: %v, want SERVING", resp.GetStatus())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "no.such.Service"}); status.Code(err) != codes.NotFound {
		t.Fatalf("Check of an unknown service: %v, want NotFound", err)
	}
	// A server stream: the first message arrives while the call is open.
	stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{Service: "strait.Echo"})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := stream.Recv(); err != nil || m.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Watch: %v, %v", m, err)
	}
	secure := dial("grpcs.test")
	if resp, err := secure.Check(ctx, &healthpb.HealthCheckRequest{Service: "strait.Echo"}); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Check over GRPCS: %v, %v", resp, err)
	}
}

// TestProxySSLAndClientCertificates: an HTTPS backend that requires a
// client certificate is reached with proxy-ssl-secret and proxy-ssl-verify;
// a host with auth-tls-secret answers 400 without a valid client
// certificate and passes the verification result and subject upstream.
func TestProxySSLAndClientCertificates(t *testing.T) {
	c := kubetest.Start(t)
	upCA := newE2ECA(t, "upstream-ca")
	_, _, serverPair := upCA.issue(t, pkix.Name{CommonName: "web"}, x509.ExtKeyUsageServerAuth, "web.tls.svc")
	straitCert, straitKey, _ := upCA.issue(t, pkix.Name{CommonName: "strait"}, x509.ExtKeyUsageClientAuth)
	roots := x509.NewCertPool()
	roots.AddCert(upCA.cert)
	ln, err := net.Listen("tcp", "10.244.32.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New("mtls-upstream")
	up := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Client-CN", r.TLS.PeerCertificates[0].Subject.CommonName)
			w.Header().Set("X-SNI", r.TLS.ServerName)
			e.ServeHTTP(w, r)
		}),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{serverPair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: roots},
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = up.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = up.Close() })
	annBackend(t, "10.244.32.2", "plain")

	o := newObjects(t, c, "tls")
	o.service("web")
	o.slice("web", "10.244.32.1")
	o.service("app")
	o.slice("app", "10.244.32.2")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	opaqueSecret(o, "upstream-mtls", map[string][]byte{"tls.crt": straitCert, "tls.key": straitKey, "ca.crt": upCA.certPEM})
	annIngress(o, "backend-mtls", "up.test", "/", "web", annMap("backend-protocol", "HTTPS", "proxy-ssl-secret", "tls/upstream-mtls",
		"proxy-ssl-verify", "on", "proxy-ssl-name", "web.tls.svc", "proxy-ssl-server-name", "on"), "")
	annIngress(o, "backend-missing", "up.test", "/missing", "web", annMap("backend-protocol", "HTTPS", "proxy-ssl-secret", "tls/nothere"), "")
	annIngress(o, "backend-inherits", "up.test", "/inherits", "web", annMap("backend-protocol", "HTTPS"), "")
	annIngress(o, "backend-plain-tls", "other.test", "/", "web", annMap("backend-protocol", "HTTPS"), "")

	clientCA := newE2ECA(t, "client-ca")
	_, _, alice := clientCA.issue(t, pkix.Name{CommonName: "alice", Organization: []string{"example"}}, x509.ExtKeyUsageClientAuth)
	_, _, mallory := newE2ECA(t, "other-ca").issue(t, pkix.Name{CommonName: "mallory"}, x509.ExtKeyUsageClientAuth)
	opaqueSecret(o, "client-ca", map[string][]byte{"ca.crt": clientCA.certPEM})
	annTLSSecret(o, "mtls-tls", "mtls.test")
	annIngress(o, "client-auth", "mtls.test", "/", "app", annMap("auth-tls-secret", "tls/client-ca", "auth-tls-verify-client", "on",
		"auth-tls-pass-certificate-to-upstream", "true"), "mtls-tls")
	annIngress(o, "client-auth-missing", "denied.test", "/", "app", annMap("auth-tls-secret", "tls/nothere"), "")

	s := startStrait(t, c)
	var r annResp
	waitFor(t, 15*time.Second, "the backend mTLS route", func() bool {
		r = s.annHTTP("GET", "up.test", "/x", 0)
		return r.code == 200
	})
	if r.backend != "mtls-upstream" {
		t.Fatalf("up.test: %v, want 200 from mtls-upstream", r)
	}
	if r := annDoHeaders(t, plainClient, "http://"+s.http+"/x", "up.test"); r.Get("X-Client-CN") != "strait" || r.Get("X-SNI") != "web.tls.svc" {
		t.Errorf("up.test: upstream saw client %q and SNI %q, want strait and web.tls.svc", r.Get("X-Client-CN"), r.Get("X-SNI"))
	}
	if r := s.annHTTP("GET", "up.test", "/missing", 0); r.code != 503 {
		t.Errorf("proxy-ssl-secret missing: %v, want 503", r)
	}
	// The host's other HTTPS paths inherit the host's proxy-ssl-*, as
	// from nginx's server block; another host's do not.
	if r := annDoHeaders(t, plainClient, "http://"+s.http+"/inherits", "up.test"); r.Get("X-Client-CN") != "strait" {
		t.Errorf("up.test/inherits: upstream saw client %q, want strait", r.Get("X-Client-CN"))
	}
	if r := s.annHTTP("GET", "other.test", "/", 0); r.code != 502 {
		t.Errorf("HTTPS without the client certificate: %v, want 502", r)
	}
	annWaitWarning(t, c, "tls", "backend-missing", "SecretNotFound", "proxy-ssl-secret", "tls/nothere")

	for _, tc := range []struct {
		name string
		cert *tls.Certificate
		code int
	}{{"no certificate", nil, 400}, {"a stranger's certificate", &mallory, 400}, {"alice", &alice, 200}} {
		r := annDo(s.httpsClient(t, tc.cert), "GET", "https://mtls.test/", "", 0)
		if r.err != nil || r.code != tc.code {
			t.Errorf("mtls.test with %s: %v, want %d", tc.name, r, tc.code)
			continue
		}
		if tc.code != 200 {
			continue
		}
		h := r.echo.Headers
		if !slices.Equal(h["Ssl-Client-Verify"], []string{"SUCCESS"}) || !slices.Equal(h["Ssl-Client-Subject-Dn"], []string{"CN=alice,O=example"}) ||
			!slices.Equal(h["Ssl-Client-Issuer-Dn"], []string{"CN=client-ca"}) || len(h["Ssl-Client-Cert"]) != 1 {
			t.Errorf("mtls.test with alice: upstream saw %v", h)
		}
	}
	if r := annDo(s.httpsClient(t, &alice), "GET", "https://denied.test/", "", 0); r.code != 403 {
		t.Errorf("denied.test (auth-tls-secret missing): %v, want 403", r)
	}
}

// annDoHeaders returns the response headers of GET url with Host host.
func annDoHeaders(t *testing.T, c *http.Client, url, host string) http.Header {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.Header
}

// TestSSLProtocolsConfigMap: ssl-protocols from the controller ConfigMap
// decides the TLS versions of the HTTPS listener, and a change applies to
// the next handshake without a restart.
func TestSSLProtocolsConfigMap(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.33.1", "a")
	ctx := context.Background()
	sys := newObjects(t, c, "strait-system")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "strait-config"}, Data: map[string]string{"ssl-protocols": "TLSv1.3"}}
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	o := newObjects(t, c, "proto")
	o.service("web")
	o.slice("web", "10.244.33.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "web", "proto.test", "/", "web", nil, "")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")
	dial := func(max uint16) error {
		conn, err := tls.Dial("tcp", s.https, &tls.Config{InsecureSkipVerify: true, MaxVersion: max, ServerName: "proto.test"}) //nolint:gosec // test
		if err == nil {
			_ = conn.Close()
		}
		return err
	}
	waitFor(t, 15*time.Second, "TLS 1.2 refused", func() bool { return dial(tls.VersionTLS12) != nil })
	if err := dial(tls.VersionTLS13); err != nil {
		t.Fatalf("TLS 1.3 refused: %v", err)
	}
	cm.Data["ssl-protocols"] = "TLSv1.2 TLSv1.3"
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "TLS 1.2 accepted after the update", func() bool { return dial(tls.VersionTLS12) == nil })
}
