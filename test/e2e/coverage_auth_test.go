package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/kubetest"
)

// The tests in this file cover authentication, affinity and rate-limit
// keys that had no end-to-end test: the auth-url companions (auth-method,
// auth-request-redirect, auth-signin-redirect-param,
// auth-always-set-cookie), their global-auth-* ConfigMap counterparts with
// no-auth-locations, allow-cross-namespace-resources, persistent affinity
// with the session-cookie-* attributes and change-on-failure, limit-rpm
// and the limit status codes. Addresses: 10.244.120.0/24.

// covAuthCookie is the cookie extAuthServer sets on every answer.
const covAuthCookie = "auth=e2e; Path=/"

// covAuthStartAuth runs an extAuthServer on ip:8080.
func covAuthStartAuth(t *testing.T, ip string) *extAuthServer {
	t.Helper()
	auth := &extAuthServer{}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "8080"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: auth, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return auth
}

// covAuthDo sends method path with Host host and extra headers (name,
// value pairs) to Strait's plain-HTTP port.
func (s *strait) covAuthDo(method, host, path string, hdr ...string) extAuthResp {
	req, err := http.NewRequest(method, "http://"+s.http+path, nil)
	if err != nil {
		return extAuthResp{err: err}
	}
	req.Host = host
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := plainClient.Do(req)
	if err != nil {
		return extAuthResp{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	out := extAuthResp{code: resp.StatusCode, header: resp.Header, backend: resp.Header.Get(echo.BackendHeader), err: err}
	if out.backend != "" {
		_ = json.Unmarshal(b, &out.echo)
	}
	return out
}

// covAuthConfigMap creates the ConfigMap strait-system/strait-config with
// data.
func covAuthConfigMap(t *testing.T, c *kubetest.Cluster, data map[string]string) {
	t.Helper()
	newObjects(t, c, "strait-system")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "strait-config"}, Data: data}
	if _, err := c.Client.CoreV1().ConfigMaps("strait-system").Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// covAuthUpdateConfigMap sets keys of strait-system/strait-config.
func covAuthUpdateConfigMap(t *testing.T, c *kubetest.Cluster, kv map[string]string) {
	t.Helper()
	ctx := context.Background()
	cur, err := c.Client.CoreV1().ConfigMaps("strait-system").Get(ctx, "strait-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cur.Data == nil {
		cur.Data = map[string]string{}
	}
	for k, v := range kv {
		cur.Data[k] = v
	}
	if _, err := c.Client.CoreV1().ConfigMaps("strait-system").Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestCoverageAuthExternalAnnotations: auth-method makes the auth request
// use that method (the client's stays in X-Original-Method, and
// X-Original-URI and X-Scheme are added); auth-request-redirect replaces
// the X-Auth-Request-Redirect value; auth-signin-redirect-param names the
// sign-in URL's return parameter; auth-always-set-cookie passes the auth
// cookie on an upstream 500 and a 403, which an Ingress without it does
// not.
func TestCoverageAuthExternalAnnotations(t *testing.T) {
	const authIP = "10.244.120.9"
	authURL := "http://" + authIP + ":8080"
	c := kubetest.Start(t)
	annBackend(t, "10.244.120.1", "a")
	auth := covAuthStartAuth(t, authIP)
	o := newObjects(t, c, "covauth")
	o.service("web")
	o.slice("web", "10.244.120.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "method", "method.test", "/", "web", annMap(
		"auth-url", authURL+"/verify",
		"auth-method", "POST",
		"auth-request-redirect", "https://app.example/return"), "")
	annIngress(o, "plain", "plain.test", "/", "web", annMap("auth-url", authURL+"/verify"), "")
	annIngress(o, "param", "param.test", "/", "web", annMap(
		"auth-url", authURL+"/verify",
		"auth-signin", "https://login.example/start",
		"auth-signin-redirect-param", "return_to"), "")
	annIngress(o, "always", "always.test", "/", "web", annMap(
		"auth-url", authURL+"/verify",
		"auth-always-set-cookie", "true"), "")
	s := startStrait(t, c)

	// auth-method POST and auth-request-redirect.
	r := s.covAuthDo("PATCH", "method.test", "/p/q?x=1", "X-Test-Auth", "allow")
	if r.err != nil || r.code != 200 || r.backend != "a" || r.echo.Method != "PATCH" {
		t.Fatalf("auth-method Ingress, allowed: %d from %q (backend saw %q), %v; want 200 PATCH from a", r.code, r.backend, r.echo.Method, r.err)
	}
	ar := auth.last()
	if ar.Method != "POST" {
		t.Errorf("auth-method POST: the auth service got %s", ar.Method)
	}
	for k, v := range map[string]string{
		"X-Original-Method":       "PATCH",
		"X-Original-Uri":          "/p/q?x=1",
		"X-Scheme":                "http",
		"X-Auth-Request-Redirect": "https://app.example/return",
		"X-Original-Url":          "http://method.test/p/q?x=1",
	} {
		if got := ar.Header.Get(k); got != v {
			t.Errorf("auth-method Ingress: auth request %s = %q, want %q", k, got, v)
		}
	}
	// Without them: GET, no X-Original-URI, the request URI as redirect.
	r = s.covAuthDo("PATCH", "plain.test", "/p/q?x=1", "X-Test-Auth", "allow")
	if r.code != 200 || r.backend != "a" {
		t.Fatalf("plain auth-url Ingress, allowed: %d from %q, %v", r.code, r.backend, r.err)
	}
	ar = auth.last()
	if ar.Method != "GET" || ar.Header.Get("X-Original-Method") != "PATCH" || ar.Header.Get("X-Auth-Request-Redirect") != "/p/q?x=1" || ar.Header.Get("X-Original-Uri") != "" {
		t.Errorf("plain auth-url: auth request %s, X-Original-Method %q, X-Auth-Request-Redirect %q, X-Original-URI %q; want GET, PATCH, /p/q?x=1, none",
			ar.Method, ar.Header.Get("X-Original-Method"), ar.Header.Get("X-Auth-Request-Redirect"), ar.Header.Get("X-Original-Uri"))
	}
	// A refused POST auth request is still refused.
	if r := s.covAuthDo("GET", "method.test", "/p", "X-Test-Auth", "forbid"); r.code != 403 || r.backend != "" {
		t.Errorf("auth-method Ingress, forbidden: %d from %q, want 403", r.code, r.backend)
	}

	// auth-signin-redirect-param.
	r = s.covAuthDo("GET", "param.test", "/deep/page?a=b")
	if want := "https://login.example/start?return_to=http://param.test%2Fdeep%2Fpage%3Fa%3Db"; r.code != 302 || r.header.Get("Location") != want {
		t.Errorf("auth-signin-redirect-param: %d Location %q, want 302 %q", r.code, r.header.Get("Location"), want)
	}
	if r := s.covAuthDo("GET", "param.test", "/x", "X-Test-Auth", "allow"); r.code != 200 || r.backend != "a" {
		t.Errorf("auth-signin-redirect-param Ingress, allowed: %d from %q", r.code, r.backend)
	}

	// auth-always-set-cookie: the auth cookie on an upstream 500 and on a
	// 403, which the Ingress without it leaves out; both pass it on 200.
	for _, tc := range []struct {
		host, path, header string
		code               int
		cookie             bool
	}{
		{"always.test", "/x?status=500", "allow", 500, true},
		{"always.test", "/x", "forbid", 403, true},
		{"always.test", "/x", "allow", 200, true},
		{"plain.test", "/x?status=500", "allow", 500, false},
		{"plain.test", "/x", "forbid", 403, false},
		{"plain.test", "/x", "allow", 200, true},
	} {
		r := s.covAuthDo("GET", tc.host, tc.path, "X-Test-Auth", tc.header)
		if r.err != nil || r.code != tc.code {
			t.Errorf("%s%s with %s: %d, %v; want %d", tc.host, tc.path, tc.header, r.code, r.err, tc.code)
			continue
		}
		if got := slices.Contains(r.header.Values("Set-Cookie"), covAuthCookie); got != tc.cookie {
			t.Errorf("%s%s with %s (%d): Set-Cookie %q, auth cookie wanted: %v", tc.host, tc.path, tc.header, r.code, r.header.Values("Set-Cookie"), tc.cookie)
		}
	}
	for _, name := range []string{"method", "plain", "param", "always"} {
		if w := annWarnings(c, "covauth", name); len(w) > 0 {
			t.Errorf("Ingress %s has warnings: %q", name, w)
		}
	}
}

// TestCoverageAuthGlobalConfigMap: the global-auth-* ConfigMap keys: the
// auth service gets global-auth-method and global-auth-request-redirect;
// a 401 redirects to global-auth-signin with the return URL in
// global-auth-signin-redirect-param; global-auth-response-headers are
// copied into the upstream request; global-auth-always-set-cookie passes
// the auth cookie on an upstream 500; a custom no-auth-locations exempts
// an Ingress path under it (and replaces the default ACME exemption).
func TestCoverageAuthGlobalConfigMap(t *testing.T) {
	const authIP = "10.244.120.19"
	c := kubetest.Start(t)
	annBackend(t, "10.244.120.11", "a")
	auth := covAuthStartAuth(t, authIP)
	covAuthConfigMap(t, c, map[string]string{
		"global-auth-url":                   "http://" + authIP + ":8080/global",
		"global-auth-method":                "POST",
		"global-auth-signin":                "https://login.example/global",
		"global-auth-signin-redirect-param": "next",
		"global-auth-response-headers":      "X-Auth-User",
		"global-auth-request-redirect":      "https://portal.example/back",
		"global-auth-always-set-cookie":     "true",
		"no-auth-locations":                 "/public",
	})
	o := newObjects(t, c, "covglobal")
	o.service("web")
	o.slice("web", "10.244.120.11")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "app", "g.test", "/", "web", nil, "")
	annIngress(o, "pub", "g.test", "/public", "web", nil, "")
	annIngress(o, "acme", "g.test", "/.well-known/acme-challenge", "web", nil, "")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")

	// 401 → 302 to the sign-in URL with "next".
	r := s.covAuthDo("GET", "g.test", "/x/y?z=1")
	if want := "https://login.example/global?next=http://g.test%2Fx%2Fy%3Fz%3D1"; r.err != nil || r.code != 302 || r.header.Get("Location") != want || r.backend != "" {
		t.Errorf("global sign-in: %d Location %q from %q, %v; want 302 %q", r.code, r.header.Get("Location"), r.backend, r.err, want)
	}
	ar := auth.last()
	if ar == nil {
		t.Fatal("the auth service was not asked")
	}
	if ar.Method != "POST" || ar.URL.Path != "/global" {
		t.Errorf("global-auth-method POST: the auth service got %s %s", ar.Method, ar.URL.Path)
	}
	for k, v := range map[string]string{
		"X-Original-Method":       "GET",
		"X-Original-Uri":          "/x/y?z=1",
		"X-Auth-Request-Redirect": "https://portal.example/back",
	} {
		if got := ar.Header.Get(k); got != v {
			t.Errorf("global auth request %s = %q, want %q", k, got, v)
		}
	}

	// Allowed: X-Auth-User from the auth service replaces the client's.
	r = s.covAuthDo("GET", "g.test", "/x", "X-Test-Auth", "allow", "X-Auth-User", "mallory")
	if r.err != nil || r.code != 200 || r.backend != "a" {
		t.Fatalf("global auth, allowed: %d from %q, %v", r.code, r.backend, r.err)
	}
	if got := r.echo.Headers["X-Auth-User"]; !slices.Equal(got, []string{"alice"}) {
		t.Errorf("global-auth-response-headers: backend X-Auth-User = %q, want [alice]", got)
	}
	// global-auth-always-set-cookie: the cookie on an upstream 500 and a 403.
	for _, tc := range []struct {
		path, header string
		code         int
	}{
		{"/x?status=500", "allow", 500},
		{"/x", "forbid", 403},
	} {
		r := s.covAuthDo("GET", "g.test", tc.path, "X-Test-Auth", tc.header)
		if r.code != tc.code || !slices.Contains(r.header.Values("Set-Cookie"), covAuthCookie) {
			t.Errorf("global-auth-always-set-cookie, %s with %s: %d Set-Cookie %q; want %d with the auth cookie", tc.path, tc.header, r.code, r.header.Values("Set-Cookie"), tc.code)
		}
	}

	// no-auth-locations "/public": the Ingress path /public is exempt; the
	// default ACME exemption is replaced, so that path is authenticated.
	before := auth.count()
	for _, p := range []string{"/public", "/public/deeper?q=1"} {
		if r := s.covAuthDo("GET", "g.test", p); r.code != 200 || r.backend != "a" {
			t.Errorf("no-auth-locations path %s: %d from %q, want 200 from a", p, r.code, r.backend)
		}
	}
	if n := auth.count(); n != before {
		t.Errorf("the auth service was asked %d times for the exempt path", n-before)
	}
	if r := s.covAuthDo("GET", "g.test", "/.well-known/acme-challenge/tok"); r.code != 302 || r.backend != "" {
		t.Errorf("ACME path with a custom no-auth-locations: %d from %q, want 302 (authenticated)", r.code, r.backend)
	}
	if r := s.covAuthDo("GET", "g.test", "/publicity"); r.code != 302 {
		t.Errorf("/publicity (Ingress path /): %d, want 302 (authenticated)", r.code)
	}
}

