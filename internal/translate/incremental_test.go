package translate

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/snapshot"
)

// A Builder fed a sequence of snapshots, each a small random change of the
// one before, returns for each exactly what translating every Ingress
// together returns (Builder.whole), and says Changed whenever the model
// differs from the previous one. The Ingresses share hosts, wildcard
// certificates, Services, aliases, www names, the catch-all and canaries,
// so that components split and merge as the sequence goes.
func TestBuilderMatchesWholeTranslation(t *testing.T) {
	certPEM, keyPEM := testCert(t, "*.test", "*.w.test", "w.test")
	for seed := range uint64(40) {
		for i, opts := range []Options{
			{EnableSSLPassthrough: true},
			{DefaultBackendService: "a/s1", DefaultCertificate: "a/tls"},
			// The ConfigMap turns service-upstream on for every Service.
			{DefaultBackendService: "a/s2", ConfigMap: "a/config"},
		} {
			t.Run(fmt.Sprintf("seed=%d/options=%d", seed, i), func(t *testing.T) {
				rng := mrand.New(mrand.NewPCG(seed, 7))
				w := &randomWorld{rng: rng, ings: map[string]*networkingv1.Ingress{}, cert: certPEM, key: keyPEM}
				w.init()
				var b Builder
				var prev *model.Model
				for step := range 80 {
					what := w.mutate()
					s := w.snapshot()
					got := b.Build(s, opts)
					var ref Builder
					want := ref.whole(s, opts)
					if !reflect.DeepEqual(got.Model, want.Model) {
						t.Fatalf("step %d (%s): incremental model differs from the whole translation: %s", step, what, modelDiff(got.Model, want.Model))
					}
					if !reflect.DeepEqual(got.Problems, want.Problems) {
						t.Fatalf("step %d (%s): problems differ\n got %v\nwant %v", step, what, got.Problems, want.Problems)
					}
					if prev != nil && !got.Changed && !reflect.DeepEqual(prev, got.Model) {
						t.Fatalf("step %d (%s): the model changed but Changed is false", step, what)
					}
					if got.Fallback {
						t.Fatalf("step %d (%s): components conflicted", step, what)
					}
					prev = got.Model
				}
			})
		}
	}
}

// A change to one Ingress translates its component alone.
func TestBuilderTranslatesOnlyTheChangedComponent(t *testing.T) {
	w := &randomWorld{rng: mrand.New(mrand.NewPCG(1, 1)), ings: map[string]*networkingv1.Ingress{}}
	w.init()
	for i := range 50 {
		w.put(plainIngress(fmt.Sprintf("i%02d", i), fmt.Sprintf("h%02d.test", i), fmt.Sprintf("s%d", i%3+1)))
	}
	var b Builder
	if r := b.Build(w.snapshot(), Options{}); r.Translated != 50 {
		t.Fatalf("first build translated %d Ingresses, want 50", r.Translated)
	}
	if r := b.Build(w.snapshot(), Options{}); r.Translated != 0 || r.Changed {
		t.Fatalf("an unchanged snapshot translated %d Ingresses (changed %v), want 0", r.Translated, r.Changed)
	}
	// A new Ingress with its own host and Service is a component alone.
	w.services = append(w.services, testService("a", "solo"))
	w.put(plainIngress("solo", "solo.test", "solo"))
	r := b.Build(w.snapshot(), Options{})
	if r.Translated != 1 || !r.Changed {
		t.Fatalf("adding a lone Ingress translated %d Ingresses (changed %v), want 1", r.Translated, r.Changed)
	}
	if len(r.Model.Hosts) != 51 {
		t.Fatalf("%d hosts, want 51", len(r.Model.Hosts))
	}
	// Sharing a Service nobody tunes couples nothing.
	w.put(plainIngress("i00", "h00.test", "s1"))
	if r := b.Build(w.snapshot(), Options{}); r.Translated != 1 || r.Changed {
		t.Fatalf("replacing an Ingress by an equal one translated %d (changed %v), want 1, unchanged", r.Translated, r.Changed)
	}
	// Once an Ingress tunes the balancer of s1, the Ingresses using s1
	// translate together (the oldest decides for all).
	tuned := plainIngress("tuned", "tuned.test", "s1")
	tuned.Annotations = map[string]string{annotations.Prefix + "load-balance": "ewma"}
	w.put(tuned)
	if r := b.Build(w.snapshot(), Options{}); r.Translated != 52 || !r.Changed {
		t.Fatalf("tuning a Service translated %d (changed %v), want all 52 again", r.Translated, r.Changed)
	}
	w.put(plainIngress("i03", "h03.test", "s1"))
	if r := b.Build(w.snapshot(), Options{}); r.Translated != 18 || r.Changed {
		t.Fatalf("replacing an Ingress using the tuned Service translated %d (changed %v), want the 18 using it, unchanged", r.Translated, r.Changed)
	}
}

