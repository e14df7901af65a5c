package proxy_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
}

func newTestCA(t *testing.T, cn string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &testCA{cert: c, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue signs a leaf certificate for a server (names) or a client.
func (ca *testCA) issue(t *testing.T, subject pkix.Name, usage x509.ExtKeyUsage, names ...string) (certPEM, keyPEM []byte, pair tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: subject, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	pair, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return certPEM, keyPEM, pair
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// tlsClient returns an HTTP client for the proxy's TLS listener, speaking
// HTTP/2 when h2, presenting cert when given.
func tlsClient(t *testing.T, h2 bool, cert *tls.Certificate) *http.Client {
	t.Helper()
	conf := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the proxy's test certificate
	if cert != nil {
		conf.Certificates = []tls.Certificate{*cert}
	}
	tr := &http.Transport{TLSClientConfig: conf, ForceAttemptHTTP2: h2, DisableCompression: true}
	if !h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// grpcLike answers like a gRPC server: it needs HTTP/2 and "te: trailers",
// echoes the request body and ends with trailers.
func grpcLike(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 || r.Header.Get("Te") != "trailers" {
			http.Error(w, "not gRPC: "+r.Proto+" te="+r.Header.Get("Te"), http.StatusHTTPVersionNotSupported)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("X-Backend", name)
		w.Header().Set("X-Seen-Host", r.Host)
		w.Header().Set("X-Seen-Proto", r.Header.Get("X-Forwarded-Proto"))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
		w.Header().Set(http.TrailerPrefix+"Grpc-Status", "0")
		w.Header().Set(http.TrailerPrefix+"Grpc-Message", "fine")
	})
}

// TestBackendGRPC proxies HTTP/2 clients of the TLS listener to gRPC-like
// upstreams over h2c (GRPC) and h2 over TLS (GRPCS): the body goes both
// ways and the trailers come back.
func TestBackendGRPC(t *testing.T) {
	t.Parallel()
	// h2c upstream.
	plain := &http.Server{Handler: grpcLike("h2c")}
	plain.Protocols = new(http.Protocols)
	plain.Protocols.SetUnencryptedHTTP2(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = plain.Serve(ln) }()
	t.Cleanup(func() { _ = plain.Close() })
	// h2 over TLS upstream.
	secure := httptest.NewUnstartedServer(grpcLike("h2"))
	secure.EnableHTTP2 = true
	secure.StartTLS()
	t.Cleanup(secure.Close)

	// A dead endpoint first: connect failures go on to the next one.
	bGRPC := backend("grpc", closedPort(t), endpointOf(t, ln.Addr()))
	bGRPC.Protocol = model.ProtocolGRPC
	bGRPCS := backend("grpcs", endpointOf(t, secure.Listener.Addr()))
	bGRPCS.Protocol = model.ProtocolGRPCS
	m := &model.Model{
		Hosts:    []*model.VirtualHost{vhost("grpc.test", status(404), prefixRoute("/plain.Service", "grpc"), prefixRoute("/secure.Service", "grpcs"))},
		CatchAll: catchAll404(),
		Backends: []model.Backend{bGRPC, bGRPCS},
	}
	h := startProxy(t, engineH1, testTimeouts, m, true)
	c := tlsClient(t, true, nil)
	for _, tc := range []struct{ path, backend string }{{"/plain.Service/Call", "h2c"}, {"/secure.Service/Call", "h2"}} {
		for i := 0; i < 4; i++ {
			req, _ := http.NewRequest(http.MethodPost, "https://"+h.tlsAddr+tc.path, strings.NewReader("ping"))
			req.Host = "grpc.test"
			req.Header.Set("Content-Type", "application/grpc")
			req.Header.Set("Te", "trailers")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "ping" || resp.Header.Get("X-Backend") != tc.backend {
				t.Fatalf("%s: %d %q from %q, want 200 ping from %s", tc.path, resp.StatusCode, body, resp.Header.Get("X-Backend"), tc.backend)
			}
			if resp.Trailer.Get("Grpc-Status") != "0" || resp.Trailer.Get("Grpc-Message") != "fine" {
				t.Fatalf("%s: trailers %v", tc.path, resp.Trailer)
			}
			if resp.Header.Get("X-Seen-Host") != "grpc.test" || resp.Header.Get("X-Seen-Proto") != "https" {
				t.Fatalf("%s: upstream saw Host %q, X-Forwarded-Proto %q", tc.path, resp.Header.Get("X-Seen-Host"), resp.Header.Get("X-Seen-Proto"))
			}
		}
	}
}

// TestBackendAutoHTTP speaks HTTPS to the endpoints for requests that
// came over TLS and HTTP for the others (AUTO_HTTP).
func TestBackendAutoHTTP(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(echo.New("secure"))
	t.Cleanup(srv.Close)
	b := backend("auto", endpointOf(t, srv.Listener.Addr()))
	b.Protocol = model.ProtocolAutoHTTP
	m := &model.Model{Hosts: []*model.VirtualHost{vhost("auto.test", toBackend("auto"))}, CatchAll: catchAll404(), Backends: []model.Backend{b}}
	h := startProxy(t, engineH1, testTimeouts, m, true)
	if r := get(t, tlsClient(t, false, nil), "https://"+h.tlsAddr+"/x", "auto.test"); r.status != 200 {
		t.Fatalf("over TLS: status %d, want 200 from the HTTPS endpoint", r.status)
	}
	// Plain HTTP to a TLS endpoint: the endpoint answers 400 or the
	// exchange fails; either way it is not a 200.
	if r := get(t, newClient(t), h.url("/x"), "auto.test"); r.status == 200 {
		t.Fatal("over plain HTTP: status 200, want the endpoint spoken to in clear text")
	}
}

// TestBackendProxySSL presents a client certificate to an upstream that
// requires one and verifies the upstream's certificate (proxy-ssl-*).
func TestBackendProxySSL(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		ca := newTestCA(t, "upstream-ca")
		_, _, serverPair := ca.issue(t, pkix.Name{CommonName: "web"}, x509.ExtKeyUsageServerAuth, "web.ns.svc")
		clientCert, clientKey, _ := ca.issue(t, pkix.Name{CommonName: "strait"}, x509.ExtKeyUsageClientAuth)
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Client", r.TLS.PeerCertificates[0].Subject.CommonName)
			w.Header().Set("X-SNI", r.TLS.ServerName)
		}))
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverPair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.pool()}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		ep := endpointOf(t, srv.Listener.Addr())
		other := newTestCA(t, "other-ca")
		mk := func(name string, bt *model.BackendTLS) model.Backend {
			b := backend(name, ep)
			b.Protocol, b.TLS = model.ProtocolHTTPS, bt
			return b
		}
		good := &model.BackendTLS{Secret: "ns/s", Fingerprint: "good", CertPEM: clientCert, KeyPEM: clientKey, CAPEM: ca.certPEM,
			Verify: true, VerifyDepth: 1, ServerName: "web.ns.svc", SNI: true}
		wrongCA := *good
		wrongCA.Fingerprint, wrongCA.CAPEM = "wrong-ca", other.certPEM
		wrongName := *good
		wrongName.Fingerprint, wrongName.ServerName = "wrong-name", "other.ns.svc"
		m := &model.Model{
			Hosts: []*model.VirtualHost{vhost("ssl.test", status(404),
				prefixRoute("/good", "good"), prefixRoute("/wrong-ca", "wrong-ca"), prefixRoute("/wrong-name", "wrong-name"), prefixRoute("/none", "none"))},
			CatchAll: catchAll404(),
			Backends: []model.Backend{mk("good", good), mk("wrong-ca", &wrongCA), mk("wrong-name", &wrongName), mk("none", nil)},
		}
		h := startProxy(t, e, testTimeouts, m, false)
		c := newClient(t)
		for i := 0; i < 2; i++ {
			r := get(t, c, h.url("/good"), "ssl.test")
			if r.status != 200 || r.header.Get("X-Client") != "strait" || r.header.Get("X-SNI") != "web.ns.svc" {
				t.Fatalf("good: %d, client %q, SNI %q", r.status, r.header.Get("X-Client"), r.header.Get("X-SNI"))
			}
		}
		for _, p := range []string{"/wrong-ca", "/wrong-name", "/none"} {
			if r := get(t, c, h.url(p), "ssl.test"); r.status != http.StatusBadGateway {
				t.Errorf("%s: status %d, want 502", p, r.status)
			}
		}
	})
}