// TestCoverageAuthCrossNamespace: an auth-secret in another namespace
// ("other/htpasswd") is refused by default (503 and a Warning Event
// naming allow-cross-namespace-resources) and used once the ConfigMap
// sets allow-cross-namespace-resources "true".
func TestCoverageAuthCrossNamespace(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.120.31", "a")
	covAuthConfigMap(t, c, map[string]string{})
	other := newObjects(t, c, "other")
	basicAuthSecret(other, "htpasswd", map[string]string{"auth": "erin:{PLAIN}open sesame\n"})
	o := newObjects(t, c, "covxns")
	o.service("web")
	o.slice("web", "10.244.120.31")
	basicAuthSecret(o, "local", map[string]string{"auth": "erin:{PLAIN}open sesame\n"})
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "cross", "x.test", "/", "web", annMap("auth-type", "basic", "auth-secret", "other/htpasswd"), "")
	annIngress(o, "local", "l.test", "/", "web", annMap("auth-type", "basic", "auth-secret", "local"), "")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")

	for _, user := range []string{"", "erin"} {
		if r := s.basicAuthGet("x.test", "/p", user, "open sesame"); r.err != nil || r.code != 503 || r.backend != "" {
			t.Errorf("cross-namespace Secret refused, user %q: %d from %q, %v; want 503", user, r.code, r.backend, r.err)
		}
	}
	annWaitWarning(t, c, "covxns", "cross", "InvalidAnnotation", "other/htpasswd", "allow-cross-namespace-resources")
	// The same-namespace Secret works meanwhile.
	if r := s.basicAuthGet("l.test", "/p", "erin", "open sesame"); r.code != 200 || r.backend != "a" {
		t.Errorf("same-namespace Secret: %d from %q, want 200", r.code, r.backend)
	}

	covAuthUpdateConfigMap(t, c, map[string]string{"allow-cross-namespace-resources": "true"})
	waitFor(t, 10*time.Second, "the cross-namespace Secret to be used", func() bool {
		return s.basicAuthGet("x.test", "/p", "", "").code == 401
	})
	if r := s.basicAuthGet("x.test", "/p", "erin", "open sesame"); r.code != 200 || r.backend != "a" || r.echo.Headers["Authorization"] != nil {
		t.Errorf("cross-namespace Secret allowed, good credentials: %d from %q, Authorization %q", r.code, r.backend, r.echo.Headers["Authorization"])
	}
	if r := s.basicAuthGet("x.test", "/p", "erin", "wrong"); r.code != 401 || r.backend != "" {
		t.Errorf("cross-namespace Secret allowed, wrong password: %d from %q, want 401", r.code, r.backend)
	}
}

