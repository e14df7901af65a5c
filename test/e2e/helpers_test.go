package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/kubetest"
)

// strait is a running Strait process.
type strait struct {
	t       *testing.T
	cmd     *exec.Cmd
	log     string
	http    string // 127.0.0.1:port
	https   string
	healthz string
	exited  chan error
}

// startStrait runs `strait serve --kubeconfig ...` with extra flags and
// waits until it reports ready.
func startStrait(t *testing.T, c *kubetest.Cluster, flags ...string) *strait {
	t.Helper()
	// No load balancer routes to a test's Strait: it stops at once unless
	// a test asks for a shutdown delay (a later flag wins).
	return startStraitAs(t, []string{"POD_NAMESPACE=default"}, append([]string{"serve", "--kubeconfig", c.Kubeconfig, "--shutdown-delay=0s"}, flags...)...)
}

// startStraitAs runs Strait with the given environment and arguments (the
// command and its flags; the listener flags are added) and waits until it
// reports ready.
func startStraitAs(t *testing.T, env []string, args ...string) *strait {
	t.Helper()
	addrs := freeAddrs(t, 2)
	return startStraitAt(t, env, addrs[0], addrs[1], args...)
}

// startStraitAt is startStraitAs on given HTTP and HTTPS addresses, which
// another Strait may hold as well (the listeners use SO_REUSEPORT).
func startStraitAt(t *testing.T, env []string, httpAddr, httpsAddr string, args ...string) *strait {
	t.Helper()
	s := &strait{t: t, http: httpAddr, https: httpsAddr, healthz: freeAddrs(t, 1, httpAddr, httpsAddr)[0], exited: make(chan error, 1)}
	flags := args
	args = append(append([]string{}, args...), "--bind-address", "127.0.0.1",
		"--http-port", port(s.http), "--https-port", port(s.https), "--healthz-port", port(s.healthz))
	s.cmd = exec.Command(straitBin, args...)
	s.cmd.Env = append(os.Environ(), env...)
	s.log = filepath.Join(t.TempDir(), "strait.log")
	f, err := os.Create(s.log)
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = f, f
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exited <- s.cmd.Wait(); f.Close() }()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			b, _ := os.ReadFile(s.log)
			t.Logf("strait %v log:\n%s", flags, tailLines(string(b), 60))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _ := httpGet("http://"+s.healthz+"/healthz", ""); code == 200 {
			return s
		}
		select {
		case err := <-s.exited:
			b, _ := os.ReadFile(s.log)
			t.Fatalf("strait exited before ready: %v\n%s", err, b)
		default:
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(s.log)
			t.Fatalf("strait not ready after 30 s:\n%s", tailLines(string(b), 40))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for the process to exit.
func (s *strait) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		if err != nil {
			s.t.Logf("strait exited after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		s.t.Log("strait still running 20 s after SIGTERM; killing it")
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.exited <- nil // let a second stop return at once
}

// get sends GET path with Host host over plain HTTP and returns the status
// and the echo backend that answered ("" when none did).
func (s *strait) get(host, path string) (int, string) {
	return httpGet("http://"+s.http+path, host)
}

// metric returns the value of a counter or gauge line from /metrics.
func (s *strait) metric(name string) float64 {
	resp, err := http.Get("http://" + s.healthz + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, name+" ") {
			v, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(line, name)), 64)
			return v
		}
	}
	return 0
}

// plainClient never follows redirects: tests look at them.
var plainClient = &http.Client{
	Timeout:       5 * time.Second,
	Transport:     &http.Transport{MaxIdleConnsPerHost: 16},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func httpGet(url, host string) (int, string) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return 0, ""
	}
	if host != "" {
		req.Host = host
	}
	resp, err := plainClient.Do(req)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get(echo.BackendHeader)
}

// waitFor polls f every 5 ms until it returns true or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, f func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !f() {
		if time.Since(start) > timeout {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	return freeAddrs(t, 1)[0]
}

