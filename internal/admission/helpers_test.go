package admission_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/straitgw/strait/internal/admission"
	"github.com/straitgw/strait/internal/metrics"
	"github.com/straitgw/strait/internal/snapshot"
	"github.com/straitgw/strait/internal/translate"
)

const ns = "apps"

// classes are the class options of the tests' controller.
func classes() snapshot.ClassOptions {
	return snapshot.ClassOptions{ControllerClass: "strait.dev/ingress-controller", IngressClass: "strait"}
}

// world is what the controller's current snapshot holds in the tests: the
// IngressClasses strait (Strait's) and other (another controller's), the
// Service web with port 80, and the Ingresses given.
func world(ings ...*networkingv1.Ingress) *snapshot.Snapshot {
	class := func(name, controller string) *networkingv1.IngressClass {
		return &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: networkingv1.IngressClassSpec{Controller: controller}}
	}
	return snapshot.Build(snapshot.Objects{
		IngressClasses: []*networkingv1.IngressClass{class("strait", "strait.dev/ingress-controller"), class("other", "example.com/other")},
		Services: []*corev1.Service{{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
			Spec:       corev1.ServiceSpec{ClusterIP: "10.96.0.10", Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
		}},
		Ingresses: ings,
	}, classes())
}

// validator decides against snap (nil: not synced yet) and the problems
// translate finds in it.
func validator(snap *snapshot.Snapshot, m *metrics.Set) *admission.Validator {
	cur := admission.State{Snapshot: snap}
	if snap != nil {
		_, cur.Problems = translate.Translate(snap, translate.Options{})
	}
	return &admission.Validator{
		Current: func() admission.State { return cur },
		Classes: classes(),
		Metrics: m,
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:     func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) },
	}
}

// ingress is an Ingress of class (empty: none) routing host/path to the
// Service svc, port 80, with annotations given as key, value pairs
// (keys without a prefix get nginx.ingress.kubernetes.io/).
func ingress(name, class, host, path, svc string, kv ...string) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: metav1.NewTime(time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC))},
	}
	if class != "" {
		ing.Spec.IngressClassName = &class
	}
	if len(kv) > 0 {
		ing.Annotations = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			k := kv[i]
			if !strings.Contains(k, "/") {
				k = "nginx.ingress.kubernetes.io/" + k
			}
			ing.Annotations[k] = kv[i+1]
		}
	}
	pt := networkingv1.PathTypePrefix
	if ing.Annotations["nginx.ingress.kubernetes.io/use-regex"] == "true" {
		pt = networkingv1.PathTypeImplementationSpecific
	}
	ing.Spec.Rules = []networkingv1.IngressRule{{
		Host: host,
		IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
			Path: path, PathType: &pt,
			Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Number: 80}}},
		}}}},
	}}
	return ing
}

// request is an AdmissionRequest for obj.
func request(t testing.TB, op admissionv1.Operation, obj runtime.Object) *admissionv1.AdmissionRequest {
	t.Helper()
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	req := &admissionv1.AdmissionRequest{
		UID:       types.UID("uid-1"),
		Kind:      metav1.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"},
		Resource:  metav1.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"},
		Operation: op,
		Object:    runtime.RawExtension{Raw: raw},
	}
	if m, ok := obj.(metav1.Object); ok {
		req.Namespace, req.Name = m.GetNamespace(), m.GetName()
	}
	return req
}

// reviews reads strait_admission_reviews_total{result=result} from m's
// registry, as /metrics shows it.
func reviews(t *testing.T, m *metrics.Set, result string) float64 {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "strait_admission_reviews_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return s.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no strait_admission_reviews_total{result=%q}", result)
	return 0
}
