package proxy

import (
	"math/rand/v2"
	"net/http"
	"regexp"

	"github.com/straitgw/strait/internal/metrics"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy/upstream"
)

// canaryRoute is a route's compiled canary: the alternative backend and
// the rules that send a request to it (ingress-nginx's
// route_to_alternative_balancer).
type canaryRoute struct {
	backend *upstream.Backend
	// stats are the request metrics of requests the canary takes; nil
	// without metrics.
	stats       *metrics.RouteSeries
	header      string // canonical header name; "" for no header rule
	headerValue string
	pattern     *regexp.Regexp
	cookie      string
	weight      int
	total       int
}

// compileCanary compiles a route's canary; nil without one, or when its
// backend is missing (translate guarantees it exists).
func compileCanary(c *model.Canary, backends map[string]*upstream.Backend) *canaryRoute {
	if c == nil || backends[c.Backend] == nil {
		return nil
	}
	cr := &canaryRoute{backend: backends[c.Backend], header: http.CanonicalHeaderKey(c.Header), headerValue: c.HeaderValue,
		cookie: c.Cookie, weight: c.Weight, total: max(c.WeightTotal, 100)}
	if c.HeaderPattern != "" {
		// translate accepted only patterns that compile.
		cr.pattern, _ = regexp.Compile(c.HeaderPattern)
	}
	return cr
}

// pick reports whether r goes to the canary: the header decides first,
// then the cookie, then a weighted draw. A canary without ready
// endpoints is skipped, so that the primary answers.
//
// ingress-nginx first keeps a request on the backend its affinity cookie
// names; that step belongs before this call, once affinity knows which
// backend a cookie points to.
func (c *canaryRoute) pick(r *http.Request) bool {
	if len(c.backend.Endpoints()) == 0 {
		return false
	}
	if c.header != "" {
		if vs := r.Header[c.header]; len(vs) > 0 {
			v := vs[0]
			switch {
			case c.headerValue != "":
				if v == c.headerValue {
					return true
				}
			case c.pattern != nil:
				if c.pattern.MatchString(v) {
					return true
				}
			case v == "always":
				return true
			case v == "never":
				return false
			}
		}
	}
	if c.cookie != "" {
		if ck, err := r.Cookie(c.cookie); err == nil {
			switch ck.Value {
			case "always":
				return true
			case "never":
				return false
			}
		}
	}
	return c.weight > 0 && rand.IntN(c.total) < c.weight
}
