package proxy

import (
	"net/http"

	"github.com/straitgw/strait/internal/proxy/upstream"
)

// gwActions are what a Gateway API rule does to the requests it takes,
// compiled once per generation: its filters (each in its own file:
// gwheaders.go, gwredirect.go, gwrewrite.go, gwmirror.go, gwtimeout.go,
// gwcors.go) and its backends.
type gwActions struct {
	// reqHeaders and respHeaders are the rule's header filters; nil for
	// none.
	reqHeaders, respHeaders *gwHeaderOps
	// mirrors get copies of the requests.
	mirrors []gwMirror
	// timeouts bound the exchange; nil for none.
	timeouts *gwTimeouts
	// cors answers preflights and marks responses; nil for none.
	cors *gwCORS
	// backends are the rule's backends, and weights their cumulative
	// weights.
	backends []gwBackend
	weights  []int32
}

// gwBackend is one backend of a rule: a route of its own, with the
// backend's header filters.
type gwBackend struct {
	rt                      *route
	reqHeaders, respHeaders *gwHeaderOps
}

// compileActions compiles the filters and backends of cr's rule. Each
// backend is a route of its own, sent the rewritten Host, with upstream
// timeouts no shorter than the rule's.
func (cr *gwRule) compileActions(backends map[string]*upstream.Backend, to Timeouts, headers *globalHeaders) {
	r := cr.r
	cr.reqHeaders, cr.respHeaders = compileHeaderOps(r.RequestHeaders), compileHeaderOps(r.ResponseHeaders)
	cr.mirrors = compileMirrors(r.Mirrors, backends)
	cr.timeouts = compileTimeouts(r.Timeouts)
	cr.cors = compileGatewayCORS(r.CORS)
	var sum int32
	for _, b := range r.Backends {
		sum += b.Weight
		rt := compileAction(r.Route, b.Action, backends, to)
		rt.headers = headers
		if r.Rewrite != nil {
			rt.upstreamHost = r.Rewrite.Hostname
		}
		if cr.timeouts != nil {
			rt.timeouts.Read = max(rt.timeouts.Read, cr.timeouts.longest())
			rt.timeouts.Send = max(rt.timeouts.Send, cr.timeouts.longest())
		}
		cr.backends = append(cr.backends, gwBackend{rt: rt,
			reqHeaders: compileHeaderOps(b.RequestHeaders), respHeaders: compileHeaderOps(b.ResponseHeaders)})
		cr.weights = append(cr.weights, sum)
	}
}

// response returns the writer that changes the response of a request
// the rule sends to be (nil for none) from origin (allowed by the rule's
// CORS filter, or ""), or bounds it in time; nil when nothing does.
func (cr *gwRule) response(w http.ResponseWriter, be *gwBackend, origin string) *gwResponse {
	var backendChanges *gwHeaderOps
	if be != nil {
		backendChanges = be.respHeaders
	}
	if cr.respHeaders == nil && backendChanges == nil && cr.timeouts == nil && origin == "" {
		return nil
	}
	gw := &gwResponse{ResponseWriter: w, changes: [2]*gwHeaderOps{cr.respHeaders, backendChanges}}
	if origin != "" {
		gw.cors, gw.origin = cr.cors, origin
	}
	return gw
}

// pick chooses a backend by weight; n is a random number below the total
// weight.
func (cr *gwRule) pick(n int32) *gwBackend {
	for i, w := range cr.weights {
		if n < w {
			return &cr.backends[i]
		}
	}
	return nil
}

// total is the sum of the rule's weights.
func (cr *gwRule) total() int32 {
	if len(cr.weights) == 0 {
		return 0
	}
	return cr.weights[len(cr.weights)-1]
}
