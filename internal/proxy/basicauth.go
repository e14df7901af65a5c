package proxy

import (
	"net/http"

	"github.com/straitgw/strait/internal/htpasswd"
	"github.com/straitgw/strait/internal/model"
)

// basicAuth is a compiled model.BasicAuth: the users' hashes parsed once
// per generation, so that a request only runs its user's hash function.
type basicAuth struct {
	// challenge is the WWW-Authenticate value of a 401.
	challenge []string
	users     map[string]htpasswd.Verifier
}

func compileBasicAuth(b *model.BasicAuth) *basicAuth {
	if b == nil {
		return nil
	}
	ba := &basicAuth{
		// translate admits no quote, backslash or control character in
		// the realm, so it needs no escaping here.
		challenge: []string{`Basic realm="` + b.Realm + `"`},
		users:     make(map[string]htpasswd.Verifier, len(b.Users)),
	}
	for _, u := range b.Users {
		// translate checked every hash; one that fails here anyway is
		// left out, so that user cannot log in.
		if v, err := htpasswd.Parse(u.Hash); err == nil {
			ba.users[u.User] = v
		}
	}
	return ba
}

// authenticate runs in nginx's access phase, after the deny and allow
// lists. It returns 0 when the request carries the credentials of a user,
// having removed them so that the upstream never sees them (as
// ingress-nginx's proxy_set_header Authorization ""), else 401 with the
// challenge set.
func (a *basicAuth) authenticate(h http.Header, r *http.Request) int {
	user, pass, ok := r.BasicAuth()
	if ok {
		if v := a.users[user]; v != nil && v.Verify([]byte(pass)) {
			r.Header.Del("Authorization")
			return 0
		}
	}
	h["Www-Authenticate"] = a.challenge
	return http.StatusUnauthorized
}
