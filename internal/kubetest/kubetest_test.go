package kubetest_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/straitgw/strait/internal/kubetest"
)

func TestMain(m *testing.M) { os.Exit(kubetest.RunInNetns(m)) }

func TestCluster(t *testing.T) {
	start := time.Now()
	c := kubetest.Start(t)
	t.Logf("cluster start took %v", time.Since(start).Round(time.Millisecond))
	ctx := t.Context()
	const ns = "kubetest"
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("version", func(t *testing.T) {
		v, err := c.Client.Discovery().ServerVersion()
		if err != nil {
			t.Fatal(err)
		}
		if v.GitVersion != "v1.37.2" {
			t.Errorf("server version %q, want v1.37.2 (built by scripts/build-kube.sh?)", v.GitVersion)
		}
	})

	t.Run("kubeconfig", func(t *testing.T) {
		cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
		if err != nil {
			t.Fatal(err)
		}
		cs := kubernetes.NewForConfigOrDie(cfg)
		if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("netns", func(t *testing.T) {
		// Nothing but lo: an address outside the namespace is unreachable
		// at once, without a packet being sent.
		_, err := net.DialTimeout("tcp", "192.0.2.1:80", 2*time.Second)
		if err == nil {
			t.Fatal("dialled 192.0.2.1 from inside the network namespace")
		}
		t.Logf("dial outside: %v", err)
		// Addresses of both local ranges can be bound, on privileged ports
		// too, and reached.
		for _, addr := range []string{"10.244.7.1:80", "172.30.0.9:80"} {
			l, err := net.Listen("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				if c, err := l.Accept(); err == nil {
					c.Close()
				}
			}()
			c, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err != nil {
				t.Errorf("dial %s: %v", addr, err)
			} else {
				c.Close()
			}
			l.Close()
		}
		// RunInNetns also gives the tests a PID namespace of their own, so
		// that nothing they start outlives them.
		if pid := os.Getpid(); pid != 1 {
			t.Errorf("test binary has pid %d, want 1 (first process of its PID namespace)", pid)
		}
	})

	t.Run("endpoints", func(t *testing.T) {
		svc, err := c.Client.CoreV1().Services(ns).Create(ctx, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "echo"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{
				Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080),
			}}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("Service cluster IP %s", svc.Spec.ClusterIP)
		port, ready := int32(8080), true
		_, err = c.Client.DiscoveryV1().EndpointSlices(ns).Create(ctx, &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{
				Name:   "echo-1",
				Labels: map[string]string{discoveryv1.LabelServiceName: "echo"},
			},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints: []discoveryv1.Endpoint{{
				Addresses:  []string{"10.244.1.5"},
				Conditions: discoveryv1.EndpointConditions{Ready: &ready},
			}},
			Ports: []discoveryv1.EndpointPort{{Name: new("http"), Port: &port}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}

		l, err := net.Listen("tcp", "10.244.1.5:8080")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "hello from "+r.Host)
		})}
		go srv.Serve(l)
		t.Cleanup(func() { srv.Close() })

		// Send the request where the API says the backend is.
		slices, err := c.Client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{
			LabelSelector: discoveryv1.LabelServiceName + "=echo",
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(slices.Items) != 1 {
			t.Fatalf("%d EndpointSlices, want 1", len(slices.Items))
		}
		es := slices.Items[0]
		addr := net.JoinHostPort(es.Endpoints[0].Addresses[0], strconv.Itoa(int(*es.Ports[0].Port)))
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := "hello from 10.244.1.5:8080"; string(body) != want {
			t.Errorf("GET %s: %q, want %q", addr, body, want)
		}

		// The API server rejects loopback addresses in EndpointSlices: the
		// reason backends listen on 10.244.0.0/16.
		es2 := es.DeepCopy()
		es2.ObjectMeta = metav1.ObjectMeta{Name: "echo-loopback"}
		es2.Endpoints[0].Addresses = []string{"127.0.0.1"}
		_, err = c.Client.DiscoveryV1().EndpointSlices(ns).Create(ctx, es2, metav1.CreateOptions{})
		if !apierrors.IsInvalid(err) {
			t.Errorf("EndpointSlice with 127.0.0.1: got %v, want invalid", err)
		}
	})

	t.Run("ingress", func(t *testing.T) {
		nw := c.Client.NetworkingV1()
		class := &networkingv1.IngressClass{
			ObjectMeta: metav1.ObjectMeta{Name: "strait"},
			Spec:       networkingv1.IngressClassSpec{Controller: "straitgw.io/strait"},
		}
		if _, err := nw.IngressClasses().Create(ctx, class, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		gotClass, err := nw.IngressClasses().Get(ctx, "strait", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if gotClass.Spec.Controller != class.Spec.Controller {
			t.Errorf("IngressClass controller %q, want %q", gotClass.Spec.Controller, class.Spec.Controller)
		}

		pathType := networkingv1.PathTypePrefix
		ing := &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Name: "echo"},
			Spec: networkingv1.IngressSpec{
				IngressClassName: new("strait"),
				Rules: []networkingv1.IngressRule{{
					Host: "echo.example.com",
					IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
						Paths: []networkingv1.HTTPIngressPath{{
							Path:     "/",
							PathType: &pathType,
							Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
								Name: "echo", Port: networkingv1.ServiceBackendPort{Name: "http"},
							}},
						}},
					}},
				}},
			},
		}
		created, err := nw.Ingresses(ns).Create(ctx, ing, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		created.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "10.244.0.1"}}
		if _, err := nw.Ingresses(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err := nw.Ingresses(ns).Get(ctx, "echo", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if *got.Spec.IngressClassName != "strait" || got.Spec.Rules[0].Host != "echo.example.com" ||
			got.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port.Name != "http" {
			t.Errorf("Ingress spec did not round-trip: %+v", got.Spec)
		}
		if lb := got.Status.LoadBalancer.Ingress; len(lb) != 1 || lb[0].IP != "10.244.0.1" {
			t.Errorf("Ingress status %+v, want IP 10.244.0.1", got.Status)
		}
	})

	t.Run("rbac", func(t *testing.T) {
		path, err := c.ServiceAccountKubeconfig("strait", "strait")
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			t.Fatal(err)
		}
		sa := kubernetes.NewForConfigOrDie(cfg)
		_, err = sa.NetworkingV1().Ingresses("").List(ctx, metav1.ListOptions{})
		if !apierrors.IsForbidden(err) {
			t.Fatalf("listing Ingresses without a role: got %v, want forbidden", err)
		}
		t.Logf("without a role: %v", err)

		rbac := c.Client.RbacV1()
		if _, err := rbac.ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "ingress-reader"},
			Rules: []rbacv1.PolicyRule{{
				APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses"}, Verbs: []string{"list"},
			}},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := rbac.ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "strait-ingress-reader"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "ingress-reader"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "strait", Name: "strait"}},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// The authorizer sees new bindings through an informer: wait.
		deadline := time.Now().Add(10 * time.Second)
		for {
			list, err := sa.NetworkingV1().Ingresses("").List(ctx, metav1.ListOptions{})
			if err == nil {
				if len(list.Items) != 1 {
					t.Errorf("%d Ingresses, want 1", len(list.Items))
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("listing Ingresses with a role: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		// Still only what the role grants.
		_, err = sa.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
		if !apierrors.IsForbidden(err) {
			t.Errorf("listing Secrets: got %v, want forbidden", err)
		}

		imp := kubernetes.NewForConfigOrDie(c.ImpersonatingConfig("jane", "developers"))
		_, err = imp.NetworkingV1().Ingresses(ns).List(ctx, metav1.ListOptions{})
		if !apierrors.IsForbidden(err) {
			t.Errorf("listing Ingresses as jane: got %v, want forbidden", err)
		}
	})

	t.Run("outage", func(t *testing.T) {
		start := time.Now()
		c.StopAPIServer()
		t.Logf("API server stopped in %v", time.Since(start).Round(time.Millisecond))
		short, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := c.Client.CoreV1().Namespaces().Get(short, ns, metav1.GetOptions{})
		if err == nil {
			t.Fatal("request succeeded while the API server was stopped")
		}
		t.Logf("while stopped: %v", err)

		start = time.Now()
		if err := c.StartAPIServer(); err != nil {
			t.Fatal(err)
		}
		t.Logf("API server restarted in %v", time.Since(start).Round(time.Millisecond))
		// Same client, same port, same data.
		if _, err := c.Client.NetworkingV1().Ingresses(ns).Get(ctx, "echo", metav1.GetOptions{}); err != nil {
			t.Fatalf("after restart: %v", err)
		}
	})
}

func TestBinDirMissing(t *testing.T) {
	t.Setenv(kubetest.BinEnv, t.TempDir())
	_, err := kubetest.BinDir()
	if err == nil {
		t.Fatal("BinDir succeeded with an empty directory")
	}
	t.Logf("%v", err)
}
