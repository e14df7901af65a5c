// Package oidctest is a small but real OpenID Connect provider for tests:
// discovery, a JWKS with an RSA key, an authorization endpoint that
// approves the configured user at once, a token endpoint for the
// authorization_code grant (PKCE S256 required) and the refresh_token
// grant, and an end-session endpoint. Tokens are real RS256 JWTs signed
// with go-jose; everything is served over real HTTP.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Options configure a Provider.
type Options struct {
	// Listener is where the provider serves; nil means a new listener on
	// 127.0.0.1.
	Listener net.Listener
	// ClientID and ClientSecret are the one registered client; an empty
	// secret makes it a public client.
	ClientID, ClientSecret string
	// TokenLifetime is the life of ID and access tokens; 0 means an hour.
	TokenLifetime time.Duration
	// NoEndSession leaves end_session_endpoint out of the discovery
	// document.
	NoEndSession bool
}

// Provider is a running OpenID provider.
type Provider struct {
	// Issuer is the issuer URL (http://host:port).
	Issuer string

	srv    *httptest.Server
	key    *rsa.PrivateKey
	signer jose.Signer
	opts   Options

	mu       sync.Mutex
	user     map[string]any
	codes    map[string]grant
	refresh  map[string]grant
	refreshN int
	logouts  []url.Values
	noRefres bool
	flaw     Flaw
	// other signs tokens when flaw is ForeignKey.
	other jose.Signer
}

// Flaw makes the token endpoint issue ID tokens a client must refuse.
type Flaw int

// The flaws.
const (
	// Sound tokens.
	Sound Flaw = iota
	// WrongNonce: the nonce is not the one of the authorization request.
	WrongNonce
	// WrongAudience: aud names another client.
	WrongAudience
	// WrongIssuer: iss is another issuer.
	WrongIssuer
	// Expired: exp is in the past.
	Expired
	// ForeignKey: signed with a key the JWKS does not hold.
	ForeignKey
)

// grant is what a code or refresh token stands for.
type grant struct {
	user                       map[string]any
	clientID, redirect, nonce  string
	challenge, challengeMethod string
}

// Start starts a provider; Close stops it.
func Start(opts Options) (*Provider, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, err
	}
	if opts.TokenLifetime == 0 {
		opts.TokenLifetime = time.Hour
	}
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	// The same key id as the real key: only the signature tells them apart.
	other, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: otherKey, KeyID: "k1"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, err
	}
	p := &Provider{key: key, signer: signer, other: other, opts: opts, codes: map[string]grant{}, refresh: map[string]grant{},
		user: map[string]any{"sub": "user-1"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /logout", p.endSession)
	p.srv = httptest.NewUnstartedServer(mux)
	if opts.Listener != nil {
		_ = p.srv.Listener.Close()
		p.srv.Listener = opts.Listener
	}
	p.srv.Start()
	p.Issuer = p.srv.URL
	return p, nil
}

// Close stops the provider.
func (p *Provider) Close() { p.srv.Close() }

// SetUser sets the claims of the user the authorization endpoint approves
// (sub included); later logins and refreshes carry them.
func (p *Provider) SetUser(claims map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.user = maps.Clone(claims)
}

// RefreshGrants counts the refresh_token grants answered with tokens.
func (p *Provider) RefreshGrants() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refreshN
}

// RefuseRefresh makes every later refresh_token grant fail.
func (p *Provider) RefuseRefresh() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.noRefres = true
}

// SetFlaw makes later ID tokens carry a flaw (Sound for none).
func (p *Provider) SetFlaw(f Flaw) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flaw = f
}

// Logouts returns the query of each request to the end-session endpoint.
func (p *Provider) Logouts() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]url.Values(nil), p.logouts...)
}

// Sign signs claims with the provider's key, for tests that forge or
// alter tokens.
func (p *Provider) Sign(claims map[string]any) (string, error) {
	b, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := p.signer.Sign(b)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	doc := map[string]any{
		"issuer":                                p.Issuer,
		"authorization_endpoint":                p.Issuer + "/authorize",
		"token_endpoint":                        p.Issuer + "/token",
		"jwks_uri":                              p.Issuer + "/jwks",
		"end_session_endpoint":                  p.Issuer + "/logout",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
	}
	if p.opts.NoEndSession {
		delete(doc, "end_session_endpoint")
	}
	writeJSON(w, http.StatusOK, doc)
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
}

// authorize approves the configured user and sends the browser back with
// a code.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("response_type") != "code" || q.Get("client_id") != p.opts.ClientID || q.Get("redirect_uri") == "" || q.Get("state") == "" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	if q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" {
		http.Error(w, "PKCE with S256 is required", http.StatusBadRequest)
		return
	}
	code := random()
	p.mu.Lock()
	p.codes[code] = grant{user: maps.Clone(p.user), clientID: q.Get("client_id"), redirect: q.Get("redirect_uri"), nonce: q.Get("nonce"),
		challenge: q.Get("code_challenge"), challengeMethod: q.Get("code_challenge_method")}
	p.mu.Unlock()
	u, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	v := u.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.opts.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.opts.ClientSecret)) != 1 {
		tokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var g grant
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		c, ok := p.codes[r.PostForm.Get("code")]
		delete(p.codes, r.PostForm.Get("code"))
		if !ok || c.clientID != id || c.redirect != r.PostForm.Get("redirect_uri") {
			tokenError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
			tokenError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		g = c
	case "refresh_token":
		c, ok := p.refresh[r.PostForm.Get("refresh_token")]
		delete(p.refresh, r.PostForm.Get("refresh_token"))
		if !ok || p.noRefres || c.clientID != id {
			tokenError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		// A refreshed session carries the user's current claims.
		g = grant{user: maps.Clone(p.user), clientID: id}
		p.refreshN++
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	now := time.Now()
	claims := maps.Clone(g.user)
	claims["iss"], claims["aud"] = p.Issuer, id
	claims["iat"], claims["exp"] = now.Unix(), now.Add(p.opts.TokenLifetime).Unix()
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	signer := p.signer
	switch p.flaw {
	case WrongNonce:
		claims["nonce"] = "not-" + g.nonce
	case WrongAudience:
		claims["aud"] = "another-client"
	case WrongIssuer:
		claims["iss"] = p.Issuer + "/other"
	case Expired:
		claims["iat"], claims["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	case ForeignKey:
		signer = p.other
	}
	b, _ := json.Marshal(claims)
	jws, err := signer.Sign(b)
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error")
		return
	}
	idt, _ := jws.CompactSerialize()
	rt := random()
	p.refresh[rt] = grant{clientID: id}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": random(), "token_type": "Bearer", "expires_in": int(p.opts.TokenLifetime.Seconds()),
		"refresh_token": rt, "id_token": idt,
	})
}

func (p *Provider) endSession(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	p.logouts = append(p.logouts, q)
	p.mu.Unlock()
	if u := q.Get("post_logout_redirect_uri"); u != "" {
		http.Redirect(w, r, u, http.StatusFound)
		return
	}
	fmt.Fprintln(w, "logged out")
}

func tokenError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func random() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
