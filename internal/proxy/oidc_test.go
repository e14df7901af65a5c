package proxy_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/oidc/oidctest"
	"github.com/straitgw/strait/internal/proxy"
)

// TestOIDCLogin runs the OpenID Connect login through the proxy on every
// engine (the HTTP/1 engine hands such routes to the net/http handler),
// against a real provider: the request is sent to the provider, the
// callback sets the session, and the upstream then sees the claim header
// (never the client's own copy) and no session cookie. Another route of
// the host is not affected.
func TestOIDCLogin(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		op, err := oidctest.Start(oidctest.Options{ClientID: "c1", ClientSecret: "s1"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(op.Close)
		op.SetUser(map[string]any{"sub": "alice", "email": "alice@example.com"})
		upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Saw-Email", strings.Join(r.Header.Values("X-Auth-Email"), "|"))
			w.Header().Set("X-Saw-Cookie", strings.Join(r.Header.Values("Cookie"), "|"))
		})
		_, ep := backendServer(t, upstream)
		app := prefixRoute("/", "web")
		app.Policy.OIDC = &model.OIDC{Issuer: op.Issuer, ClientID: "c1", ClientSecret: "s1", Scopes: []string{"openid", "email"},
			RedirectPath: "/oauth2/callback", LogoutPath: "/oauth2/logout", GroupsClaim: "groups", CookieName: "_s",
			SessionMaxAge: 3600, CookieKey: bytes.Repeat([]byte{3}, 32),
			ClaimHeaders: []model.ClaimHeader{{Claim: "email", Header: "X-Auth-Email"}}}
		m := &model.Model{
			Hosts:    []*model.VirtualHost{vhost("sso.test", status(http.StatusNotFound), app, prefixRoute("/public", "web"))},
			CatchAll: catchAll404(), Backends: []model.Backend{backend("web", ep)},
		}
		h := startProxy(t, e, proxy.Timeouts{}, m, false)
		jar, _ := cookiejar.New(nil)
		tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if strings.HasPrefix(addr, "sso.test:") {
				addr = h.addr
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}}
		t.Cleanup(tr.CloseIdleConnections)
		c := &http.Client{Jar: jar, Transport: tr, Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		get := func(u string, hdr ...string) *http.Response {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			req.Header.Set("Accept", "text/html")
			for i := 0; i+1 < len(hdr); i += 2 {
				req.Header.Set(hdr[i], hdr[i+1])
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp
		}

		if r := get("http://sso.test/public/x", "X-Auth-Email", "bob@example.com"); r.StatusCode != http.StatusOK || r.Header.Get("X-Saw-Email") != "bob@example.com" {
			t.Errorf("route without OIDC: %d, upstream saw %q", r.StatusCode, r.Header.Get("X-Saw-Email"))
		}
		r := get("http://sso.test/app")
		if r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), op.Issuer+"/authorize?") || r.Header.Get("X-Saw-Email") != "" {
			t.Fatalf("without a session: %d to %q", r.StatusCode, r.Header.Get("Location"))
		}
		r = get(r.Header.Get("Location"))
		if r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), "http://sso.test/oauth2/callback?") {
			t.Fatalf("provider: %d to %q", r.StatusCode, r.Header.Get("Location"))
		}
		if r = get(r.Header.Get("Location")); r.StatusCode != http.StatusFound || r.Header.Get("Location") != "/app" {
			t.Fatalf("callback: %d to %q", r.StatusCode, r.Header.Get("Location"))
		}
		r = get("http://sso.test/app", "X-Auth-Email", "mallory@example.com", "Cookie", "k=v")
		if r.StatusCode != http.StatusOK || r.Header.Get("X-Saw-Email") != "alice@example.com" {
			t.Errorf("with a session: %d, upstream saw X-Auth-Email %q", r.StatusCode, r.Header.Get("X-Saw-Email"))
		}
		if ck := r.Header.Get("X-Saw-Cookie"); ck != "k=v" {
			t.Errorf("upstream saw Cookie %q, want k=v", ck)
		}
	})
}
