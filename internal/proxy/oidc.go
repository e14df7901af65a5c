package proxy

import (
	"net/http"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/oidc"
)

// oidcAuth is a compiled model.OIDC. Discovery and keys are not here but
// in Proxy.oidc, which outlives generations.
type oidcAuth struct {
	pol *oidc.Policy
	// broken is set when the policy could not be compiled (a cookie key
	// translate should have refused): the route answers 503 rather than
	// serve without login.
	broken bool
}

func compileOIDC(m *model.OIDC) *oidcAuth {
	if m == nil {
		return nil
	}
	pol, err := oidc.New(m, nil)
	if err != nil {
		return &oidcAuth{broken: true}
	}
	return &oidcAuth{pol: pol}
}

// oidcLogin runs OpenID Connect login for a request of rt. It reports
// true when the request has a valid session and may be proxied (with the
// claim headers set and the session cookies removed); otherwise the
// client has been answered.
func (p *Proxy) oidcLogin(w http.ResponseWriter, r *http.Request, rt *route, pr *request) bool {
	a := rt.policy.oidc
	if a.broken {
		plainError(w, http.StatusServiceUnavailable)
		return false
	}
	return a.pol.Serve(w, r, pr.https, p.oidc)
}
