// Package snapshot defines the immutable set of cluster objects one routing
// generation is computed from. Sources (Kubernetes informers or a manifests
// directory) build snapshots; translate reads them and never mutates them.
package snapshot

import (
	"cmp"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// ServiceNameLabel is the label that ties an EndpointSlice to its Service.
const ServiceNameLabel = "kubernetes.io/service-name"

// Snapshot is a filtered, immutable view of the objects that matter to
// routing. Builders fill it once; nobody writes to it afterwards.
type Snapshot struct {
	// Ingresses this controller serves (after class and namespace
	// filtering), sorted by namespace/name.
	Ingresses []*networkingv1.Ingress
	// IngressClasses known to the source, sorted by name.
	IngressClasses []*networkingv1.IngressClass
	// Services by namespace/name.
	Services map[types.NamespacedName]*corev1.Service
	// EndpointSlices by the namespace/name of the Service they belong to,
	// each list sorted by slice name.
	EndpointSlices map[types.NamespacedName][]*discoveryv1.EndpointSlice
	// Secrets by namespace/name.
	Secrets map[types.NamespacedName]*corev1.Secret
	// ConfigMaps by namespace/name.
	ConfigMaps map[types.NamespacedName]*corev1.ConfigMap

	// Gateway API objects, present when ClassOptions.GatewayController
	// is set. GatewayClasses are those whose spec.controllerName is
	// ours and Gateways those of these classes; routes and grants are
	// all the source has: which route attaches where, and which grant
	// permits what, is translate's to decide.
	GatewayClasses []*gatewayv1.GatewayClass // sorted by name
	Gateways       []*gatewayv1.Gateway      // sorted by namespace/name
	HTTPRoutes     []*gatewayv1.HTTPRoute    // sorted by namespace/name
	GRPCRoutes     []*gatewayv1.GRPCRoute    // sorted by namespace/name
	// ReferenceGrants by the namespace they grant access to, each list
	// sorted by name.
	ReferenceGrants map[string][]*gatewayv1.ReferenceGrant
	// Namespaces by name, for listeners' allowedRoutes selectors.
	Namespaces map[string]*corev1.Namespace
}

// Objects is an unfiltered bag of objects as a source read them.
type Objects struct {
	Ingresses      []*networkingv1.Ingress
	IngressClasses []*networkingv1.IngressClass
	Services       []*corev1.Service
	EndpointSlices []*discoveryv1.EndpointSlice
	Secrets        []*corev1.Secret
	ConfigMaps     []*corev1.ConfigMap
	// Gateway API objects, unfiltered.
	GatewayClasses  []*gatewayv1.GatewayClass
	Gateways        []*gatewayv1.Gateway
	HTTPRoutes      []*gatewayv1.HTTPRoute
	GRPCRoutes      []*gatewayv1.GRPCRoute
	ReferenceGrants []*gatewayv1.ReferenceGrant
	Namespaces      []*corev1.Namespace
	// Classified says the source filtered Ingresses by class already
	// (with ClassFilter and the same options) and gives them in
	// namespace/name order.
	Classified bool
}

// ClassOptions selects the Ingresses a controller serves, with the meaning
// of ingress-nginx's flags of the same names.
type ClassOptions struct {
	// ControllerClass is the IngressClass spec.controller value we own.
	ControllerClass string `json:"controllerClass"`
	// IngressClass is the class name accepted in the legacy
	// kubernetes.io/ingress.class annotation, and with IngressClassByName
	// the IngressClass name accepted whatever its controller.
	IngressClass string `json:"ingressClass"`
	// IngressClassByName accepts the IngressClass named IngressClass.
	IngressClassByName bool `json:"ingressClassByName,omitempty"`
	// WatchWithoutClass serves Ingresses that name no class at all.
	WatchWithoutClass bool `json:"watchWithoutClass,omitempty"`
	// GatewayController is the GatewayClass spec.controllerName we own;
	// empty leaves the Gateway API objects out.
	GatewayController string `json:"gatewayController,omitempty"`
}

// LegacyClassAnnotation is the deprecated annotation naming an Ingress class.
const LegacyClassAnnotation = "kubernetes.io/ingress.class"

// Build filters objs by class and indexes them into a Snapshot. The
// objects are shared with the caller, who must not change them afterwards.
func Build(objs Objects, opts ClassOptions) *Snapshot {
	s := &Snapshot{
		Services:       make(map[types.NamespacedName]*corev1.Service, len(objs.Services)),
		EndpointSlices: make(map[types.NamespacedName][]*discoveryv1.EndpointSlice),
		Secrets:        make(map[types.NamespacedName]*corev1.Secret, len(objs.Secrets)),
		ConfigMaps:     make(map[types.NamespacedName]*corev1.ConfigMap, len(objs.ConfigMaps)),
	}
	s.IngressClasses = append(s.IngressClasses, objs.IngressClasses...)
	sort.Slice(s.IngressClasses, func(i, j int) bool { return s.IngressClasses[i].Name < s.IngressClasses[j].Name })
	if objs.Classified {
		s.Ingresses = objs.Ingresses
	} else {
		served := ClassFilter(s.IngressClasses, opts)
		for _, ing := range objs.Ingresses {
			if served(ing) {
				s.Ingresses = append(s.Ingresses, ing)
			}
		}
	}
	// A classifying source keeps its Ingresses in order as events arrive;
	// checking that again would cost every generation a pass of string
	// comparisons. Other sources may hand them over in order already:
	// checking is linear, sorting is not.
	if !objs.Classified && !slices.IsSortedFunc(s.Ingresses, CompareIngresses) {
		slices.SortFunc(s.Ingresses, CompareIngresses)
	}
	for _, o := range objs.Services {
		s.Services[key(o.Namespace, o.Name)] = o
	}
	for _, o := range objs.Secrets {
		s.Secrets[key(o.Namespace, o.Name)] = o
	}
	for _, o := range objs.ConfigMaps {
		s.ConfigMaps[key(o.Namespace, o.Name)] = o
	}
	for _, o := range objs.EndpointSlices {
		svc := o.Labels[ServiceNameLabel]
		if svc == "" {
			continue
		}
		k := key(o.Namespace, svc)
		s.EndpointSlices[k] = append(s.EndpointSlices[k], o)
	}
	for _, list := range s.EndpointSlices {
		sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	}
	if opts.GatewayController != "" {
		s.addGatewayAPI(objs, opts.GatewayController)
	}
	return s
}

// addGatewayAPI indexes the Gateway API objects: the classes controller
// owns, their Gateways, and every route, grant and namespace.
func (s *Snapshot) addGatewayAPI(objs Objects, controller string) {
	ours := map[string]bool{}
	for _, c := range objs.GatewayClasses {
		if string(c.Spec.ControllerName) == controller {
			s.GatewayClasses = append(s.GatewayClasses, c)
			ours[c.Name] = true
		}
	}
	slices.SortFunc(s.GatewayClasses, func(a, b *gatewayv1.GatewayClass) int { return strings.Compare(a.Name, b.Name) })
	for _, g := range objs.Gateways {
		if ours[string(g.Spec.GatewayClassName)] {
			s.Gateways = append(s.Gateways, g)
		}
	}
	sortByKey(s.Gateways)
	s.HTTPRoutes = sortByKey(slices.Clone(objs.HTTPRoutes))
	s.GRPCRoutes = sortByKey(slices.Clone(objs.GRPCRoutes))
	s.ReferenceGrants = map[string][]*gatewayv1.ReferenceGrant{}
	for _, g := range objs.ReferenceGrants {
		s.ReferenceGrants[g.Namespace] = append(s.ReferenceGrants[g.Namespace], g)
	}
	for _, list := range s.ReferenceGrants {
		sortByKey(list)
	}
	s.Namespaces = make(map[string]*corev1.Namespace, len(objs.Namespaces))
	for _, n := range objs.Namespaces {
		s.Namespaces[n.Name] = n
	}
}

// sortByKey sorts objects by namespace, then name, and returns them.
func sortByKey[T interface {
	GetNamespace() string
	GetName() string
}](list []T) []T {
	slices.SortFunc(list, func(a, b T) int {
		return cmp.Or(strings.Compare(a.GetNamespace(), b.GetNamespace()), strings.Compare(a.GetName(), b.GetName()))
	})
	return list
}

// CompareIngresses orders Ingresses by namespace, then name: the order of
// Snapshot.Ingresses.
func CompareIngresses(a, b *networkingv1.Ingress) int {
	return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
}

// ClassFilter returns whether an Ingress is served, given the
// IngressClasses known and the options.
func ClassFilter(classes []*networkingv1.IngressClass, opts ClassOptions) func(*networkingv1.Ingress) bool {
	// Few classes are ours: comparing names beats hashing them.
	var ours []string
	for _, c := range classes {
		if c.Spec.Controller == opts.ControllerClass || (opts.IngressClassByName && c.Name == opts.IngressClass) {
			ours = append(ours, c.Name)
		}
	}
	return func(ing *networkingv1.Ingress) bool { return classMatches(ing, ours, opts) }
}

// classMatches applies ingress-nginx's decision order: spec.ingressClassName
// first, then the legacy annotation, then the without-class switch.
func classMatches(ing *networkingv1.Ingress, ours []string, opts ClassOptions) bool {
	if ing.Spec.IngressClassName != nil && *ing.Spec.IngressClassName != "" {
		return slices.Contains(ours, *ing.Spec.IngressClassName)
	}
	if v, ok := ing.Annotations[LegacyClassAnnotation]; ok && v != "" {
		return v == opts.IngressClass
	}
	return opts.WatchWithoutClass
}

func key(ns, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: ns, Name: name}
}
