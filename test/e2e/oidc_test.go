package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/kubetest"
	"github.com/straitgw/strait/internal/oidc/oidctest"
)

// oidcBrowser is a client with a cookie jar that follows no redirect
// itself. Requests to the test's hosts go to Strait's HTTP listener;
// requests to the provider go to the provider.
type oidcBrowser struct {
	t *testing.T
	c *http.Client
}

func newOIDCBrowser(t *testing.T, s *strait, hosts ...string) *oidcBrowser {
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		h, _, _ := net.SplitHostPort(addr)
		for _, x := range hosts {
			if h == x {
				addr = s.http
			}
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return &oidcBrowser{t: t, c: &http.Client{Jar: jar, Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// get sends a browser's GET (Accept: text/html) with extra header pairs;
// it returns the response with its body read into body.
func (b *oidcBrowser) get(u string, hdr ...string) (resp *http.Response, body []byte) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err = b.c.Do(req)
	if err != nil {
		b.t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ = io.ReadAll(resp.Body)
	return resp, body
}

// login walks from a protected URL to the provider and back, returning
// the callback's response.
func (b *oidcBrowser) login(u, issuer, callback string) *http.Response {
	b.t.Helper()
	r, _ := b.get(u)
	if r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), issuer+"/authorize?") {
		b.t.Fatalf("GET %s: %d to %q, want 302 to the provider", u, r.StatusCode, r.Header.Get("Location"))
	}
	r, _ = b.get(r.Header.Get("Location"))
	if r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), callback+"?") {
		b.t.Fatalf("provider: %d to %q, want 302 to %s", r.StatusCode, r.Header.Get("Location"), callback)
	}
	r, _ = b.get(r.Header.Get("Location"))
	return r
}

// echoOf fetches u and decodes what the echo backend saw; ok is false
// when the backend did not answer.
func (b *oidcBrowser) echoOf(u string, hdr ...string) (r *http.Response, e echo.Echo, ok bool) {
	b.t.Helper()
	r, body := b.get(u, hdr...)
	if r.StatusCode != http.StatusOK || r.Header.Get(echo.BackendHeader) == "" {
		return r, e, false
	}
	if err := json.Unmarshal(body, &e); err != nil {
		b.t.Fatal(err)
	}
	return r, e, true
}

