package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/straitgw/strait/internal/kubetest"
)

// TestReplicasStatusAndEvents runs two replicas: only the leader writes
// Ingress status, the published address appears on the Ingresses, and
// Ingresses with a missing Service or TLS Secret get Events saying so
// while the others keep serving on both replicas.
func TestReplicasStatusAndEvents(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.8.1", "a")
	o := newObjects(t, c, "status")
	o.service("web")
	o.slice("web", "10.244.8.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	o.ingress("good", "good.test", "web", ingressOpts{class: "strait"})
	o.ingress("no-service", "no-service.test", "missing", ingressOpts{class: "strait"})
	o.ingress("no-secret", "no-secret.test", "web", ingressOpts{class: "strait", tlsSecret: "missing-tls"})

	flags := []string{"--publish-status-address=203.0.113.7", "--election-id=strait-test"}
	r1 := startStrait(t, c, flags...)
	r2 := startStrait(t, c, flags...)

	ctx := context.Background()
	for _, name := range []string{"good", "no-service", "no-secret"} {
		waitFor(t, 20*time.Second, "status address on "+name, func() bool {
			ing, err := c.Client.NetworkingV1().Ingresses("status").Get(ctx, name, metav1.GetOptions{})
			return err == nil && len(ing.Status.LoadBalancer.Ingress) == 1 && ing.Status.LoadBalancer.Ingress[0].IP == "203.0.113.7"
		})
	}
	w1, w2 := r1.metric("strait_ingress_status_writes_total"), r2.metric("strait_ingress_status_writes_total")
	if (w1 == 0) == (w2 == 0) {
		t.Errorf("status writes by replica: %v and %v; exactly one (the leader) must write", w1, w2)
	}
	if w1+w2 != 3 {
		t.Errorf("%v status writes for 3 Ingresses; each should be written once", w1+w2)
	}

	events := func(name string) string {
		list, err := c.Client.CoreV1().Events("status").List(ctx, metav1.ListOptions{
			FieldSelector: fields.OneTermEqualSelector("involvedObject.name", name).String(),
		})
		if err != nil {
			return ""
		}
		var b strings.Builder
		for _, e := range list.Items {
			if e.Type == corev1.EventTypeWarning {
				b.WriteString(e.Reason + ": " + e.Message + "\n")
			}
		}
		return b.String()
	}
	waitFor(t, 10*time.Second, "an Event for the missing Service", func() bool {
		return strings.Contains(events("no-service"), "ServiceNotFound: spec.rules[0].http.paths[0].backend.service.name: Service status/missing not found")
	})
	waitFor(t, 10*time.Second, "an Event for the missing Secret", func() bool {
		return strings.Contains(events("no-secret"), "InvalidCertificate: spec.tls[0].secretName: Secret status/missing-tls: not found")
	})
	if e := events("good"); e != "" {
		t.Errorf("the good Ingress got warnings: %s", e)
	}
	for _, r := range []*strait{r1, r2} {
		if code, got := r.get("good.test", "/"); code != 200 || got != "a" {
			t.Errorf("good.test: %d from %q", code, got)
		}
		if code, _ := r.get("no-service.test", "/"); code != 503 {
			t.Errorf("no-service.test: %d, want 503", code)
		}
		// A TLS section, even with a missing Secret, turns on the HTTPS
		// redirect, as in ingress-nginx; the route itself is served.
		if code, _ := r.get("no-secret.test", "/"); code != 308 {
			t.Errorf("no-secret.test over plain HTTP: %d, want 308", code)
		}
	}

	// The leader clears the addresses when it shuts down.
	leader, other := r1, r2
	if w2 > 0 {
		leader, other = r2, r1
	}
	other.stop()
	leader.stop()
	waitFor(t, 10*time.Second, "the status to be cleared on shutdown", func() bool {
		ing, err := c.Client.NetworkingV1().Ingresses("status").Get(ctx, "good", metav1.GetOptions{})
		return err == nil && len(ing.Status.LoadBalancer.Ingress) == 0
	})
}
