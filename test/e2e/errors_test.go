package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/kubetest"
)

// The tests in this file check custom-http-errors, default-backend and
// disable-proxy-intercept-errors end to end (catalogue sections 1.2 and
// 3.3): which backend answered, with which status, and the X- headers the
// error backend received.

// errGet sends GET path with Host host to Strait's plain-HTTP port, with
// extra request headers as name, value pairs.
func errGet(t *testing.T, s *strait, host, path string, hdr ...string) annResp {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+s.http+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := plainClient.Do(req)
	if err != nil {
		return annResp{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	out := annResp{code: resp.StatusCode, location: resp.Header.Get("Location"), backend: resp.Header.Get(echo.BackendHeader), bodyLen: -1, err: err}
	if out.backend != "" {
		_ = json.Unmarshal(b, &out.echo)
	}
	return out
}

// errHeaders checks the headers an echo backend saw against want; an empty
// wanted value means the header is absent.
func errHeaders(t *testing.T, what string, r annResp, want map[string]string) {
	t.Helper()
	for k, v := range want {
		got := r.echo.Headers[k]
		if (v == "" && len(got) != 0) || (v != "" && !slices.Equal(got, []string{v})) {
			t.Errorf("%s: backend saw %s %q, want %q", what, k, got, v)
		}
	}
}

// TestCustomHTTPErrors: a listed status from the upstream, or answered by
// Strait (403 from an allowlist), is replaced by the error backend's answer
// to GET / (its status, here 200, is what the client gets); the annotation
// replaces the ConfigMap list for its Ingress; disable-proxy-intercept-errors
// lets the upstream's errors through; the global list uses
// --default-backend-service; an Ingress whose Service has no endpoints is
// served by its default-backend with X-Code 503, unless that has no
// endpoints either; a malformed list fails the Ingress closed with an
// Event.
func TestCustomHTTPErrors(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.61.1", "web")
	backend(t, "10.244.61.2", "errpages")
	backend(t, "10.244.61.3", "global")
	ctx := context.Background()
	sys := newObjects(t, c, "errs-system")
	sys.service("defaultbe")
	sys.slice("defaultbe", "10.244.61.3")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "strait-config"}, Data: map[string]string{"custom-http-errors": "502"}}
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	o := newObjects(t, c, "errs")
	for _, svc := range []string{"web", "errpages", "empty", "nopods"} {
		o.service(svc)
	}
	o.slice("web", "10.244.61.1")
	o.slice("errpages", "10.244.61.2")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "pages", "errs.test", "/", "web", annMap("default-backend", "errpages", "custom-http-errors", "404, 503"), "")
	annIngress(o, "global", "global.errs.test", "/", "web", nil, "")
	annIngress(o, "fallback", "fallback.errs.test", "/", "empty", annMap("default-backend", "errpages"), "")
	annIngress(o, "ignored", "ignored.errs.test", "/", "empty", annMap("default-backend", "nopods", "custom-http-errors", "404"), "")
	annIngress(o, "denied", "denied.errs.test", "/", "web", annMap("default-backend", "errpages", "custom-http-errors", "403", "allowlist-source-range", "192.0.2.0/24"), "")
	pass := annMap("custom-http-errors", "404,503", "disable-proxy-intercept-errors", "true")
	annIngress(o, "pass-upstream", "pass.errs.test", "/", "web", pass, "")
	annIngress(o, "pass-own", "pass-own.errs.test", "/", "empty", pass, "")
	annIngress(o, "badcodes", "bad.errs.test", "/", "web", annMap("custom-http-errors", "404,abc"), "")

	s := startStrait(t, c, "--configmap=errs-system/strait-config", "--default-backend-service=errs-system/defaultbe")
	check := func(host, path string, code int, from string, hdr ...string) annResp {
		t.Helper()
		r := errGet(t, s, host, path, hdr...)
		if r.err != nil || r.code != code || r.backend != from {
			t.Errorf("GET http://%s%s: got %v, want %d from %q", host, path, r, code, from)
		}
		return r
	}

	r := check("errs.test", "/shop/item?status=404", 200, "errpages", "Accept", "text/html", "X-Request-ID", "e2e-req-1")
	if r.echo.Method != "GET" || r.echo.URI != "/" {
		t.Errorf("error backend got %s %s, want GET /", r.echo.Method, r.echo.URI)
	}
	errHeaders(t, "intercepted 404", r, map[string]string{
		"X-Code": "404", "X-Format": "text/html", "X-Original-Uri": "/shop/item?status=404", "X-Namespace": "errs",
		"X-Ingress-Name": "pages", "X-Service-Name": "web", "X-Service-Port": "80", "X-Request-Id": "e2e-req-1",
		"X-Forwarded-For": "127.0.0.1",
	})
	check("errs.test", "/?status=500", 500, "web")
	// The annotation's list replaces the ConfigMap's 502.
	check("errs.test", "/?status=502", 502, "web")
	check("errs.test", "/fine", 200, "web")

	r = check("global.errs.test", "/x?status=502", 200, "global")
	errHeaders(t, "global list", r, map[string]string{"X-Code": "502", "X-Ingress-Name": "global", "X-Original-Uri": "/x?status=502"})
	check("global.errs.test", "/?status=404", 404, "web")

	r = check("fallback.errs.test", "/some/page?q=1", 200, "errpages")
	if r.echo.URI != "/some/page?q=1" {
		t.Errorf("default backend got URI %q, want the original /some/page?q=1", r.echo.URI)
	}
	errHeaders(t, "no endpoints", r, map[string]string{"X-Code": "503", "X-Namespace": "errs", "X-Ingress-Name": "fallback", "X-Service-Name": "empty", "X-Service-Port": "80"})

	// default-backend without endpoints is ignored: the 503 stands, and
	// a listed 404 goes to the global error backend.
	check("ignored.errs.test", "/", 503, "")

	r = check("denied.errs.test", "/private", 200, "errpages")
	errHeaders(t, "Strait's 403", r, map[string]string{"X-Code": "403", "X-Original-Uri": "/private"})

	// disable-proxy-intercept-errors: the upstream's 404 passes, Strait's
	// own 503 (no endpoints) still goes to the (global) error backend.
	check("pass.errs.test", "/?status=404", 404, "web")
	r = check("pass-own.errs.test", "/", 200, "global")
	errHeaders(t, "own 503 with passthrough", r, map[string]string{"X-Code": "503", "X-Ingress-Name": "pass-own"})

	check("bad.errs.test", "/", 503, "")
	annWaitWarning(t, c, "errs", "badcodes", "InvalidAnnotation", "custom-http-errors", "abc")
	for _, name := range []string{"pages", "global", "fallback", "denied", "pass-upstream", "pass-own"} {
		if w := annWarnings(c, "errs", name); len(w) > 0 {
			t.Errorf("Ingress %s has warnings: %q", name, w)
		}
	}
}
