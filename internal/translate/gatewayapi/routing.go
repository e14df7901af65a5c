package gatewayapi

import (
	"cmp"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/snapshot"
	"github.com/straitgw/strait/internal/translate"
)

// routing builds the model of our Gateways: their programmed listeners,
// each with the rules of the HTTPRoutes attached to it in precedence
// order, and the backends those rules name.
func routing(s *snapshot.Snapshot, gws []GatewayStatus, atts []attachment) ([]model.Gateway, []model.Backend) {
	backends := map[string]model.Backend{}
	attached := map[[2]int][]*route{}
	for _, a := range atts {
		k := [2]int{a.gateway, a.listener}
		attached[k] = append(attached[k], a.route)
	}
	var out []model.Gateway
	for i, g := range s.Gateways {
		mg := model.Gateway{Name: g.Namespace + "/" + g.Name}
		for j, l := range g.Spec.Listeners {
			if !isTrue(gws[i].Listeners[j].Conditions, gatewayv1.ListenerConditionProgrammed) {
				continue
			}
			ml := model.Listener{Name: string(l.Name), Port: int32(l.Port), TLS: l.Protocol == gatewayv1.HTTPSProtocolType}
			if l.Hostname != nil {
				ml.Hostname = string(*l.Hostname)
			}
			if ml.TLS {
				for _, ref := range l.TLS.CertificateRefs {
					ns := g.Namespace
					if ref.Namespace != nil {
						ns = string(*ref.Namespace)
					}
					ml.Certificates = append(ml.Certificates, ns+"/"+string(ref.Name))
				}
			}
			var rules []ruleEntry
			for _, r := range attached[[2]int{i, j}] {
				switch {
				case r.http != nil:
					rules = append(rules, httpRules(s, r, ml.Hostname, backends)...)
				case r.grpc != nil:
					rules = append(rules, grpcRules(s, r, ml.Hostname, backends)...)
				}
			}
			slices.SortStableFunc(rules, compareRules)
			for _, e := range rules {
				ml.Rules = append(ml.Rules, e.rule)
			}
			mg.Listeners = append(mg.Listeners, ml)
		}
		slices.SortFunc(mg.Listeners, func(a, b model.Listener) int {
			return cmp.Or(cmp.Compare(a.Port, b.Port), strings.Compare(a.Name, b.Name))
		})
		out = append(out, mg)
	}
	list := make([]model.Backend, 0, len(backends))
	for _, b := range backends {
		list = append(list, b)
	}
	slices.SortFunc(list, func(a, b model.Backend) int { return strings.Compare(a.Name, b.Name) })
	return out, list
}