// TestClientCertificates checks auth-tls-*: the certificate is asked for in
// the handshake and verified per request; the upstream gets the result.
func TestClientCertificates(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "client-ca")
	_, _, good := ca.issue(t, pkix.Name{CommonName: "alice", Organization: []string{"example"}}, x509.ExtKeyUsageClientAuth)
	_, _, stranger := newTestCA(t, "other-ca").issue(t, pkix.Name{CommonName: "mallory"}, x509.ExtKeyUsageClientAuth)
	seen := make(chan http.Header, 1)
	_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Clone()
	}))
	auth := func(verify string, pass bool) *model.ClientAuth {
		return &model.ClientAuth{Secret: "ns/ca", CAPEM: ca.certPEM, Verify: verify, VerifyDepth: 1, PassCertificate: pass}
	}
	host := func(name string, ca *model.ClientAuth) *model.VirtualHost {
		vh := vhost(name, toBackend("web"))
		vh.ClientAuth = ca
		return vh
	}
	m := &model.Model{
		Hosts: []*model.VirtualHost{
			host("on.test", auth("on", true)),
			host("optional.test", auth("optional", false)),
			host("noca.test", auth("optional_no_ca", false)),
			host("deny.test", &model.ClientAuth{Deny: true, Verify: "on"}),
			host("match.test", &model.ClientAuth{CAPEM: ca.certPEM, Verify: "optional", VerifyDepth: 1, MatchSubject: "CN=bob"}),
			host("page.test", &model.ClientAuth{CAPEM: ca.certPEM, Verify: "on", VerifyDepth: 1, ErrorPage: "https://help.test/cert"}),
		},
		CatchAll: catchAll404(),
		Backends: []model.Backend{backend("web", ep)},
	}
	h := startProxy(t, engineH1, testTimeouts, m, true)
	anon, alice, mallory := tlsClient(t, false, nil), tlsClient(t, true, &good), tlsClient(t, false, &stranger)
	call := func(c *http.Client, host string, wantStatus int) http.Header {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "https://"+h.tlsAddr+"/", nil)
		req.Host = host
		req.Header.Set("Ssl-Client-Verify", "SUCCESS") // a client's own must never pass
		r := do(t, c, req)
		if r.status != wantStatus {
			t.Fatalf("%s: status %d, want %d", host, r.status, wantStatus)
		}
		if wantStatus != 200 {
			return nil
		}
		return <-seen
	}
	// SNI decides whether the certificate is asked for: dial with it.
	sni := func(c *http.Client, name string) *http.Client {
		c.Transport.(*http.Transport).TLSClientConfig.ServerName = name
		return c
	}
	call(sni(anon, "on.test"), "on.test", http.StatusBadRequest)
	call(sni(mallory, "on.test"), "on.test", http.StatusBadRequest)
	hd := call(sni(alice, "on.test"), "on.test", 200)
	if hd.Get("Ssl-Client-Verify") != "SUCCESS" || hd.Get("Ssl-Client-Subject-Dn") != "CN=alice,O=example" || hd.Get("Ssl-Client-Issuer-Dn") != "CN=client-ca" {
		t.Fatalf("on.test: upstream saw %v", hd)
	}
	cert, err := url.QueryUnescape(hd.Get("Ssl-Client-Cert"))
	if b, _ := pem.Decode([]byte(cert)); err != nil || b == nil || string(b.Bytes) != string(good.Certificate[0]) {
		t.Fatalf("on.test: ssl-client-cert %q does not decode to the client's certificate", hd.Get("Ssl-Client-Cert"))
	}
	anon2, mallory2 := tlsClient(t, false, nil), tlsClient(t, false, &stranger)
	if hd := call(sni(anon2, "optional.test"), "optional.test", 200); hd.Get("Ssl-Client-Verify") != "NONE" || hd.Get("Ssl-Client-Cert") != "" {
		t.Fatalf("optional.test without a certificate: upstream saw %v", hd)
	}
	call(sni(mallory2, "optional.test"), "optional.test", http.StatusBadRequest)
	mallory3 := tlsClient(t, false, &stranger)
	if hd := call(sni(mallory3, "noca.test"), "noca.test", 200); hd.Get("Ssl-Client-Verify") != "FAILED:unable to get local issuer certificate" || hd.Get("Ssl-Client-Subject-Dn") != "CN=mallory" {
		t.Fatalf("noca.test with a stranger's certificate: upstream saw %v", hd)
	}
	call(sni(tlsClient(t, false, &good), "deny.test"), "deny.test", http.StatusForbidden)
	// auth-tls-match-cn: alice is not bob; no certificate matches nothing.
	call(sni(tlsClient(t, false, &good), "match.test"), "match.test", http.StatusForbidden)
	call(sni(tlsClient(t, false, nil), "match.test"), "match.test", http.StatusForbidden)
	// auth-tls-error-page replaces the 400 with a redirect.
	pc := sni(tlsClient(t, false, nil), "page.test")
	pc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequest(http.MethodGet, "https://"+h.tlsAddr+"/", nil)
	req.Host = "page.test"
	if r := do(t, pc, req); r.status != http.StatusFound || r.header.Get("Location") != "https://help.test/cert" {
		t.Fatalf("page.test without a certificate: %d Location %q, want 302 to the error page", r.status, r.header.Get("Location"))
	}
	// Plain HTTP is not checked, as with nginx, but a client's own
	// ssl-client-* headers never reach the upstream.
	req, _ = http.NewRequest(http.MethodGet, h.url("/"), nil)
	req.Host = "on.test"
	req.Header.Set("Ssl-Client-Verify", "SUCCESS")
	req.Header.Set("Ssl-Client-Subject-Dn", "CN=admin")
	if r := do(t, newClient(t), req); r.status != 200 {
		t.Fatalf("plain HTTP: status %d, want 200", r.status)
	}
	if hd := <-seen; hd.Get("Ssl-Client-Verify") != "" || hd.Get("Ssl-Client-Subject-Dn") != "" {
		t.Fatalf("plain HTTP: upstream saw the client's own ssl-client-* headers: %v", hd)
	}
}