// freeAddrs returns n loopback addresses whose ports were free, distinct
// from each other and from taken. The ports are held open until all are
// chosen: a port closed at once may be handed out again by the next call,
// and Strait's listeners (SO_REUSEPORT) would then share it silently.
func freeAddrs(t *testing.T, n int, taken ...string) []string {
	t.Helper()
	var addrs []string
	for len(addrs) < n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		if a := ln.Addr().String(); !slices.Contains(taken, a) {
			addrs = append(addrs, a)
		}
	}
	return addrs
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// backend starts an echo backend named name on ip:8080 (an address of the
// pod range, local inside the test's network namespace).
func backend(t *testing.T, ip, name string) string {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "8080"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: echo.New(name), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// objects creates Kubernetes objects for a test.
type objects struct {
	t  *testing.T
	c  kubernetes.Interface
	ns string
}

func newObjects(t *testing.T, c *kubetest.Cluster, ns string) *objects {
	t.Helper()
	o := &objects{t: t, c: c.Client, ns: ns}
	_, err := c.Client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (o *objects) ctx() context.Context { return context.Background() }

// service creates a Service with port 80 (named http) to target port 8080.
func (o *objects) service(name string) {
	o.t.Helper()
	_, err := o.c.CoreV1().Services(o.ns).Create(o.ctx(), &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}, metav1.CreateOptions{})
	if err != nil {
		o.t.Fatal(err)
	}
}

// slice creates or replaces the EndpointSlice svc-1 with ready endpoints
// at ips, port 8080.
func (o *objects) slice(svc string, ips ...string) {
	o.t.Helper()
	es := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: svc + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080))}},
	}
	sort.Strings(ips)
	for _, ip := range ips {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)}})
	}
	cur, err := o.c.DiscoveryV1().EndpointSlices(o.ns).Get(o.ctx(), es.Name, metav1.GetOptions{})
	if err == nil {
		es.ResourceVersion = cur.ResourceVersion
		_, err = o.c.DiscoveryV1().EndpointSlices(o.ns).Update(o.ctx(), es, metav1.UpdateOptions{})
	} else {
		_, err = o.c.DiscoveryV1().EndpointSlices(o.ns).Create(o.ctx(), es, metav1.CreateOptions{})
	}
	if err != nil {
		o.t.Fatal(err)
	}
}

// ingressOpts shape an Ingress.
type ingressOpts struct {
	class       string // spec.ingressClassName; "" for none
	annotations map[string]string
	tlsSecret   string
}

// ingress creates an Ingress routing host/ to svc port 80.
func (o *objects) ingress(name, host, svc string, opts ingressOpts) *networkingv1.Ingress {
	o.t.Helper()
	pt := networkingv1.PathTypePrefix
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: opts.annotations},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
			Host: host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: "/", PathType: &pt,
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Number: 80}}},
			}}}},
		}}},
	}
	if opts.class != "" {
		ing.Spec.IngressClassName = ptr(opts.class)
	}
	if opts.tlsSecret != "" {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: opts.tlsSecret}}
	}
	out, err := o.c.NetworkingV1().Ingresses(o.ns).Create(o.ctx(), ing, metav1.CreateOptions{})
	if err != nil {
		o.t.Fatal(err)
	}
	return out
}

// ingressClass creates a cluster-scoped IngressClass and removes it when
// the test ends.
func ingressClass(t *testing.T, c *kubetest.Cluster, name, controller string, isDefault bool) {
	t.Helper()
	ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: networkingv1.IngressClassSpec{Controller: controller}}
	if isDefault {
		ic.Annotations = map[string]string{networkingv1.AnnotationIsDefaultIngressClass: "true"}
	}
	if _, err := c.Client.NetworkingV1().IngressClasses().Create(context.Background(), ic, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Client.NetworkingV1().IngressClasses().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

func ptr[T any](v T) *T { return &v }

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// percentiles formats min, p50, p99 and max of ds.
func percentiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "no samples"
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	q := func(f float64) time.Duration { return s[int(f*float64(len(s)-1))].Round(10 * time.Microsecond) }
	return fmt.Sprintf("min %v p50 %v p90 %v p99 %v max %v (n=%d)", q(0), q(0.5), q(0.9), q(0.99), q(1), len(s))
}

// debugModel fetches /debug/model.
func (s *strait) debugModel() map[string]any {
	resp, err := http.Get("http://" + s.healthz + "/debug/model")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return m
}
