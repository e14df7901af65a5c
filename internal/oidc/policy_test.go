package oidc_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/oidc"
	"github.com/straitgw/strait/internal/oidc/oidctest"
)

// front serves a Policy the way the proxy does: Serve, then, when it lets
// the request through, an upstream that reflects the headers it got.
type front struct {
	srv    *httptest.Server
	op     *oidctest.Provider
	client *http.Client
}

func newFront(t *testing.T, lifetime time.Duration, edit func(*model.OIDC)) *front {
	return startFront(t, false, lifetime, edit)
}

// startFront is newFront over HTTPS when tlsOn.
func startFront(t *testing.T, tlsOn bool, lifetime time.Duration, edit func(*model.OIDC)) *front {
	return startFrontWith(t, tlsOn, oidctest.Options{ClientID: "strait", ClientSecret: "s3cret", TokenLifetime: lifetime}, edit)
}

// startFrontWith is startFront with the provider's options given.
func startFrontWith(t *testing.T, tlsOn bool, opts oidctest.Options, edit func(*model.OIDC)) *front {
	t.Helper()
	op, err := oidctest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(op.Close)
	op.SetUser(map[string]any{"sub": "alice", "email": "alice@example.com", "email_verified": true, "groups": []string{"dev"}})
	m := &model.OIDC{Issuer: op.Issuer, ClientID: "strait", ClientSecret: "s3cret", Scopes: []string{"openid", "email"},
		RedirectPath: "/oauth2/callback", LogoutPath: "/oauth2/logout", GroupsClaim: "groups", CookieName: "_sess",
		SessionMaxAge: 3600, CookieKey: bytes.Repeat([]byte{7}, 32),
		ClaimHeaders: []model.ClaimHeader{{Claim: "email", Header: "X-Auth-Email"}, {Claim: "groups", Header: "X-Auth-Groups"}, {Claim: "phone", Header: "X-Auth-Phone"}}}
	if edit != nil {
		edit(m)
	}
	pol, err := oidc.New(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps := oidc.NewProviders(nil)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !pol.Serve(w, r, r.TLS != nil, ps) {
			return
		}
		_ = json.NewEncoder(w).Encode(r.Header)
	}))
	if tlsOn {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: srv.Client().Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &front{srv: srv, op: op, client: c}
}

func (f *front) get(t *testing.T, u string, hdr ...string) *http.Response {
	t.Helper()
	if strings.HasPrefix(u, "/") {
		u = f.srv.URL + u
	}
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// login walks the redirects from a protected URL to the issuer and back,
// returning the callback's response.
func (f *front) login(t *testing.T, path string) *http.Response {
	t.Helper()
	r := f.get(t, path)
	if r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), f.op.Issuer+"/authorize?") {
		t.Fatalf("GET %s: %d to %q, want a redirect to the issuer", path, r.StatusCode, r.Header.Get("Location"))
	}
	r = f.get(t, r.Header.Get("Location"))
	if r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), f.srv.URL+"/oauth2/callback?") {
		t.Fatalf("issuer answered %d to %q, want a redirect to the callback", r.StatusCode, r.Header.Get("Location"))
	}
	return f.get(t, r.Header.Get("Location"))
}

// upstream fetches path and returns the headers the upstream saw.
func (f *front) upstream(t *testing.T, path string, hdr ...string) (int, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
	req.Header.Set("Accept", "text/html")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h http.Header
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, h
}

