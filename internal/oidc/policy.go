// Package oidc is the data plane of OpenID Connect login
// (strait.dev/oidc-*): the authorization code flow with PKCE against an
// issuer found by discovery, a session kept in an encrypted and
// authenticated cookie (chunked when large), token refresh, claims passed
// upstream as headers, group and claim rules, and logout.
//
// A Policy is compiled from a model.OIDC once per routing generation;
// Providers, which caches discovery and keys per issuer, lives as long as
// the proxy.
package oidc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/straitgw/strait/internal/model"
)

// stateLifetime is how long a login may take, from the redirect to the
// issuer to the callback.
const stateLifetime = 10 * time.Minute

// Policy is a compiled model.OIDC.
type Policy struct {
	m    *model.OIDC
	seal *sealer
	// headers are the canonical names of the claim headers, removed from
	// every request before any are set.
	headers []string
	log     *slog.Logger
	now     func() time.Time
}

// New compiles m. log receives rejected cookies (at debug) and issuer
// failures; nil means slog.Default().
func New(m *model.OIDC, log *slog.Logger) (*Policy, error) {
	s, err := newSealer(m.CookieKey)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	p := &Policy{m: m, seal: s, log: log, now: time.Now}
	for _, h := range m.ClaimHeaders {
		p.headers = append(p.headers, http.CanonicalHeaderKey(h.Header))
	}
	return p, nil
}

// session is what the session cookie holds.
type session struct {
	// IDToken is the raw ID token, verified when it was received: its
	// claims are the session's, and it is the id_token_hint of logout.
	IDToken string `json:"i"`
	// Refresh is the refresh token, if the issuer gave one.
	Refresh string `json:"r,omitempty"`
	// Expiry is when the tokens expire (Unix seconds): past it, the
	// session is refreshed or the user logs in again.
	Expiry int64 `json:"e"`
	// End is when the session ends whatever refreshes do (Unix seconds).
	End int64 `json:"x"`
}

// loginState is what a login-state cookie holds.
type loginState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	// URL is the request URI (path and query) to return to.
	URL string `json:"u"`
}

// Serve runs the OIDC step for a request that reached a route with this
// policy. It answers the callback and logout paths and requests without a
// session itself, and returns false. For a request with a valid session
// it returns true, having set the claim headers and removed the session
// cookies from the request, which may then go upstream. https is the
// request's scheme as the client sees it.
func (p *Policy) Serve(w http.ResponseWriter, r *http.Request, https bool, ps *Providers) bool {
	// Never let a client supply the headers the claims fill.
	for _, h := range p.headers {
		r.Header.Del(h)
	}
	switch r.URL.Path {
	case p.m.RedirectPath:
		p.callback(w, r, https, ps)
		return false
	case p.m.LogoutPath:
		p.logout(w, r, https, ps)
		return false
	}
	now := p.now()
	s, ok := p.readSession(r, now)
	if ok && now.Unix() >= s.Expiry {
		s, ok = p.refresh(w, r, https, ps, s)
	}
	if !ok {
		p.login(w, r, https, ps)
		return false
	}
	c, err := tokenClaims(s.IDToken)
	if err != nil {
		p.login(w, r, https, ps)
		return false
	}
	for _, h := range p.m.ClaimHeaders {
		if v, ok := headerValue(c, h.Claim); ok {
			r.Header.Set(h.Header, v)
		}
	}
	p.stripCookies(r)
	return true
}

// readSession returns the session of a request; a missing, forged,
// altered or ended session is no session.
func (p *Policy) readSession(r *http.Request, now time.Time) (*session, bool) {
	v, ok := readChunked(r, p.m.CookieName)
	if !ok {
		return nil, false
	}
	data, err := p.seal.open(p.m.CookieName, v, now)
	if err != nil {
		p.log.Debug("oidc: session cookie rejected", "cookie", p.m.CookieName, "host", r.Host, "err", err)
		return nil, false
	}
	var s session
	if err := json.Unmarshal(data, &s); err != nil || now.Unix() >= s.End {
		return nil, false
	}
	return &s, true
}