// covAuthBackend starts a named echo backend on ip:8080 and returns a
// function that stops it (the address then refuses connections).
func covAuthBackend(t *testing.T, ip, name string) (stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "8080"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: echo.New(name), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	var once sync.Once
	stop = func() { once.Do(func() { _ = srv.Close() }) }
	t.Cleanup(stop)
	return stop
}

// TestCoverageAuthAffinityPersistent: affinity-mode persistent with the
// session-cookie-path, -domain, -secure, -expires and -max-age attributes
// in the Set-Cookie (Secure even over plain HTTP); the cookie pins the
// client; with session-cookie-change-on-failure, when the pinned endpoint
// stops listening the request is answered by the other endpoint with a
// new cookie, which then pins to it, while without it the client stays
// on the dead endpoint and gets an error.
func TestCoverageAuthAffinityPersistent(t *testing.T) {
	c := kubetest.Start(t)
	o := newObjects(t, c, "covaff")
	stops := map[string]func(){
		"p1": covAuthBackend(t, "10.244.120.41", "p1"),
		"p2": covAuthBackend(t, "10.244.120.42", "p2"),
		"q1": covAuthBackend(t, "10.244.120.51", "q1"),
		"q2": covAuthBackend(t, "10.244.120.52", "q2"),
	}
	o.service("web")
	o.slice("web", "10.244.120.41", "10.244.120.42")
	o.service("ctl")
	o.slice("ctl", "10.244.120.51", "10.244.120.52")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "sticky", "aff.test", "/", "web", annMap(
		"affinity", "cookie",
		"affinity-mode", "persistent",
		"session-cookie-name", "pin",
		"session-cookie-path", "/app",
		"session-cookie-domain", "aff.test",
		"session-cookie-secure", "true",
		"session-cookie-expires", "3600",
		"session-cookie-max-age", "1800",
		"session-cookie-change-on-failure", "true"), "")
	annIngress(o, "control", "ctl.test", "/", "ctl", annMap(
		"affinity", "cookie",
		"affinity-mode", "persistent",
		"session-cookie-name", "pin"), "")
	s := startStrait(t, c)
	url := "http://" + s.http

	cookieRE := regexp.MustCompile(`^pin=([0-9a-f]{16}); Path=/app; Domain=aff\.test; Expires=([^;]+); Max-Age=1800; HttpOnly; Secure$`)
	parse := func(what string, r balResp) (cookie string) {
		t.Helper()
		if len(r.setCookie) != 1 {
			t.Fatalf("%s: %d from %q, Set-Cookie %q; want one cookie", what, r.code, r.backend, r.setCookie)
		}
		m := cookieRE.FindStringSubmatch(r.setCookie[0])
		if m == nil {
			t.Fatalf("%s: Set-Cookie %q does not match %s", what, r.setCookie[0], cookieRE)
		}
		exp, err := time.Parse(http.TimeFormat, m[2])
		if err != nil {
			t.Fatalf("%s: Expires %q: %v", what, m[2], err)
		}
		if d := time.Until(exp); d < 3540*time.Second || d > 3660*time.Second {
			t.Errorf("%s: Expires %v is %v away, want about 3600 s", what, exp, d.Round(time.Second))
		}
		return "pin=" + m[1]
	}
	r := balGet(t, plainClient, url+"/app/x", "aff.test", "")
	if r.code != 200 {
		t.Fatalf("first request: %d", r.code)
	}
	cookie, pinned := parse("first request", r), r.backend
	for i := range 8 {
		r := balGet(t, plainClient, fmt.Sprintf("%s/app/%d", url, i), "aff.test", cookie)
		if r.code != 200 || r.backend != pinned || len(r.setCookie) != 0 {
			t.Fatalf("with %s: %d from %q, Set-Cookie %q; want %q without a cookie", cookie, r.code, r.backend, r.setCookie, pinned)
		}
	}
	// Persistent: the cookie names the endpoint, so a second client
	// landing on the same endpoint gets the same value.
	for range 20 {
		r := balGet(t, plainClient, url+"/", "aff.test", "")
		if r.backend == pinned && len(r.setCookie) == 1 && !strings.HasPrefix(r.setCookie[0], cookie+";") {
			t.Errorf("persistent mode: another client on %s got %q, want the value of %s", pinned, r.setCookie[0], cookie)
		}
	}

	// Control (no change-on-failure): pin, stop the endpoint, error.
	cr := balGet(t, plainClient, url+"/", "ctl.test", "")
	if cr.code != 200 || len(cr.setCookie) != 1 {
		t.Fatalf("control, first request: %d Set-Cookie %q", cr.code, cr.setCookie)
	}
	ctlCookie := strings.SplitN(cr.setCookie[0], ";", 2)[0]
	stops[cr.backend]()
	if r := balGet(t, plainClient, url+"/", "ctl.test", ctlCookie); r.code == 200 {
		t.Errorf("without change-on-failure, pinned endpoint %s stopped: %d from %q, want an error", cr.backend, r.code, r.backend)
	}

	// change-on-failure: the other endpoint answers, with a new cookie.
	stops[pinned]()
	r = balGet(t, plainClient, url+"/app/after", "aff.test", cookie)
	if r.code != 200 || r.backend == "" || r.backend == pinned {
		t.Fatalf("pinned endpoint %s stopped, with %s: %d from %q; want 200 from the other endpoint", pinned, cookie, r.code, r.backend)
	}
	moved := r.backend
	fresh := parse("after the failure", r)
	if fresh == cookie {
		t.Errorf("after the failure the cookie was re-issued unchanged: %s", fresh)
	}
	for i := range 5 {
		r := balGet(t, plainClient, fmt.Sprintf("%s/app/n%d", url, i), "aff.test", fresh)
		if r.code != 200 || r.backend != moved || len(r.setCookie) != 0 {
			t.Errorf("with the new cookie %s: %d from %q, Set-Cookie %q; want %q without a cookie", fresh, r.code, r.backend, r.setCookie, moved)
		}
	}
	for _, name := range []string{"sticky", "control"} {
		if w := annWarnings(c, "covaff", name); len(w) > 0 {
			t.Errorf("Ingress %s has warnings: %q", name, w)
		}
	}
}