// TestServerTLSParams applies ssl-protocols to the TLS listener from the
// generation current at the handshake.
func TestServerTLSParams(t *testing.T) {
	t.Parallel()
	m := singleHost("v.test", "web", echoBackend(t, "web"))
	h := startProxy(t, engineH1, testTimeouts, m, true)
	dial := func(max uint16) error {
		c, err := tls.Dial("tcp", h.tlsAddr, &tls.Config{InsecureSkipVerify: true, MaxVersion: max}) //nolint:gosec // test
		if err == nil {
			_ = c.Close()
		}
		return err
	}
	if err := dial(tls.VersionTLS12); err != nil {
		t.Fatalf("TLS 1.2 refused by default: %v", err)
	}
	if err := dial(tls.VersionTLS11); err == nil {
		t.Fatal("TLS 1.1 accepted by default")
	}
	m2 := *m
	m2.ServerTLS = &model.TLSParams{MinVersion: "TLSv1.3", MaxVersion: "TLSv1.3"}
	h.p.Apply(&m2)
	if err := dial(tls.VersionTLS12); err == nil {
		t.Fatal("TLS 1.2 accepted with ssl-protocols TLSv1.3")
	}
	if err := dial(tls.VersionTLS13); err != nil {
		t.Fatalf("TLS 1.3 refused: %v", err)
	}
}

