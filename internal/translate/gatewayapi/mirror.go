package gatewayapi

import (
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/snapshot"
)

// mirrorPlan is a RequestMirror filter before its backend is resolved.
type mirrorPlan struct {
	ref                    gatewayv1.BackendObjectReference
	numerator, denominator int32
}

// requestMirror is a RequestMirror filter: all requests, or a percentage
// or fraction of them. A share of none mirrors nothing.
func requestMirror(f *gatewayv1.HTTPRequestMirrorFilter) (*mirrorPlan, *ruleProblem) {
	if f == nil {
		return nil, unsupported("the filter has no configuration")
	}
	m := &mirrorPlan{ref: f.BackendRef, numerator: 100, denominator: 100}
	switch {
	case f.Percent != nil && f.Fraction != nil:
		return nil, unsupported("percent and fraction may not both be set")
	case f.Percent != nil:
		if *f.Percent < 0 || *f.Percent > 100 {
			return nil, unsupported("percent %d is not between 0 and 100", *f.Percent)
		}
		m.numerator = *f.Percent
	case f.Fraction != nil:
		m.numerator = f.Fraction.Numerator
		if f.Fraction.Denominator != nil {
			m.denominator = *f.Fraction.Denominator
		}
		if m.denominator < 1 || m.numerator < 0 || m.numerator > m.denominator {
			return nil, unsupported("fraction %d/%d is not between 0 and 1", m.numerator, m.denominator)
		}
	}
	if m.numerator == 0 {
		return nil, nil
	}
	if m.numerator == m.denominator {
		m.numerator, m.denominator = 1, 1
	}
	return m, nil
}

// mirrors resolves a rule's mirrors, adding their backends to backends. A
// mirror whose backend does not resolve is left out: the route's
// ResolvedRefs condition reports it.
func mirrors(s *snapshot.Snapshot, r *route, plans []mirrorPlan, proto model.Protocol, backends map[string]model.Backend) []model.GatewayMirror {
	var out []model.GatewayMirror
	for _, m := range plans {
		name, b, ok := serviceBackend(s, r, m.ref, proto)
		if !ok {
			continue
		}
		backends[name] = b
		out = append(out, model.GatewayMirror{Backend: name, Numerator: m.numerator, Denominator: m.denominator})
	}
	return out
}

// mirrorRefs are the backends the mirrors of filters name.
func mirrorRefs(filters []gatewayv1.HTTPRouteFilter) []gatewayv1.BackendObjectReference {
	var out []gatewayv1.BackendObjectReference
	for _, f := range filters {
		if f.Type == gatewayv1.HTTPRouteFilterRequestMirror && f.RequestMirror != nil {
			out = append(out, f.RequestMirror.BackendRef)
		}
	}
	return out
}