// errTooLarge is a session that does not fit in maxChunks cookies.
var errTooLarge = errors.New("the session is too large for its cookies (an ID token of more than about 20 KB)")

// writeSession sets the session cookie; it lives until the session ends.
func (p *Policy) writeSession(w http.ResponseWriter, r *http.Request, https bool, s *session) error {
	data, _ := json.Marshal(s)
	end := time.Unix(s.End, 0)
	v := p.seal.seal(p.m.CookieName, data, end)
	if len(v) > maxChunks*chunkSize {
		return errTooLarge
	}
	writeChunked(w, r, p.m.CookieName, v, cookieAttrs{secure: https, maxAge: max(1, int(end.Sub(p.now()).Seconds()))})
	return nil
}

// tokenClaims returns the claims of an ID token already verified (the
// session cookie that holds it is authenticated).
func tokenClaims(raw string) (claims, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, errors.New("malformed ID token")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	return parseClaims(payload)
}

// stripCookies removes the session and login-state cookies from the
// request, keeping the others in order.
func (p *Policy) stripCookies(r *http.Request) {
	lines := r.Header.Values("Cookie")
	if len(lines) == 0 {
		return
	}
	var kept []string
	for _, line := range lines {
		for _, part := range strings.Split(line, ";") {
			name, _, _ := strings.Cut(strings.TrimSpace(part), "=")
			if strings.TrimSpace(part) == "" || isSessionCookie(name, p.m.CookieName) {
				continue
			}
			kept = append(kept, strings.TrimSpace(part))
		}
	}
	r.Header.Del("Cookie")
	if len(kept) > 0 {
		r.Header.Set("Cookie", strings.Join(kept, "; "))
	}
}

// oauthConfig is the client's configuration towards the issuer for a
// request: the redirect URI is the request's scheme and host plus the
// callback path.
func (p *Policy) oauthConfig(d *discovered, r *http.Request, https bool) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     p.m.ClientID,
		ClientSecret: p.m.ClientSecret,
		Endpoint:     d.provider.Endpoint(),
		RedirectURL:  origin(r, https) + p.m.RedirectPath,
		Scopes:       p.m.Scopes,
	}
}

