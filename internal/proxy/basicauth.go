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
	// decoy is verified for unknown users, so that a 401 takes about as
	// long whether the user exists or not; nil without users.
	decoy htpasswd.Verifier
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
			if ba.decoy == nil {
				ba.decoy = v
			}
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
		v := a.users[user]
		if v != nil && v.Verify([]byte(pass)) {
			r.Header.Del("Authorization")
			return 0
		}
		if v == nil && a.decoy != nil {
			a.decoy.Verify([]byte(pass))
		}
	}
	h["Www-Authenticate"] = a.challenge
	return http.StatusUnauthorized
}
