package oidc

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
)

// Providers caches what the data plane knows of each issuer: its
// discovery document and key set. It lives outside routing generations,
// keyed by issuer URL, so that a configuration change does not refetch
// anything. Discovery happens on the first request that needs it; a
// failure is remembered and retried after a backoff that doubles up to
// maxBackoff, so that a down issuer is not hammered by every request.
type Providers struct {
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]*providerEntry
	// refreshes are the refreshes running or just done (refresh.go).
	refreshes map[string]*refreshCall
}

// Backoff and refresh of discovery.
const (
	minBackoff = time.Second
	maxBackoff = time.Minute
	// rediscover is how long a discovered document is used before it is
	// fetched again; the key set refreshes itself when a token names a key
	// it does not have.
	rediscover = time.Hour
)

type providerEntry struct {
	// mu serialises discovery of one issuer.
	mu       sync.Mutex
	provider *discovered
	fetched  time.Time
	err      error
	retryAt  time.Time
	backoff  time.Duration
}

// discovered is one issuer's discovery result.
type discovered struct {
	provider   *gooidc.Provider
	endSession string
	// ctx carries the HTTP client for go-oidc's later requests (key set
	// refreshes, token exchanges).
	ctx context.Context
}

// NewProviders returns an empty cache whose requests use client (nil: a
// client with a 10-second timeout).
func NewProviders(client *http.Client) *Providers {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Providers{client: client, now: time.Now, entries: map[string]*providerEntry{}, refreshes: map[string]*refreshCall{}}
}

// get returns the issuer's discovery, fetching it when it is missing or
// old. While an issuer is failing it returns the last error without
// asking again until the backoff has passed; an old document is kept when
// refreshing it fails.
func (ps *Providers) get(ctx context.Context, issuer string) (*discovered, error) {
	ps.mu.Lock()
	e := ps.entries[issuer]
	if e == nil {
		e = &providerEntry{}
		ps.entries[issuer] = e
	}
	ps.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	now := ps.now()
	if e.provider != nil && now.Sub(e.fetched) < rediscover {
		return e.provider, nil
	}
	if now.Before(e.retryAt) {
		if e.provider != nil {
			return e.provider, nil
		}
		return nil, e.err
	}
	d, err := ps.discover(ctx, issuer)
	if err != nil {
		e.backoff = min(max(2*e.backoff, minBackoff), maxBackoff)
		e.err, e.retryAt = err, now.Add(e.backoff)
		if e.provider != nil {
			return e.provider, nil
		}
		return nil, err
	}
	e.provider, e.fetched, e.err, e.backoff, e.retryAt = d, now, nil, 0, time.Time{}
	return d, nil
}

func (ps *Providers) discover(ctx context.Context, issuer string) (*discovered, error) {
	// go-oidc keeps the context of NewProvider (without its deadline) for
	// its key-set requests: give it the client only, and bound this
	// request with the client's own timeout and the caller's context.
	base := gooidc.ClientContext(context.Background(), ps.client)
	reqCtx, cancel := context.WithTimeout(gooidc.ClientContext(ctx, ps.client), 10*time.Second)
	defer cancel()
	p, err := gooidc.NewProvider(reqCtx, issuer)
	if err != nil {
		return nil, fmt.Errorf("discovery of %s: %w", issuer, err)
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	_ = p.Claims(&extra)
	// Rebuild the provider's configuration on the long-lived context so
	// that its key set does not die with this request.
	var cfg gooidc.ProviderConfig
	var raw struct {
		Auth   string   `json:"authorization_endpoint"`
		Token  string   `json:"token_endpoint"`
		JWKS   string   `json:"jwks_uri"`
		User   string   `json:"userinfo_endpoint"`
		Algs   []string `json:"id_token_signing_alg_values_supported"`
		Issuer string   `json:"issuer"`
	}
	if err := p.Claims(&raw); err != nil {
		return nil, fmt.Errorf("discovery of %s: %w", issuer, err)
	}
	if raw.Auth == "" || raw.Token == "" || raw.JWKS == "" {
		return nil, fmt.Errorf("discovery of %s: authorization_endpoint, token_endpoint and jwks_uri are required", issuer)
	}
	// Only asymmetric signatures: "none" or a MAC keyed with the client
	// secret are never accepted, whatever the document offers.
	var algs []string
	for _, a := range raw.Algs {
		if a != "none" && !strings.HasPrefix(a, "HS") {
			algs = append(algs, a)
		}
	}
	if len(algs) == 0 {
		algs = []string{gooidc.RS256}
	}
	cfg = gooidc.ProviderConfig{IssuerURL: raw.Issuer, AuthURL: raw.Auth, TokenURL: raw.Token, JWKSURL: raw.JWKS, UserInfoURL: raw.User, Algorithms: algs}
	return &discovered{provider: cfg.NewProvider(base), endSession: extra.EndSession, ctx: base}, nil
}