// isTrue reports whether the condition of type typ is True.
func isTrue(conds []metav1.Condition, typ gatewayv1.ListenerConditionType) bool {
	for _, c := range conds {
		if c.Type == string(typ) {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}

// ruleEntry is a rule with what the Gateway API orders rules by, beyond
// the rule itself: the route's age and name, and the rule's and match's
// place in it.
type ruleEntry struct {
	rule         model.GatewayRule
	created      metav1.Time
	route        string // namespace/name
	index, match int
}

// pathRank orders path match types: exact paths first, then regular
// expressions (whose place the API leaves to implementations: before
// prefixes, so that a catch-all prefix does not hide them), then
// prefixes.
func pathRank(t string) int {
	switch t {
	case string(gatewayv1.PathMatchExact):
		return 0
	case string(gatewayv1.PathMatchRegularExpression):
		return 1
	}
	return 2
}

// compareRules is the Gateway API's precedence: exact paths, then the
// longest paths (regular expressions before prefixes), then a method, then the most header matches, then the
// most query matches; ties go to the oldest route, then the first by
// namespace/name, then rule and match order.
func compareRules(a, b ruleEntry) int {
	ra, rb := a.rule, b.rule
	return cmp.Or(
		cmp.Compare(pathRank(ra.Path.Type), pathRank(rb.Path.Type)),
		cmp.Compare(len(rb.Path.Value), len(ra.Path.Value)),
		cmp.Compare(boolRank(rb.Method != ""), boolRank(ra.Method != "")),
		cmp.Compare(len(rb.Headers), len(ra.Headers)),
		cmp.Compare(len(rb.Query), len(ra.Query)),
		a.created.Time.Compare(b.created.Time),
		strings.Compare(a.route, b.route),
		cmp.Compare(a.index, b.index),
		cmp.Compare(a.match, b.match),
	)
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// effectiveHostnames returns the hostnames a route's rules serve on a
// listener: each route hostname that intersects the listener's, narrowed
// to the listener's where that is the more specific. Empty means the
// listener's own.
func effectiveHostnames(listener string, hosts []gatewayv1.Hostname) []string {
	var out []string
	for _, h := range hosts {
		hs := string(h)
		switch {
		case listener == "":
			out = append(out, hs)
		case !intersect(listener, hs):
		case strings.HasPrefix(hs, "*.") && (!strings.HasPrefix(listener, "*.") || len(listener) > len(hs)):
			out = append(out, listener) // the route's wildcard is the wider
		default:
			out = append(out, hs)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// httpRules turns an attached HTTPRoute into rule entries, one per match
// of each rule, adding the backends they name to backends.
func httpRules(s *snapshot.Snapshot, r *route, listenerHost string, backends map[string]model.Backend) []ruleEntry {
	hosts := effectiveHostnames(listenerHost, r.hostnames)
	var out []ruleEntry
	for ri, rule := range r.http.Spec.Rules {
		plan := r.rules[ri]
		f := plan.filters
		var actions []model.WeightedAction
		var mirrored []model.GatewayMirror
		switch {
		case plan.problem != nil:
			actions = internalError()
		case f.redirect != nil:
			// Redirected: the backends are never asked.
		default:
			mirrored = mirrors(s, r, f.mirrors, "", backends)
			actions = ruleBackends(s, r, plan.backends, "", backends)
			if len(actions) == 0 {
				// No backend to send to: the API wants a 500.
				actions = internalError()
			}
		}
		matches := rule.Matches
		if len(matches) == 0 {
			matches = []gatewayv1.HTTPRouteMatch{{}}
		}
		for mi, m := range matches {
			gr := model.GatewayRule{
				Route:           ruleLabel("HTTPRoute", r, ri, rule.Name, mi),
				Hostnames:       hosts,
				Path:            pathMatch(m.Path),
				RequestHeaders:  f.reqHeaders,
				ResponseHeaders: f.respHeaders,
				Redirect:        f.redirect,
				Rewrite:         f.rewrite,
				Mirrors:         mirrored,
				Timeouts:        plan.timeouts,
				CORS:            f.cors,
				Backends:        actions,
			}
			if m.Method != nil {
				gr.Method = string(*m.Method)
			}
			for _, h := range m.Headers {
				gr.Headers = addMatch(gr.Headers, strings.ToLower(string(h.Name)), (*string)(h.Type), h.Value)
			}
			for _, q := range m.QueryParams {
				gr.Query = addMatch(gr.Query, string(q.Name), (*string)(q.Type), q.Value)
			}
			out = append(out, r.entry(gr, ri, mi))
		}
	}
	return out
}

// entry is rule ri's match mi of r, its conditions sorted by name, with
// what precedence reads of the route.
// ruleLabel names a rule's match for logs and metrics: by the rule's
// name when it has one (HTTPRouteNamedRouteRule), else by its index.
func ruleLabel(kind string, r *route, ri int, name *gatewayv1.SectionName, mi int) string {
	rule := strconv.Itoa(ri)
	if name != nil && *name != "" {
		rule = string(*name)
	}
	return fmt.Sprintf("%s %s/%s rule %s match %d", kind, r.namespace, r.name, rule, mi)
}

func (r *route) entry(gr model.GatewayRule, ri, mi int) ruleEntry {
	byName := func(a, b model.ValueMatch) int { return strings.Compare(a.Name, b.Name) }
	slices.SortFunc(gr.Headers, byName)
	slices.SortFunc(gr.Query, byName)
	return ruleEntry{rule: gr, created: r.created, route: r.namespace + "/" + r.name, index: ri, match: mi}
}

// addMatch adds a header or query condition unless one of the same name
// came first: the API has the first win.
func addMatch(list []model.ValueMatch, name string, typ *string, value string) []model.ValueMatch {
	for _, m := range list {
		if m.Name == name {
			return list
		}
	}
	t := ""
	if typ != nil && *typ != string(gatewayv1.HeaderMatchExact) {
		t = *typ
	}
	return append(list, model.ValueMatch{Name: name, Type: t, Value: value})
}

// pathMatch is a match's path, with the API's default of a prefix "/".
func pathMatch(p *gatewayv1.HTTPPathMatch) model.PathMatch {
	out := model.PathMatch{Type: string(gatewayv1.PathMatchPathPrefix), Value: "/"}
	if p == nil {
		return out
	}
	if p.Type != nil {
		out.Type = string(*p.Type)
	}
	if p.Value != nil {
		out.Value = *p.Value
	}
	return out
}

// internalError is the backends of a rule that cannot be served: every
// request is answered 500.
func internalError() []model.WeightedAction {
	return []model.WeightedAction{{Action: model.Action{Status: 500}, Weight: 1}}
}

// ruleBackends resolves a rule's backends to model backends, adding them
// to backends. A reference that does not resolve keeps its weight and is
// answered 500; weights of 0 are left out. References to one backend with
// the same filters share one entry.
func ruleBackends(s *snapshot.Snapshot, r *route, refs []backendPlan, proto model.Protocol, backends map[string]model.Backend) []model.WeightedAction {
	var out []model.WeightedAction
	for _, bp := range refs {
		ref := bp.ref
		w := int32(1)
		if ref.Weight != nil {
			w = *ref.Weight
		}
		if w == 0 {
			continue
		}
		wa := model.WeightedAction{Action: model.Action{Status: 500}, Weight: w}
		// A backend whose filters cannot be applied is answered 500.
		if name, b, ok := serviceBackend(s, r, ref.BackendObjectReference, proto); ok && bp.unresolved == nil {
			backends[name] = b
			wa.Action = model.Action{Backend: name}
			wa.RequestHeaders, wa.ResponseHeaders = bp.filters.reqHeaders, bp.filters.respHeaders
		}
		if i := slices.IndexFunc(out, func(x model.WeightedAction) bool { return sameTarget(x, wa) }); i >= 0 {
			out[i].Weight += w
			continue
		}
		out = append(out, wa)
	}
	// Stable: entries of one backend with different filters keep the
	// route's order.
	slices.SortStableFunc(out, func(a, b model.WeightedAction) int {
		return cmp.Or(strings.Compare(a.Backend, b.Backend), cmp.Compare(a.Status, b.Status))
	})
	return out
}

// sameTarget reports whether two backends of a rule are one: the same
// action, with the same filters.
func sameTarget(a, b model.WeightedAction) bool {
	return a.Action == b.Action && reflect.DeepEqual(a.RequestHeaders, b.RequestHeaders) && reflect.DeepEqual(a.ResponseHeaders, b.ResponseHeaders)
}

// serviceBackend resolves a backend reference to a Service port's
// backend, when the reference is valid and permitted and the port exists.
// proto is the protocol spoken to it, or "" for what the port's
// appProtocol asks. Backends are named as the Ingress translation names
// them: "namespace/service:port", with the protocol after a slash unless
// it is HTTP.
func serviceBackend(s *snapshot.Snapshot, r *route, ref gatewayv1.BackendObjectReference, proto model.Protocol) (string, model.Backend, bool) {
	if ref.Group != nil && *ref.Group != "" || ref.Kind != nil && *ref.Kind != "Service" || ref.Port == nil {
		return "", model.Backend{}, false
	}
	ns := r.namespace
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	if !permitted(s, reference{fromGroup: gatewayGroup, fromKind: string(r.kind), fromNamespace: r.namespace,
		toGroup: "", toKind: "Service", toNamespace: ns, toName: string(ref.Name)}) {
		return "", model.Backend{}, false
	}
	nn := types.NamespacedName{Namespace: ns, Name: string(ref.Name)}
	svc := s.Services[nn]
	if svc == nil {
		return "", model.Backend{}, false
	}
	sp := translate.ServicePort(svc, int32(*ref.Port))
	if sp == nil {
		return "", model.Backend{}, false
	}
	if proto == "" {
		proto = appProtocol(sp)
	}
	name := fmt.Sprintf("%s/%s:%d", ns, ref.Name, sp.Port)
	if proto != model.ProtocolHTTP {
		name += "/" + strings.ToLower(string(proto))
	}
	b := model.Backend{Name: name, Service: model.ObjectRef{Kind: "Service", Namespace: ns, Name: string(ref.Name)},
		Port: sp.Port, Protocol: proto, Endpoints: translate.Endpoints(s.EndpointSlices[nn], sp)}
	return name, b, true
}

// appProtocol is the protocol a Service port's appProtocol asks for:
// HTTP/2 in clear text for kubernetes.io/h2c, HTTP/1.1 otherwise
// (WebSockets included).
func appProtocol(sp *corev1.ServicePort) model.Protocol {
	if sp.AppProtocol != nil && *sp.AppProtocol == "kubernetes.io/h2c" {
		return model.ProtocolGRPC
	}
	return model.ProtocolHTTP
}

// grpcRules turns an attached GRPCRoute into rule entries: a method match
// is a path match on "/service/method" (exact, or a regular expression
// with either part open), headers as for HTTP; backends speak HTTP/2 in
// clear text.
func grpcRules(s *snapshot.Snapshot, r *route, listenerHost string, backends map[string]model.Backend) []ruleEntry {
	hosts := effectiveHostnames(listenerHost, r.hostnames)
	var out []ruleEntry
	for ri, rule := range r.grpc.Spec.Rules {
		plan := r.rules[ri]
		f := plan.filters
		actions := internalError()
		var mirrored []model.GatewayMirror
		if plan.problem == nil {
			mirrored = mirrors(s, r, f.mirrors, model.ProtocolGRPC, backends)
			if a := ruleBackends(s, r, plan.backends, model.ProtocolGRPC, backends); len(a) > 0 {
				actions = a
			}
		}
		matches := rule.Matches
		if len(matches) == 0 {
			matches = []gatewayv1.GRPCRouteMatch{{}}
		}
		for mi, m := range matches {
			gr := model.GatewayRule{
				Route:           ruleLabel("GRPCRoute", r, ri, rule.Name, mi),
				Hostnames:       hosts,
				Path:            grpcPath(m.Method),
				RequestHeaders:  f.reqHeaders,
				ResponseHeaders: f.respHeaders,
				Mirrors:         mirrored,
				Backends:        actions,
			}
			for _, h := range m.Headers {
				gr.Headers = addMatch(gr.Headers, strings.ToLower(string(h.Name)), (*string)(h.Type), h.Value)
			}
			out = append(out, r.entry(gr, ri, mi))
		}
	}
	return out
}

// grpcPath is a gRPC method match as a path match.
func grpcPath(m *gatewayv1.GRPCMethodMatch) model.PathMatch {
	if m == nil || m.Service == nil && m.Method == nil {
		return model.PathMatch{Type: string(gatewayv1.PathMatchPathPrefix), Value: "/"}
	}
	service, method := "", ""
	if m.Service != nil {
		service = *m.Service
	}
	if m.Method != nil {
		method = *m.Method
	}
	if m.Type == nil || *m.Type == gatewayv1.GRPCMethodMatchExact {
		if method == "" {
			return model.PathMatch{Type: string(gatewayv1.PathMatchPathPrefix), Value: "/" + service}
		}
		if service == "" {
			return model.PathMatch{Type: string(gatewayv1.PathMatchRegularExpression), Value: "/[^/]+/" + regexp.QuoteMeta(method)}
		}
		return model.PathMatch{Type: string(gatewayv1.PathMatchExact), Value: "/" + service + "/" + method}
	}
	if service == "" {
		service = "[^/]+"
	}
	if method == "" {
		method = "[^/]+"
	}
	return model.PathMatch{Type: string(gatewayv1.PathMatchRegularExpression), Value: "/(?:" + service + ")/(?:" + method + ")"}
}
