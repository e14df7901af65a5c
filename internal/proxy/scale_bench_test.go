package proxy_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
	"github.com/straitgw/strait/internal/snapshot"
	"github.com/straitgw/strait/internal/translate"
)

// Shape of the generated cluster.
const (
	scaleNamespaces   = 50
	scaleServicesPerN = 10 // Services per namespace, shared by its Ingresses
	scalePaths        = 10 // paths per Ingress
	scaleEndpoints    = 3  // ready endpoints per Service
	scaleTLSEvery     = 10 // every 10th Ingress has a TLS entry
	scaleClassName    = "strait"
	scaleController   = "strait.dev/ingress-controller"
	scaleSecretName   = "wildcard-example-com"
	scalePortName     = "http"
	scaleServicePort  = 80
	scaleTargetPort   = 8080
)

var scaleClasses = snapshot.ClassOptions{ControllerClass: scaleController, IngressClass: scaleClassName}

// scaleNamespace, scaleService and scaleBackend name the generated objects:
// the n Ingresses fill the 50 namespaces in consecutive blocks (so that
// every namespace gets some of the TLS Ingresses), and path j of Ingress i
// goes to Service (i+j)%10 of its namespace.
func scaleNamespace(i, n int) string { return scaleNSName(i * scaleNamespaces / n) }

func scaleNSName(k int) string { return fmt.Sprintf("ns-%02d", k) }

func scaleService(i, j int) string { return fmt.Sprintf("svc-%d", (i+j)%scaleServicesPerN) }

func scaleBackend(i, j, n int) string {
	return fmt.Sprintf("%s/%s:%d", scaleNamespace(i, n), scaleService(i, j), scaleServicePort)
}

// scalePathType is Prefix for even paths and Exact for odd ones.
func scalePathType(j int) networkingv1.PathType {
	if j%2 == 0 {
		return networkingv1.PathTypePrefix
	}
	return networkingv1.PathTypeExact
}

var (
	scaleWildcardOnce                   sync.Once
	scaleWildcardCert, scaleWildcardKey []byte // PEM
)

// scaleWildcardPEM returns one self-signed ECDSA certificate for
// *.example.com and its key, generated on first use and shared by every
// namespace's Secret.
func scaleWildcardPEM() (certPEM, keyPEM []byte) {
	scaleWildcardOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		now := time.Now()
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{CommonName: "*.example.com"},
			DNSNames:              []string{"*.example.com"},
			NotBefore:             now.Add(-time.Hour),
			NotAfter:              now.AddDate(1, 0, 0),
			KeyUsage:              x509.KeyUsageDigitalSignature,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			BasicConstraintsValid: true,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			panic(err)
		}
		kder, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			panic(err)
		}
		scaleWildcardCert = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		scaleWildcardKey = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	})
	return scaleWildcardCert, scaleWildcardKey
}

