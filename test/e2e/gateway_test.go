package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/kubetest"
)

// gwObjects creates Gateway API objects in one namespace.
type gwObjects struct {
	t  *testing.T
	gw gatewayclient.Interface
	ns string
}

// httpRoute creates an HTTPRoute attached to Gateway gateway, routing host
// (every path) to svc port 80.
func (o *gwObjects) httpRoute(name, gateway, host, svc string) {
	o.t.Helper()
	port := gatewayv1.PortNumber(80)
	hr := &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Name: gatewayv1.ObjectName(gateway)}}},
			Hostnames:       []gatewayv1.Hostname{gatewayv1.Hostname(host)},
			Rules: []gatewayv1.HTTPRouteRule{{BackendRefs: []gatewayv1.HTTPBackendRef{{BackendRef: gatewayv1.BackendRef{
				BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(svc), Port: &port},
			}}}}},
		},
	}
	if _, err := o.gw.GatewayV1().HTTPRoutes(o.ns).Create(context.Background(), hr, metav1.CreateOptions{}); err != nil {
		o.t.Fatal(err)
	}
}

// gatewaySetup starts a cluster with the Gateway API installed, and in
// namespace ns the Services "ing" and "gw" whose echo backends (named the
// same) listen on net.1 and net.2, the IngressClass "strait" and an
// Ingress routing ing.test to "ing".
func gatewaySetup(t *testing.T, ns, net string) (*kubetest.Cluster, gatewayclient.Interface, *objects) {
	t.Helper()
	c := kubetest.Start(t)
	if err := c.InstallGatewayAPI(context.Background()); err != nil {
		t.Fatal(err)
	}
	gwc, err := gatewayclient.NewForConfig(c.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	o := newObjects(t, c, ns)
	for i, name := range []string{"ing", "gw"} {
		ip := fmt.Sprintf("%s.%d", net, i+1)
		annBackend(t, ip, name)
		o.service(name)
		o.slice(name, ip)
	}
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "app", "ing.test", "/", "ing", nil, "")
	return c, gwc, o
}

