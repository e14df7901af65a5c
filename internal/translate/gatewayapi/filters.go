package gatewayapi

import (
	"fmt"
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/straitgw/strait/internal/model"
)

// Route rule filters. A rule's filters are translated once per route, into
// what the model's rule carries; a rule whose filters cannot be served as
// written is answered 500 instead of being left out, so that no broader
// rule takes its requests, and its route's status says why.

// ruleFilters are what a rule's filters ask of the requests it matches.
type ruleFilters struct {
	reqHeaders, respHeaders *model.HeaderChanges
	redirect                *model.GatewayRedirect
	rewrite                 *model.URLRewrite
	mirrors                 []mirrorPlan
	cors                    *model.GatewayCORS
}

// ruleProblem is why a rule, or one backend of it, is answered 500.
type ruleProblem struct {
	// reason is the reason of the route's Accepted condition, or with ref
	// set of its ResolvedRefs condition.
	reason  gatewayv1.RouteConditionReason
	message string
	ref     bool
}

func unsupported(format string, args ...any) *ruleProblem {
	return &ruleProblem{reason: gatewayv1.RouteReasonUnsupportedValue, message: fmt.Sprintf(format, args...)}
}

func incompatible(format string, args ...any) *ruleProblem {
	return &ruleProblem{reason: gatewayv1.RouteReasonIncompatibleFilters, message: fmt.Sprintf(format, args...)}
}

// filterPlace says where filters are written, and so which types are
// served there.
type filterPlace int

const (
	httpRule filterPlace = iota
	httpBackend
	grpcRule
	grpcBackend
)

// served reports whether filters of type t are served at place p.
func (p filterPlace) served(t gatewayv1.HTTPRouteFilterType) bool {
	switch t {
	case gatewayv1.HTTPRouteFilterRequestHeaderModifier, gatewayv1.HTTPRouteFilterResponseHeaderModifier,
		gatewayv1.HTTPRouteFilterExtensionRef:
		return true // rules and backends alike
	case gatewayv1.HTTPRouteFilterRequestRedirect, gatewayv1.HTTPRouteFilterURLRewrite, gatewayv1.HTTPRouteFilterCORS:
		return p == httpRule
	case gatewayv1.HTTPRouteFilterRequestMirror:
		return p == httpRule || p == grpcRule
	}
	return false
}

func (p filterPlace) String() string {
	switch p {
	case httpBackend, grpcBackend:
		return "a backendRef"
	case grpcRule:
		return "a GRPCRoute rule"
	}
	return "an HTTPRoute rule"
}

// translateFilters translates the filters written at place p. A filter
// may appear once, unless the API lets it repeat. A problem with a
// reference (an ExtensionRef: no extension filter is served) comes back
// only when the filters have no other.
func translateFilters(filters []gatewayv1.HTTPRouteFilter, p filterPlace) (ruleFilters, *ruleProblem) {
	var out ruleFilters
	var refProblem *ruleProblem
	seen := map[gatewayv1.HTTPRouteFilterType]bool{}
	for i, f := range filters {
		at := fmt.Sprintf("filters[%d]", i)
		if !knownFilter(f.Type) {
			return ruleFilters{}, unsupported("%s: filter type %q is not supported", at, f.Type)
		}
		if !p.served(f.Type) {
			return ruleFilters{}, unsupported("%s: %s filters are not supported in %s", at, f.Type, p)
		}
		if seen[f.Type] && f.Type != gatewayv1.HTTPRouteFilterRequestMirror && f.Type != gatewayv1.HTTPRouteFilterExtensionRef {
			return ruleFilters{}, incompatible("%s: a %s filter may appear only once", at, f.Type)
		}
		seen[f.Type] = true
		var prob *ruleProblem
		switch f.Type {
		case gatewayv1.HTTPRouteFilterRequestHeaderModifier:
			out.reqHeaders, prob = headerChanges(f.RequestHeaderModifier)
		case gatewayv1.HTTPRouteFilterResponseHeaderModifier:
			out.respHeaders, prob = headerChanges(f.ResponseHeaderModifier)
		case gatewayv1.HTTPRouteFilterRequestRedirect:
			out.redirect, prob = requestRedirect(f.RequestRedirect)
		case gatewayv1.HTTPRouteFilterURLRewrite:
			out.rewrite, prob = urlRewrite(f.URLRewrite)
		case gatewayv1.HTTPRouteFilterCORS:
			out.cors, prob = corsFilter(f.CORS)
		case gatewayv1.HTTPRouteFilterRequestMirror:
			var m *mirrorPlan
			if m, prob = requestMirror(f.RequestMirror); m != nil {
				out.mirrors = append(out.mirrors, *m)
			}
		case gatewayv1.HTTPRouteFilterExtensionRef:
			if refProblem == nil {
				refProblem = extensionRef(f.ExtensionRef)
				refProblem.message = at + ": " + refProblem.message
			}
			continue
		}
		if prob != nil {
			prob.message = at + " (" + string(f.Type) + "): " + prob.message
			return ruleFilters{}, prob
		}
	}
	if seen[gatewayv1.HTTPRouteFilterRequestRedirect] && seen[gatewayv1.HTTPRouteFilterURLRewrite] {
		return ruleFilters{}, incompatible("RequestRedirect and URLRewrite filters may not be combined")
	}
	if refProblem != nil {
		return ruleFilters{}, refProblem
	}
	return out, nil
}

