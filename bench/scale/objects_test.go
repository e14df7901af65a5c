package scale

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/straitgw/strait/internal/echo"
)

// Layout of the generated objects: Ingresses spread over namespaces, each
// namespace with a few Services whose EndpointSlices point at one backend.
const (
	namespaces  = 20
	servicesPer = 10
	backendIP   = "10.244.200.1"
	className   = "strait"
)

func nsName(k int) string { return fmt.Sprintf("scale-%02d", k) }

func svcName(k int) string { return fmt.Sprintf("svc-%d", k) }

// startBackend serves every request with 200 from the echo handler.
func startBackend(b *testing.B) {
	b.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(backendIP, "8080"))
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: echo.New("scale"), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
}

// setUp creates the IngressClass, the namespaces, Services and
// EndpointSlices every Ingress refers to.
func setUp(b *testing.B, c kubernetes.Interface) {
	b.Helper()
	ctx := context.Background()
	_, err := c.NetworkingV1().IngressClasses().Create(ctx, &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: className},
		Spec:       networkingv1.IngressClassSpec{Controller: "strait.dev/ingress-controller"},
	}, metav1.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ready := true
	for k := range namespaces {
		ns := nsName(k)
		if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		for j := range servicesPer {
			name := svcName(j)
			if _, err := c.CoreV1().Services(ns).Create(ctx, &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}},
			}, metav1.CreateOptions{}); err != nil {
				b.Fatal(err)
			}
			port, pname := int32(8080), "http"
			if _, err := c.DiscoveryV1().EndpointSlices(ns).Create(ctx, &discoveryv1.EndpointSlice{
				ObjectMeta:  metav1.ObjectMeta{Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
				AddressType: discoveryv1.AddressTypeIPv4,
				Ports:       []discoveryv1.EndpointPort{{Name: &pname, Port: &port}},
				Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{backendIP}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
			}, metav1.CreateOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// ingress builds Ingress name in namespace k: host name.<k>.scale.test
// with paths /p0 ... /p<paths-1> (Prefix) spread over the namespace's
// Services.
func ingress(k int, name string, paths int, annotations map[string]string) *networkingv1.Ingress {
	pt := networkingv1.PathTypePrefix
	cls := className
	var hp []networkingv1.HTTPIngressPath
	for j := range paths {
		hp = append(hp, networkingv1.HTTPIngressPath{
			Path: fmt.Sprintf("/p%d", j), PathType: &pt,
			Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
				Name: svcName(j % servicesPer), Port: networkingv1.ServiceBackendPort{Number: 80},
			}},
		})
	}
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: nsName(k), Annotations: annotations},
		Spec: networkingv1.IngressSpec{
			IngressClassName: &cls,
			Rules: []networkingv1.IngressRule{{
				Host:             host(k, name),
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: hp}},
			}},
		},
	}
}

func host(k int, name string) string { return fmt.Sprintf("%s.%d.scale.test", name, k) }

// createMany creates Ingresses prefix-<from> ... prefix-<to-1>, spread over
// the namespaces, from several goroutines.
func createMany(b *testing.B, c kubernetes.Interface, prefix string, from, to, paths int) {
	b.Helper()
	const workers = 16
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				ing := ingress(i%namespaces, fmt.Sprintf("%s-%d", prefix, i), paths, nil)
				if _, err := c.NetworkingV1().Ingresses(ing.Namespace).Create(context.Background(), ing, metav1.CreateOptions{}); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := from; i < to; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
}
