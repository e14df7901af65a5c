package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/kubetest"
)

// The tests in this file check backend selection end to end (catalogue
// sections 1.2 and 1.5): the affinity cookie, upstream-hash-by and
// service-upstream, with three real backends.

// balResp is what these tests see of a response.
type balResp struct {
	code      int
	backend   string
	setCookie []string
}

// balGet sends GET url with Host host and, when not empty, a Cookie
// header.
func balGet(t *testing.T, c *http.Client, url, host, cookie string) balResp {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return balResp{code: resp.StatusCode, backend: resp.Header.Get(echo.BackendHeader), setCookie: resp.Header.Values("Set-Cookie")}
}

// threeBackends starts echo backends b1..b3 on prefix.1..3 and a Service
// svc with them as endpoints.
func threeBackends(t *testing.T, o *objects, svc, prefix string) {
	t.Helper()
	var ips []string
	for i := 1; i <= 3; i++ {
		ip := fmt.Sprintf("%s.%d", prefix, i)
		backend(t, ip, fmt.Sprintf("b%d", i))
		ips = append(ips, ip)
	}
	o.service(svc)
	o.slice(svc, ips...)
}

// TestAffinity: an Ingress with affinity: cookie sets the cookie with the
// configured attributes (Secure only over TLS), requests carrying it stick
// to one backend on every path of the Service, another Ingress's path to
// the same Service honours it without setting it, and clients without
// the cookie are spread.
func TestAffinity(t *testing.T) {
	c := kubetest.Start(t)
	o := newObjects(t, c, "affinity")
	threeBackends(t, o, "web", "10.244.41")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	const host = "aff.test"
	annIngress(o, "sticky", host, "/app", "web", annMap(
		"affinity", "cookie",
		"session-cookie-name", "route",
		"session-cookie-samesite", "Lax",
		"session-cookie-max-age", "120"), "")
	time.Sleep(1100 * time.Millisecond) // a later creationTimestamp: "sticky" is older
	annIngress(o, "plain", host, "/other", "web", nil, "")
	s := startStrait(t, c)
	https := s.annHTTPSClient(t)

	cookieRE := regexp.MustCompile(`^route=[0-9a-f]{16}; Path=/app; Max-Age=120; HttpOnly; SameSite=Lax$`)
	r := balGet(t, plainClient, "http://"+s.http+"/app/x", host, "")
	if r.code != 200 || len(r.setCookie) != 1 || !cookieRE.MatchString(r.setCookie[0]) {
		t.Fatalf("first request: %d Set-Cookie %q", r.code, r.setCookie)
	}
	cookie, pinned := strings.SplitN(r.setCookie[0], ";", 2)[0], r.backend
	tr := balGet(t, https, "https://"+host+"/app", host, "")
	if len(tr.setCookie) != 1 || !strings.HasSuffix(tr.setCookie[0], "; HttpOnly; Secure; SameSite=Lax") {
		t.Errorf("over TLS the cookie must be Secure: %q", tr.setCookie)
	}
	for i := range 12 {
		path := fmt.Sprintf("/app/%d", i)
		if i%2 == 1 {
			path = fmt.Sprintf("/other/%d", i)
		}
		r := balGet(t, plainClient, "http://"+s.http+path, host, cookie)
		if r.code != 200 || r.backend != pinned || len(r.setCookie) != 0 {
			t.Errorf("%s with %s: %d from %q, Set-Cookie %q; want %q, no cookie", path, cookie, r.code, r.backend, r.setCookie, pinned)
		}
	}
	fresh, other := map[string]bool{}, map[string]bool{}
	for range 30 {
		fresh[balGet(t, plainClient, "http://"+s.http+"/app", host, "").backend] = true
		r := balGet(t, plainClient, "http://"+s.http+"/other", host, "")
		if len(r.setCookie) != 0 {
			t.Fatalf("/other belongs to an Ingress without affinity, yet set %q", r.setCookie)
		}
		other[r.backend] = true
	}
	if len(fresh) < 2 || len(other) < 3 {
		t.Errorf("clients without the cookie went to %v (/app) and %v (/other); want them spread", fresh, other)
	}
	for _, name := range []string{"sticky", "plain"} {
		if w := annWarnings(c, "affinity", name); len(w) > 0 {
			t.Errorf("Ingress %s has warnings: %q", name, w)
		}
	}
}

