package oidc

import (
	"time"

	"golang.org/x/oauth2"
)

// A browser loads a page's resources in parallel, so several requests
// often find the same session expired at once. Providers with refresh
// token rotation accept each refresh token once: only the first refresh
// would succeed, and the others would log the user out. So one refresh
// runs per refresh token, and its outcome is shared with the requests
// that arrive while it runs or shortly after.

// refreshShare is how long a refresh's outcome is reused.
const refreshShare = 30 * time.Second

// refreshCall is one refresh, done when done is closed.
type refreshCall struct {
	done chan struct{}
	tok  *oauth2.Token
	err  error
	at   time.Time
}

// refreshOnce runs fetch for the key (issuer and refresh token) unless a
// call for it is running or finished less than refreshShare ago, whose
// result it returns instead.
func (ps *Providers) refreshOnce(key string, fetch func() (*oauth2.Token, error)) (*oauth2.Token, error) {
	now := ps.now()
	ps.mu.Lock()
	for k, c := range ps.refreshes {
		select {
		case <-c.done:
			if now.Sub(c.at) > refreshShare {
				delete(ps.refreshes, k)
			}
		default:
		}
	}
	c, ok := ps.refreshes[key]
	if !ok {
		c = &refreshCall{done: make(chan struct{})}
		ps.refreshes[key] = c
	}
	ps.mu.Unlock()
	if ok {
		<-c.done
		return c.tok, c.err
	}
	c.tok, c.err = fetch()
	c.at = ps.now()
	close(c.done)
	return c.tok, c.err
}
