package chart

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Names of the objects a release named "strait" renders.
const (
	controllerName = "strait-controller"
	webhookService = "strait-controller-admission"
	webhookName    = "strait-admission"
)

// as converts a rendered object into its API type, strictly enough that a
// misspelt or misplaced field shows up as a conversion error.
func as[T any](t testing.TB, u *unstructured.Unstructured) *T {
	t.Helper()
	v := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, v, true); err != nil {
		t.Fatalf("%s %s does not convert to %T: %v", u.GetKind(), u.GetName(), v, err)
	}
	return v
}

// podTemplate returns the pod template of the controller's Deployment or
// DaemonSet, whichever was rendered, and its kind.
func podTemplate(t testing.TB, r rendering) (corev1.PodTemplateSpec, string) {
	t.Helper()
	deps, dss := r.all("Deployment"), r.all("DaemonSet")
	switch {
	case len(deps) == 1 && len(dss) == 0:
		return as[appsv1.Deployment](t, deps[0]).Spec.Template, "Deployment"
	case len(dss) == 1 && len(deps) == 0:
		return as[appsv1.DaemonSet](t, dss[0]).Spec.Template, "DaemonSet"
	}
	t.Fatalf("want exactly one Deployment or DaemonSet, have %d and %d", len(deps), len(dss))
	return corev1.PodTemplateSpec{}, ""
}

// controllerContainer returns the strait container of the pod template.
func controllerContainer(t testing.TB, r rendering) corev1.Container {
	t.Helper()
	tpl, _ := podTemplate(t, r)
	for _, c := range tpl.Spec.Containers {
		if len(c.Args) > 0 && c.Args[0] == "serve" {
			return c
		}
	}
	t.Fatal("no container runs strait serve")
	return corev1.Container{}
}

// flags returns the container's flags (every argument after "serve") as
// name to values, in order.
func flags(t testing.TB, r rendering) map[string][]string {
	t.Helper()
	c := controllerContainer(t, r)
	out := map[string][]string{}
	for _, a := range c.Args[1:] {
		if !strings.HasPrefix(a, "--") {
			t.Fatalf("container argument %q is not a --flag", a)
		}
		name, value, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		out[name] = append(out[name], value)
	}
	return out
}

// wantFlag checks that the flag is passed exactly once, with the value.
func wantFlag(t testing.TB, f map[string][]string, name, value string) {
	t.Helper()
	if got := f[name]; len(got) != 1 || got[0] != value {
		t.Errorf("--%s: got %q, want [%q]", name, got, value)
	}
}

// noFlag checks that the flag is not passed.
func noFlag(t testing.TB, f map[string][]string, name string) {
	t.Helper()
	if got, ok := f[name]; ok {
		t.Errorf("--%s is passed (%q), want it absent", name, got)
	}
}

// port returns the container port of a name.
func port(t testing.TB, c corev1.Container, name string) corev1.ContainerPort {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("container %s has no port %q", c.Name, name)
	return corev1.ContainerPort{}
}
