package translate_test

import (
	"regexp"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/snapshot"
	"github.com/straitgw/strait/internal/translate"
)

// FuzzPaths feeds arbitrary Ingress paths, path types and the annotations
// that turn paths into regexes and rewrite them (use-regex,
// rewrite-target, x-forwarded-prefix, app-root) to translate: whatever a
// user writes, translate must not panic, must stay deterministic, and a
// path it keeps in a regex host must be one Go can compile.
func FuzzPaths(f *testing.F) {
	f.Add("/something(/|$)(.*)", "/$2", "/something", "", uint8(2), true)
	f.Add("/[A-Z]{3}", "", "", "/app", uint8(0), true)
	f.Add("/a(?=b)", "/x", "", "", uint8(2), false)
	f.Add("", "", "", "", uint8(1), false)
	f.Add("/foo/", "/bar/$1", "$1", "/", uint8(1), false)
	f.Fuzz(func(t *testing.T, path, target, prefix, appRoot string, typ uint8, regex bool) {
		pt := []networkingv1.PathType{networkingv1.PathTypeExact, networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific}[int(typ)%3]
		ann := map[string]string{}
		if regex {
			ann["nginx.ingress.kubernetes.io/use-regex"] = "true"
		}
		if target != "" {
			ann["nginx.ingress.kubernetes.io/rewrite-target"] = target
		}
		if prefix != "" {
			ann["nginx.ingress.kubernetes.io/x-forwarded-prefix"] = prefix
		}
		if appRoot != "" {
			ann["nginx.ingress.kubernetes.io/app-root"] = appRoot
		}
		objs := snapshot.Objects{
			Services: []*corev1.Service{{ObjectMeta: metav1.ObjectMeta{Namespace: "f", Name: "web"},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}},
			Ingresses: []*networkingv1.Ingress{
				{ObjectMeta: metav1.ObjectMeta{Namespace: "f", Name: "fuzz", Annotations: ann},
					Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "fuzz.test",
						IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
							Path: path, PathType: &pt,
							Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}},
						}}}}}}}},
			},
		}
		snap := snapshot.Build(objs, snapshot.ClassOptions{WatchWithoutClass: true})
		m1, _ := translate.Translate(snap, translate.Options{})
		m2, _ := translate.Translate(snap, translate.Options{})
		if !model.Equal(m1, m2) {
			t.Fatalf("two translations differ")
		}
		for _, h := range m1.Hosts {
			for _, r := range h.Routes {
				if _, err := regexp.Compile("(?i)^" + r.Path); h.Regex && err != nil && r.Action.Backend != "" {
					t.Fatalf("regex host keeps the uncompilable path %q routed to %s", r.Path, r.Action.Backend)
				}
			}
		}
	})
}
