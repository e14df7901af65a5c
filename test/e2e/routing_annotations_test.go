package e2e

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/kubetest"
	"github.com/straitgw/strait/internal/proxy"
)

// The tests in this file check, end to end, the annotations that change
// where and how a request is proxied: app-root, upstream-vhost,
// rewrite-target with x-forwarded-prefix, use-regex, backend-protocol HTTPS
// and CORS (catalogue sections 1.1, 1.2 and 1.9).

// routeResp is a response with its headers and, when an echo backend
// answered, what that backend received.
type routeResp struct {
	code   int
	header http.Header
	echo   echo.Echo
	err    error
}

// routeDo sends one request to Strait's plain-HTTP port with Host host and
// the extra request headers hdr (name, value pairs).
func (s *strait) routeDo(method, host, path string, hdr ...string) routeResp {
	req, err := http.NewRequest(method, "http://"+s.http+path, nil)
	if err != nil {
		return routeResp{err: err}
	}
	req.Host = host
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := plainClient.Do(req)
	if err != nil {
		return routeResp{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	out := routeResp{code: resp.StatusCode, header: resp.Header, err: err}
	if resp.Header.Get(echo.BackendHeader) != "" {
		_ = json.Unmarshal(b, &out.echo)
	}
	return out
}

// routeIngress creates an Ingress of class "strait" with one path of the
// given type.
func routeIngress(o *objects, name, host, path string, pt networkingv1.PathType, svc string, annots map[string]string) {
	o.t.Helper()
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
	if _, err := o.c.NetworkingV1().Ingresses(o.ns).Create(o.ctx(), ing, metav1.CreateOptions{}); err != nil {
		o.t.Fatal(err)
	}
}

// tlsEchoBackend starts an echo backend speaking HTTPS on ip:8080 with a
// self-signed certificate, as a backend-protocol HTTPS Service would, and
// returns that certificate.
func tlsEchoBackend(t *testing.T, ip, name string) *tls.Certificate {
	t.Helper()
	cert, err := proxy.SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "8080"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: echo.New(name), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*cert}})) }()
	t.Cleanup(func() { _ = srv.Close() })
	return cert
}

// TestRoutingAnnotations: app-root redirects exactly "/" (302, query
// dropped); upstream-vhost replaces the Host the backend sees while
// X-Forwarded-Host keeps the client's; rewrite-target replaces the whole
// path with the capture groups of the case-insensitive path regex and sends
// X-Forwarded-Prefix; use-regex paths are case-insensitive prefix regexes;
// backend-protocol HTTPS speaks TLS to the endpoints; an Ingress without
// these annotations on the same hosts is unaffected.
func TestRoutingAnnotations(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.26.1", "a")
	tlsEchoBackend(t, "10.244.26.2", "secure")
	o := newObjects(t, c, "routing")
	o.service("web")
	o.slice("web", "10.244.26.1")
	o.service("secure")
	o.slice("secure", "10.244.26.2")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	prefix, specific := networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific

	routeIngress(o, "approot", "approot.test", "/", prefix, "web", annMap("app-root", "/app/"))
	routeIngress(o, "vhost", "vhost.test", "/", prefix, "web", annMap("upstream-vhost", "internal.example"))
	routeIngress(o, "rewrite", "rw.test", "/something(/|$)(.*)", specific, "web", annMap("rewrite-target", "/$2", "x-forwarded-prefix", "/something"))
	routeIngress(o, "rw-plain", "rw.test", "/plain", prefix, "web", nil)
	routeIngress(o, "regex", "re.test", "/[A-Z]{3}", specific, "web", annMap("use-regex", "true"))
	routeIngress(o, "https", "secure.test", "/", prefix, "secure", annMap("backend-protocol", "HTTPS"))
	routeIngress(o, "https-plain", "secure.test", "/plain", prefix, "web", nil)

	s := startStrait(t, c)
	for _, tc := range []struct {
		host, path string
		code       int
		location   string
		from, uri  string
	}{
		{"approot.test", "/", 302, "http://approot.test/app/", "", ""},
		{"approot.test", "/?q=1", 302, "http://approot.test/app/", "", ""},
		{"approot.test", "/app/", 200, "", "a", "/app/"},
		{"approot.test", "/other?q=1", 200, "", "a", "/other?q=1"},
		{"rw.test", "/something/new?q=1", 200, "", "a", "/new?q=1"},
		{"rw.test", "/SOMETHING/deep/er", 200, "", "a", "/deep/er"},
		{"rw.test", "/something", 200, "", "a", "/"},
		// The host is in regex mode, so the plain Prefix path is a
		// case-insensitive prefix regex too, and not rewritten.
		{"rw.test", "/PLAIN/x", 200, "", "a", "/PLAIN/x"},
		{"rw.test", "/somethingelse", 404, "", "", ""},
		// "/[A-Z]{3}" is prefix-anchored and case-insensitive: "/uuid"
		// matches, "/ab" does not.
		{"re.test", "/uuid", 200, "", "a", "/uuid"},
		{"re.test", "/ab", 404, "", "", ""},
		{"secure.test", "/x?y=1", 200, "", "secure", "/x?y=1"},
		{"secure.test", "/plain", 200, "", "a", "/plain"},
	} {
		r := s.routeDo("GET", tc.host, tc.path)
		if r.err != nil || r.code != tc.code || r.header.Get("Location") != tc.location || r.echo.Backend != tc.from || r.echo.URI != tc.uri {
			t.Errorf("GET %s%s: got %d Location %q from %q URI %q (err %v), want %d %q from %q URI %q",
				tc.host, tc.path, r.code, r.header.Get("Location"), r.echo.Backend, r.echo.URI, r.err, tc.code, tc.location, tc.from, tc.uri)
		}
		if tc.host == "rw.test" && tc.from != "" {
			want := ""
			if tc.uri != tc.path && tc.path != "/PLAIN/x" {
				want = "/something"
			}
			if got := firstValue(r.echo.Headers["X-Forwarded-Prefix"]); got != want {
				t.Errorf("GET rw.test%s: X-Forwarded-Prefix %q, want %q", tc.path, got, want)
			}
		}
	}

	r := s.routeDo("GET", "vhost.test", "/x")
	if r.err != nil || r.code != 200 || r.echo.Host != "internal.example" || firstValue(r.echo.Headers["X-Forwarded-Host"]) != "vhost.test" {
		t.Errorf("upstream-vhost: got %d Host %q X-Forwarded-Host %q (err %v), want 200 internal.example vhost.test",
			r.code, r.echo.Host, firstValue(r.echo.Headers["X-Forwarded-Host"]), r.err)
	}
	for _, name := range []string{"approot", "vhost", "rewrite", "rw-plain", "regex", "https", "https-plain"} {
		if w := annWarnings(c, "routing", name); len(w) > 0 {
			t.Errorf("Ingress %s has warnings: %q", name, w)
		}
	}
}

