package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/straitgw/strait/internal/kubetest"
)

// TestPropagation measures, against the real API server, the time from
// creating an Ingress to its first 200 through Strait, for 300 Ingresses
// created one after another, and the time from an EndpointSlice update to
// traffic reaching the new endpoint.
func TestPropagation(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.4.1", "a")
	o := newObjects(t, c, "prop")
	o.service("web")
	o.slice("web", "10.244.4.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	s := startStrait(t, c)

	const n = 300
	var lags []time.Duration
	for i := 0; i < n; i++ {
		host := fmt.Sprintf("r%d.prop.test", i)
		start := time.Now()
		o.ingress(fmt.Sprintf("r%d", i), host, "web", ingressOpts{class: "strait"})
		waitFor(t, 5*time.Second, host+" to serve", func() bool {
			code, _ := s.get(host, "/")
			return code == 200
		})
		lags = append(lags, time.Since(start))
	}
	t.Logf("Ingress create to first 200, %d Ingresses one after another: %s", n, percentiles(lags))

	// Endpoint changes: each round moves the Service to a new backend and
	// measures until that backend answers.
	var epLags []time.Duration
	for i := 0; i < 50; i++ {
		ip := fmt.Sprintf("10.244.5.%d", i+1)
		name := fmt.Sprintf("ep%d", i)
		backend(t, ip, name)
		start := time.Now()
		o.slice("web", ip)
		waitFor(t, 5*time.Second, name+" to receive traffic", func() bool {
			_, got := s.get("r0.prop.test", "/")
			return got == name
		})
		epLags = append(epLags, time.Since(start))
	}
	t.Logf("EndpointSlice update to traffic at the new endpoint: %s", percentiles(epLags))
	if v := s.metric(`strait_generations_total{kind="endpoints"}`); v < 40 {
		t.Errorf("endpoint changes took the fast path %v times, want about 50", v)
	}
}

// load sends requests for host from several goroutines until stopped and
// counts failures (anything but a 200 from a backend).
type load struct {
	ok, failed atomic.Int64
	stop       chan struct{}
	wg         sync.WaitGroup
	mu         sync.Mutex
	errors     []string
	backends   sync.Map
}

func startLoad(s *strait, host string, workers int) *load {
	l := &load{stop: make(chan struct{})}
	for w := 0; w < workers; w++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				code, got := s.get(host, "/")
				if code != 200 || got == "" {
					l.failed.Add(1)
					l.mu.Lock()
					if len(l.errors) < 10 {
						l.errors = append(l.errors, fmt.Sprintf("%s: status %d from %q", time.Now().Format("15:04:05.000"), code, got))
					}
					l.mu.Unlock()
					continue
				}
				l.backends.Store(got, true)
				l.ok.Add(1)
			}
		}()
	}
	return l
}

func (l *load) finish(t *testing.T, what string) {
	t.Helper()
	close(l.stop)
	l.wg.Wait()
	t.Logf("%s: %d requests ok, %d failed", what, l.ok.Load(), l.failed.Load())
	if l.failed.Load() > 0 {
		t.Errorf("%s: %d failed requests:\n%s", what, l.failed.Load(), strings.Join(l.errors, "\n"))
	}
	if l.ok.Load() == 0 {
		t.Errorf("%s: no request succeeded", what)
	}
}