func origin(r *http.Request, https bool) string {
	if https {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// provider returns the issuer's discovery, answering 503 when it is not
// available: without it nobody can be authenticated, and nothing is
// served unauthenticated.
func (p *Policy) provider(w http.ResponseWriter, r *http.Request, ps *Providers) (*discovered, bool) {
	d, err := ps.get(r.Context(), p.m.Issuer)
	if err != nil {
		p.log.Warn("oidc: issuer unavailable", "issuer", p.m.Issuer, "err", err)
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		return nil, false
	}
	return d, true
}

// wantsRedirect reports whether a request without a session should be
// sent to the login page: a GET or HEAD from a browser (Accept names
// text/html) that is not an XMLHttpRequest. Other requests get 401, as
// an API client or script cannot follow a login.
func wantsRedirect(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if strings.EqualFold(r.Header.Get("X-Requested-With"), "XMLHttpRequest") {
		return false
	}
	return strings.Contains(strings.ToLower(strings.Join(r.Header.Values("Accept"), ",")), "text/html")
}

// login starts the authorization code flow: a login-state cookie holds
// the state, nonce, PKCE verifier and the URL to come back to, and the
// client is redirected to the issuer.
func (p *Policy) login(w http.ResponseWriter, r *http.Request, https bool, ps *Providers) {
	if !wantsRedirect(r) {
		w.Header().Set("WWW-Authenticate", "Bearer")
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	d, ok := p.provider(w, r, ps)
	if !ok {
		return
	}
	st := loginState{State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier(), URL: r.URL.RequestURI()}
	data, _ := json.Marshal(st)
	name := p.stateCookie(st.State)
	exp := p.now().Add(stateLifetime)
	http.SetCookie(w, newCookie(name, p.seal.seal(name, data, exp), cookieAttrs{secure: https, maxAge: int(stateLifetime.Seconds())}))
	u := p.oauthConfig(d, r, https).AuthCodeURL(st.State, gooidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u, http.StatusFound)
}

// stateCookie names the login-state cookie of one login, so that logins
// started in several tabs do not overwrite each other.
func (p *Policy) stateCookie(state string) string {
	h := sha256.Sum256([]byte(state))
	return p.m.CookieName + stateSuffix + base64.RawURLEncoding.EncodeToString(h[:6])
}

// callback finishes a login: the state must match a login-state cookie,
// the code is exchanged with the PKCE verifier, the ID token verified
// (signature, issuer, audience, expiry, nonce) and the rules checked.
func (p *Policy) callback(w http.ResponseWriter, r *http.Request, https bool, ps *Providers) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		http.Error(w, "Bad Request: no login state", http.StatusBadRequest)
		return
	}
	name := p.stateCookie(state)
	c, err := r.Cookie(name)
	if err != nil {
		http.Error(w, "Bad Request: unknown or expired login; try again", http.StatusBadRequest)
		return
	}
	var st loginState
	data, err := p.seal.open(name, c.Value, p.now())
	if err == nil {
		err = json.Unmarshal(data, &st)
	}
	// The state cookie is single-use.
	http.SetCookie(w, newCookie(name, "", cookieAttrs{secure: https, maxAge: -1}))
	if err != nil || st.State != state {
		p.log.Debug("oidc: login state rejected", "host", r.Host, "err", err)
		http.Error(w, "Bad Request: invalid login state; try again", http.StatusBadRequest)
		return
	}
	if e := q.Get("error"); e != "" {
		p.log.Info("oidc: the issuer refused the login", "issuer", p.m.Issuer, "error", e, "description", q.Get("error_description"))
		http.Error(w, "Forbidden", http.StatusForbidden)
		return
	}
	d, ok := p.provider(w, r, ps)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(gooidc.ClientContext(r.Context(), ps.client), 15*time.Second)
	defer cancel()
	tok, err := p.oauthConfig(d, r, https).Exchange(ctx, q.Get("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		p.log.Info("oidc: code exchange failed", "issuer", p.m.Issuer, "err", err)
		http.Error(w, "Bad Gateway: the login could not be completed", http.StatusBadGateway)
		return
	}
	s, c2, nonce, err := p.verify(ctx, d, tok, "")
	if err == nil && nonce != st.Nonce {
		// The nonce binds the ID token to this login.
		err = errors.New("nonce mismatch")
	}
	if err != nil {
		p.log.Info("oidc: ID token rejected", "issuer", p.m.Issuer, "err", err)
		http.Error(w, "Forbidden", http.StatusForbidden)
		return
	}
	if ok, why := admits(p.m, c2); !ok {
		p.log.Info("oidc: user refused", "issuer", p.m.Issuer, "sub", c2["sub"], "reason", why)
		http.Error(w, "Forbidden", http.StatusForbidden)
		return
	}
	s.End = p.now().Add(time.Duration(p.m.SessionMaxAge) * time.Second).Unix()
	if err := p.writeSession(w, r, https, s); err != nil {
		p.log.Warn("oidc: login refused", "issuer", p.m.Issuer, "sub", c2["sub"], "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	target := st.URL
	if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") {
		target = "/"
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}

// verify turns a token response into a session: its ID token must be
// valid, or, on refresh without a new ID token, the previous claims are
// kept (prev).
func (p *Policy) verify(ctx context.Context, d *discovered, tok *oauth2.Token, prevID string) (s *session, c claims, nonce string, err error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		if prevID == "" {
			return nil, nil, "", errors.New("no id_token in the token response")
		}
		raw = prevID
	}
	idt, err := d.provider.Verifier(&gooidc.Config{ClientID: p.m.ClientID, Now: p.now, SkipExpiryCheck: raw == prevID}).Verify(ctx, raw)
	if err != nil {
		return nil, nil, "", err
	}
	var msg json.RawMessage
	if err := idt.Claims(&msg); err != nil {
		return nil, nil, "", err
	}
	if c, err = parseClaims(msg); err != nil {
		return nil, nil, "", err
	}
	exp := idt.Expiry
	if !tok.Expiry.IsZero() && tok.Expiry.Before(exp) {
		exp = tok.Expiry
	}
	if raw == prevID {
		exp = tok.Expiry
	}
	return &session{IDToken: raw, Refresh: tok.RefreshToken, Expiry: exp.Unix()}, c, idt.Nonce, nil
}

// refresh renews an expired session with its refresh token and re-issues
// the cookie; without one, or when the issuer refuses, the session is
// over.
func (p *Policy) refresh(w http.ResponseWriter, r *http.Request, https bool, ps *Providers, s *session) (*session, bool) {
	if s.Refresh == "" {
		return nil, false
	}
	d, err := ps.get(r.Context(), p.m.Issuer)
	if err != nil {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(gooidc.ClientContext(r.Context(), ps.client), 15*time.Second)
	defer cancel()
	cfg := p.oauthConfig(d, r, https)
	tok, err := ps.refreshOnce(p.m.Issuer+"\x00"+p.m.ClientID+"\x00"+s.Refresh, func() (*oauth2.Token, error) {
		return cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: s.Refresh, Expiry: time.Unix(1, 0)}).Token()
	})
	if err != nil {
		p.log.Debug("oidc: refresh failed", "issuer", p.m.Issuer, "err", err)
		return nil, false
	}
	ns, c, _, err := p.verify(ctx, d, tok, s.IDToken)
	if err != nil {
		p.log.Info("oidc: refreshed ID token rejected", "issuer", p.m.Issuer, "err", err)
		return nil, false
	}
	if ok, why := admits(p.m, c); !ok {
		p.log.Info("oidc: user refused after refresh", "issuer", p.m.Issuer, "sub", c["sub"], "reason", why)
		return nil, false
	}
	if ns.Refresh == "" {
		ns.Refresh = s.Refresh
	}
	if ns.Expiry <= p.now().Unix() {
		// A token response without a usable expiry: check again in a
		// minute rather than refresh on every request.
		ns.Expiry = p.now().Add(time.Minute).Unix()
	}
	ns.End = s.End
	if err := p.writeSession(w, r, https, ns); err != nil {
		p.log.Warn("oidc: refreshed session refused", "issuer", p.m.Issuer, "err", err)
		return nil, false
	}
	return ns, true
}

// logout clears the session and sends the client to the issuer's
// end_session_endpoint, else to the post-logout redirect.
func (p *Policy) logout(w http.ResponseWriter, r *http.Request, https bool, ps *Providers) {
	s, _ := p.readSession(r, p.now())
	clearCookie(w, r, p.m.CookieName, https)
	w.Header().Set("Cache-Control", "no-store")
	after := p.m.PostLogoutRedirect
	if strings.HasPrefix(after, "/") {
		after = origin(r, https) + after
	}
	if d, err := ps.get(r.Context(), p.m.Issuer); err == nil && d.endSession != "" {
		if u, err := url.Parse(d.endSession); err == nil {
			q := u.Query()
			if s != nil && s.IDToken != "" {
				q.Set("id_token_hint", s.IDToken)
			}
			if after != "" {
				q.Set("post_logout_redirect_uri", after)
			}
			q.Set("client_id", p.m.ClientID)
			u.RawQuery = q.Encode()
			http.Redirect(w, r, u.String(), http.StatusFound)
			return
		}
	}
	if after != "" {
		http.Redirect(w, r, after, http.StatusFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("Signed out.\n"))
}

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
