package gatewayapi

import (
	"crypto/tls"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/straitgw/strait/internal/snapshot"
)

// gatewayStatus validates a Gateway's listeners. The Gateway is accepted
// when at least one listener is.
func gatewayStatus(s *snapshot.Snapshot, g *gatewayv1.Gateway, opts Options) GatewayStatus {
	st := GatewayStatus{Namespace: g.Namespace, Name: g.Name}
	conflicts := listenerConflicts(g.Spec.Listeners)
	accepted, all := 0, true
	for i, l := range g.Spec.Listeners {
		ls, ok := listenerStatus(s, g, l, conflicts[i], opts)
		st.Listeners = append(st.Listeners, ls)
		if ok {
			accepted++
		} else {
			all = false
		}
	}
	typ := string(gatewayv1.GatewayConditionAccepted)
	switch {
	case all:
		st.Conditions = append(st.Conditions, condition(typ, true, string(gatewayv1.GatewayReasonAccepted), "", g.Generation))
	case accepted > 0:
		st.Conditions = append(st.Conditions, condition(typ, true, string(gatewayv1.GatewayReasonListenersNotValid),
			fmt.Sprintf("%d of %d listeners are not valid", len(g.Spec.Listeners)-accepted, len(g.Spec.Listeners)), g.Generation))
	default:
		st.Conditions = append(st.Conditions, condition(typ, false, string(gatewayv1.GatewayReasonListenersNotValid),
			"no listener is valid", g.Generation))
	}
	return st
}

// protocolFamily groups protocols that can share a port: HTTP listeners
// with each other, HTTPS (and TLS) listeners with each other.
func protocolFamily(p gatewayv1.ProtocolType) string {
	switch p {
	case gatewayv1.HTTPProtocolType:
		return "http"
	case gatewayv1.HTTPSProtocolType, gatewayv1.TLSProtocolType:
		return "tls"
	}
	return string(p)
}

// listenerConflicts returns, per listener, the reason it conflicts with
// another of the Gateway ("" when it does not): listeners on one port must
// be of one protocol family, and not repeat a hostname.
func listenerConflicts(ls []gatewayv1.Listener) []gatewayv1.ListenerConditionReason {
	out := make([]gatewayv1.ListenerConditionReason, len(ls))
	host := func(l gatewayv1.Listener) string {
		if l.Hostname == nil {
			return ""
		}
		return string(*l.Hostname)
	}
	for i, a := range ls {
		for j, b := range ls {
			if i == j || a.Port != b.Port {
				continue
			}
			switch {
			case protocolFamily(a.Protocol) != protocolFamily(b.Protocol):
				out[i] = gatewayv1.ListenerReasonProtocolConflict
			case host(a) == host(b) && out[i] == "":
				out[i] = gatewayv1.ListenerReasonHostnameConflict
			}
		}
	}
	return out
}