// TestOIDC: OpenID Connect login against a real provider running in the
// test (internal/oidc/oidctest: discovery, JWKS, RS256 ID tokens, PKCE,
// refresh). A browser walks request → 302 to the provider → 302 back with
// a code → callback sets the session → the original URL reaches the
// backend with the claim headers and without the session cookie or the
// client's own X-Auth-Email. API requests get 401, a forged cookie and a
// session whose refresh is refused go back to login, the tokens are
// refreshed after their short life, logout clears the session and goes
// to the provider's end_session_endpoint, and a user outside the allowed
// groups gets 403.
func TestOIDC(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.44.1", "a")
	op, err := oidctest.Start(oidctest.Options{ClientID: "strait-e2e", ClientSecret: "e2e-secret", TokenLifetime: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(op.Close)
	op.SetUser(map[string]any{"sub": "alice", "email": "alice@example.com", "email_verified": true, "groups": []string{"dev", "ops"}})

	o := newObjects(t, c, "oidc")
	o.service("web")
	o.slice("web", "10.244.44.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i * 7)
	}
	basicAuthSecret(o, "oidc-cookie", map[string]string{"cookie-secret": base64.StdEncoding.EncodeToString(key)})
	basicAuthSecret(o, "oidc-client", map[string]string{"client-secret": "e2e-secret"})
	ann := func(extra ...string) map[string]string {
		m := map[string]string{}
		kv := append([]string{
			"oidc-issuer", op.Issuer, "oidc-client-id", "strait-e2e", "oidc-client-secret", "oidc-client",
			"oidc-cookie-secret", "oidc-cookie", "oidc-claim-headers", "email:X-Auth-Email,groups:X-Auth-Groups,sub:X-Auth-User,phone_number:X-Auth-Phone",
			"oidc-required-claims", "email_verified=true", "oidc-post-logout-redirect", "/bye",
		}, extra...)
		for i := 0; i+1 < len(kv); i += 2 {
			m[annotations.StraitPrefix+kv[i]] = kv[i+1]
		}
		return m
	}
	annIngress(o, "app", "sso.test", "/", "web", ann(), "")
	annIngress(o, "admins", "admins.test", "/", "web", ann("oidc-allowed-groups", "admins"), "")
	annIngress(o, "broken", "broken.test", "/", "web", ann("oidc-cookie-secret", "absent"), "")

	s := startStrait(t, c)
	b := newOIDCBrowser(t, s, "sso.test", "admins.test", "broken.test")

	// The first request goes to the provider with a complete
	// authorization request.
	r, _ := b.get("http://sso.test/app?x=1")
	loc, _ := url.Parse(r.Header.Get("Location"))
	if r.StatusCode != http.StatusFound || loc == nil {
		t.Fatalf("first request: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	q := loc.Query()
	for k, want := range map[string]string{"response_type": "code", "client_id": "strait-e2e", "redirect_uri": "http://sso.test/oauth2/callback",
		"scope": "openid profile email", "code_challenge_method": "S256"} {
		if q.Get(k) != want {
			t.Errorf("authorization request %s = %q, want %q", k, q.Get(k), want)
		}
	}
	// API clients are not redirected; a missing cookie Secret fails closed.
	if r, _ := b.get("http://sso.test/api", "Accept", "application/json"); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("API request without a session: %d, want 401", r.StatusCode)
	}
	if r, _ := b.get("http://broken.test/"); r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("Ingress with a missing cookie Secret: %d, want 503", r.StatusCode)
	}

	cb := b.login("http://sso.test/app?x=1", op.Issuer, "http://sso.test/oauth2/callback")
	if cb.StatusCode != http.StatusFound || cb.Header.Get("Location") != "/app?x=1" {
		t.Fatalf("callback: %d to %q, want 302 to /app?x=1", cb.StatusCode, cb.Header.Get("Location"))
	}
	var sess *http.Cookie
	for _, ck := range cb.Cookies() {
		if ck.Name == "_strait_oidc" {
			sess = ck
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v, want HttpOnly and SameSite=Lax", sess)
	}
	_, e, ok := b.echoOf("http://sso.test/app?x=1", "X-Auth-Email", "mallory@example.com", "Cookie", "theme=dark", "X-Auth-Phone", "555")
	if !ok {
		t.Fatal("with a session the backend did not answer")
	}
	if got := e.Headers["X-Auth-Email"]; len(got) != 1 || got[0] != "alice@example.com" {
		t.Errorf("backend saw X-Auth-Email %q, want only alice@example.com", got)
	}
	if g, u := e.Headers["X-Auth-Groups"], e.Headers["X-Auth-User"]; len(g) != 1 || g[0] != "dev,ops" || len(u) != 1 || u[0] != "alice" {
		t.Errorf("backend saw X-Auth-Groups %q, X-Auth-User %q", g, u)
	}
	// The user has no phone_number claim: the client's copy is removed.
	if v := e.Headers["X-Auth-Phone"]; len(v) > 0 {
		t.Errorf("backend saw the client's X-Auth-Phone %q", v)
	}
	if ck := strings.Join(e.Headers["Cookie"], "; "); strings.Contains(ck, "_strait_oidc") || !strings.Contains(ck, "theme=dark") {
		t.Errorf("backend saw Cookie %q: want theme=dark and no session cookie", ck)
	}

	// A forged (altered) session cookie is no session.
	forged := newOIDCBrowser(t, s, "sso.test")
	v := []byte(sess.Value)
	v[len(v)/2] ^= 1
	if r, _ := forged.get("http://sso.test/app", "Cookie", "_strait_oidc="+string(v)); r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), op.Issuer) {
		t.Errorf("forged cookie: %d to %q, want 302 to the provider", r.StatusCode, r.Header.Get("Location"))
	}

	// Logout clears the session and goes to the provider's end_session.
	r, _ = b.get("http://sso.test/oauth2/logout")
	loc, _ = url.Parse(r.Header.Get("Location"))
	if r.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), op.Issuer+"/logout?") ||
		loc.Query().Get("id_token_hint") == "" || loc.Query().Get("post_logout_redirect_uri") != "http://sso.test/bye" {
		t.Fatalf("logout: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r, _ := b.get(loc.String()); r.StatusCode != http.StatusFound || r.Header.Get("Location") != "http://sso.test/bye" || len(op.Logouts()) != 1 {
		t.Errorf("provider's end_session: %d to %q, %d logouts", r.StatusCode, r.Header.Get("Location"), len(op.Logouts()))
	}
	if r, _ := b.get("http://sso.test/app"); r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), op.Issuer) {
		t.Errorf("after logout: %d to %q, want 302 to the provider", r.StatusCode, r.Header.Get("Location"))
	}

	// Log in again; after the tokens' 3-second life the session is
	// refreshed and carries the user's new claims.
	if cb := b.login("http://sso.test/", op.Issuer, "http://sso.test/oauth2/callback"); cb.StatusCode != http.StatusFound {
		t.Fatalf("second login: %d", cb.StatusCode)
	}
	op.SetUser(map[string]any{"sub": "alice", "email": "alice@new.example.com", "email_verified": true, "groups": []string{"dev"}})
	before := op.RefreshGrants()
	time.Sleep(3500 * time.Millisecond)
	_, e, ok = b.echoOf("http://sso.test/after-refresh")
	if !ok || op.RefreshGrants() != before+1 || len(e.Headers["X-Auth-Email"]) != 1 || e.Headers["X-Auth-Email"][0] != "alice@new.example.com" {
		t.Fatalf("after expiry: backend answered %v, %d refresh grants (want %d), X-Auth-Email %q", ok, op.RefreshGrants(), before+1, e.Headers["X-Auth-Email"])
	}
	// When the provider refuses to refresh, the expired session is over.
	op.RefuseRefresh()
	time.Sleep(3500 * time.Millisecond)
	if r, _ := b.get("http://sso.test/"); r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), op.Issuer) {
		t.Errorf("expired session, refresh refused: %d to %q, want 302 to the provider", r.StatusCode, r.Header.Get("Location"))
	}

	// A user outside the allowed groups is refused at the callback.
	if cb := b.login("http://admins.test/", op.Issuer, "http://admins.test/oauth2/callback"); cb.StatusCode != http.StatusForbidden {
		t.Errorf("user outside oidc-allowed-groups: %d, want 403", cb.StatusCode)
	}
	annWaitWarning(t, c, "oidc", "broken", "SecretNotFound", "oidc-cookie-secret", "not found", "503")
}
