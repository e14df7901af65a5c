package status

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/straitgw/strait/internal/controller"
	"github.com/straitgw/strait/internal/snapshot"
)

// TestAddresses checks the published addresses for each kind of publish
// Service, as ingress-nginx derives them, and that a fixed list wins.
func TestAddresses(t *testing.T) {
	pub := types.NamespacedName{Namespace: "ingress", Name: "strait"}
	svc := func(typ corev1.ServiceType, mutate func(*corev1.Service)) controller.Generation {
		s := &corev1.Service{Spec: corev1.ServiceSpec{Type: typ, ClusterIP: "10.96.0.10"}}
		s.Namespace, s.Name = pub.Namespace, pub.Name
		if mutate != nil {
			mutate(s)
		}
		return controller.Generation{Snapshot: &snapshot.Snapshot{Services: map[types.NamespacedName]*corev1.Service{pub: s}}}
	}
	cases := []struct {
		name string
		opts Options
		gen  controller.Generation
		want []string
	}{
		{"load balancer", Options{PublishService: pub}, svc(corev1.ServiceTypeLoadBalancer, func(s *corev1.Service) {
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.2"}, {Hostname: "lb.example.com"}}
			s.Spec.ExternalIPs = []string{"198.51.100.1"}
		}), []string{"198.51.100.1", "203.0.113.2", "lb.example.com"}},
		{"load balancer pending", Options{PublishService: pub}, svc(corev1.ServiceTypeLoadBalancer, nil), nil},
		{"cluster IP", Options{PublishService: pub}, svc(corev1.ServiceTypeClusterIP, nil), []string{"10.96.0.10"}},
		{"node port with external IPs", Options{PublishService: pub}, svc(corev1.ServiceTypeNodePort, func(s *corev1.Service) {
			s.Spec.ExternalIPs = []string{"198.51.100.9"}
		}), []string{"198.51.100.9"}},
		{"node port", Options{PublishService: pub}, svc(corev1.ServiceTypeNodePort, nil), []string{"10.96.0.10"}},
		{"external name", Options{PublishService: pub}, svc(corev1.ServiceTypeExternalName, func(s *corev1.Service) {
			s.Spec.ExternalName = "edge.example.com"
		}), []string{"edge.example.com"}},
		{"fixed list wins", Options{PublishService: pub, PublishStatusAddress: []string{"192.0.2.1", " gw.example.com", "192.0.2.1"}},
			svc(corev1.ServiceTypeClusterIP, nil), []string{"192.0.2.1", "gw.example.com"}},
		{"publish service missing", Options{PublishService: types.NamespacedName{Namespace: "x", Name: "y"}}, svc(corev1.ServiceTypeClusterIP, nil), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := &Writer{opts: c.opts}
			var got []string
			for _, a := range w.addresses(c.gen) {
				if a.IP != "" {
					got = append(got, a.IP)
				} else {
					got = append(got, a.Hostname)
				}
			}
			if len(got) != len(c.want) {
				t.Fatalf("addresses %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("addresses %v, want %v", got, c.want)
				}
			}
		})
	}
}