// buildObjects returns a cluster of n Ingresses spread over 50 namespaces
// in consecutive blocks, with the 10 Services and the TLS Secret of each
// namespace. Ingress i has the one host ing-<i>.example.com and the paths /p0../p9
// (Prefix and Exact alternating), each to one of the namespace's 10
// Services, so Services are shared by Ingresses. Every Service has one
// named port and one EndpointSlice with 3 ready IPv4 endpoints. Every 10th
// Ingress has a TLS entry for its host with the namespace's copy of one
// shared wildcard certificate. Ingresses are created one second apart, all
// with IngressClass strait.
func buildObjects(n int) snapshot.Objects {
	certPEM, keyPEM := scaleWildcardPEM()
	var objs snapshot.Objects
	objs.IngressClasses = []*networkingv1.IngressClass{{
		ObjectMeta: metav1.ObjectMeta{Name: scaleClassName},
		Spec:       networkingv1.IngressClassSpec{Controller: scaleController},
	}}
	ipv4 := discoveryv1.AddressTypeIPv4
	tcp := corev1.ProtocolTCP
	portName := scalePortName
	targetPort := int32(scaleTargetPort)
	ready := true
	for ns := range scaleNamespaces {
		namespace := scaleNSName(ns)
		objs.Secrets = append(objs.Secrets, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: scaleSecretName},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM},
		})
		for s := range scaleServicesPerN {
			svcName := fmt.Sprintf("svc-%d", s)
			objs.Services = append(objs.Services, &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: svcName},
				Spec: corev1.ServiceSpec{
					Type: corev1.ServiceTypeClusterIP,
					Ports: []corev1.ServicePort{{
						Name: scalePortName, Protocol: corev1.ProtocolTCP,
						Port: scaleServicePort, TargetPort: intstr.FromInt32(scaleTargetPort),
					}},
				},
			})
			slice := &discoveryv1.EndpointSlice{
				ObjectMeta: metav1.ObjectMeta{
					Namespace: namespace,
					Name:      svcName + "-x7k2p",
					Labels:    map[string]string{snapshot.ServiceNameLabel: svcName},
				},
				AddressType: ipv4,
				Ports:       []discoveryv1.EndpointPort{{Name: &portName, Protocol: &tcp, Port: &targetPort}},
			}
			for e := range scaleEndpoints {
				slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
					Addresses:  []string{fmt.Sprintf("10.244.%d.%d", ns, s*scaleEndpoints+e+1)},
					Conditions: discoveryv1.EndpointConditions{Ready: &ready},
				})
			}
			objs.EndpointSlices = append(objs.EndpointSlices, slice)
		}
	}
	class := scaleClassName
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	objs.Ingresses = make([]*networkingv1.Ingress, 0, n)
	for i := range n {
		host := fmt.Sprintf("ing-%d.example.com", i)
		paths := make([]networkingv1.HTTPIngressPath, scalePaths)
		for j := range paths {
			pt := scalePathType(j)
			paths[j] = networkingv1.HTTPIngressPath{
				Path:     fmt.Sprintf("/p%d", j),
				PathType: &pt,
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
					Name: scaleService(i, j),
					Port: networkingv1.ServiceBackendPort{Name: scalePortName},
				}},
			}
		}
		ing := &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{
				Namespace:         scaleNamespace(i, n),
				Name:              fmt.Sprintf("ing-%d", i),
				CreationTimestamp: metav1.NewTime(base.Add(time.Duration(i) * time.Second)),
			},
			Spec: networkingv1.IngressSpec{
				IngressClassName: &class,
				Rules: []networkingv1.IngressRule{{
					Host:             host,
					IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}},
				}},
			},
		}
		if i%scaleTLSEvery == 0 {
			ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: scaleSecretName}}
		}
		objs.Ingresses = append(objs.Ingresses, ing)
	}
	return objs
}

var (
	scaleMu    sync.Mutex
	scaleCache = map[int]snapshot.Objects{}
)

// scaleObjects returns buildObjects(n), generated once per test binary and
// shared by the benchmarks (the objects are never modified).
func scaleObjects(tb testing.TB, n int) snapshot.Objects {
	tb.Helper()
	scaleMu.Lock()
	defer scaleMu.Unlock()
	objs, ok := scaleCache[n]
	if !ok {
		objs = buildObjects(n)
		scaleCache[n] = objs
	}
	return objs
}

// scaleProxy returns a proxy that logs nothing.
func scaleProxy(tb testing.TB) *proxy.Proxy {
	tb.Helper()
	p, err := proxy.New(proxy.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		tb.Fatalf("proxy.New: %v", err)
	}
	return p
}

// scaleRebuild is the full path from cluster objects to a live generation.
func scaleRebuild(tb testing.TB, p *proxy.Proxy, objs snapshot.Objects) *model.Model {
	m, problems := translate.Translate(snapshot.Build(objs, scaleClasses), translate.Options{})
	if len(problems) > 0 {
		tb.Fatalf("translate reported %d problems, the first: %+v", len(problems), problems[0])
	}
	p.Apply(m)
	return m
}

func scaleCountRoutes(m *model.Model) int {
	n := len(m.CatchAll.Routes)
	for i := range m.Hosts {
		n += len(m.Hosts[i].Routes)
	}
	return n
}

var scaleSizes = []int{1000, 10000}

// BenchmarkRebuild measures the full path of a configuration change:
// snapshot.Build, translate.Translate and proxy.Apply over the same
// objects.
func BenchmarkRebuild(b *testing.B) {
	for _, n := range scaleSizes {
		b.Run(fmt.Sprintf("ingresses=%d", n), func(b *testing.B) {
			objs := scaleObjects(b, n)
			p := scaleProxy(b)
			b.ReportAllocs()
			var m *model.Model
			for b.Loop() {
				m = scaleRebuild(b, p, objs)
			}
			scaleReportRoutes(b, scaleCountRoutes(m))
		})
	}
}