// extensionRef is the problem of an ExtensionRef filter: Strait serves no
// extension filter, so the reference never resolves, and the requests it
// would have processed are answered 500 (the API forbids skipping it).
func extensionRef(ref *gatewayv1.LocalObjectReference) *ruleProblem {
	if ref == nil {
		return &ruleProblem{reason: gatewayv1.RouteReasonUnsupportedValue, message: "an ExtensionRef filter without its extensionRef"}
	}
	return &ruleProblem{reason: gatewayv1.RouteReasonInvalidKind, ref: true,
		message: fmt.Sprintf("ExtensionRef to %s %q of group %q: no extension filter kind is supported", ref.Kind, ref.Name, ref.Group)}
}

// knownFilter reports whether t is a filter type of the API.
func knownFilter(t gatewayv1.HTTPRouteFilterType) bool {
	switch t {
	case gatewayv1.HTTPRouteFilterRequestHeaderModifier, gatewayv1.HTTPRouteFilterResponseHeaderModifier,
		gatewayv1.HTTPRouteFilterRequestMirror, gatewayv1.HTTPRouteFilterRequestRedirect,
		gatewayv1.HTTPRouteFilterURLRewrite, gatewayv1.HTTPRouteFilterCORS,
		gatewayv1.HTTPRouteFilterExternalAuth, gatewayv1.HTTPRouteFilterExtensionRef:
		return true
	}
	return false
}

// grpcFilters are GRPCRoute filters in the HTTPRoute filter type, whose
// fields they share.
func grpcFilters(fs []gatewayv1.GRPCRouteFilter) []gatewayv1.HTTPRouteFilter {
	out := make([]gatewayv1.HTTPRouteFilter, len(fs))
	for i, f := range fs {
		// A type GRPCRoute does not have is refused at the grpcRule and
		// grpcBackend places.
		out[i] = gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterType(f.Type), RequestHeaderModifier: f.RequestHeaderModifier,
			ResponseHeaderModifier: f.ResponseHeaderModifier, RequestMirror: f.RequestMirror, ExtensionRef: f.ExtensionRef}
	}
	return out
}

// ruleMessage is a rule's problems as a condition message.
func ruleMessage(rule int, p *ruleProblem) string {
	return fmt.Sprintf("rule %d: %s", rule, p.message)
}

// joinMessages joins condition messages.
func joinMessages(ms []string) string { return strings.Join(ms, "; ") }

// droppedRules is the message of a PartiallyInvalid condition: the API
// has it start with "Dropped Rule". The rules are not served as written;
// their requests are answered 500.
func droppedRules(ms []string) string {
	return "Dropped Rule (its requests are answered 500): " + joinMessages(ms)
}

// rulePlan is one rule of a route, translated once for every listener
// the route attaches to.
type rulePlan struct {
	filters  ruleFilters
	timeouts *model.GatewayTimeouts
	backends []backendPlan
	// problem, when set, has the rule answered 500.
	problem *ruleProblem
}

// backendPlan is a backend reference of a rule with its own filters,
// which apply only to the requests sent to it.
type backendPlan struct {
	ref     gatewayv1.BackendRef
	filters ruleFilters
	// unresolved marks a backend whose filters name what does not
	// resolve: its share of the requests is answered 500.
	unresolved *ruleProblem
}