// randomWorld is a small cluster that changes at random.
type randomWorld struct {
	rng       *mrand.Rand
	ings      map[string]*networkingv1.Ingress
	services  []*corev1.Service
	config    []*corev1.ConfigMap
	slices    []*discoveryv1.EndpointSlice
	secrets   []*corev1.Secret
	cert, key []byte
	n         int
}

var (
	worldHosts = []string{"h1.test", "h2.test", "www.h1.test", "x.w.test", "y.w.test", "*.w.test", "", "H2.test"}
	worldPaths = []string{"/", "/api", "/api/v1", "/x", "/(a|b)"}
)

func (w *randomWorld) init() {
	for _, ns := range []string{"a", "b"} {
		for _, n := range []string{"s1", "s2", "s3"} {
			w.services = append(w.services, testService(ns, n))
			w.slices = append(w.slices, testSlice(ns, n, fmt.Sprintf("10.0.%d.1", len(w.slices))))
		}
	}
	w.config = []*corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "config"},
		Data: map[string]string{"service-upstream": "true", "load-balance": "ewma"}}}
	if w.cert != nil {
		w.secrets = append(w.secrets, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "tls"}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{corev1.TLSCertKey: w.cert, corev1.TLSPrivateKeyKey: w.key, "ca.crt": w.cert},
		})
	}
}

func (w *randomWorld) put(ing *networkingv1.Ingress) { w.ings[ing.Namespace+"/"+ing.Name] = ing }

func (w *randomWorld) snapshot() *snapshot.Snapshot {
	var objs snapshot.Objects
	for _, ing := range w.ings {
		objs.Ingresses = append(objs.Ingresses, ing)
	}
	objs.Services, objs.EndpointSlices, objs.Secrets, objs.ConfigMaps = w.services, w.slices, w.secrets, w.config
	return snapshot.Build(objs, snapshot.ClassOptions{WatchWithoutClass: true})
}

// mutate makes one random change and says what it was.
func (w *randomWorld) mutate() string {
	r := w.rng
	switch k := r.IntN(10); {
	case k < 5 || len(w.ings) == 0:
		w.n++
		ing := w.randomIngress(fmt.Sprintf("i%d", r.IntN(14)))
		w.put(ing)
		return "put " + ing.Namespace + "/" + ing.Name
	case k < 7:
		for key := range w.ings {
			delete(w.ings, key)
			return "delete " + key
		}
	case k < 8:
		// The same Ingress as a new object: nothing to change.
		for key, ing := range w.ings {
			w.ings[key] = ing.DeepCopy()
			return "copy " + key
		}
	case k < 9:
		i := r.IntN(len(w.slices))
		s := w.slices[i].DeepCopy()
		s.Endpoints[0].Addresses = []string{fmt.Sprintf("10.1.%d.%d", i, r.IntN(3)+1)}
		w.slices[i] = s
		return "slice " + s.Namespace + "/" + s.Name
	default:
		i := r.IntN(len(w.services))
		s := w.services[i].DeepCopy()
		switch r.IntN(3) {
		case 0:
			s.Spec.Ports = s.Spec.Ports[:1]
		case 1:
			s.Spec.ClusterIP = "None" // headless: service-upstream cannot use it
		}
		w.services[i] = s
		return "service " + s.Namespace + "/" + s.Name
	}
	return "nothing"
}

