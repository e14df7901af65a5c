package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/kubetest"
)

// Addresses of TestExternalAuth: the echo backend and the auth service.
const (
	extAuthBackendIP = "10.244.47.1"
	extAuthIP        = "10.244.47.9"
	extAuthURL       = "http://" + extAuthIP + ":8080"
)

// extAuthServer is the auth service of TestExternalAuth. X-Test-Auth on
// the client request decides: "allow" → 200 with X-Auth-User: alice,
// "forbid" → 403, "moved" → 302; without it → 401 with WWW-Authenticate.
// Every answer sets the cookie auth=e2e. It records the requests it got.
type extAuthServer struct {
	mu   sync.Mutex
	seen []*http.Request
}

func (a *extAuthServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.seen = append(a.seen, r.Clone(context.Background()))
	a.mu.Unlock()
	w.Header().Add("Set-Cookie", "auth=e2e; Path=/")
	switch r.Header.Get("X-Test-Auth") {
	case "allow":
		w.Header().Set("X-Auth-User", "alice")
		w.WriteHeader(http.StatusOK)
	case "forbid":
		w.WriteHeader(http.StatusForbidden)
	case "moved":
		w.Header().Set("Location", "/login")
		w.WriteHeader(http.StatusFound)
	default:
		w.Header().Set("WWW-Authenticate", `Basic realm="e2e"`)
		w.WriteHeader(http.StatusUnauthorized)
	}
}

// last returns the latest request the service got, nil for none.
func (a *extAuthServer) last() *http.Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.seen) == 0 {
		return nil
	}
	return a.seen[len(a.seen)-1]
}

func (a *extAuthServer) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.seen)
}

// extAuthResp is what TestExternalAuth sees of a response.
type extAuthResp struct {
	code    int
	header  http.Header
	backend string
	echo    echo.Echo
	err     error
}