func TestLoginFlow(t *testing.T) {
	t.Parallel()
	f := newFront(t, time.Hour, nil)
	first := f.get(t, "/app?x=1")
	loc, _ := url.Parse(first.Header.Get("Location"))
	q := loc.Query()
	for k, want := range map[string]string{"response_type": "code", "client_id": "strait", "redirect_uri": f.srv.URL + "/oauth2/callback",
		"scope": "openid email", "code_challenge_method": "S256"} {
		if q.Get(k) != want {
			t.Errorf("authorization %s = %q, want %q", k, q.Get(k), want)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if q.Get(k) == "" {
			t.Errorf("authorization request without %s", k)
		}
	}

	cb := f.login(t, "/app?x=1")
	if cb.StatusCode != http.StatusFound || cb.Header.Get("Location") != "/app?x=1" {
		t.Fatalf("callback: %d to %q, want 302 to /app?x=1", cb.StatusCode, cb.Header.Get("Location"))
	}
	var sess *http.Cookie
	for _, c := range cb.Cookies() {
		if c.Name == "_sess" {
			sess = c
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, not Secure over http", sess)
	}
	// The client's own X-Auth-Email is replaced, other cookies pass, the
	// session cookie does not.
	code, h := f.upstream(t, "/app", "X-Auth-Email", "mallory@example.com", "Cookie", "theme=dark", "X-Auth-Phone", "555")
	if code != http.StatusOK {
		t.Fatalf("with a session: %d", code)
	}
	if h.Get("X-Auth-Email") != "alice@example.com" || h.Get("X-Auth-Groups") != "dev" {
		t.Errorf("claim headers %q %q", h.Get("X-Auth-Email"), h.Get("X-Auth-Groups"))
	}
	// The user has no phone claim: the client's X-Auth-Phone is removed.
	if v := h.Values("X-Auth-Phone"); len(v) > 0 {
		t.Errorf("upstream saw the client's X-Auth-Phone %q", v)
	}
	if c := strings.Join(h.Values("Cookie"), ";"); strings.Contains(c, "_sess") || !strings.Contains(c, "theme=dark") {
		t.Errorf("upstream Cookie %q: want theme=dark only", c)
	}

	// An API request without a session gets 401, not a redirect.
	anon := &http.Client{CheckRedirect: f.client.CheckRedirect}
	req, _ := http.NewRequest("GET", f.srv.URL+"/api", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := anon.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API request without session: %d, want 401", resp.StatusCode)
	}
	// Without a session, a client-sent X-Auth-Email never reaches the
	// upstream either: the request is not let through at all, and a
	// forged session cookie is refused.
	req, _ = http.NewRequest("GET", f.srv.URL+"/app", nil)
	req.Header.Set("Accept", "text/html")
	forged := sess.Value[:len(sess.Value)-4] + "AAAA"
	req.AddCookie(&http.Cookie{Name: "_sess", Value: forged})
	resp, err = anon.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), f.op.Issuer) {
		t.Errorf("forged cookie: %d to %q, want a login redirect", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Logout clears the session and goes to the issuer's end_session.
	out := f.get(t, "/oauth2/logout")
	lo, _ := url.Parse(out.Header.Get("Location"))
	if out.StatusCode != http.StatusFound || lo == nil || !strings.HasPrefix(lo.String(), f.op.Issuer+"/logout") || lo.Query().Get("id_token_hint") == "" {
		t.Fatalf("logout: %d to %q", out.StatusCode, out.Header.Get("Location"))
	}
	if r := f.get(t, "/app"); r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), f.op.Issuer) {
		t.Errorf("after logout: %d to %q, want a login redirect", r.StatusCode, r.Header.Get("Location"))
	}
}

func TestRefreshAndRefusedRefresh(t *testing.T) {
	t.Parallel()
	f := newFront(t, time.Second, nil)
	if cb := f.login(t, "/"); cb.StatusCode != http.StatusFound {
		t.Fatalf("callback %d", cb.StatusCode)
	}
	time.Sleep(2100 * time.Millisecond)
	f.op.SetUser(map[string]any{"sub": "alice", "email": "alice@new.example.com", "groups": []string{"dev"}})
	code, h := f.upstream(t, "/")
	if code != http.StatusOK || f.op.RefreshGrants() != 1 || h.Get("X-Auth-Email") != "alice@new.example.com" {
		t.Fatalf("after expiry: %d, %d refresh grants, email %q; want 200 after one refresh with the new claims", code, f.op.RefreshGrants(), h.Get("X-Auth-Email"))
	}
	// The re-issued cookie carries the new expiry: no refresh right away.
	if code, _ := f.upstream(t, "/"); code != http.StatusOK || f.op.RefreshGrants() != 1 {
		t.Fatalf("next request: %d, %d refresh grants", code, f.op.RefreshGrants())
	}
	f.op.RefuseRefresh()
	time.Sleep(2100 * time.Millisecond)
	if r := f.get(t, "/"); r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), f.op.Issuer) {
		t.Errorf("refused refresh: %d to %q, want a login redirect", r.StatusCode, r.Header.Get("Location"))
	}
}