func (w *randomWorld) randomIngress(name string) *networkingv1.Ingress {
	r := w.rng
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	ns := pick([]string{"a", "a", "b"})
	types := []networkingv1.PathType{networkingv1.PathTypeExact, networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific}
	backend := func() networkingv1.IngressBackend {
		port := networkingv1.ServiceBackendPort{Number: 80}
		switch r.IntN(6) {
		case 0:
			port = networkingv1.ServiceBackendPort{Name: "http"}
		case 1:
			port = networkingv1.ServiceBackendPort{Number: 81}
		}
		return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: pick([]string{"s1", "s2", "s3", "s4"}), Port: port}}
	}
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{
		Namespace: ns, Name: name, Annotations: map[string]string{},
		CreationTimestamp: metav1.NewTime(time.Unix(int64(r.IntN(4)), 0)),
	}}
	for range r.IntN(3) {
		rule := networkingv1.IngressRule{Host: pick(worldHosts)}
		if r.IntN(8) > 0 {
			rule.HTTP = &networkingv1.HTTPIngressRuleValue{}
			for range 1 + r.IntN(3) {
				pt := types[r.IntN(3)]
				rule.HTTP.Paths = append(rule.HTTP.Paths, networkingv1.HTTPIngressPath{Path: pick(worldPaths), PathType: &pt, Backend: backend()})
			}
		}
		ing.Spec.Rules = append(ing.Spec.Rules, rule)
	}
	if r.IntN(4) == 0 {
		be := backend()
		ing.Spec.DefaultBackend = &be
	}
	switch r.IntN(5) {
	case 0:
		ing.Spec.TLS = []networkingv1.IngressTLS{{SecretName: "tls"}}
	case 1:
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{pick(worldHosts)}, SecretName: pick([]string{"tls", "missing"})}}
	case 2:
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"*.w.test"}, SecretName: "tls"}}
	}
	p := annotations.Prefix
	choices := []map[string]string{
		{p + "canary": "true", p + "canary-weight": "50"},
		{p + "canary": "true", p + "canary-by-header": "x-canary", p + "load-balance": "ewma"},
		{p + "server-alias": pick([]string{"h1.test", "alias.test", "x.w.test", "www.h1.test"})},
		{p + "from-to-www-redirect": "true"},
		{p + "default-backend": pick([]string{"s2", "s4"})},
		{p + "use-regex": "true"},
		{p + "rewrite-target": "/$1"},
		{p + "affinity": "cookie", p + "session-cookie-name": pick([]string{"a", "b"})},
		{p + "load-balance": "ewma"},
		{p + "upstream-hash-by": "$request_uri"},
		{p + "ssl-redirect": "false"},
		{p + "force-ssl-redirect": "true"},
		{p + "app-root": "/app"},
		{p + "ssl-passthrough": "true"},
		{p + "configuration-snippet": "more_set_headers x;"},
		{p + "service-upstream": "true"},
		{p + "backend-protocol": "HTTPS"},
		{p + "proxy-ssl-secret": "a/tls"},
		{p + "auth-tls-secret": "a/tls"},
		{p + "custom-http-errors": "404", p + "default-backend": "s3"},
	}
	for range r.IntN(4) {
		for k, v := range choices[r.IntN(len(choices))] {
			ing.Annotations[k] = v
		}
	}
	return ing
}

func plainIngress(name, host, svc string) *networkingv1.Ingress {
	pt := networkingv1.PathTypePrefix
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: name},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &pt,
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Number: 80}}}}}},
		}}}},
	}
}

func testService(ns, name string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.10", Ports: []corev1.ServicePort{
			{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)},
			{Name: "https", Port: 443, TargetPort: intstr.FromInt32(8443)},
		}}}
}

func testSlice(ns, svc string, ips ...string) *discoveryv1.EndpointSlice {
	ready := true
	http, https := "http", "https"
	p80, p443 := int32(8080), int32(8443)
	es := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: svc + "-1", Labels: map[string]string{snapshot.ServiceNameLabel: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &http, Port: &p80}, {Name: &https, Port: &p443}},
	}
	for _, ip := range ips {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
	}
	return es
}

// testCert returns a self-signed certificate (also usable as a CA) for
// names, and its key, in PEM.
func testCert(t testing.TB, names ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Unix(0, 0), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// modelDiff describes the first part of two models that differs.
func modelDiff(got, want *model.Model) string {
	if len(got.Hosts) != len(want.Hosts) {
		return fmt.Sprintf("%d hosts, want %d", len(got.Hosts), len(want.Hosts))
	}
	for i := range got.Hosts {
		if !reflect.DeepEqual(got.Hosts[i], want.Hosts[i]) {
			return fmt.Sprintf("host %d:\n got %+v\nwant %+v", i, got.Hosts[i], want.Hosts[i])
		}
	}
	g, w := *got, *want
	g.Hosts, w.Hosts = nil, nil
	if !reflect.DeepEqual(g.CatchAll, w.CatchAll) {
		return fmt.Sprintf("catch-all:\n got %+v\nwant %+v", g.CatchAll, w.CatchAll)
	}
	if !reflect.DeepEqual(g.Backends, w.Backends) {
		return fmt.Sprintf("backends:\n got %+v\nwant %+v", g.Backends, w.Backends)
	}
	return fmt.Sprintf("\n got %+v\nwant %+v", g, w)
}