// TestCORS: with an origin list, a preflight from an allowed origin
// (exact or one "*." label) is answered 204 with the CORS headers before
// reaching the backend; a disallowed origin gets no CORS headers and its
// preflight is proxied; with the default origin "*", every response
// carries Access-Control-Allow-Origin: * and every OPTIONS is answered.
func TestCORS(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.27.1", "a")
	o := newObjects(t, c, "cors")
	o.service("web")
	o.slice("web", "10.244.27.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	prefix := networkingv1.PathTypePrefix
	routeIngress(o, "list", "cors.test", "/", prefix, "web", annMap(
		"enable-cors", "true",
		"cors-allow-origin", "https://app.example, https://*.example.org",
		"cors-allow-methods", "GET, POST",
		"cors-expose-headers", "X-Total",
		"cors-max-age", "600"))
	routeIngress(o, "star", "star.test", "/", prefix, "web", annMap("enable-cors", "true", "cors-allow-credentials", "false"))
	routeIngress(o, "none", "cors.test", "/none", prefix, "web", nil)

	s := startStrait(t, c)
	for _, tc := range []struct {
		method, host, path, origin string
		code                       int
		from                       string
		allowOrigin                string
	}{
		{"OPTIONS", "cors.test", "/x", "https://app.example", 204, "", "https://app.example"},
		{"OPTIONS", "cors.test", "/x", "https://api.example.org", 204, "", "https://api.example.org"},
		{"GET", "cors.test", "/x", "https://app.example", 200, "a", "https://app.example"},
		// Two labels are not one "*." label; other origins get nothing
		// but still reach the backend, preflights included.
		{"GET", "cors.test", "/x", "https://a.b.example.org", 200, "a", ""},
		{"GET", "cors.test", "/x", "https://evil.test", 200, "a", ""},
		{"OPTIONS", "cors.test", "/x", "https://evil.test", 200, "a", ""},
		// Another Ingress of the host has no CORS.
		{"GET", "cors.test", "/none", "https://app.example", 200, "a", ""},
		{"OPTIONS", "star.test", "/", "", 204, "", "*"},
		{"GET", "star.test", "/y", "", 200, "a", "*"},
	} {
		var hdr []string
		if tc.origin != "" {
			hdr = []string{"Origin", tc.origin}
		}
		r := s.routeDo(tc.method, tc.host, tc.path, hdr...)
		if r.err != nil || r.code != tc.code || r.echo.Backend != tc.from || r.header.Get("Access-Control-Allow-Origin") != tc.allowOrigin {
			t.Errorf("%s %s%s Origin %q: got %d from %q Allow-Origin %q (err %v), want %d from %q Allow-Origin %q",
				tc.method, tc.host, tc.path, tc.origin, r.code, r.echo.Backend, r.header.Get("Access-Control-Allow-Origin"), r.err, tc.code, tc.from, tc.allowOrigin)
			continue
		}
		if tc.allowOrigin == "" {
			continue
		}
		h := r.header
		switch tc.host {
		case "cors.test":
			if h.Get("Access-Control-Allow-Methods") != "GET, POST" || h.Get("Access-Control-Expose-Headers") != "X-Total" ||
				h.Get("Access-Control-Max-Age") != "600" || h.Get("Access-Control-Allow-Credentials") != "true" {
				t.Errorf("%s %s: CORS headers %v", tc.method, tc.path, h)
			}
		case "star.test":
			if h.Get("Access-Control-Allow-Credentials") != "" || h.Get("Access-Control-Max-Age") != "1728000" {
				t.Errorf("%s star.test%s: CORS headers %v", tc.method, tc.path, h)
			}
		}
		if tc.code == 204 && (h.Get("Content-Length") != "0" || h.Get("Content-Type") != "text/plain charset=UTF-8") {
			t.Errorf("preflight %s%s: Content-Length %q Content-Type %q", tc.host, tc.path, h.Get("Content-Length"), h.Get("Content-Type"))
		}
	}
}

// firstValue returns the first value of a header list, "" when there is none.
func firstValue(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