// TestCoverageAuthRateLimitRPM: limit-rpm 6 with limit-burst-multiplier
// 2 lets a quick burst of 20 through only up to the burst (503 for the
// rest), and unlike a per-second rate, a second later the client is still
// limited; another Ingress is unaffected. Then the ConfigMap sets
// limit-req-status-code and limit-conn-status-code to 429: the limited
// client gets 429, and a second concurrent request under
// limit-connections 1 gets 429.
func TestCoverageAuthRateLimitRPM(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.120.61", "a")
	covAuthConfigMap(t, c, map[string]string{})
	o := newObjects(t, c, "covlimit")
	o.service("web")
	o.slice("web", "10.244.120.61")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	const host = "rpm.test"
	annIngress(o, "rpm", host, "/rpm", "web", annMap("limit-rpm", "6", "limit-burst-multiplier", "2"), "")
	annIngress(o, "conns", host, "/conns", "web", annMap("limit-connections", "1"), "")
	annIngress(o, "free", host, "/", "web", nil, "")
	s := startStrait(t, c, "--configmap=strait-system/strait-config")
	url := "http://" + s.http

	a := clientFrom(t, "10.244.120.100")
	ok, limited := 0, 0
	for range 20 {
		r := annDo(a, "GET", url+"/rpm", host, 0)
		switch {
		case r.err == nil && r.code == 200 && r.backend == "a":
			ok++
		case r.err == nil && r.code == 503 && r.backend == "":
			limited++
		default:
			t.Errorf("GET /rpm: %v", r)
		}
	}
	// The first request and a burst of 6×2 more pass.
	if ok < 13 || ok > 14 || ok+limited != 20 {
		t.Errorf("burst of 20 with limit-rpm 6, multiplier 2: %d answered, %d limited (503); want 13 (or 14) answered", ok, limited)
	}
	time.Sleep(1100 * time.Millisecond)
	if r := annDo(a, "GET", url+"/rpm", host, 0); r.code != 503 {
		t.Errorf("a second after the burst: %v, want still 503 (a per-minute rate)", r)
	}
	if r := annDo(a, "GET", url+"/other", host, 0); r.code != 200 || r.backend != "a" {
		t.Errorf("another Ingress of the host: %v, want 200", r)
	}
	if r := annDo(clientFrom(t, "10.244.120.101"), "GET", url+"/rpm", host, 0); r.code != 200 {
		t.Errorf("another client on /rpm: %v, want 200", r)
	}

	covAuthUpdateConfigMap(t, c, map[string]string{"limit-req-status-code": "429", "limit-conn-status-code": "429"})
	waitFor(t, 10*time.Second, "limit-req-status-code 429 to apply", func() bool {
		return annDo(a, "GET", url+"/rpm", host, 0).code == 429
	})
	if r := annDo(a, "GET", url+"/rpm", host, 0); r.code != 429 || r.backend != "" {
		t.Errorf("limited client after limit-req-status-code 429: %v, want 429", r)
	}

	b := clientFrom(t, "10.244.120.102")
	var wg sync.WaitGroup
	wg.Add(1)
	var slow annResp
	go func() {
		defer wg.Done()
		slow = annDo(clientFrom(t, "10.244.120.102"), "GET", url+"/conns?sleep=1500ms", host, 0)
	}()
	time.Sleep(400 * time.Millisecond)
	if r := annDo(b, "GET", url+"/conns", host, 0); r.code != 429 || r.backend != "" {
		t.Errorf("second concurrent request with limit-conn-status-code 429: %v, want 429", r)
	}
	wg.Wait()
	if slow.code != 200 {
		t.Errorf("slow request: %v, want 200", slow)
	}
	if r := annDo(b, "GET", url+"/conns", host, 0); r.code != 200 {
		t.Errorf("after the slow request: %v, want 200", r)
	}
	for _, name := range []string{"rpm", "conns", "free"} {
		if w := annWarnings(c, "covlimit", name); len(w) > 0 {
			t.Errorf("Ingress %s has warnings: %q", name, w)
		}
	}
}
