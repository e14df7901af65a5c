package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/kubetest"
)

// The tests in this file check the implemented ingress-nginx annotations
// and ConfigMap keys end to end (reference: catalogue sections 1.1, 1.3,
// 1.8, 2 and 3.7), and that an invalid annotation only ever affects its own
// Ingress.

// annMap builds annotations from name, value pairs, prefixing each name
// with nginx.ingress.kubernetes.io/.
func annMap(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[annotations.Prefix+kv[i]] = kv[i+1]
	}
	return m
}

// annBodyHeader is set by annBackend to the number of request body bytes
// it received.
const annBodyHeader = "X-Body-Bytes"

// annBackend starts an echo backend on ip:8080 that first reads the whole
// request body and reports its length in X-Body-Bytes. (The plain echo
// server reads at most echo.MaxBodyBytes and answers before the rest of a
// larger upload has arrived, which would test the backend rather than the
// proxy.)
func annBackend(t *testing.T, ip, name string) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "8080"))
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New(name)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set(annBodyHeader, strconv.FormatInt(n, 10))
		r.Body, r.ContentLength = http.NoBody, 0
		e.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
}

// annIngress creates an Ingress of class "strait" routing host/path
// (Prefix) to svc port 80, with a TLS section for host when tlsSecret is
// set.
func annIngress(o *objects, name, host, path, svc string, annots map[string]string, tlsSecret string) {
	o.t.Helper()
	pt := networkingv1.PathTypePrefix
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annots},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr("strait"),
			Rules: []networkingv1.IngressRule{{
				Host: host,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
					Path: path, PathType: &pt,
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Number: 80}}},
				}}}},
			}},
		},
	}
	if tlsSecret != "" {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: tlsSecret}}
	}
	if _, err := o.c.NetworkingV1().Ingresses(o.ns).Create(o.ctx(), ing, metav1.CreateOptions{}); err != nil {
		o.t.Fatal(err)
	}
}

// annTLSSecret creates a kubernetes.io/tls Secret with a self-signed
// certificate for hosts and returns the certificate.
func annTLSSecret(o *objects, name string, hosts ...string) *x509.Certificate {
	o.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		o.t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: hosts[0]},
		DNSNames:              hosts,
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		o.t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		o.t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		o.t.Fatal(err)
	}
	_, err = o.c.CoreV1().Secrets(o.ns).Create(o.ctx(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Type:       corev1.SecretTypeTLS,
		Data: map[string][]byte{
			corev1.TLSCertKey:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			corev1.TLSPrivateKeyKey: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		},
	}, metav1.CreateOptions{})
	if err != nil {
		o.t.Fatal(err)
	}
	return cert
}

// annResp is what a test sees of one response.
type annResp struct {
	code     int
	location string
	backend  string // echo backend that answered, "" when none did
	bodyLen  int    // request body bytes the backend received; -1 if unknown
	echo     echo.Echo
	peer     *x509.Certificate // leaf certificate served over TLS
	err      error
}

func (r annResp) String() string {
	if r.err != nil {
		return "error: " + r.err.Error()
	}
	s := strconv.Itoa(r.code)
	if r.location != "" {
		s += " Location " + strconv.Quote(r.location)
	}
	if r.backend != "" {
		s += " from " + strconv.Quote(r.backend)
	}
	return s
}

// annDo sends one request with Host host (when not empty) and a body of
// bodyLen bytes (none when 0).
func annDo(c *http.Client, method, url, host string, bodyLen int) annResp {
	var body io.Reader
	if bodyLen > 0 {
		body = bytes.NewReader(bytes.Repeat([]byte("x"), bodyLen))
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return annResp{err: err}
	}
	if host != "" {
		req.Host = host
	}
	resp, err := c.Do(req)
	if err != nil {
		return annResp{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	out := annResp{code: resp.StatusCode, location: resp.Header.Get("Location"), backend: resp.Header.Get(echo.BackendHeader), bodyLen: -1, err: err}
	if v := resp.Header.Get(annBodyHeader); v != "" {
		out.bodyLen, _ = strconv.Atoi(v)
	}
	if out.backend != "" {
		_ = json.Unmarshal(b, &out.echo)
	}
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		out.peer = resp.TLS.PeerCertificates[0]
	}
	return out
}

// annHTTP sends a request to Strait's plain-HTTP port.
func (s *strait) annHTTP(method, host, path string, bodyLen int) annResp {
	return annDo(plainClient, method, "http://"+s.http+path, host, bodyLen)
}

// annHTTPSClient returns a client that connects to Strait's HTTPS port
// whatever the URL's host, with SNI and Host taken from the URL, skipping
// certificate verification (annResp.peer shows what was served).
func (s *strait) annHTTPSClient(t *testing.T) *http.Client {
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, s.https)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Timeout:       10 * time.Second,
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// annWarnings returns the Warning Events of Ingress ns/name as
// "Reason: message" lines.
func annWarnings(c *kubetest.Cluster, ns, name string) []string {
	list, err := c.Client.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("involvedObject.name", name).String(),
	})
	if err != nil {
		return []string{"listing Events: " + err.Error()}
	}
	var out []string
	for _, e := range list.Items {
		if e.Type == corev1.EventTypeWarning && e.InvolvedObject.Kind == "Ingress" {
			out = append(out, e.Reason+": "+e.Message)
		}
	}
	return slices.Sorted(slices.Values(out))
}

