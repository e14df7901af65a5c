package gatewayapi

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/straitgw/strait/internal/snapshot"
)

// RouteStatus is one route's status towards the parents that are ours.
type RouteStatus struct {
	Kind      string                        `json:"kind"`
	Namespace string                        `json:"namespace"`
	Name      string                        `json:"name"`
	Parents   []gatewayv1.RouteParentStatus `json:"parents"`
}

// route is what attachment reads of a route of any kind.
type route struct {
	kind       gatewayv1.Kind
	namespace  string
	name       string
	generation int64
	parents    []gatewayv1.ParentReference
	hostnames  []gatewayv1.Hostname
	backends   []gatewayv1.BackendObjectReference
	created    metav1.Time
	http       *gatewayv1.HTTPRoute // the route, when an HTTPRoute
	grpc       *gatewayv1.GRPCRoute // the route, when a GRPCRoute
	// rules are the route's rules as filters make them, by index.
	rules []rulePlan
}

// attachment is a route attached to one listener of a Gateway.
type attachment struct {
	gateway, listener int // indexes in the snapshot's Gateways and the Gateway's listeners
	route             *route
}

// routes lists the snapshot's routes in the order of their statuses: by
// kind, then namespace/name (the snapshot's order within a kind).
func routes(s *snapshot.Snapshot) []route {
	var out []route
	for _, r := range s.GRPCRoutes {
		rt := route{kind: "GRPCRoute", namespace: r.Namespace, name: r.Name, generation: r.Generation,
			parents: r.Spec.ParentRefs, hostnames: r.Spec.Hostnames, created: r.CreationTimestamp, grpc: r}
		for _, rule := range r.Spec.Rules {
			for _, b := range rule.BackendRefs {
				rt.backends = append(rt.backends, b.BackendObjectReference)
			}
			rt.backends = append(rt.backends, mirrorRefs(grpcFilters(rule.Filters))...)
		}
		rt.rules = planGRPC(&rt)
		out = append(out, rt)
	}
	for _, r := range s.HTTPRoutes {
		rt := route{kind: "HTTPRoute", namespace: r.Namespace, name: r.Name, generation: r.Generation,
			parents: r.Spec.ParentRefs, hostnames: r.Spec.Hostnames, created: r.CreationTimestamp, http: r}
		for _, rule := range r.Spec.Rules {
			for _, b := range rule.BackendRefs {
				rt.backends = append(rt.backends, b.BackendObjectReference)
			}
			rt.backends = append(rt.backends, mirrorRefs(rule.Filters)...)
		}
		rt.rules = planHTTP(&rt)
		out = append(out, rt)
	}
	return out
}

// routeStatuses attaches the routes to the listeners of our Gateways,
// counting attachedRoutes in gws' statuses, and returns the routes'
// statuses and the attachments.
func routeStatuses(s *snapshot.Snapshot, gws []GatewayStatus, opts Options) ([]RouteStatus, []attachment) {
	byName := make(map[types.NamespacedName]int, len(s.Gateways))
	for i, g := range s.Gateways {
		byName[types.NamespacedName{Namespace: g.Namespace, Name: g.Name}] = i
	}
	var out []RouteStatus
	var atts []attachment
	all := routes(s)
	for ri := range all {
		r := &all[ri]
		rs := RouteStatus{Kind: string(r.kind), Namespace: r.namespace, Name: r.name}
		refsReason, refsMessage := backendRefs(s, string(r.kind), r.namespace, r.backends)
		if p := r.unresolvedFilter(); p != nil && refsReason == gatewayv1.RouteReasonResolvedRefs {
			refsReason, refsMessage = p.reason, p.message
		}
		invalid, invalidReason, invalidMessages := r.invalidRules()
		for _, pr := range r.parents {
			if (pr.Group != nil && string(*pr.Group) != gatewayGroup) || (pr.Kind != nil && *pr.Kind != "Gateway") {
				continue // not a Gateway: not ours to report on
			}
			ns := r.namespace
			if pr.Namespace != nil {
				ns = string(*pr.Namespace)
			}
			i, ok := byName[types.NamespacedName{Namespace: ns, Name: string(pr.Name)}]
			if !ok {
				continue // not one of our Gateways
			}
			reason, message := attach(s, s.Gateways[i], &gws[i], r.kind, r.namespace, r.hostnames, pr, func(l int) {
				atts = append(atts, attachment{gateway: i, listener: l, route: r})
			})
			var partial []metav1.Condition
			if reason == gatewayv1.RouteReasonAccepted && invalid > 0 {
				// Invalid rules are answered 500 (see filters.go): all of
				// them make the route invalid, some only part of it.
				if invalid == len(r.rules) {
					reason, message = invalidReason, joinMessages(invalidMessages)
				} else {
					// The API's one reason for PartiallyInvalid.
					partial = append(partial, condition(string(gatewayv1.RouteConditionPartiallyInvalid), true,
						string(gatewayv1.RouteReasonUnsupportedValue), droppedRules(invalidMessages), r.generation))
				}
			}
			rs.Parents = append(rs.Parents, gatewayv1.RouteParentStatus{
				ParentRef:      pr,
				ControllerName: opts.ControllerName,
				Conditions: append([]metav1.Condition{
					condition(string(gatewayv1.RouteConditionAccepted), reason == gatewayv1.RouteReasonAccepted, string(reason), message, r.generation),
					condition(string(gatewayv1.RouteConditionResolvedRefs), refsReason == gatewayv1.RouteReasonResolvedRefs, string(refsReason), refsMessage, r.generation),
				}, partial...),
			})
		}
		if len(rs.Parents) > 0 {
			out = append(out, rs)
		}
	}
	return out, atts
}