// TestGatewayBesideIngress: one Strait process serves an Ingress and a
// Gateway (HTTP and HTTPS listeners on an address of its own) on different
// hosts. Both answer throughout while Ingresses and HTTPRoutes for other
// hosts are created, changed and deleted, and the keep-alive connections
// opened before the churn are the ones still used after it: no change
// closed a listener or a connection. The Gateway and its route report
// their status: address, Programmed, attached routes, Accepted and
// ResolvedRefs, and a route naming a missing Service says so.
func TestGatewayBesideIngress(t *testing.T) {
	c, gwc, o := gatewaySetup(t, "side", "10.244.71")
	ctx := context.Background()
	cert := annTLSSecret(o, "gw-cert", "gw.test")

	gcName := "strait-side"
	_, err := gwc.GatewayV1().GatewayClasses().Create(ctx, &gatewayv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: gcName},
		Spec:       gatewayv1.GatewayClassSpec{ControllerName: "strait.dev/gateway-controller"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gwc.GatewayV1().GatewayClasses().Delete(ctx, gcName, metav1.DeleteOptions{}) })
	_, err = gwc.GatewayV1().Gateways(o.ns).Create(ctx, &gatewayv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: gatewayv1.GatewaySpec{
			GatewayClassName: gatewayv1.ObjectName(gcName),
			Listeners: []gatewayv1.Listener{
				{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType},
				{Name: "https", Port: 443, Protocol: gatewayv1.HTTPSProtocolType, TLS: &gatewayv1.ListenerTLSConfig{
					CertificateRefs: []gatewayv1.SecretObjectReference{{Name: "gw-cert"}},
				}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := &gwObjects{t: t, gw: gwc, ns: o.ns}
	g.httpRoute("site", "web", "gw.test", "gw")
	g.httpRoute("broken", "web", "broken.test", "missing")

	s := startStrait(t, c, "--gateway-address-pool=10.244.250.0/24")

	// Status: the Gateway's address from the pool, Programmed, routes
	// attached; the route accepted with its references resolved.
	var gwAddr string
	waitFor(t, 20*time.Second, "Gateway web programmed with an address", func() bool {
		gw, err := gwc.GatewayV1().Gateways(o.ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil || len(gw.Status.Addresses) == 0 || !meta.IsStatusConditionTrue(gw.Status.Conditions, "Programmed") {
			return false
		}
		gwAddr = gw.Status.Addresses[0].Value
		return len(gw.Status.Listeners) == 2 && gw.Status.Listeners[0].AttachedRoutes == 2
	})
	if gwAddr != "10.244.250.1" {
		t.Errorf("Gateway address %s, want the pool's first, 10.244.250.1", gwAddr)
	}
	routeCond := func(name, typ string) *metav1.Condition {
		hr, err := gwc.GatewayV1().HTTPRoutes(o.ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil || len(hr.Status.Parents) != 1 {
			return nil
		}
		if hr.Status.Parents[0].ControllerName != "strait.dev/gateway-controller" {
			t.Errorf("route %s parent controllerName %q", name, hr.Status.Parents[0].ControllerName)
		}
		return meta.FindStatusCondition(hr.Status.Parents[0].Conditions, typ)
	}
	waitFor(t, 10*time.Second, "HTTPRoute statuses", func() bool {
		a, r, b := routeCond("site", "Accepted"), routeCond("site", "ResolvedRefs"), routeCond("broken", "ResolvedRefs")
		return a != nil && a.Status == metav1.ConditionTrue && r != nil && r.Status == metav1.ConditionTrue &&
			b != nil && b.Status == metav1.ConditionFalse && b.Reason == string(gatewayv1.RouteReasonBackendNotFound)
	})

	// Traffic on both sides, over keep-alive connections whose reuse is
	// counted.
	var newConns atomic.Int64
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
		if !i.Reused {
			newConns.Add(1)
		}
	}}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	gwPlain := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1}}
	gwTLS := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1,
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "gw.test"}, ForceAttemptHTTP2: true}}
	ingPlain := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1}}
	type target struct {
		name    string
		client  *http.Client
		url     string
		host    string
		backend string
	}
	targets := []target{
		{"gateway http", gwPlain, "http://" + net.JoinHostPort(gwAddr, "80") + "/x", "gw.test", "gw"},
		{"gateway https", gwTLS, "https://" + net.JoinHostPort(gwAddr, "443") + "/x", "gw.test", "gw"},
		{"ingress", ingPlain, "http://" + s.http + "/x", "ing.test", "ing"},
	}
	do := func(tg target) error {
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), "GET", tg.url, nil)
		req.Host = tg.host
		resp, err := tg.client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var buf [512]byte
		for {
			if _, err := resp.Body.Read(buf[:]); err != nil {
				break
			}
		}
		if resp.StatusCode != 200 || resp.Header.Get(echo.BackendHeader) != tg.backend {
			return fmt.Errorf("%d from %q", resp.StatusCode, resp.Header.Get(echo.BackendHeader))
		}
		return nil
	}
	for _, tg := range targets {
		if err := do(tg); err != nil {
			t.Fatalf("%s before the churn: %v", tg.name, err)
		}
	}
	if n := newConns.Load(); n != 3 {
		t.Fatalf("%d connections opened for 3 targets", n)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := map[string]int{}
	var failures []string
	for _, tg := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := do(tg)
				mu.Lock()
				if err != nil {
					failures = append(failures, tg.name+": "+err.Error())
				} else {
					ok[tg.name]++
				}
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}

	// Churn on both sides, on other hosts: 20 rounds, each creating an
	// Ingress and an HTTPRoute, updating the previous round's and
	// deleting the one before.
	for i := range 20 {
		annIngress(o, fmt.Sprintf("churn-%d", i), fmt.Sprintf("churn-%d.ing.test", i), "/", "ing", nil, "")
		g.httpRoute(fmt.Sprintf("churn-%d", i), "web", fmt.Sprintf("churn-%d.gw.test", i), "gw")
		if i >= 1 {
			prev := fmt.Sprintf("churn-%d", i-1)
			ing, err := c.Client.NetworkingV1().Ingresses(o.ns).Get(ctx, prev, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ing.Spec.Rules[0].HTTP.Paths[0].Path = "/changed"
			if _, err := c.Client.NetworkingV1().Ingresses(o.ns).Update(ctx, ing, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			hr, err := gwc.GatewayV1().HTTPRoutes(o.ns).Get(ctx, prev, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			hr.Spec.Hostnames = append(hr.Spec.Hostnames, gatewayv1.Hostname(fmt.Sprintf("more-%d.gw.test", i)))
			if _, err := gwc.GatewayV1().HTTPRoutes(o.ns).Update(ctx, hr, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if i >= 2 {
			old := fmt.Sprintf("churn-%d", i-2)
			if err := c.Client.NetworkingV1().Ingresses(o.ns).Delete(ctx, old, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := gwc.GatewayV1().HTTPRoutes(o.ns).Delete(ctx, old, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The last round's objects are served: the churn reached the data
	// plane on both sides.
	waitFor(t, 10*time.Second, "the last churned Ingress and HTTPRoute served", func() bool {
		code1, _ := httpGet("http://"+s.http+"/", "churn-19.ing.test")
		code2, _ := httpGet("http://"+net.JoinHostPort(gwAddr, "80")+"/", "churn-19.gw.test")
		code3, _ := httpGet("http://"+net.JoinHostPort(gwAddr, "80")+"/", "churn-17.gw.test")
		return code1 == 200 && code2 == 200 && code3 == 404
	})
	close(stop)
	wg.Wait()
	for _, tg := range targets {
		if ok[tg.name] < 20 {
			t.Errorf("%s: only %d requests answered during the churn", tg.name, ok[tg.name])
		}
	}
	if len(failures) > 0 {
		t.Errorf("%d requests failed during the churn, first: %s", len(failures), failures[0])
	}
	if n := newConns.Load(); n != 3 {
		t.Errorf("%d connections opened in all, want the 3 opened before the churn: a change closed a connection", n)
	}
	t.Logf("answered during the churn: %v", ok)
}

// TestGatewaySharesIngressPorts: without an address pool, a Gateway whose
// listeners are on the ports of Strait's HTTP and HTTPS listeners is served
// by them: hosts no Ingress names go to the Gateway (certificate by SNI
// included, over HTTP/1.1 and HTTP/2), Ingress hosts stay the Ingress's,
// and the Gateway reports the published address. A listener on the
// health port is refused and reported not Programmed.
func TestGatewaySharesIngressPorts(t *testing.T) {
	c, gwc, o := gatewaySetup(t, "shared", "10.244.72")
	ctx := context.Background()
	gwCert := annTLSSecret(o, "gw-cert", "gw.test")
	if _, err := gwc.GatewayV1().GatewayClasses().Create(ctx, &gatewayv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: "strait-shared"},
		Spec:       gatewayv1.GatewayClassSpec{ControllerName: "strait.dev/gateway-controller"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gwc.GatewayV1().GatewayClasses().Delete(ctx, "strait-shared", metav1.DeleteOptions{}) })

	s := startStrait(t, c, "--publish-status-address=192.0.2.7")
	num := func(addr string) gatewayv1.PortNumber {
		n, _ := strconv.Atoi(port(addr))
		return gatewayv1.PortNumber(n)
	}
	host := gatewayv1.Hostname("gw.test")
	if _, err := gwc.GatewayV1().Gateways(o.ns).Create(ctx, &gatewayv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: gatewayv1.GatewaySpec{GatewayClassName: "strait-shared", Listeners: []gatewayv1.Listener{
			{Name: "http", Port: num(s.http), Protocol: gatewayv1.HTTPProtocolType, Hostname: &host},
			{Name: "https", Port: num(s.https), Protocol: gatewayv1.HTTPSProtocolType, Hostname: &host, TLS: &gatewayv1.ListenerTLSConfig{
				CertificateRefs: []gatewayv1.SecretObjectReference{{Name: "gw-cert"}},
			}},
			{Name: "health", Port: num(s.healthz), Protocol: gatewayv1.HTTPProtocolType, Hostname: &host},
		}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	(&gwObjects{t: t, gw: gwc, ns: o.ns}).httpRoute("site", "web", "gw.test", "gw")

	waitFor(t, 10*time.Second, "Gateway web programmed at 192.0.2.7", func() bool {
		gw, err := gwc.GatewayV1().Gateways(o.ns).Get(ctx, "web", metav1.GetOptions{})
		return err == nil && len(gw.Status.Addresses) == 1 && gw.Status.Addresses[0].Value == "192.0.2.7" &&
			meta.IsStatusConditionTrue(gw.Status.Conditions, "Programmed")
	})
	gw, err := gwc.GatewayV1().Gateways(o.ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range gw.Status.Listeners {
		p := meta.FindStatusCondition(l.Conditions, "Programmed")
		want := metav1.ConditionTrue
		if l.Name == "health" {
			want = metav1.ConditionFalse
		}
		if p == nil || p.Status != want {
			t.Errorf("listener %s Programmed %+v, want %s", l.Name, p, want)
		}
		if l.Name == "health" && p != nil && !strings.Contains(p.Message, "--healthz-port") {
			t.Errorf("listener health: message %q does not name --healthz-port", p.Message)
		}
	}

	waitFor(t, 10*time.Second, "gw.test served on the HTTP port", func() bool {
		code, b := s.get("gw.test", "/")
		return code == 200 && b == "gw"
	})
	if code, b := s.get("ing.test", "/"); code != 200 || b != "ing" {
		t.Errorf("ing.test: %d from %q, want 200 from ing", code, b)
	}
	if code, _ := s.get("other.test", "/"); code != 404 {
		t.Errorf("other.test: %d, want 404", code)
	}
	// A route deleted and created again under its name gets its status
	// written again: it is another object.
	if err := gwc.GatewayV1().HTTPRoutes(o.ns).Delete(ctx, "site", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "gw.test gone with its route", func() bool {
		code, _ := s.get("gw.test", "/")
		return code == 404
	})
	(&gwObjects{t: t, gw: gwc, ns: o.ns}).httpRoute("site", "web", "gw.test", "gw")
	waitFor(t, 10*time.Second, "the recreated route accepted", func() bool {
		hr, err := gwc.GatewayV1().HTTPRoutes(o.ns).Get(ctx, "site", metav1.GetOptions{})
		return err == nil && len(hr.Status.Parents) == 1 && meta.IsStatusConditionTrue(hr.Status.Parents[0].Conditions, "Accepted")
	})

	pool := x509.NewCertPool()
	pool.AddCert(gwCert)
	for _, h2 := range []bool{false, true} {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "gw.test"}, ForceAttemptHTTP2: h2}
		if !h2 {
			tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
		}
		cl := &http.Client{Timeout: 5 * time.Second, Transport: tr}
		req, _ := http.NewRequest("GET", "https://"+s.https+"/", nil)
		req.Host = "gw.test"
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatalf("HTTPS gw.test (h2 %v): %v", h2, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get(echo.BackendHeader) != "gw" || (resp.ProtoMajor == 2) != h2 {
			t.Errorf("HTTPS gw.test (h2 %v): %d %s from %q", h2, resp.StatusCode, resp.Proto, resp.Header.Get(echo.BackendHeader))
		}
	}
}
