package translate

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/straitgw/strait/internal/model"
)

// globalDefault resolves the controller's default backend. Without one, or
// when it cannot be resolved, unmatched requests get the built-in 404.
func (t *translator) globalDefault(opts Options) model.Action {
	notFound := model.Action{Status: http.StatusNotFound}
	if opts.DefaultBackendService == "" {
		return notFound
	}
	ns, name, ok := strings.Cut(opts.DefaultBackendService, "/")
	ref := model.ObjectRef{Kind: "Service", Namespace: ns, Name: name}
	if !ok || ns == "" || name == "" {
		t.problem(model.ObjectRef{Kind: "Flag", Name: "default-backend-service"}, "", "InvalidFlag",
			"%q is not namespace/name; using the built-in 404 backend", opts.DefaultBackendService)
		return notFound
	}
	svc := t.service(ns, name)
	if svc == nil || len(svc.Spec.Ports) == 0 {
		t.problem(ref, "", "DefaultBackendNotFound", "default backend Service not found or has no ports; using the built-in 404 backend")
		return notFound
	}
	// ingress-nginx uses the Service's first port.
	sp := svc.Spec.Ports[0]
	be := &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: sp.Port}}}
	return t.backend(ref, ns, be, loc{rule: locFlag}, model.ProtocolHTTP)
}

// backend resolves an Ingress backend to a model backend. When it cannot,
// it reports a problem and returns a 503 action: the route stays, so that a
// broader route never catches its traffic.
func (t *translator) backend(ref model.ObjectRef, ns string, b *networkingv1.IngressBackend, l loc, proto model.Protocol) model.Action {
	return t.backendTLS(ref, ns, b, l, proto, nil)
}

// backendTLS is backend with TLS settings towards the endpoints (nil for
// nginx's defaults); each distinct setting is its own upstream set.
func (t *translator) backendTLS(ref model.ObjectRef, ns string, b *networkingv1.IngressBackend, l loc, proto model.Protocol, bt *model.BackendTLS) model.Action {
	unavailable := model.Action{Status: http.StatusServiceUnavailable}
	if b.Resource != nil {
		t.problem(ref, l.field(".backend.resource"), "UnsupportedBackend", "resource backends are not supported; requests get 503")
		return unavailable
	}
	if b.Service == nil {
		t.problem(ref, l.field(".backend.service"), "InvalidBackend", "backend names no Service; requests get 503")
		return unavailable
	}
	sb := b.Service
	ck := backendKey{ns, sb.Name, sb.Port.Name, sb.Port.Number, proto, ""}
	if bt != nil {
		ck.tls = bt.Fingerprint
	}
	if name, ok := t.resolved[ck]; ok {
		return model.Action{Backend: name}
	}
	portText := sb.Port.Name
	if portText == "" {
		portText = strconv.Itoa(int(sb.Port.Number))
	}
	svc := t.service(ns, sb.Name)
	if svc == nil {
		t.problem(ref, l.field(".backend.service.name"), "ServiceNotFound", "Service %s/%s not found; requests get 503", ns, sb.Name)
		return unavailable
	}
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if (sb.Port.Name != "" && p.Name == sb.Port.Name) || (sb.Port.Name == "" && p.Port == sb.Port.Number) {
			sp = p
			break
		}
	}
	// Backends are named after the resolved Service port, so references by
	// number and by name share one upstream set and its balancer state.
	var name string
	switch {
	case sp != nil:
		name = fmt.Sprintf("%s/%s:%d", ns, sb.Name, sp.Port)
	default:
		name = fmt.Sprintf("%s/%s:%s", ns, sb.Name, portText)
	}
	if proto != model.ProtocolHTTP {
		// The same Service port spoken to in another protocol is another
		// upstream set, with its own connections.
		name += "/" + strings.ToLower(string(proto))
	}
	if bt != nil {
		name += "/tls-" + bt.Fingerprint
	}
	if _, ok := t.backends[name]; ok {
		t.resolved[ck] = name
		return model.Action{Backend: name}
	}
	be := &model.Backend{
		Name:     name,
		Service:  model.ObjectRef{Kind: "Service", Namespace: ns, Name: sb.Name},
		Protocol: proto,
		TLS:      bt,
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		port := sb.Port.Number
		if sp != nil {
			port = sp.Port
		}
		if port == 0 {
			t.problem(ref, l.field(".backend.service.port"), "PortNotFound", "ExternalName Service %s/%s has no port %q; requests get 503", ns, sb.Name, portText)
			return unavailable
		}
		host := strings.TrimSuffix(svc.Spec.ExternalName, ".")
		if host == "" {
			t.problem(model.ObjectRef{Kind: "Service", Namespace: ns, Name: sb.Name}, "spec.externalName", "InvalidService", "ExternalName Service has no externalName; requests get 503")
			return unavailable
		}
		be.Port = port
		be.Endpoints = []model.Endpoint{{Host: host, Port: port}}
		t.backends[name] = be
		t.resolved[ck] = name
		return model.Action{Backend: name}
	}
	if sp == nil {
		t.problem(ref, l.field(".backend.service.port"), "PortNotFound", "Service %s/%s has no port %q; requests get 503", ns, sb.Name, portText)
		return unavailable
	}
	be.Port = sp.Port
	be.Endpoints = Endpoints(t.endpointSlices(ns, sb.Name), sp)
	t.backends[name] = be
	t.resolved[ck] = name
	return model.Action{Backend: name}
}

// Endpoints collects the ready addresses of a Service port from its
// EndpointSlices. Slices name their ports after the Service port. It is
// also the endpoints fast path's way to recompute one backend.
func Endpoints(slices []*discoveryv1.EndpointSlice, sp *corev1.ServicePort) []model.Endpoint {
	seen := map[model.Endpoint]bool{}
	var out []model.Endpoint
	for _, s := range slices {
		if s.AddressType != discoveryv1.AddressTypeIPv4 && s.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		var port int32
		found := false
		for _, p := range s.Ports {
			pname := ""
			if p.Name != nil {
				pname = *p.Name
			}
			proto := corev1.ProtocolTCP
			if p.Protocol != nil {
				proto = *p.Protocol
			}
			if pname == sp.Name && proto == corev1.ProtocolTCP && p.Port != nil {
				port, found = *p.Port, true
				break
			}
		}
		if !found {
			continue
		}
		for _, ep := range s.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, addr := range ep.Addresses {
				e := model.Endpoint{Host: addr, Port: port}
				if !seen[e] {
					seen[e] = true
					out = append(out, e)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Host != out[j].Host {
			return out[i].Host < out[j].Host
		}
		return out[i].Port < out[j].Port
	})
	return out
}

// ServicePort returns the port of svc with the given number, or nil.
func ServicePort(svc *corev1.Service, port int32) *corev1.ServicePort {
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == port {
			return &svc.Spec.Ports[i]
		}
	}
	return nil
}

// backendKey identifies an Ingress backend reference as written, so that
// the many paths pointing at one Service port resolve it once.
type backendKey struct {
	namespace, service, portName string
	portNumber                   int32
	protocol                     model.Protocol
	tls                          string // BackendTLS fingerprint
}