// BenchmarkTranslate measures translate.Translate alone, on a snapshot
// built once.
func BenchmarkTranslate(b *testing.B) {
	for _, n := range scaleSizes {
		b.Run(fmt.Sprintf("ingresses=%d", n), func(b *testing.B) {
			snap := snapshot.Build(scaleObjects(b, n), scaleClasses)
			b.ReportAllocs()
			var m *model.Model
			for b.Loop() {
				m, _ = translate.Translate(snap, translate.Options{})
			}
			scaleReportRoutes(b, scaleCountRoutes(m))
		})
	}
}

// BenchmarkCompile measures proxy.Apply alone on a precomputed model.
// Apply always recompiles (and re-sets every backend's endpoints), so
// applying the same model again is not a no-op.
func BenchmarkCompile(b *testing.B) {
	for _, n := range scaleSizes {
		b.Run(fmt.Sprintf("ingresses=%d", n), func(b *testing.B) {
			m, problems := translate.Translate(snapshot.Build(scaleObjects(b, n), scaleClasses), translate.Options{})
			if len(problems) > 0 {
				b.Fatalf("translate reported %d problems", len(problems))
			}
			p := scaleProxy(b)
			p.Apply(m) // the backends and certificates exist, as in steady state
			b.ReportAllocs()
			for b.Loop() {
				p.Apply(m)
			}
			scaleReportRoutes(b, scaleCountRoutes(m))
		})
	}
}

// BenchmarkEndpointsOnly measures the endpoints fast path: one backend's
// endpoints replaced in place in a proxy serving 10,000 Ingresses,
// alternating between two sets of three endpoints.
func BenchmarkEndpointsOnly(b *testing.B) {
	const n = 10000
	b.Run(fmt.Sprintf("ingresses=%d", n), func(b *testing.B) {
		p := scaleProxy(b)
		scaleRebuild(b, p, scaleObjects(b, n))
		name := scaleBackend(0, 0, n)
		sets := [2][]model.Endpoint{
			{{Host: "10.245.0.1", Port: scaleTargetPort}, {Host: "10.245.0.2", Port: scaleTargetPort}, {Host: "10.245.0.3", Port: scaleTargetPort}},
			{{Host: "10.245.1.1", Port: scaleTargetPort}, {Host: "10.245.1.2", Port: scaleTargetPort}, {Host: "10.245.1.3", Port: scaleTargetPort}},
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if !p.SetEndpoints(name, sets[i&1]) {
				b.Fatalf("SetEndpoints(%q) = false", name)
			}
			i++
		}
	})
}

// BenchmarkChangeOneIngress measures what a change to one Ingress costs in
// a cluster of n: the snapshot, the incremental translation (the changed
// Ingress's component: here the Ingresses sharing its namespace's
// Services) and the compile, which reuses every other host.
func BenchmarkChangeOneIngress(b *testing.B) {
	for _, n := range scaleSizes {
		b.Run(fmt.Sprintf("ingresses=%d", n), func(b *testing.B) {
			objs := scaleObjects(b, n)
			// As the Kubernetes source hands them over: filtered by class
			// and in order, kept so as events arrive.
			objs.Ingresses = slices.Clone(snapshot.Build(objs, scaleClasses).Ingresses)
			objs.Classified = true
			p := scaleProxy(b)
			var tb translate.Builder
			p.Apply(tb.Build(snapshot.Build(objs, scaleClasses), translate.Options{}).Model)
			b.ReportAllocs()
			var translated int
			i := 0
			for b.Loop() {
				k := (i * 7919) % n
				ing := objs.Ingresses[k].DeepCopy()
				ing.Spec.Rules[0].HTTP.Paths[0].Path = fmt.Sprintf("/changed-%d", i)
				// A snapshot keeps the list it was given, as the source
				// hands over a copy.
				objs.Ingresses = slices.Clone(objs.Ingresses)
				objs.Ingresses[k] = ing
				r := tb.Build(snapshot.Build(objs, scaleClasses), translate.Options{})
				if !r.Changed || len(r.Problems) > 0 {
					b.Fatalf("changing an Ingress: changed %v, %d problems", r.Changed, len(r.Problems))
				}
				translated += r.Translated
				p.Apply(r.Model)
				i++
			}
			b.ReportMetric(float64(translated)/float64(b.N), "ingresses-translated/op")
		})
	}
}