// attach attaches a route to the listeners of g that parent reference pr
// selects and that allow it, counting it in each listener's
// attachedRoutes; the reason says why it attached nowhere, when it did
// not.
func attach(s *snapshot.Snapshot, g *gatewayv1.Gateway, st *GatewayStatus, kind gatewayv1.Kind, routeNS string, hosts []gatewayv1.Hostname, pr gatewayv1.ParentReference, attached func(listener int)) (gatewayv1.RouteConditionReason, string) {
	matched, notAllowed, noHost, ok := false, false, false, false
	for i, l := range g.Spec.Listeners {
		if pr.SectionName != nil && *pr.SectionName != l.Name || pr.Port != nil && *pr.Port != l.Port {
			continue
		}
		matched = true
		ls := &st.Listeners[i]
		if !kindSupported(ls.SupportedKinds, kind) || !namespaceAllowed(s, g, l, routeNS) {
			notAllowed = true
			continue
		}
		if !hostnamesIntersect(l.Hostname, hosts) {
			noHost = true
			continue
		}
		ls.AttachedRoutes++
		ok = true
		attached(i)
	}
	switch {
	case ok:
		return gatewayv1.RouteReasonAccepted, ""
	case !matched:
		return gatewayv1.RouteReasonNoMatchingParent, "no listener of the Gateway has the section name or port the parent reference names"
	case notAllowed && !noHost:
		return gatewayv1.RouteReasonNotAllowedByListeners, "no listener the parent reference selects allows this route's kind and namespace"
	default:
		return gatewayv1.RouteReasonNoMatchingListenerHostname, "no hostname of the route intersects a listener's hostname"
	}
}

// kindSupported reports whether a listener serving kinds takes kind.
func kindSupported(kinds []gatewayv1.RouteGroupKind, kind gatewayv1.Kind) bool {
	for _, k := range kinds {
		if k.Kind == kind && (k.Group == nil || string(*k.Group) == gatewayGroup) {
			return true
		}
	}
	return false
}

// namespaceAllowed applies a listener's allowedRoutes.namespaces to a
// route in routeNS: Same (the default), All, or the namespaces whose
// labels match a selector.
func namespaceAllowed(s *snapshot.Snapshot, g *gatewayv1.Gateway, l gatewayv1.Listener, routeNS string) bool {
	from := gatewayv1.NamespacesFromSame
	var sel *metav1.LabelSelector
	if a := l.AllowedRoutes; a != nil && a.Namespaces != nil {
		if a.Namespaces.From != nil {
			from = *a.Namespaces.From
		}
		sel = a.Namespaces.Selector
	}
	switch from {
	case gatewayv1.NamespacesFromAll:
		return true
	case gatewayv1.NamespacesFromSelector:
		ns := s.Namespaces[routeNS]
		if ns == nil || sel == nil {
			return false
		}
		selector, err := metav1.LabelSelectorAsSelector(sel)
		return err == nil && selector.Matches(labelSet(ns.Labels))
	default:
		return routeNS == g.Namespace
	}
}

// labelSet is a namespace's labels as a selector reads them.
type labelSet map[string]string

func (l labelSet) Has(k string) bool   { _, ok := l[k]; return ok }
func (l labelSet) Get(k string) string { return l[k] }
func (l labelSet) Lookup(k string) (string, bool) {
	v, ok := l[k]
	return v, ok
}

// hostnamesIntersect reports whether a route with hosts may attach to a
// listener with hostname: either names none, or one of hosts intersects
// it.
func hostnamesIntersect(hostname *gatewayv1.Hostname, hosts []gatewayv1.Hostname) bool {
	if hostname == nil || *hostname == "" || len(hosts) == 0 {
		return true
	}
	for _, h := range hosts {
		if intersect(string(*hostname), string(h)) {
			return true
		}
	}
	return false
}

// intersect reports whether two hostnames, each exact or a wildcard
// ("*." then a suffix matching one label or more), match a common host.
func intersect(a, b string) bool {
	switch {
	case a == b:
		return true
	case strings.HasPrefix(a, "*.") && strings.HasSuffix(b, a[1:]) && len(b) > len(a)-1:
		return true
	case strings.HasPrefix(b, "*.") && strings.HasSuffix(a, b[1:]) && len(a) > len(b)-1:
		return true
	}
	return false
}

// backendRefs checks a route's backends: core Services that exist, in the
// route's namespace or granted to routes of kind from there.
func backendRefs(s *snapshot.Snapshot, kind, routeNS string, refs []gatewayv1.BackendObjectReference) (gatewayv1.RouteConditionReason, string) {
	for _, ref := range refs {
		group, k := "", "Service"
		if ref.Group != nil {
			group = string(*ref.Group)
		}
		if ref.Kind != nil {
			k = string(*ref.Kind)
		}
		if group != "" || k != "Service" {
			return gatewayv1.RouteReasonInvalidKind, fmt.Sprintf("backend %s of kind %s and group %q: only core Services are supported", ref.Name, k, group)
		}
		ns := routeNS
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		if !permitted(s, reference{fromGroup: gatewayGroup, fromKind: kind, fromNamespace: routeNS,
			toGroup: "", toKind: "Service", toNamespace: ns, toName: string(ref.Name)}) {
			return gatewayv1.RouteReasonRefNotPermitted, fmt.Sprintf("no ReferenceGrant in %s allows this route the Service %s", ns, ref.Name)
		}
		if s.Services[types.NamespacedName{Namespace: ns, Name: string(ref.Name)}] == nil {
			return gatewayv1.RouteReasonBackendNotFound, fmt.Sprintf("Service %s/%s does not exist", ns, ref.Name)
		}
	}
	return gatewayv1.RouteReasonResolvedRefs, ""
}