// TestUseHTTP2 offers HTTP/2 by ALPN by default and only HTTP/1.1 with
// use-http2 false, applied without a restart.
func TestUseHTTP2(t *testing.T) {
	t.Parallel()
	m := singleHost("v.test", "web", echoBackend(t, "web"))
	h := startProxy(t, engineH1, testTimeouts, m, true)
	alpn := func() string {
		c, err := tls.Dial("tcp", h.tlsAddr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}}) //nolint:gosec // test
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().NegotiatedProtocol
	}
	if p := alpn(); p != "h2" {
		t.Errorf("default: negotiated %q, want h2", p)
	}
	m2 := *m
	m2.NoHTTP2 = true
	h.p.Apply(&m2)
	if p := alpn(); p != "http/1.1" {
		t.Errorf("use-http2 false: negotiated %q, want http/1.1", p)
	}
}

// TestBackendGRPCReadTimeout answers 504 when a gRPC upstream sends
// nothing within the read timeout, and cuts a stream that stalls.
func TestBackendGRPCReadTimeout(t *testing.T) {
	t.Parallel()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stall-body" {
			w.WriteHeader(200)
			_, _ = w.Write([]byte("first"))
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
	})}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetUnencryptedHTTP2(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	b := backend("grpc", endpointOf(t, ln.Addr()))
	b.Protocol = model.ProtocolGRPC
	m := &model.Model{Hosts: []*model.VirtualHost{vhost("grpc.test", toBackend("grpc"))}, CatchAll: catchAll404(), Backends: []model.Backend{b}}
	h := startProxy(t, engineH1, proxy.Timeouts{Read: 300 * time.Millisecond}, m, true)
	c := tlsClient(t, true, nil)
	start := time.Now()
	if r := get(t, c, "https://"+h.tlsAddr+"/stall-head", "grpc.test"); r.status != http.StatusGatewayTimeout || time.Since(start) > 2*time.Second {
		t.Fatalf("stalled head: status %d after %v, want 504 after the read timeout", r.status, time.Since(start))
	}
	req, _ := http.NewRequest(http.MethodGet, "https://"+h.tlsAddr+"/stall-body", nil)
	req.Host = "grpc.test"
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	start = time.Now()
	body, err := io.ReadAll(resp.Body)
	if err == nil || string(body) != "first" || time.Since(start) > 2*time.Second {
		t.Fatalf("stalled body: %q, %v after %v, want the first bytes then a cut", body, err, time.Since(start))
	}
}