// extAuthGet sends GET path with Host host and extra headers (name, value
// pairs) to Strait's plain-HTTP port.
func (s *strait) extAuthGet(host, path string, hdr ...string) extAuthResp {
	req, err := http.NewRequest(http.MethodGet, "http://"+s.http+path, nil)
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

// TestExternalAuth: auth-url asks a real auth service in the network
// namespace about each request. 2xx lets it through with
// auth-response-headers copied (and a spoofed one removed) and the auth
// cookie; 401 (with WWW-Authenticate), 403 are returned; a redirect or an
// unreachable service gives 500; auth-signin redirects a 401. The
// ConfigMap's global-auth-url covers Ingresses without auth-url, except
// with enable-global-auth "false" and under no-auth-locations. A URL
// without host fails closed with 503 and an Event.
func TestExternalAuth(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, extAuthBackendIP, "a")
	auth := &extAuthServer{}
	ln, err := net.Listen("tcp", net.JoinHostPort(extAuthIP, "8080"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: auth, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	ctx := context.Background()
	sys := newObjects(t, c, "strait-system")
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "strait-config"},
		Data: map[string]string{
			"global-auth-url":              extAuthURL + "/global?host=$host",
			"global-auth-response-headers": "X-Auth-User",
		},
	}
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	o := newObjects(t, c, "extauth")
	o.service("web")
	o.slice("web", extAuthBackendIP)
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "protected", "ext.test", "/", "web", annMap(
		"auth-url", extAuthURL+"/verify?uri=$escaped_request_uri",
		"auth-response-headers", "X-Auth-User, X-Auth-Groups"), "")
	annIngress(o, "signin", "signin.test", "/", "web", annMap(
		"auth-url", extAuthURL+"/verify",
		"auth-signin", "https://login.example/start"), "")
	annIngress(o, "down", "down.test", "/", "web", annMap("auth-url", "http://"+extAuthIP+":8081/verify"), "")
	annIngress(o, "bad", "bad.test", "/", "web", annMap("auth-url", "/verify"), "")
	annIngress(o, "global", "global.test", "/", "web", nil, "")
	annIngress(o, "acme", "global.test", "/.well-known/acme-challenge", "web", nil, "")
	annIngress(o, "optout", "optout.test", "/", "web", annMap("enable-global-auth", "false"), "")

	s := startStrait(t, c, "--configmap=strait-system/strait-config")

	// Allowed: the backend gets the auth service's X-Auth-User instead of
	// the client's, no X-Auth-Groups (the service did not send one); the
	// client gets the auth cookie.
	r := s.extAuthGet("ext.test", "/app?x=1", "X-Test-Auth", "allow", "X-Auth-User", "mallory", "X-Auth-Groups", "admin", "Cookie", "sid=7")
	if r.err != nil || r.code != 200 || r.backend != "a" {
		t.Fatalf("allowed request: %d from %q, %v", r.code, r.backend, r.err)
	}
	if got := r.echo.Headers["X-Auth-User"]; !slices.Equal(got, []string{"alice"}) {
		t.Errorf("backend X-Auth-User = %q, want [alice]", got)
	}
	if got, ok := r.echo.Headers["X-Auth-Groups"]; ok {
		t.Errorf("backend X-Auth-Groups = %q, want the spoofed header removed", got)
	}
	if got := r.header.Values("Set-Cookie"); !slices.Contains(got, "auth=e2e; Path=/") {
		t.Errorf("allowed request: Set-Cookie %q, want the auth cookie", got)
	}
	ar := auth.last()
	for k, v := range map[string]string{
		"X-Original-Url":          "http://ext.test/app?x=1",
		"X-Original-Method":       "GET",
		"X-Sent-From":             "nginx-ingress-controller",
		"X-Auth-Request-Redirect": "/app?x=1",
		"Cookie":                  "sid=7",
	} {
		if got := ar.Header.Get(k); got != v {
			t.Errorf("auth request %s = %q, want %q", k, got, v)
		}
	}
	if ar.Method != "GET" || ar.Host != extAuthIP || ar.URL.RequestURI() != "/verify?uri=%2Fapp%3Fx%3D1" {
		t.Errorf("auth request: %s %s Host %q", ar.Method, ar.URL.RequestURI(), ar.Host)
	}
	if id := ar.Header.Get("X-Request-Id"); id == "" || !slices.Equal(r.echo.Headers["X-Request-Id"], []string{id}) {
		t.Errorf("X-Request-ID: auth service %q, backend %q", id, r.echo.Headers["X-Request-Id"])
	}

	// Refused: 401 with the challenge, 403; 500 for a redirect and for an
	// unreachable service; 503 for a URL without host.
	for _, tc := range []struct {
		host, header string
		code         int
	}{
		{"ext.test", "", 401},
		{"ext.test", "forbid", 403},
		{"ext.test", "moved", 500},
		{"down.test", "allow", 500},
		{"bad.test", "allow", 503},
	} {
		r := s.extAuthGet(tc.host, "/p", "X-Test-Auth", tc.header)
		if r.err != nil || r.code != tc.code || r.backend != "" {
			t.Errorf("%s with %q: %d from %q, %v; want %d", tc.host, tc.header, r.code, r.backend, r.err, tc.code)
		}
		if tc.code == 401 && r.header.Get("WWW-Authenticate") != `Basic realm="e2e"` {
			t.Errorf("401: WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
		}
	}
	annWaitWarning(t, c, "extauth", "bad", "InvalidAnnotation", "auth-url", "503")

	// auth-signin: a 401 becomes a 302 carrying the original URL and the
	// auth cookie; a 403 stays a 403.
	r = s.extAuthGet("signin.test", "/deep/page?a=b")
	if want := "https://login.example/start?rd=http://signin.test%2Fdeep%2Fpage%3Fa%3Db"; r.code != 302 || r.header.Get("Location") != want {
		t.Errorf("sign-in: %d Location %q, want 302 %q", r.code, r.header.Get("Location"), want)
	}
	if !slices.Contains(r.header.Values("Set-Cookie"), "auth=e2e; Path=/") {
		t.Errorf("sign-in redirect: Set-Cookie %q, want the auth cookie", r.header.Values("Set-Cookie"))
	}
	if r := s.extAuthGet("signin.test", "/", "X-Test-Auth", "forbid"); r.code != 403 {
		t.Errorf("sign-in route, 403 from auth: got %d", r.code)
	}

	// global-auth-url covers the Ingress without auth-url, with the
	// global response headers; not its no-auth-locations path, not the
	// Ingress that opts out.
	if r := s.extAuthGet("global.test", "/x"); r.code != 401 {
		t.Errorf("global auth, no credentials: got %d, want 401", r.code)
	}
	r = s.extAuthGet("global.test", "/x", "X-Test-Auth", "allow", "X-Auth-User", "mallory")
	if r.code != 200 || r.backend != "a" || !slices.Equal(r.echo.Headers["X-Auth-User"], []string{"alice"}) {
		t.Errorf("global auth, allowed: %d from %q, X-Auth-User %q", r.code, r.backend, r.echo.Headers["X-Auth-User"])
	}
	if ar := auth.last(); ar.URL.RequestURI() != "/global?host=global.test" {
		t.Errorf("global auth request: %s", ar.URL.RequestURI())
	}
	before := auth.count()
	if r := s.extAuthGet("global.test", "/.well-known/acme-challenge/token-1"); r.code != 200 || r.backend != "a" {
		t.Errorf("no-auth-locations path: %d from %q, want 200 from the backend", r.code, r.backend)
	}
	if r := s.extAuthGet("optout.test", "/x", "X-Auth-User", "mallory"); r.code != 200 || r.backend != "a" {
		t.Errorf("enable-global-auth false: %d from %q, want 200", r.code, r.backend)
	}
	if n := auth.count(); n != before {
		t.Errorf("the auth service was asked %d times for exempt paths", n-before)
	}
	for _, name := range []string{"protected", "signin", "global", "acme", "optout"} {
		if w := annWarnings(c, "extauth", name); len(w) > 0 {
			t.Errorf("Ingress %s has warnings: %q", name, w)
		}
	}
}
