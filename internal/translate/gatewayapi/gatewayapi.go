// Package gatewayapi translates the Gateway API objects of a snapshot into
// their statuses: GatewayClasses accepted or not, and each Gateway's
// listeners validated (protocol, route kinds, certificate references and
// the ReferenceGrants they need, conflicts between listeners). Like the
// Ingress translation it is a pure function of the snapshot: it reads no
// API, writes nothing and never changes its input. Conditions carry no
// transition time; the status writer keeps an existing one when the
// status is unchanged.
package gatewayapi

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/snapshot"
)

// Options say what this implementation serves.
type Options struct {
	// RouteKinds are the route kinds (of the Gateway API group) that
	// listeners accept, in the order listeners report them.
	RouteKinds []gatewayv1.Kind
	// Features are the supported features GatewayClasses announce.
	Features []gatewayv1.FeatureName
	// ControllerName is ours, as route parent statuses name it.
	ControllerName gatewayv1.GatewayController
}

// Result is what the Gateway API objects of a snapshot come to.
type Result struct {
	// Classes are the statuses of the GatewayClasses we own, by name.
	Classes []ClassStatus `json:"classes,omitempty"`
	// Gateways are the statuses of their Gateways, by namespace/name.
	Gateways []GatewayStatus `json:"gateways,omitempty"`
	// Routes are the statuses of the routes that name one of those
	// Gateways as a parent, by kind, then namespace/name.
	Routes []RouteStatus `json:"routes,omitempty"`
	// Model is the routing of the Gateways, by Name, and Backends the
	// upstream sets its rules name, by Name.
	Model    []model.Gateway `json:"model,omitempty"`
	Backends []model.Backend `json:"backends,omitempty"`
	// Certificates are those the HTTPS listeners name, by Name
	// ("namespace/secret").
	Certificates []model.Certificate `json:"certificates,omitempty"`
}

// ClassStatus is one GatewayClass's status.
type ClassStatus struct {
	Name              string                       `json:"name"`
	Conditions        []metav1.Condition           `json:"conditions"`
	SupportedFeatures []gatewayv1.SupportedFeature `json:"supportedFeatures,omitempty"`
}

// GatewayStatus is one Gateway's status, addresses aside: those are the
// data plane's to assign.
type GatewayStatus struct {
	Namespace  string                     `json:"namespace"`
	Name       string                     `json:"name"`
	Conditions []metav1.Condition         `json:"conditions"`
	Listeners  []gatewayv1.ListenerStatus `json:"listeners"`
}

// Translate computes the statuses of the snapshot's Gateway API objects.
func Translate(s *snapshot.Snapshot, opts Options) Result {
	var r Result
	for _, c := range s.GatewayClasses {
		r.Classes = append(r.Classes, classStatus(c, opts))
	}
	for _, g := range s.Gateways {
		r.Gateways = append(r.Gateways, gatewayStatus(s, g, opts))
	}
	var atts []attachment
	r.Routes, atts = routeStatuses(s, r.Gateways, opts)
	r.Model, r.Backends = routing(s, r.Gateways, atts)
	r.Certificates = certificates(s, r.Model)
	return r
}

// condition is a condition of an object at generation gen.
func condition(typ string, ok bool, reason, message string, gen int64) metav1.Condition {
	st := metav1.ConditionFalse
	if ok {
		st = metav1.ConditionTrue
	}
	return metav1.Condition{Type: typ, Status: st, Reason: reason, Message: message, ObservedGeneration: gen}
}