// planHTTP translates the filters of an HTTPRoute's rules and backends.
func planHTTP(r *route) []rulePlan {
	out := make([]rulePlan, len(r.http.Spec.Rules))
	for i, rule := range r.http.Spec.Rules {
		plan := rulePlan{}
		plan.filters, plan.problem = translateFilters(rule.Filters, httpRule)
		if plan.problem == nil {
			plan.problem = prefixModifierMatches(plan.filters, rule.Matches)
		}
		if plan.problem == nil {
			plan.timeouts, plan.problem = ruleTimeouts(rule.Timeouts)
		}
		for j, b := range rule.BackendRefs {
			plan.addBackend(j, b.BackendRef, b.Filters, httpBackend)
		}
		out[i] = plan.checked()
	}
	return out
}

// planGRPC translates the filters of a GRPCRoute's rules and backends.
func planGRPC(r *route) []rulePlan {
	out := make([]rulePlan, len(r.grpc.Spec.Rules))
	for i, rule := range r.grpc.Spec.Rules {
		plan := rulePlan{}
		plan.filters, plan.problem = translateFilters(grpcFilters(rule.Filters), grpcRule)
		for j, b := range rule.BackendRefs {
			plan.addBackend(j, b.BackendRef, grpcFilters(b.Filters), grpcBackend)
		}
		out[i] = plan.checked()
	}
	return out
}

// addBackend adds backend reference j of the rule with its filters. Their
// problems make the rule invalid, unless they are about a reference,
// which only has the backend answered 500.
func (p *rulePlan) addBackend(j int, ref gatewayv1.BackendRef, filters []gatewayv1.HTTPRouteFilter, place filterPlace) {
	bp := backendPlan{ref: ref}
	f, prob := translateFilters(filters, place)
	switch {
	case prob == nil:
		bp.filters = f
	case prob.ref:
		prob.message = fmt.Sprintf("backendRefs[%d].%s", j, prob.message)
		bp.unresolved = prob
	case p.problem == nil:
		prob.message = fmt.Sprintf("backendRefs[%d].%s", j, prob.message)
		p.problem = prob
	}
	p.backends = append(p.backends, bp)
}

// checked is the plan with nothing of its filters left when it has a
// problem: the rule is answered 500.
func (p rulePlan) checked() rulePlan {
	if p.problem != nil {
		return rulePlan{problem: p.problem}
	}
	return p
}

// prefixModifierMatches checks that a rule replacing the matched prefix
// has one match, of a path prefix: the prefix it replaces. A match
// without a path is the API's default prefix "/".
func prefixModifierMatches(f ruleFilters, matches []gatewayv1.HTTPRouteMatch) *ruleProblem {
	prefix := f.redirect != nil && f.redirect.Path != nil && f.redirect.Path.Type == model.ReplacePrefixMatch ||
		f.rewrite != nil && f.rewrite.Path != nil && f.rewrite.Path.Type == model.ReplacePrefixMatch
	if !prefix {
		return nil
	}
	if len(matches) > 1 || len(matches) == 1 && matches[0].Path != nil && matches[0].Path.Type != nil && *matches[0].Path.Type != gatewayv1.PathMatchPathPrefix {
		return unsupported("replacePrefixMatch needs the rule to have exactly one match, of type PathPrefix")
	}
	return nil
}

// invalidRules lists the rules of r its filters make invalid, as
// condition messages, with the reason of the first.
func (r *route) invalidRules() (n int, reason gatewayv1.RouteConditionReason, msgs []string) {
	for i, p := range r.rules {
		if p.problem == nil || p.problem.ref {
			continue
		}
		if n == 0 {
			reason = p.problem.reason
		}
		n++
		msgs = append(msgs, ruleMessage(i, p.problem))
	}
	return n, reason, msgs
}

// unresolvedFilter returns the first problem of r's rules and their
// backends that is about a reference, or nil.
func (r *route) unresolvedFilter() *ruleProblem {
	for i, p := range r.rules {
		if p.problem != nil && p.problem.ref {
			return &ruleProblem{reason: p.problem.reason, message: ruleMessage(i, p.problem), ref: true}
		}
		for _, b := range p.backends {
			if b.unresolved != nil {
				return &ruleProblem{reason: b.unresolved.reason, message: ruleMessage(i, b.unresolved), ref: true}
			}
		}
	}
	return nil
}