// annWaitWarning waits for a Warning Event on Ingress ns/name with reason
// whose message contains every one of parts.
func annWaitWarning(t *testing.T, c *kubetest.Cluster, ns, name, reason string, parts ...string) {
	t.Helper()
	var last []string
	start := time.Now()
	for time.Since(start) < 10*time.Second {
		last = annWarnings(c, ns, name)
		for _, w := range last {
			if !strings.HasPrefix(w, reason+": ") {
				continue
			}
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(w, p)
			}
			if ok {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("Ingress %s/%s: no Warning Event %s containing %q; its warnings: %q", ns, name, reason, parts, last)
}

// TestAnnotationRedirects: permanent-redirect answers its Ingress's paths
// with exactly the configured URL (path and query not appended), with
// permanent-redirect-code, and temporal-redirect wins when both are set;
// other Ingresses of the host keep serving.
func TestAnnotationRedirects(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.20.1", "a")
	o := newObjects(t, c, "redir")
	o.service("web")
	o.slice("web", "10.244.20.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	const host = "redir.test"
	annIngress(o, "app", host, "/", "web", nil, "")
	annIngress(o, "perm", host, "/old", "web", annMap("permanent-redirect", "https://new.example/landing?from=old"), "")
	annIngress(o, "perm308", host, "/moved", "web", annMap("permanent-redirect", "https://new.example/x", "permanent-redirect-code", "308"), "")
	annIngress(o, "both", host, "/both", "web", annMap(
		"permanent-redirect", "https://perm.example/p",
		"temporal-redirect", "https://temp.example/t"), "")
	annIngress(o, "temp307", host, "/temp", "web", annMap("temporal-redirect", "http://temp.example/", "temporal-redirect-code", "307"), "")

	s := startStrait(t, c)
	for _, tc := range []struct {
		method, path   string
		code           int
		location, from string
	}{
		{"GET", "/old", 301, "https://new.example/landing?from=old", ""},
		{"GET", "/old/deeper/page?q=1&r=2", 301, "https://new.example/landing?from=old", ""},
		{"POST", "/old/form", 301, "https://new.example/landing?from=old", ""},
		{"GET", "/moved", 308, "https://new.example/x", ""},
		{"GET", "/moved/a/b?c=d", 308, "https://new.example/x", ""},
		{"GET", "/both", 302, "https://temp.example/t", ""},
		{"GET", "/both/x?y=z", 302, "https://temp.example/t", ""},
		{"GET", "/temp/x", 307, "http://temp.example/", ""},
		// The host's other Ingress is unaffected, including paths that
		// only share a string prefix with a redirecting one.
		{"GET", "/", 200, "", "a"},
		{"GET", "/older", 200, "", "a"},
		{"GET", "/oldx/y", 200, "", "a"},
		{"GET", "/movedaway", 200, "", "a"},
		{"POST", "/app", 200, "", "a"},
	} {
		r := s.annHTTP(tc.method, host, tc.path, 0)
		if r.err != nil || r.code != tc.code || r.location != tc.location || r.backend != tc.from {
			t.Errorf("%s %s: got %v, want %d Location %q from %q", tc.method, tc.path, r, tc.code, tc.location, tc.from)
		}
	}
	for _, name := range []string{"app", "perm", "perm308", "both", "temp307"} {
		if w := annWarnings(c, "redir", name); len(w) > 0 {
			t.Errorf("Ingress %s has warnings: %q", name, w)
		}
	}
}

// TestSSLRedirect: a host with a TLS section redirects plain HTTP to HTTPS
// (308, port and one trailing slash stripped), except for Ingresses with
// ssl-redirect "false" and ACME challenge paths; force-ssl-redirect
// redirects without TLS; HTTPS requests are proxied with
// X-Forwarded-Proto https.
func TestSSLRedirect(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.21.1", "a")
	annBackend(t, "10.244.21.2", "b")
	o := newObjects(t, c, "ssl")
	o.service("web")
	o.slice("web", "10.244.21.1")
	o.service("api")
	o.slice("api", "10.244.21.2")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	cert := annTLSSecret(o, "secure-tls", "secure.test")
	annIngress(o, "secure", "secure.test", "/", "web", nil, "secure-tls")
	annIngress(o, "insecure", "secure.test", "/insecure", "api", annMap("ssl-redirect", "false"), "")
	annIngress(o, "acme", "secure.test", "/.well-known/acme-challenge", "api", nil, "")
	annIngress(o, "forced", "forced.test", "/", "web", annMap("force-ssl-redirect", "true"), "")
	annIngress(o, "notls", "notls.test", "/", "web", nil, "")

	s := startStrait(t, c)
	withPort := "secure.test:" + port(s.http)
	for _, tc := range []struct {
		host, path     string
		code           int
		location, from string
	}{
		{"secure.test", "/", 308, "https://secure.test", ""},
		{withPort, "/", 308, "https://secure.test", ""},
		{withPort, "/app/page?x=1&y=2", 308, "https://secure.test/app/page?x=1&y=2", ""},
		{"secure.test", "/app/dir/", 308, "https://secure.test/app/dir", ""},
		{"secure.test", "/app//", 308, "https://secure.test/app/", ""},
		{"secure.test", "/insecure", 200, "", "b"},
		{withPort, "/insecure/deeper?q=1", 200, "", "b"},
		{"secure.test", "/.well-known/acme-challenge/token-123", 200, "", "b"},
		{"forced.test", "/", 308, "https://forced.test", ""},
		{"forced.test:" + port(s.http), "/x/y?z=1", 308, "https://forced.test/x/y?z=1", ""},
		{"notls.test", "/", 200, "", "a"},
		{"notls.test", "/x/", 200, "", "a"},
	} {
		r := s.annHTTP("GET", tc.host, tc.path, 0)
		if r.err != nil || r.code != tc.code || r.location != tc.location || r.backend != tc.from {
			t.Errorf("http://%s%s: got %v, want %d Location %q from %q", tc.host, tc.path, r, tc.code, tc.location, tc.from)
		}
	}

	// Over HTTPS nothing is redirected; the backend learns the scheme.
	hc := s.annHTTPSClient(t)
	for _, tc := range []struct {
		host, path, from string
		ours             bool // served with the Secret's certificate
	}{
		{"secure.test", "/", "a", true},
		{"secure.test", "/app/page?x=1", "a", true},
		{"secure.test", "/insecure", "b", true},
		{"forced.test", "/x", "a", false},
	} {
		r := annDo(hc, "GET", "https://"+tc.host+tc.path, "", 0)
		if r.err != nil || r.code != 200 || r.backend != tc.from {
			t.Errorf("https://%s%s: got %v, want 200 from %q", tc.host, tc.path, r, tc.from)
			continue
		}
		if got := r.echo.Headers["X-Forwarded-Proto"]; !slices.Equal(got, []string{"https"}) {
			t.Errorf("https://%s%s: backend saw X-Forwarded-Proto %q, want [https]", tc.host, tc.path, got)
		}
		if r.echo.Host != tc.host {
			t.Errorf("https://%s%s: backend saw Host %q", tc.host, tc.path, r.echo.Host)
		}
		if served := r.peer != nil && r.peer.Equal(cert); served != tc.ours {
			t.Errorf("https://%s%s: served the Secret's certificate: %v, want %v", tc.host, tc.path, served, tc.ours)
		}
	}
	// And over plain HTTP, the proxied paths say http.
	if r := s.annHTTP("GET", "secure.test", "/insecure", 0); !slices.Equal(r.echo.Headers["X-Forwarded-Proto"], []string{"http"}) {
		t.Errorf("http://secure.test/insecure: backend saw X-Forwarded-Proto %q, want [http]", r.echo.Headers["X-Forwarded-Proto"])
	}
}

// TestConfigMapDefaults: the controller ConfigMap sets the defaults of
// ssl-redirect, the redirect code and proxy-body-size, annotations still
// override them, and an update applies without a restart.
func TestConfigMapDefaults(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.22.1", "a")
	ctx := context.Background()
	sys := newObjects(t, c, "strait-system")
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "strait-config"},
		Data:       map[string]string{"ssl-redirect": "false", "http-redirect-code": "301", "proxy-body-size": "1k"},
	}
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	o := newObjects(t, c, "cfg")
	o.service("web")
	o.slice("web", "10.244.22.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annTLSSecret(o, "cfg-tls", "cfg.test")
	annIngress(o, "secure", "cfg.test", "/", "web", nil, "cfg-tls")
	annIngress(o, "strict", "cfg.test", "/strict", "web", annMap("ssl-redirect", "true"), "")
	annIngress(o, "roomy", "cfg.test", "/roomy", "web", annMap("proxy-body-size", "8k"), "")
	annIngress(o, "forced", "forced.cfg.test", "/", "web", annMap("force-ssl-redirect", "true"), "")

	s := startStrait(t, c, "--configmap=strait-system/strait-config")
	check := func(method, host, path string, body, code int, location, from string) {
		t.Helper()
		r := s.annHTTP(method, host, path, body)
		if r.err != nil || r.code != code || r.location != location || r.backend != from {
			t.Errorf("%s http://%s%s with %d body bytes: got %v, want %d Location %q from %q", method, host, path, body, r, code, location, from)
		}
		if r.err == nil && r.backend != "" && r.bodyLen != body {
			t.Errorf("%s http://%s%s: backend received %d of %d body bytes", method, host, path, r.bodyLen, body)
		}
	}
	// ssl-redirect "false": the TLS host stays on HTTP, but an Ingress
	// asking for the redirect gets it, with http-redirect-code.
	check("GET", "cfg.test", "/", 0, 200, "", "a")
	check("GET", "cfg.test", "/strict/x", 0, 301, "https://cfg.test/strict/x", "")
	check("GET", "forced.cfg.test", "/p?q=1", 0, 301, "https://forced.cfg.test/p?q=1", "")
	// proxy-body-size "1k".
	check("POST", "cfg.test", "/upload", 2048, 413, "", "")
	check("POST", "cfg.test", "/upload", 1025, 413, "", "")
	check("POST", "cfg.test", "/upload", 1024, 200, "", "a")
	check("POST", "cfg.test", "/upload", 512, 200, "", "a")
	check("POST", "cfg.test", "/roomy", 3*1024, 200, "", "a")

	cur, err := c.Client.CoreV1().ConfigMaps(sys.ns).Get(ctx, cm.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Data["proxy-body-size"] = "4k"
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	took := waitFor(t, 5*time.Second, "proxy-body-size 4k to apply", func() bool {
		return s.annHTTP("POST", "cfg.test", "/upload", 2048).code == 200
	})
	t.Logf("ConfigMap update applied in %v", took.Round(time.Millisecond))
	check("POST", "cfg.test", "/upload", 4096, 200, "", "a")
	check("POST", "cfg.test", "/upload", 4097, 413, "", "")
	check("POST", "cfg.test", "/roomy", 6*1024, 200, "", "a")
	check("POST", "cfg.test", "/roomy", 9*1024, 413, "", "")
	// The other keys kept their values.
	check("GET", "cfg.test", "/", 0, 200, "", "a")
	check("GET", "forced.cfg.test", "/", 0, 301, "https://forced.cfg.test", "")
	if w := annWarnings(c, "cfg", "secure"); len(w) > 0 {
		t.Errorf("Ingress secure has warnings: %q", w)
	}
}

// TestBodySizeAndTimeouts: proxy-body-size defaults to 1m, "0" lifts the
// limit; proxy-read-timeout bounds the wait for the upstream's answer.
func TestBodySizeAndTimeouts(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.23.1", "a")
	o := newObjects(t, c, "limits")
	o.service("web")
	o.slice("web", "10.244.23.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	const host = "limits.test"
	annIngress(o, "default", host, "/", "web", nil, "")
	annIngress(o, "unlimited", host, "/unlimited", "web", annMap("proxy-body-size", "0"), "")
	annIngress(o, "slow", host, "/slow", "web", annMap("proxy-read-timeout", "1"), "")

	s := startStrait(t, c)
	const mib, kib = 1 << 20, 1 << 10
	for _, tc := range []struct {
		path string
		body int
		code int
	}{
		{"/", 2 * mib, 413},
		{"/", mib + 1, 413},
		{"/", mib, 200},
		{"/", 100 * kib, 200},
		{"/unlimited", 2 * mib, 200},
		{"/unlimited", 8 * mib, 200},
	} {
		r := s.annHTTP("POST", host, tc.path, tc.body)
		if r.err != nil || r.code != tc.code {
			t.Errorf("POST %s with %d bytes: got %v, want %d", tc.path, tc.body, r, tc.code)
			continue
		}
		if tc.code == 200 && (r.backend != "a" || r.bodyLen != tc.body) {
			t.Errorf("POST %s with %d bytes: backend %q received %d bytes", tc.path, tc.body, r.backend, r.bodyLen)
		}
		if tc.code == 413 && r.backend != "" {
			t.Errorf("POST %s with %d bytes: 413 came from backend %q", tc.path, tc.body, r.backend)
		}
	}

	// A client that sends a too-large body without waiting for
	// "100 Continue" must still read the 413, as from nginx, which keeps
	// reading (lingering close) instead of resetting the connection under
	// the client's upload.
	t.Run("413-before-upload-ends", func(t *testing.T) {
		const tries = 10
		var resets []string
		for range tries {
			r := s.annHTTP("POST", host, "/", 4*mib)
			if r.err != nil {
				resets = append(resets, r.err.Error())
			} else if r.code != 413 {
				t.Errorf("POST / with 4 MiB: got %v, want 413", r)
			}
		}
		if len(resets) > 0 {
			t.Errorf("POST / with 4 MiB: %d of %d clients got an error instead of the 413, e.g. %s", len(resets), tries, resets[0])
		}
	})

	type timed struct {
		path string
		code int
		max  time.Duration
	}
	get := func(t *testing.T, tc timed) {
		t.Helper()
		start := time.Now()
		r := s.annHTTP("GET", host, tc.path, 0)
		took := time.Since(start)
		if r.err != nil || r.code != tc.code {
			t.Errorf("GET %s: got %v after %v, want %d", tc.path, r, took.Round(time.Millisecond), tc.code)
		} else if took > tc.max {
			t.Errorf("GET %s: %d after %v, want it within %v", tc.path, r.code, took.Round(time.Millisecond), tc.max)
		}
		if tc.code == 504 && took < 900*time.Millisecond {
			t.Errorf("GET %s: %d after only %v; proxy-read-timeout is 1 s", tc.path, r.code, took.Round(time.Millisecond))
		}
	}
	slowTimeout := timed{"/slow?sleep=2s", 504, 1900 * time.Millisecond}
	slowFast := timed{"/slow?sleep=100ms", 200, time.Second}
	// The default of 60 s applies to the host's other Ingress.
	defaultSlow := timed{"/?sleep=1500ms", 200, 3 * time.Second}

	// Each request on its own: a pause longer than a second before each
	// one means no deadline is left over on the pooled upstream
	// connection from the request before.
	t.Run("read-timeout", func(t *testing.T) {
		time.Sleep(1100 * time.Millisecond)
		get(t, slowTimeout)
		// After a 504 the upstream connection is closed: nothing is left
		// over.
		get(t, timed{"/slow/deeper?sleep=1500ms", 504, 1400 * time.Millisecond})
		get(t, slowFast)
		time.Sleep(1100 * time.Millisecond)
		get(t, defaultSlow)
	})
	// Back to back, as under load: both Ingresses share the Service's
	// endpoint, hence the pooled upstream connections, and each must
	// still get its own read timeout.
	t.Run("read-timeout-back-to-back", func(t *testing.T) {
		time.Sleep(1100 * time.Millisecond)
		get(t, timed{"/", 200, time.Second})
		get(t, slowTimeout) // right after a request with the 60 s default
		time.Sleep(1100 * time.Millisecond)
		get(t, slowFast)
		get(t, defaultSlow) // right after a request with the 1 s timeout
	})
}

// TestSourceRanges: allowlist (and its alias whitelist) and denylist
// source ranges, against the test client's 127.0.0.1; an invalid entry
// fails closed with 503 and a Warning Event.
func TestSourceRanges(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.24.1", "a")
	o := newObjects(t, c, "ranges")
	o.service("web")
	o.slice("web", "10.244.24.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	const host = "ranges.test"
	annIngress(o, "open", host, "/", "web", nil, "")
	annIngress(o, "wl", host, "/wl", "web", annMap("whitelist-source-range", "10.0.0.0/8"), "")
	annIngress(o, "allow", host, "/allow", "web", annMap("allowlist-source-range", "127.0.0.1/32"), "")
	annIngress(o, "allow-list", host, "/allow-list", "web", annMap("allowlist-source-range", "10.0.0.0/8, 192.168.0.1 ,127.0.0.1"), "")
	annIngress(o, "alias-loses", host, "/alias-loses", "web", annMap("allowlist-source-range", "127.0.0.0/8", "whitelist-source-range", "10.0.0.0/8"), "")
	annIngress(o, "deny", host, "/deny", "web", annMap("denylist-source-range", "127.0.0.0/8"), "")
	annIngress(o, "deny-other", host, "/deny-other", "web", annMap("denylist-source-range", "10.0.0.0/8"), "")
	annIngress(o, "deny-first", host, "/deny-first", "web", annMap("allowlist-source-range", "127.0.0.1", "denylist-source-range", "127.0.0.1/32"), "")
	annIngress(o, "bad", host, "/bad", "web", annMap("allowlist-source-range", "10.0.0.0/33"), "")
	annIngress(o, "bad-deny", host, "/bad-deny", "web", annMap("denylist-source-range", "127.0.0.1,300.1.1.1"), "")

	s := startStrait(t, c)
	for _, tc := range []struct {
		path string
		code int
	}{
		{"/", 200},
		{"/wl", 403},
		{"/wl/x", 403},
		{"/allow", 200},
		{"/allow-list", 200},
		{"/alias-loses", 200},
		{"/deny", 403},
		{"/deny-other", 200},
		{"/deny-first", 403},
		{"/bad", 503},
		{"/bad/x", 503},
		{"/bad-deny", 503},
		{"/badx", 200}, // the "/" Ingress, not the invalid one
	} {
		r := s.annHTTP("GET", host, tc.path, 0)
		want := ""
		if tc.code == 200 {
			want = "a"
		}
		if r.err != nil || r.code != tc.code || r.backend != want {
			t.Errorf("GET %s: got %v, want %d", tc.path, r, tc.code)
		}
	}
	annWaitWarning(t, c, "ranges", "bad", "InvalidAnnotation", "nginx.ingress.kubernetes.io/allowlist-source-range", `"10.0.0.0/33"`)
	annWaitWarning(t, c, "ranges", "bad-deny", "InvalidAnnotation", "nginx.ingress.kubernetes.io/denylist-source-range", `"127.0.0.1,300.1.1.1"`)
	for _, name := range []string{"open", "wl", "allow", "allow-list", "alias-loses", "deny", "deny-other", "deny-first"} {
		if w := annWarnings(c, "ranges", name); len(w) > 0 {
			t.Errorf("valid Ingress %s has warnings: %q", name, w)
		}
	}
}

// TestInvalidAnnotationsIsolated is the acceptance test: on one
// host, Ingresses with invalid annotations next to valid ones. The valid
// paths must answer exactly as the same Ingresses do on a host without the
// invalid neighbours; an invalid redirect or access list fails closed
// (503) for its own paths only; an invalid timeout, boolean or size falls
// back to the default; every invalid Ingress gets a Warning Event naming
// the annotation, and no valid one gets any.
func TestInvalidAnnotationsIsolated(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.25.1", "a")
	annBackend(t, "10.244.25.2", "b")
	o := newObjects(t, c, "mixed")
	o.service("web")
	o.slice("web", "10.244.25.1")
	o.service("api")
	o.slice("api", "10.244.25.2")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annTLSSecret(o, "mixed-tls", "mixed.test", "clean.test")

	const mixed, clean = "mixed.test", "clean.test"
	// The invalid Ingresses are the oldest, so that any "first wins"
	// mistake would favour them.
	invalid := []struct {
		name, path string
		annots     map[string]string
		reason     string
		mention    []string
	}{
		{"bad-redirect", "/bad-redirect", annMap("permanent-redirect", "https://x$request_uri"), "InvalidAnnotation",
			[]string{"nginx.ingress.kubernetes.io/permanent-redirect", `"https://x$request_uri"`}},
		{"bad-allow", "/bad-allow", annMap("whitelist-source-range", "nonsense"), "InvalidAnnotation",
			[]string{"nginx.ingress.kubernetes.io/whitelist-source-range", `"nonsense"`}},
		{"bad-timeout", "/bad-timeout", annMap("proxy-read-timeout", "60s"), "InvalidAnnotation",
			[]string{"nginx.ingress.kubernetes.io/proxy-read-timeout", `"60s"`}},
		{"bad-bool", "/bad-bool", annMap("ssl-redirect", "yes"), "InvalidAnnotation",
			[]string{"nginx.ingress.kubernetes.io/ssl-redirect", `"yes"`}},
		{"bad-size", "/bad-size", annMap("proxy-body-size", "lots"), "InvalidAnnotation",
			[]string{"nginx.ingress.kubernetes.io/proxy-body-size", `"lots"`}},
		{"snippet", "/snippet", annMap("configuration-snippet", `more_set_headers "X-Snippet: yes";`), "AnnotationRiskTooHigh",
			[]string{"nginx.ingress.kubernetes.io/configuration-snippet"}},
		{"bad-auth-url", "/bad-auth-url", annMap("auth-url", "auth.example/check"), "InvalidAnnotation",
			[]string{"nginx.ingress.kubernetes.io/auth-url", `"auth.example/check"`}},
		{"bad-limit", "/bad-limit", annMap("limit-rps", "fast"), "InvalidAnnotation",
			[]string{"nginx.ingress.kubernetes.io/limit-rps", `"fast"`}},
		{"bad-hash", "/bad-hash", annMap("upstream-hash-by", "$nope"), "InvalidAnnotation",
			[]string{"nginx.ingress.kubernetes.io/upstream-hash-by", `"$nope"`}},
		{"unknown", "/unknown", annMap("ssl-redirects", "false"), "UnknownAnnotation",
			[]string{"nginx.ingress.kubernetes.io/ssl-redirects"}},
	}
	for _, in := range invalid {
		annIngress(o, in.name, mixed, in.path, "api", in.annots, "")
	}
	type validIng struct {
		name, path, svc string
		annots          map[string]string
		tls             bool
	}
	valid := []validIng{
		{"plain", "/", "web", nil, true},
		{"insecure", "/insecure", "api", annMap("ssl-redirect", "false"), false},
		{"big", "/big", "web", annMap("proxy-body-size", "10m"), false},
	}
	var validNames []string
	for _, prefix := range []string{"", "clean-"} {
		host := mixed
		if prefix != "" {
			host = clean
		}
		for _, v := range valid {
			secret := ""
			if v.tls {
				secret = "mixed-tls"
			}
			annIngress(o, prefix+v.name, host, v.path, v.svc, v.annots, secret)
			validNames = append(validNames, prefix+v.name)
		}
	}

	s := startStrait(t, c)
	hc := s.annHTTPSClient(t)
	do := func(https bool, method, host, path string, body int) annResp {
		if https {
			return annDo(hc, method, "https://"+host+path, "", body)
		}
		return s.annHTTP(method, host, path, body)
	}
	const mib, kib = 1 << 20, 1 << 10

	// Valid paths: the same answers on both hosts, and the expected ones.
	for _, tc := range []struct {
		https        bool
		method, path string
		body         int
		code         int
		from         string
		location     string // with HOST for the host
	}{
		{false, "GET", "/", 0, 308, "", "https://HOST"},
		{false, "GET", "/anything/else/?q=1", 0, 308, "", "https://HOST/anything/else/?q=1"},
		{true, "GET", "/", 0, 200, "a", ""},
		{true, "GET", "/anything/else", 0, 200, "a", ""},
		{true, "POST", "/", 2 * mib, 413, "", ""},
		{true, "POST", "/", 100 * kib, 200, "a", ""},
		{false, "GET", "/insecure", 0, 200, "b", ""},
		{false, "GET", "/insecure/x?y=z", 0, 200, "b", ""},
		{true, "GET", "/insecure", 0, 200, "b", ""},
		{true, "GET", "/insecure?sleep=1500ms", 0, 200, "b", ""},
		{false, "GET", "/big", 0, 308, "", "https://HOST/big"},
		{true, "POST", "/big", 2 * mib, 200, "a", ""},
		{true, "POST", "/big", 11 * mib, 413, "", ""},
	} {
		var got [2]annResp
		for i, host := range []string{mixed, clean} {
			r := do(tc.https, tc.method, host, tc.path, tc.body)
			got[i] = r
			want := strings.ReplaceAll(tc.location, "HOST", host)
			if r.err != nil || r.code != tc.code || r.backend != tc.from || r.location != want {
				t.Errorf("%s %s%s (https %v, %d body bytes): got %v, want %d Location %q from %q", tc.method, host, tc.path, tc.https, tc.body, r, tc.code, want, tc.from)
			}
			if r.err == nil && r.backend != "" && r.bodyLen != tc.body {
				t.Errorf("%s %s%s: backend received %d of %d body bytes", tc.method, host, tc.path, r.bodyLen, tc.body)
			}
		}
		m, cl := got[0], got[1]
		cl.location = strings.ReplaceAll(cl.location, clean, mixed)
		if m.code != cl.code || m.backend != cl.backend || m.location != cl.location {
			t.Errorf("%s %s (https %v): %v with the invalid neighbours, %v without", tc.method, tc.path, tc.https, m, cl)
		}
	}

	// Invalid paths.
	for _, tc := range []struct {
		https        bool
		method, path string
		body         int
		code         int
		from         string
		location     string
	}{
		// Invalid redirect and access list: fail closed, on both schemes
		// (the 503 comes before the HTTPS redirect).
		{false, "GET", "/bad-redirect", 0, 503, "", ""},
		{true, "GET", "/bad-redirect/x", 0, 503, "", ""},
		{false, "GET", "/bad-allow", 0, 503, "", ""},
		{true, "GET", "/bad-allow/x", 0, 503, "", ""},
		// Invalid authentication, rate limit and hash key: fail closed
		// too, never served without them.
		{false, "GET", "/bad-auth-url", 0, 503, "", ""},
		{true, "GET", "/bad-auth-url/x", 0, 503, "", ""},
		{true, "GET", "/bad-limit", 0, 503, "", ""},
		{true, "GET", "/bad-hash", 0, 503, "", ""},
		// Invalid timeout: the default 60 s, not something shorter.
		{false, "GET", "/bad-timeout", 0, 308, "", "https://mixed.test/bad-timeout"},
		{true, "GET", "/bad-timeout?sleep=1500ms", 0, 200, "b", ""},
		// Invalid boolean: the default (redirect, since the host has TLS).
		{false, "GET", "/bad-bool", 0, 308, "", "https://mixed.test/bad-bool"},
		{true, "GET", "/bad-bool", 0, 200, "b", ""},
		// Invalid size: the default 1m.
		{true, "POST", "/bad-size", 100 * kib, 200, "b", ""},
		{true, "POST", "/bad-size", 2 * mib, 413, "", ""},
		// With the default risk gate (High), an Ingress with a snippet
		// is not served at all, as in ingress-nginx: the host's "/"
		// route answers its path.
		{false, "GET", "/snippet", 0, 308, "", "https://mixed.test/snippet"},
		{true, "GET", "/snippet", 0, 200, "a", ""},
		// An unknown annotation has no effect: ssl-redirects is not
		// ssl-redirect.
		{false, "GET", "/unknown", 0, 308, "", "https://mixed.test/unknown"},
		{true, "GET", "/unknown", 0, 200, "b", ""},
	} {
		r := do(tc.https, tc.method, mixed, tc.path, tc.body)
		if r.err != nil || r.code != tc.code || r.backend != tc.from || r.location != tc.location {
			t.Errorf("%s %s (https %v, %d body bytes): got %v, want %d Location %q from %q", tc.method, tc.path, tc.https, tc.body, r, tc.code, tc.location, tc.from)
		}
		if tc.path == "/snippet" && r.err == nil {
			if r.echo.Headers["X-Snippet"] != nil {
				t.Errorf("the snippet was interpreted")
			}
		}
	}

	for _, in := range invalid {
		annWaitWarning(t, c, "mixed", in.name, in.reason, in.mention...)
		// One problem each: nothing else about these Ingresses is wrong.
		if w := annWarnings(c, "mixed", in.name); len(w) != 1 {
			t.Errorf("Ingress %s: %d warnings, want 1: %q", in.name, len(w), w)
		}
	}
	for _, name := range validNames {
		if w := annWarnings(c, "mixed", name); len(w) > 0 {
			t.Errorf("valid Ingress %s has warnings: %q", name, w)
		}
	}
	if t.Failed() {
		b, _ := json.MarshalIndent(s.debugModel(), "", "  ")
		t.Logf("model:\n%s", tailLines(string(b), 200))
	}
}
