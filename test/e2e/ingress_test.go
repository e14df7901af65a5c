package e2e

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/straitgw/strait/internal/kubetest"
)

// TestIngressLifecycle: a Service with an EndpointSlice on pod addresses,
// an IngressClass and an Ingress give a 200 from the right backend;
// deleting the Ingress gives 404.
func TestIngressLifecycle(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.1.1", "a")
	backend(t, "10.244.1.2", "b")
	o := newObjects(t, c, "shop")
	o.service("web")
	o.slice("web", "10.244.1.1")
	o.service("api")
	o.slice("api", "10.244.1.2")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	o.ingress("web", "shop.example", "web", ingressOpts{class: "strait"})
	o.ingress("api", "api.shop.example", "api", ingressOpts{class: "strait"})

	s := startStrait(t, c)
	for host, want := range map[string]string{"shop.example": "a", "api.shop.example": "b"} {
		if code, got := s.get(host, "/"); code != 200 || got != want {
			t.Errorf("%s: %d from %q, want 200 from %q", host, code, got, want)
		}
	}
	if err := c.Client.NetworkingV1().Ingresses("shop").Delete(context.Background(), "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "404 after deleting the Ingress", func() bool {
		code, _ := s.get("shop.example", "/")
		return code == 404
	})
	if code, got := s.get("api.shop.example", "/"); code != 200 || got != "b" {
		t.Errorf("other Ingress after the delete: %d from %q", code, got)
	}
}

// TestClassSelection runs Strait as a drop-in for ingress-nginx and checks
// it claims exactly what ingress-nginx would: Ingresses naming an
// IngressClass of controller k8s.io/ingress-nginx, the legacy annotation
// with the ingress-nginx class name, and Ingresses created without a class
// while an IngressClass of ours is the default (the API server fills in
// ingressClassName).
func TestClassSelection(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.2.1", "a")
	o := newObjects(t, c, "apps")
	o.service("web")
	o.slice("web", "10.244.2.1")
	ingressClass(t, c, "nginx", "k8s.io/ingress-nginx", true)
	ingressClass(t, c, "other", "example.com/other", false)

	claimed := map[string]ingressOpts{
		"by-class":      {class: "nginx"},
		"by-annotation": {annotations: map[string]string{"kubernetes.io/ingress.class": "nginx"}},
		"by-default":    {},
	}
	ignored := map[string]ingressOpts{
		"other-class":      {class: "other"},
		"missing-class":    {class: "missing"},
		"other-annotation": {annotations: map[string]string{"kubernetes.io/ingress.class": "other"}},
	}
	for name, opts := range claimed {
		o.ingress(name, name+".test", "web", opts)
	}
	for name, opts := range ignored {
		o.ingress(name, name+".test", "web", opts)
	}
	got, err := c.Client.NetworkingV1().Ingresses("apps").Get(context.Background(), "by-default", metav1.GetOptions{})
	if err != nil || got.Spec.IngressClassName == nil || *got.Spec.IngressClassName != "nginx" {
		t.Fatalf("the API server did not default the class: %v %v", got.Spec.IngressClassName, err)
	}

	s := startStrait(t, c, "--controller-class=k8s.io/ingress-nginx", "--ingress-class=nginx")
	for name := range claimed {
		if code, _ := s.get(name+".test", "/"); code != 200 {
			t.Errorf("%s: %d, want 200 (claimed)", name, code)
		}
	}
	for name := range ignored {
		if code, _ := s.get(name+".test", "/"); code != 404 {
			t.Errorf("%s: %d, want 404 (not ours)", name, code)
		}
	}
}

// TestWatchNamespace serves only the namespace it is told to watch.
func TestWatchNamespace(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.3.1", "a")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	for _, ns := range []string{"team-a", "team-b"} {
		o := newObjects(t, c, ns)
		o.service("web")
		o.slice("web", "10.244.3.1")
		o.ingress("web", ns+".test", "web", ingressOpts{class: "strait"})
	}
	s := startStrait(t, c, "--watch-namespace=team-a")
	if code, _ := s.get("team-a.test", "/"); code != 200 {
		t.Errorf("watched namespace: %d, want 200", code)
	}
	if code, _ := s.get("team-b.test", "/"); code != 404 {
		t.Errorf("other namespace: %d, want 404", code)
	}
}