// sub issues an intermediate CA signed by ca.
func (ca *testCA) sub(t *testing.T, cn string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &testCA{cert: c, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// TestClientCertificateDepthAndCRL checks auth-tls-verify-depth against a
// chain with an intermediate CA, and the CA's revocation list (ca.crl).
func TestClientCertificateDepthAndCRL(t *testing.T) {
	t.Parallel()
	root := newTestCA(t, "root")
	inter := root.sub(t, "intermediate")
	_, _, viaInter := inter.issue(t, pkix.Name{CommonName: "deep"}, x509.ExtKeyUsageClientAuth)
	viaInter.Certificate = append(viaInter.Certificate, inter.cert.Raw) // the client sends the chain
	_, _, revoked := root.issue(t, pkix.Name{CommonName: "revoked"}, x509.ExtKeyUsageClientAuth)
	_, _, fine := root.issue(t, pkix.Name{CommonName: "fine"}, x509.ExtKeyUsageClientAuth)
	leaf, _ := x509.ParseCertificate(revoked.Certificate[0])
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: leaf.SerialNumber, RevocationTime: time.Now().Add(-time.Minute)}},
	}, root.cert, root.key)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan http.Header, 1)
	_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen <- r.Header.Clone() }))
	host := func(name string, depth int) *model.VirtualHost {
		vh := vhost(name, toBackend("web"))
		vh.ClientAuth = &model.ClientAuth{CAPEM: root.certPEM, CRLPEM: pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl}), Verify: "optional_no_ca", VerifyDepth: depth}
		return vh
	}
	m := &model.Model{Hosts: []*model.VirtualHost{host("d1.test", 1), host("d2.test", 2)}, CatchAll: catchAll404(), Backends: []model.Backend{backend("web", ep)}}
	h := startProxy(t, engineH1, testTimeouts, m, true)
	for _, tc := range []struct {
		host string
		cert tls.Certificate
		want string
	}{
		{"d1.test", viaInter, "FAILED:certificate chain too long"},
		{"d2.test", viaInter, "SUCCESS"},
		{"d1.test", revoked, "FAILED:certificate revoked"},
		{"d1.test", fine, "SUCCESS"},
	} {
		c := tlsClient(t, false, &tc.cert)
		c.Transport.(*http.Transport).TLSClientConfig.ServerName = tc.host
		if r := get(t, c, "https://"+h.tlsAddr+"/", tc.host); r.status != 200 {
			t.Fatalf("%s: status %d", tc.host, r.status)
		}
		if got := (<-seen).Get("Ssl-Client-Verify"); got != tc.want {
			t.Errorf("%s with %q: ssl-client-verify %q, want %q", tc.host, tc.cert.Leaf.Subject.CommonName, got, tc.want)
		}
	}
}
