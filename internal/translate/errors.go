package translate

import (
	"strconv"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
)

// readErrorSettings reads the ConfigMap's custom-http-errors and
// disable-proxy-intercept-errors. A malformed list is a problem on the
// ConfigMap and intercepts nothing.
func (t *translator) readErrorSettings(ref model.ObjectRef, data map[string]string) (codes []int, passthrough bool) {
	codes, _, err := (&annotations.Value[[]int]{Key: annotations.Key{Name: "custom-http-errors"}, Parse: annotations.CustomHTTPErrors.Parse}).Lookup(data, "")
	if err != nil {
		t.problem(ref, "data.custom-http-errors", "InvalidConfiguration", "%v; no error is intercepted globally", err)
		codes = nil
	}
	passthrough = t.configBool(ref, data, "disable-proxy-intercept-errors", false)
	return codes, passthrough
}

// errorsPolicy reads default-backend, custom-http-errors and
// disable-proxy-intercept-errors. The result lacks the route's Service,
// which path fills in; it is nil when neither feature applies. A
// malformed value reports failClosed, as ingress-nginx rejects such an
// Ingress.
func (t *translator) errorsPolicy(ing *networkingv1.Ingress, ref model.ObjectRef, bad func(error, string)) (e *model.Errors, failClosed bool) {
	a := ing.Annotations
	const closed = "the Ingress's paths answer 503 until it is fixed"
	var name string
	if read(a, &annotations.DefaultBackend, &name, bad, closed) {
		failClosed = true
	}
	codes := t.settings.customErrors
	if read(a, &annotations.CustomHTTPErrors, &codes, bad, closed) {
		failClosed = true
	}
	passthrough := t.settings.interceptPassthrough
	// The catalogue's "invalid → default" for this one.
	read(a, &annotations.DisableProxyInterceptErrors, &passthrough, bad, "using the default")
	e = &model.Errors{Codes: codes}
	if name != "" {
		e.DefaultBackend = t.annotationDefaultBackend(ing, ref, name)
	}
	if len(codes) > 0 {
		e.GlobalBackend = t.defaultAction.Backend
		e.UpstreamPassthrough = passthrough
	}
	if e.DefaultBackend == "" && len(codes) == 0 {
		return nil, failClosed
	}
	return e, failClosed
}

// annotationDefaultBackend resolves the default-backend annotation to the
// first port of the named Service of the Ingress's namespace. A Service
// that does not exist or has no port is a problem and ignored.
func (t *translator) annotationDefaultBackend(ing *networkingv1.Ingress, ref model.ObjectRef, name string) string {
	field := "metadata.annotations[" + annotations.Prefix + annotations.DefaultBackend.Name + "]"
	svc := t.service(ing.Namespace, name)
	if svc == nil || len(svc.Spec.Ports) == 0 {
		t.problem(ref, field, "DefaultBackendNotFound", "default-backend Service %s/%s not found or has no ports; the annotation is ignored", ing.Namespace, name)
		return ""
	}
	be := &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: svc.Spec.Ports[0].Port}}}
	before := len(t.problems)
	a := t.backend(ref, ing.Namespace, be, loc{rule: locFlag}, model.ProtocolHTTP)
	if a.Backend == "" {
		// backend reported why; it says requests get 503, which here means
		// the annotation is ignored.
		for i := before; i < len(t.problems); i++ {
			t.problems[i].Field = field
			t.problems[i].Message += " (default-backend: the annotation is ignored)"
		}
		return ""
	}
	return a.Backend
}

// routeErrors completes an Ingress's errors policy for one path with the
// Service the path names.
func routeErrors(e *model.Errors, b *networkingv1.IngressBackend) *model.Errors {
	if e == nil {
		return nil
	}
	out := *e
	if s := b.Service; s != nil {
		out.ServiceName = s.Name
		out.ServicePort = s.Port.Name
		if out.ServicePort == "" {
			out.ServicePort = strconv.Itoa(int(s.Port.Number))
		}
	}
	return &out
}

// markErrorBackends records the backends a host's error policies use.
func markErrorBackends(h *model.VirtualHost, used map[string]bool) {
	for i := range h.Routes {
		if e := h.Routes[i].Policy.Errors; e != nil {
			for _, b := range []string{e.DefaultBackend, e.GlobalBackend} {
				if b != "" {
					used[b] = true
				}
			}
		}
	}
}