// TestEndpointScalingUnderLoad scales a Service's endpoints up and down
// while clients send requests continuously: no request may fail.
func TestEndpointScalingUnderLoad(t *testing.T) {
	c := kubetest.Start(t)
	var ips []string
	for i := 1; i <= 6; i++ {
		ip := fmt.Sprintf("10.244.6.%d", i)
		backend(t, ip, fmt.Sprintf("b%d", i))
		ips = append(ips, ip)
	}
	o := newObjects(t, c, "scale")
	o.service("web")
	o.slice("web", ips[0])
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	o.ingress("web", "scale.test", "web", ingressOpts{class: "strait"})
	s := startStrait(t, c)

	l := startLoad(s, "scale.test", 4)
	sizes := []int{1, 2, 4, 6, 3, 1, 5, 2, 6, 1}
	for round := 0; round < 3; round++ {
		for k, size := range sizes {
			// Rotate which endpoints are in the set, so that endpoints
			// leave as well as join.
			start := (round + k) % len(ips)
			var set []string
			for j := 0; j < size; j++ {
				set = append(set, ips[(start+j)%len(ips)])
			}
			o.slice("web", set...)
			time.Sleep(150 * time.Millisecond)
		}
	}
	l.finish(t, "scaling endpoints 1..6 for 30 changes")
	seen := 0
	l.backends.Range(func(any, any) bool { seen++; return true })
	if seen < len(ips) {
		t.Errorf("traffic reached %d of %d backends", seen, len(ips))
	}
}

// TestAPIServerOutage stops the API server for 30 s under load: requests
// keep succeeding on the last generation, and an Ingress created after the
// API returns serves within 2 s.
func TestAPIServerOutage(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.7.1", "a")
	o := newObjects(t, c, "outage")
	o.service("web")
	o.slice("web", "10.244.7.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	o.ingress("web", "outage.test", "web", ingressOpts{class: "strait"})
	s := startStrait(t, c)

	l := startLoad(s, "outage.test", 2)
	time.Sleep(time.Second)
	c.StopAPIServer()
	time.Sleep(30 * time.Second)
	if err := c.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	l.finish(t, "30 s without an API server")

	// The Ingress is created as soon as the API accepts writes; the
	// measurement runs from the API's return.
	pt := networkingv1.PathTypePrefix
	var err error
	for i := 0; i < 100; i++ {
		_, err = c.Client.NetworkingV1().Ingresses("outage").Create(context.Background(), &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Name: "after"},
			Spec: networkingv1.IngressSpec{IngressClassName: ptr("strait"), Rules: []networkingv1.IngressRule{{
				Host: "after.test",
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
					Path: "/", PathType: &pt,
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}},
				}}}},
			}}},
		}, metav1.CreateOptions{})
		if err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	created := time.Now()
	lag := waitFor(t, 10*time.Second, "the Ingress created after the outage to serve", func() bool {
		code, _ := s.get("after.test", "/")
		return code == 200
	})
	t.Logf("after the API returned: create accepted after %v, serving %v after the create", created.Sub(back).Round(time.Millisecond), lag.Round(time.Millisecond))
	if lag > 2*time.Second {
		t.Errorf("the new Ingress took %v to serve, want at most 2 s", lag)
	}
}

// TestServiceAfterIngressChurn: an Ingress whose Service does not exist
// yet answers 503 while other Ingresses come and go, and serves once the
// Service and its endpoints appear: generations built from Ingress
// changes alone share the indexed Services, and a Service event ends that.
func TestServiceAfterIngressChurn(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.6.1", "early")
	backend(t, "10.244.6.2", "late")
	o := newObjects(t, c, "late")
	o.service("web")
	o.slice("web", "10.244.6.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	s := startStrait(t, c)

	o.ingress("waits", "waits.late.test", "missing", ingressOpts{class: "strait"})
	for i := range 5 {
		host := fmt.Sprintf("c%d.late.test", i)
		o.ingress(fmt.Sprintf("c%d", i), host, "web", ingressOpts{class: "strait"})
		waitFor(t, 5*time.Second, host+" to serve", func() bool {
			code, got := s.get(host, "/")
			return code == 200 && got == "early"
		})
		if code, _ := s.get("waits.late.test", "/"); code != 503 {
			t.Fatalf("the Ingress of a missing Service answers %d, want 503", code)
		}
	}
	o.service("missing")
	o.slice("missing", "10.244.6.2")
	waitFor(t, 5*time.Second, "the late Service to serve", func() bool {
		code, got := s.get("waits.late.test", "/")
		return code == 200 && got == "late"
	})
}