// scaleReportRoutes adds the size of the routing table and the cost per route.
func scaleReportRoutes(b *testing.B, routes int) {
	b.ReportMetric(float64(routes), "routes/op")
	if routes > 0 && b.N > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(routes), "ns/route")
	}
}

// TestScaleRebuild runs the full path once at 1,000 Ingresses: a cheap
// check that the benchmarks' generator produces what they claim to
// measure, and that a request finds its route in the compiled generation.
func TestScaleRebuild(t *testing.T) {
	t.Parallel()
	const n = 1000
	objs := scaleObjects(t, n)
	p := scaleProxy(t)
	m := scaleRebuild(t, p, objs)

	if len(m.Hosts) != n {
		t.Errorf("model has %d hosts, want %d", len(m.Hosts), n)
	}
	if got := scaleCountRoutes(m); got != n*scalePaths {
		t.Errorf("model has %d routes, want %d", got, n*scalePaths)
	}
	if want := scaleNamespaces * scaleServicesPerN; len(m.Backends) != want {
		t.Errorf("model has %d backends, want %d", len(m.Backends), want)
	}
	for _, be := range m.Backends {
		if len(be.Endpoints) != scaleEndpoints {
			t.Errorf("backend %s has %d endpoints, want %d", be.Name, len(be.Endpoints), scaleEndpoints)
		}
	}
	if want := n / scaleTLSEvery; len(m.SNI) != want {
		t.Errorf("model has %d SNI bindings, want %d", len(m.SNI), want)
	}
	if len(m.Certificates) != scaleNamespaces {
		t.Errorf("model has %d certificates, want %d", len(m.Certificates), scaleNamespaces)
	}

	// Point the backend of one route at a local echo server and send
	// requests through the proxy's handler.
	const ing = 737
	target := scaleBackend(ing, 4, n) // /p4 is a Prefix path
	up := httptest.NewServer(echo.New("hit"))
	t.Cleanup(up.Close)
	addr := up.Listener.Addr().(*net.TCPAddr)
	if !p.SetEndpoints(target, []model.Endpoint{{Host: addr.IP.String(), Port: int32(addr.Port)}}) {
		t.Fatalf("SetEndpoints(%q) = false", target)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := p.Server(ln, false).Handler
	_ = ln.Close() // Server only reads the listener's port
	host := fmt.Sprintf("ing-%d.example.com", ing)
	for _, tc := range []struct {
		host, path string
		status     int
	}{
		{host, "/p4/deeper/still", http.StatusOK}, // Prefix route to the echo server
		{host, "/p4", http.StatusOK},
		{host, "/p4x", http.StatusNotFound},                                // not an element-wise prefix
		{host, "/p5/deeper", http.StatusNotFound},                          // /p5 is Exact
		{host, "/", http.StatusNotFound},                                   // host default
		{fmt.Sprintf("ing-%d.example.com", n), "/p4", http.StatusNotFound}, // unknown host
	} {
		req := httptest.NewRequest(http.MethodGet, "http://"+tc.host+tc.path, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Errorf("GET %s%s: status %d, want %d", tc.host, tc.path, rec.Code, tc.status)
			continue
		}
		if tc.status == http.StatusOK {
			if got := rec.Header().Get(echo.BackendHeader); got != "hit" {
				t.Errorf("GET %s%s: answered by %q, want the echo backend", tc.host, tc.path, got)
			}
		}
	}
}

// BenchmarkModelHash measures the change detector run on every full
// generation.
func BenchmarkModelHash(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("ingresses=%d", n), func(b *testing.B) {
			objs := scaleObjects(b, n)
			m, _ := translate.Translate(snapshot.Build(objs, scaleClasses), translate.Options{})
			b.ReportAllocs()
			for b.Loop() {
				_ = m.Hash()
			}
		})
	}
}

// BenchmarkModelEqual measures comparing two equal models field by field.
func BenchmarkModelEqual(b *testing.B) {
	objs := scaleObjects(b, 10000)
	m1, _ := translate.Translate(snapshot.Build(objs, scaleClasses), translate.Options{})
	m2, _ := translate.Translate(snapshot.Build(objs, scaleClasses), translate.Options{})
	b.ReportAllocs()
	for b.Loop() {
		if !reflect.DeepEqual(m1, m2) {
			b.Fatal("differ")
		}
	}
}