// listenerStatus validates one listener; ok says it is accepted.
func listenerStatus(s *snapshot.Snapshot, g *gatewayv1.Gateway, l gatewayv1.Listener, conflict gatewayv1.ListenerConditionReason, opts Options) (gatewayv1.ListenerStatus, bool) {
	gen := g.Generation
	ls := gatewayv1.ListenerStatus{Name: l.Name, SupportedKinds: []gatewayv1.RouteGroupKind{}}
	supported := l.Protocol == gatewayv1.HTTPProtocolType || l.Protocol == gatewayv1.HTTPSProtocolType

	// Route kinds: those the listener names that Strait serves, or all
	// Strait serves when it names none.
	kindsOK := true
	if supported {
		var asked []gatewayv1.RouteGroupKind
		if l.AllowedRoutes != nil {
			asked = l.AllowedRoutes.Kinds
		}
		if len(asked) == 0 {
			for _, k := range opts.RouteKinds {
				ls.SupportedKinds = append(ls.SupportedKinds, routeKind(k))
			}
		}
		for _, k := range asked {
			group := gatewayGroup
			if k.Group != nil {
				group = string(*k.Group)
			}
			if group == gatewayGroup && slices.Contains(opts.RouteKinds, k.Kind) {
				ls.SupportedKinds = append(ls.SupportedKinds, routeKind(k.Kind))
			} else {
				kindsOK = false
			}
		}
	}

	refsReason, refsMessage := gatewayv1.ListenerReasonResolvedRefs, ""
	if !kindsOK {
		refsReason, refsMessage = gatewayv1.ListenerReasonInvalidRouteKinds, "the listener names route kinds Strait does not serve"
	} else if supported && l.Protocol == gatewayv1.HTTPSProtocolType {
		refsReason, refsMessage = certificateRefs(s, g, l)
	}

	accepted := condition(string(gatewayv1.ListenerConditionAccepted), true, string(gatewayv1.ListenerReasonAccepted), "", gen)
	if !supported {
		accepted = condition(string(gatewayv1.ListenerConditionAccepted), false, string(gatewayv1.ListenerReasonUnsupportedProtocol),
			fmt.Sprintf("protocol %s is not served", l.Protocol), gen)
	}
	conflicted := condition(string(gatewayv1.ListenerConditionConflicted), false, string(gatewayv1.ListenerReasonNoConflicts), "", gen)
	if conflict != "" {
		conflicted = condition(string(gatewayv1.ListenerConditionConflicted), true, string(conflict),
			fmt.Sprintf("another listener on port %d conflicts with this one", l.Port), gen)
	}
	resolved := condition(string(gatewayv1.ListenerConditionResolvedRefs), refsReason == gatewayv1.ListenerReasonResolvedRefs,
		string(refsReason), refsMessage, gen)
	ok := supported && conflict == ""
	programmed := condition(string(gatewayv1.ListenerConditionProgrammed), ok && resolved.Status == "True",
		string(gatewayv1.ListenerReasonProgrammed), "", gen)
	if programmed.Status != "True" {
		programmed.Reason = string(gatewayv1.ListenerReasonInvalid)
	}
	ls.Conditions = []metav1.Condition{accepted, conflicted, programmed, resolved}
	return ls, ok
}

// routeKind is a route kind of the Gateway API group, as listeners report
// it.
func routeKind(k gatewayv1.Kind) gatewayv1.RouteGroupKind {
	g := gatewayv1.Group(gatewayGroup)
	return gatewayv1.RouteGroupKind{Group: &g, Kind: k}
}

// certificateRefs checks an HTTPS listener's certificates: core Secrets,
// in the Gateway's namespace or granted to it, holding a certificate and
// key that parse.
func certificateRefs(s *snapshot.Snapshot, g *gatewayv1.Gateway, l gatewayv1.Listener) (gatewayv1.ListenerConditionReason, string) {
	if l.TLS == nil || len(l.TLS.CertificateRefs) == 0 {
		return gatewayv1.ListenerReasonInvalidCertificateRef, "an HTTPS listener needs a certificate"
	}
	for _, ref := range l.TLS.CertificateRefs {
		group, kind := "", "Secret"
		if ref.Group != nil {
			group = string(*ref.Group)
		}
		if ref.Kind != nil {
			kind = string(*ref.Kind)
		}
		if group != "" || kind != "Secret" {
			return gatewayv1.ListenerReasonInvalidCertificateRef, fmt.Sprintf("certificate reference to kind %s of group %q: only core Secrets are supported", kind, group)
		}
		ns := g.Namespace
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		if !permitted(s, reference{fromGroup: gatewayGroup, fromKind: "Gateway", fromNamespace: g.Namespace,
			toGroup: "", toKind: "Secret", toNamespace: ns, toName: string(ref.Name)}) {
			return gatewayv1.ListenerReasonRefNotPermitted, fmt.Sprintf("no ReferenceGrant in %s allows this Gateway the Secret %s", ns, ref.Name)
		}
		sec := s.Secrets[types.NamespacedName{Namespace: ns, Name: string(ref.Name)}]
		if sec == nil {
			return gatewayv1.ListenerReasonInvalidCertificateRef, fmt.Sprintf("Secret %s/%s does not exist", ns, ref.Name)
		}
		if _, err := tls.X509KeyPair(sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey]); err != nil {
			return gatewayv1.ListenerReasonInvalidCertificateRef, fmt.Sprintf("Secret %s/%s: %v", ns, ref.Name, err)
		}
	}
	return gatewayv1.ListenerReasonResolvedRefs, ""
}