// TestUpstreamHashBy: with upstream-hash-by $request_uri the same URI
// always reaches the same backend, and different URIs spread over all
// three; an unknown variable fails its own Ingress closed with a warning.
func TestUpstreamHashBy(t *testing.T) {
	c := kubetest.Start(t)
	o := newObjects(t, c, "hashby")
	threeBackends(t, o, "web", "10.244.42")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "hash", "hash.test", "/", "web", annMap("upstream-hash-by", "$request_uri"), "")
	o.service("other")
	o.slice("other", "10.244.42.1")
	annIngress(o, "bad", "bad.test", "/", "other", annMap("upstream-hash-by", "$upstream_addr"), "")
	s := startStrait(t, c)

	seen := map[string]bool{}
	for i := range 30 {
		uri := fmt.Sprintf("/item/%d?v=%d", i, i%4)
		first := balGet(t, plainClient, "http://"+s.http+uri, "hash.test", "")
		for range 3 {
			if r := balGet(t, plainClient, "http://"+s.http+uri, "hash.test", ""); r.backend != first.backend || r.code != 200 {
				t.Errorf("%s went to %q, then %q (%d)", uri, first.backend, r.backend, r.code)
			}
		}
		seen[first.backend] = true
	}
	if len(seen) != 3 {
		t.Errorf("30 URIs reached %v; want all three backends", seen)
	}
	if r := balGet(t, plainClient, "http://"+s.http+"/", "bad.test", ""); r.code != 503 {
		t.Errorf("unknown variable: %d, want 503", r.code)
	}
	annWaitWarning(t, c, "hashby", "bad", "InvalidAnnotation", "upstream-hash-by", "$upstream_addr")
}

// TestServiceUpstream: with service-upstream the Service's cluster IP and
// port is the only endpoint, and EndpointSlice changes do not replace it.
// A cluster IP is not routable in the test's network namespace, so the
// test makes one address of the Service range local there and runs a
// backend on it (port 80, the Service port, as kube-proxy would be
// reached); the Service's pod is another backend, which must not answer.
func TestServiceUpstream(t *testing.T) {
	const clusterIP = "10.96.43.10"
	if out, err := exec.Command("ip", "route", "replace", "local", clusterIP+"/32", "dev", "lo", "table", "local").CombinedOutput(); err != nil {
		t.Fatalf("making %s local: %v: %s", clusterIP, err, out)
	}
	t.Cleanup(func() {
		_ = exec.Command("ip", "route", "del", "local", clusterIP+"/32", "dev", "lo", "table", "local").Run()
	})
	ln, err := net.Listen("tcp", net.JoinHostPort(clusterIP, "80"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: echo.New("cluster-ip"), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	c := kubetest.Start(t)
	o := newObjects(t, c, "svcup")
	backend(t, "10.244.43.1", "pod")
	backend(t, "10.244.43.2", "pod2")
	_, err = c.Client.CoreV1().Services("svcup").Create(o.ctx(), &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.ServiceSpec{ClusterIP: clusterIP, Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	o.slice("web", "10.244.43.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "up", "up.test", "/", "web", annMap("service-upstream", "true"), "")
	time.Sleep(1100 * time.Millisecond) // a later creationTimestamp: "up" is older
	annIngress(o, "pods", "pods.test", "/", "web", nil, "")
	s := startStrait(t, c)

	check := func(what string) {
		t.Helper()
		for range 5 {
			if r := balGet(t, plainClient, "http://"+s.http+"/", "up.test", ""); r.code != 200 || r.backend != "cluster-ip" {
				t.Errorf("%s: %d from %q, want 200 from the cluster IP", what, r.code, r.backend)
			}
		}
	}
	check("service-upstream")
	// The Service port is shared: "pods" is newer, so the backend stays
	// the cluster IP for it too (upstream-level, oldest Ingress wins).
	if r := balGet(t, plainClient, "http://"+s.http+"/", "pods.test", ""); r.backend != "cluster-ip" {
		t.Errorf("the newer Ingress to the same Service port: from %q, want the cluster IP", r.backend)
	}
	o.slice("web", "10.244.43.1", "10.244.43.2")
	time.Sleep(500 * time.Millisecond)
	check("after an EndpointSlice change")
	m := s.debugModel()
	if inner, ok := m["model"].(map[string]any); ok {
		m = inner
	}
	if b, _ := m["backends"].([]any); len(b) != 1 || !strings.Contains(fmt.Sprint(b[0]), "serviceUpstream:true") || !strings.Contains(fmt.Sprint(b[0]), clusterIP) {
		t.Errorf("/debug/model backends: %v", m["backends"])
	}
}