func TestGroupsAndClaimsRefused(t *testing.T) {
	t.Parallel()
	f := newFront(t, time.Hour, func(m *model.OIDC) {
		m.AllowedGroups = []string{"admins"}
	})
	if cb := f.login(t, "/"); cb.StatusCode != http.StatusForbidden {
		t.Errorf("user outside the allowed groups: %d, want 403", cb.StatusCode)
	}
	f = newFront(t, time.Hour, func(m *model.OIDC) {
		m.RequiredClaims = []model.ClaimRule{{Claim: "email_verified", Value: "true"}}
	})
	if cb := f.login(t, "/"); cb.StatusCode != http.StatusFound {
		t.Errorf("user meeting the rules: %d, want 302", cb.StatusCode)
	}
}

func TestLargeSessionIsChunked(t *testing.T) {
	t.Parallel()
	f := newFront(t, time.Hour, nil)
	groups := make([]string, 150)
	for i := range groups {
		groups[i] = "group-with-a-long-name-" + strings.Repeat("g", 5)
	}
	groups[0] = "dev"
	f.op.SetUser(map[string]any{"sub": "alice", "email": "alice@example.com", "groups": groups})
	cb := f.login(t, "/")
	n := 0
	for _, c := range cb.Cookies() {
		if strings.HasPrefix(c.Name, "_sess_") && !strings.HasPrefix(c.Name, "_sess_state_") && c.MaxAge > 0 {
			n++
		}
	}
	if n < 2 {
		t.Fatalf("%d session chunks, want several", n)
	}
	code, h := f.upstream(t, "/")
	if code != http.StatusOK || !strings.HasPrefix(h.Get("X-Auth-Groups"), "dev,") || strings.Contains(strings.Join(h.Values("Cookie"), ";"), "_sess") {
		t.Errorf("chunked session: %d, groups %.20q, cookie %q", code, h.Get("X-Auth-Groups"), h.Values("Cookie"))
	}
}

func TestCallbackRefusesBadState(t *testing.T) {
	t.Parallel()
	f := newFront(t, time.Hour, nil)
	r := f.get(t, "/")
	r = f.get(t, r.Header.Get("Location"))
	u, _ := url.Parse(r.Header.Get("Location"))
	q := u.Query()
	q.Set("state", "forged")
	u.RawQuery = q.Encode()
	if r := f.get(t, u.String()); r.StatusCode != http.StatusBadRequest {
		t.Errorf("callback with a forged state: %d, want 400", r.StatusCode)
	}
	if r := f.get(t, "/oauth2/callback?code=x"); r.StatusCode != http.StatusBadRequest {
		t.Errorf("callback without state: %d, want 400", r.StatusCode)
	}
}

func TestIssuerDownFailsClosed(t *testing.T) {
	t.Parallel()
	f := newFront(t, time.Hour, nil)
	f.op.Close()
	if r := f.get(t, "/"); r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("issuer down: %d, want 503", r.StatusCode)
	}
}

func TestEndedSessionIsRefused(t *testing.T) {
	t.Parallel()
	f := newFront(t, time.Hour, func(m *model.OIDC) { m.SessionMaxAge = 1 })
	if cb := f.login(t, "/"); cb.StatusCode != http.StatusFound {
		t.Fatalf("callback %d", cb.StatusCode)
	}
	// The jar drops the cookie at its Max-Age; send the value anyway, as a
	// client that kept it would.
	u, _ := url.Parse(f.srv.URL)
	cs := f.client.Jar.Cookies(u)
	time.Sleep(2100 * time.Millisecond)
	req, _ := http.NewRequest("GET", f.srv.URL+"/", nil)
	req.Header.Set("Accept", "text/html")
	for _, c := range cs {
		req.AddCookie(c)
	}
	resp, err := (&http.Client{CheckRedirect: f.client.CheckRedirect}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(cs) == 0 || resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), f.op.Issuer) {
		t.Errorf("ended session (%d cookies): %d to %q, want a login redirect", len(cs), resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestParallelRequestsRefreshOnce: requests that find the same session
// expired at once share one refresh, so that a provider that accepts each
// refresh token once does not log the user out.
func TestParallelRequestsRefreshOnce(t *testing.T) {
	t.Parallel()
	f := newFront(t, time.Second, nil)
	if cb := f.login(t, "/"); cb.StatusCode != http.StatusFound {
		t.Fatalf("callback %d", cb.StatusCode)
	}
	time.Sleep(2100 * time.Millisecond)
	u, _ := url.Parse(f.srv.URL)
	cs := f.client.Jar.Cookies(u)
	codes := make(chan int, 8)
	for range 8 {
		go func() {
			req, _ := http.NewRequest("GET", f.srv.URL+"/", nil)
			req.Header.Set("Accept", "text/html")
			for _, c := range cs {
				req.AddCookie(c)
			}
			resp, err := (&http.Client{CheckRedirect: f.client.CheckRedirect}).Do(req)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	for range 8 {
		if c := <-codes; c != http.StatusOK {
			t.Errorf("parallel request after expiry: %d, want 200", c)
		}
	}
	if n := f.op.RefreshGrants(); n != 1 {
		t.Errorf("%d refresh grants, want 1", n)
	}
}

// TestFlawedIDTokensRefused: an ID token with the wrong nonce, audience or
// issuer, expired, or signed with a key not in the JWKS ends the login
// with 403 and no session.
func TestFlawedIDTokensRefused(t *testing.T) {
	t.Parallel()
	for _, flaw := range []oidctest.Flaw{oidctest.WrongNonce, oidctest.WrongAudience, oidctest.WrongIssuer, oidctest.Expired, oidctest.ForeignKey} {
		f := newFront(t, time.Hour, nil)
		f.op.SetFlaw(flaw)
		cb := f.login(t, "/")
		for _, c := range cb.Cookies() {
			if c.Name == "_sess" && c.MaxAge > 0 {
				t.Errorf("flaw %d: a session cookie was set", flaw)
			}
		}
		if cb.StatusCode != http.StatusForbidden {
			t.Errorf("flaw %d: callback %d, want 403", flaw, cb.StatusCode)
		}
		if code, _ := f.upstream(t, "/"); code != http.StatusFound {
			t.Errorf("flaw %d: next request %d, want a login redirect", flaw, code)
		}
	}
}

// TestHTTPSCookiesAreSecure: over HTTPS the redirect URI is https and
// every cookie Strait sets is Secure.
func TestHTTPSCookiesAreSecure(t *testing.T) {
	t.Parallel()
	f := startFront(t, true, time.Hour, nil)
	r := f.get(t, "/")
	loc, _ := url.Parse(r.Header.Get("Location"))
	if loc == nil || loc.Query().Get("redirect_uri") != f.srv.URL+"/oauth2/callback" || !strings.HasPrefix(f.srv.URL, "https://") {
		t.Fatalf("redirect_uri %q, want %s/oauth2/callback", loc.Query().Get("redirect_uri"), f.srv.URL)
	}
	cb := f.login(t, "/")
	if cb.StatusCode != http.StatusFound {
		t.Fatalf("callback %d", cb.StatusCode)
	}
	for _, c := range append(r.Cookies(), cb.Cookies()...) {
		if !c.Secure || !c.HttpOnly {
			t.Errorf("cookie %s: Secure %v HttpOnly %v", c.Name, c.Secure, c.HttpOnly)
		}
	}
	if code, h := f.upstream(t, "/"); code != http.StatusOK || h.Get("X-Auth-Email") != "alice@example.com" {
		t.Errorf("over HTTPS with a session: %d, %q", code, h.Get("X-Auth-Email"))
	}
}

// TestLogoutWithoutEndSession: without an end_session_endpoint, logout
// clears the session and goes to the post-logout redirect (a path is made
// absolute on the request's host), or ends on a plain page.
func TestLogoutWithoutEndSession(t *testing.T) {
	t.Parallel()
	for _, after := range []string{"/bye", ""} {
		f := startFrontWith(t, false, oidctest.Options{ClientID: "strait", ClientSecret: "s3cret", NoEndSession: true},
			func(m *model.OIDC) { m.PostLogoutRedirect = after })
		if cb := f.login(t, "/"); cb.StatusCode != http.StatusFound {
			t.Fatalf("callback %d", cb.StatusCode)
		}
		r := f.get(t, "/oauth2/logout")
		cleared := false
		for _, c := range r.Cookies() {
			cleared = cleared || (c.Name == "_sess" && c.MaxAge < 0)
		}
		want := http.StatusOK
		if after != "" {
			want = http.StatusFound
		}
		if r.StatusCode != want || !cleared || (after != "" && r.Header.Get("Location") != f.srv.URL+after) {
			t.Errorf("logout with post-logout %q: %d to %q, cookie cleared %v", after, r.StatusCode, r.Header.Get("Location"), cleared)
		}
		if r := f.get(t, "/"); r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), f.op.Issuer) {
			t.Errorf("after logout: %d to %q", r.StatusCode, r.Header.Get("Location"))
		}
	}
}
