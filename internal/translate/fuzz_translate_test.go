package translate_test

import (
	"bytes"
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/snapshot"
	"github.com/straitgw/strait/internal/sources/manifests"
	"github.com/straitgw/strait/internal/translate"
)

// The translate fuzz targets put one fuzzed Ingress (or arbitrary
// manifests) next to a fixed, valid Ingress for good.test. Whatever the
// fuzzed objects say, translate must not panic, must give the same model
// and problems twice, must keep every collection of the model in the order
// the model promises, and must leave the good Ingress's host and backend
// exactly as they are without the fuzzed objects.

// FuzzTranslate builds the fuzzed Ingress from fields: three annotations
// chosen from the registry with free values, a rule's host, path, path
// type and backend port, a TLS host and a default backend.
func FuzzTranslate(f *testing.F) {
	keys := annotationNames()
	rig := newTranslateRig(f)
	index := func(name string) uint16 { return uint16(slices.Index(keys, name)) }
	type seed struct {
		k1         string
		v1         string
		k2         string
		v2         string
		k3         string
		v3         string
		host, path string
		typ        uint8
		port       int32
		tlsHost    string
		defBackend bool
	}
	seeds := []seed{
		{"rewrite-target", "/$2", "use-regex", "true", "x-forwarded-prefix", "/p", "fuzz.test", "/something(/|$)(.*)", 1, 80, "", false},
		{"app-root", "/app", "ssl-redirect", "false", "permanent-redirect", "https://x.test/", "fuzz.test", "/", 1, 80, "fuzz.test", false},
		{"canary", "true", "canary-weight", "50", "canary-by-header", "X-Canary", "fuzz.test", "/", 1, 80, "", false},
		{"auth-type", "basic", "auth-secret", "f/htpasswd", "auth-realm", "\"realm\"", "fuzz.test", "/a", 0, 80, "", false},
		{"auth-url", "http://auth.f.svc/check?x=$host", "auth-response-headers", "X-User, X-Group", "auth-signin", "https://login/$escaped_request_uri", "fuzz.test", "/", 1, 443, "", false},
		{"enable-cors", "true", "cors-allow-origin", "https://*.x.test, null", "cors-max-age", "-1", "*.fuzz.test", "/c", 2, 80, "*.fuzz.test", false},
		{"server-alias", "alias.test, ~^re[0-9]+\\.test$", "from-to-www-redirect", "true", "ssl-passthrough", "true", "www.fuzz.test", "/", 1, 443, "", false},
		{"custom-http-errors", "404,503", "default-backend", "web", "proxy-next-upstream", "error timeout http_502", "fuzz.test", "/e", 1, 80, "", true},
		{"limit-rps", "5", "limit-burst-multiplier", "0", "whitelist-source-range", "10.0.0.0/8, ::1/128, 300.1.1.1", "fuzz.test", "/l", 1, 80, "", false},
		{"upstream-hash-by", "$request_uri$host", "affinity", "cookie", "session-cookie-path", "/;", "fuzz.test", "/h", 1, 80, "", false},
		{"backend-protocol", "GRPCS", "proxy-ssl-secret", "f/missing", "proxy-ssl-verify", "on", "fuzz.test", "/g", 1, 443, "", false},
		{"configuration-snippet", "more_set_headers \"X: y\";", "proxy-body-size", "8m", "client-body-buffer-size", "1k", "FUZZ.Test.", "/s/", 0, 0, "", true},
		{"mirror-target", "http://m.f.svc$request_uri", "upstream-vhost", "v.test:81", "service-upstream", "true", "", "", 2, -1, "", true},
		{"", "", "", "", "", "", "fuzz.test", "/a/../b//c", 0, 65536, "", false},
		{"", "", "", "", "", "", "bad host!", "no-slash", 9, 80, "bad tls!", false},
	}
	for _, s := range seeds {
		f.Add(index(s.k1), s.v1, index(s.k2), s.v2, index(s.k3), s.v3, s.host, s.path, s.typ, s.port, s.tlsHost, s.defBackend)
	}
	// Every registry key with its documented default, so that each
	// parser starts from a value it accepts.
	for _, k := range annotations.All().Annotations {
		f.Add(index(k.Name), k.Default, uint16(0), "", uint16(0), "", "fuzz.test", "/", uint8(1), int32(80), "", false)
	}
	f.Fuzz(func(t *testing.T, k1 uint16, v1 string, k2 uint16, v2 string, k3 uint16, v3 string,
		host, path string, typ uint8, port int32, tlsHost string, defBackend bool) {
		ann := map[string]string{}
		for _, kv := range []struct {
			k uint16
			v string
		}{{k1, v1}, {k2, v2}, {k3, v3}} {
			ann[annotations.Prefix+keys[int(kv.k)%len(keys)]] = kv.v
		}
		ing := fuzzIngress(ann, host, path, typ, port, tlsHost, defBackend)
		if mentionsGood(ing) {
			// Sharing the good host is sharing its server: its settings
			// may then change legitimately.
			return
		}
		rig.check(t, snapshot.Objects{Ingresses: []*networkingv1.Ingress{ing}})
	})
}

// FuzzTranslateManifest decodes arbitrary YAML as manifests, as the
// manifests source does, and translates what decodes next to the good
// Ingress.
func FuzzTranslateManifest(f *testing.F) {
	rig := newTranslateRig(f)
	f.Add([]byte(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: fuzz
  namespace: f
  annotations:
    nginx.ingress.kubernetes.io/rewrite-target: /$1
    nginx.ingress.kubernetes.io/use-regex: "true"
spec:
  rules:
  - host: fuzz.test
    http:
      paths:
      - path: /api/(.*)
        pathType: ImplementationSpecific
        backend:
          service: {name: web, port: {number: 80}}
`))
	f.Add([]byte(`apiVersion: v1
kind: Service
metadata: {name: ext, namespace: f}
spec: {type: ExternalName, externalName: example.com}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: fuzz, namespace: f}
spec:
  defaultBackend: {service: {name: ext, port: {name: http}}}
  tls: [{hosts: [fuzz.test], secretName: nosuch}]
`))
	f.Add([]byte("kind: Ingress\nmetadata: {name: x}\nspec: {rules: [{host: '*.*.test'}]}\n---\n- [unbalanced\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Contains(bytes.ToLower(data), []byte("good")) {
			return
		}
		objs, _ := manifests.Decode("fuzz.yaml", data)
		// IngressClasses decide which Ingresses are served at all,
		// the good one included.
		objs.IngressClasses = nil
		rig.check(t, objs)
	})
}

// translateRig holds the good objects and what translate makes of them
// alone.
type translateRig struct {
	good     snapshot.Objects
	fuzzObjs snapshot.Objects // Service, EndpointSlice and Secrets the fuzzed Ingress may use
	host     model.VirtualHost
	backend  model.Backend
}

func newTranslateRig(tb testing.TB) *translateRig {
	rig := &translateRig{
		good:     snapshot.Objects{Ingresses: []*networkingv1.Ingress{goodIngress()}, Services: []*corev1.Service{translate.ServiceForTest("good", "web")}, EndpointSlices: []*discoveryv1.EndpointSlice{translate.SliceForTest("good", "web", "10.1.0.1")}},
		fuzzObjs: snapshot.Objects{Services: []*corev1.Service{translate.ServiceForTest("f", "web")}, EndpointSlices: []*discoveryv1.EndpointSlice{translate.SliceForTest("f", "web", "10.2.0.1", "10.2.0.2")}, Secrets: fuzzSecrets(tb)},
	}
	m, problems := translate.Translate(snapshot.Build(rig.good, classes()), translate.Options{})
	if len(problems) != 0 {
		tb.Fatalf("the good objects alone have problems: %v", problems)
	}
	var ok bool
	rig.host, rig.backend, ok = goodParts(m)
	if !ok || len(rig.host.Routes) != 1 || len(rig.backend.Endpoints) != 1 {
		tb.Fatalf("the good objects alone do not give one route to one endpoint: %+v", m)
	}
	return rig
}

// check translates the good objects with extra and asserts the
// invariants.
func (rig *translateRig) check(t *testing.T, extra snapshot.Objects) {
	objs := snapshot.Objects{
		Ingresses:      append(slices.Clone(rig.good.Ingresses), extra.Ingresses...),
		Services:       slices.Concat(rig.good.Services, rig.fuzzObjs.Services, extra.Services),
		EndpointSlices: slices.Concat(rig.good.EndpointSlices, rig.fuzzObjs.EndpointSlices, extra.EndpointSlices),
		Secrets:        slices.Concat(rig.fuzzObjs.Secrets, extra.Secrets),
		ConfigMaps:     extra.ConfigMaps,
	}
	snap := snapshot.Build(objs, classes())
	m1, p1 := translate.Translate(snap, translate.Options{})
	m2, p2 := translate.Translate(snap, translate.Options{})
	if !model.Equal(m1, m2) || !reflect.DeepEqual(p1, p2) {
		t.Fatalf("two translations of one snapshot differ")
	}
	if err := checkModelOrder(m1); err != nil {
		t.Fatalf("%v\nmodel: %+v", err, m1)
	}
	if !slices.IsSortedFunc(p1, func(a, b model.Problem) int {
		return cmp.Or(strings.Compare(a.Object.String(), b.Object.String()), strings.Compare(a.Field, b.Field))
	}) {
		t.Fatalf("problems not sorted by object and field: %v", p1)
	}
	host, be, ok := goodParts(m1)
	if !ok {
		t.Fatalf("the good host or its backend is gone; problems: %v", p1)
	}
	if !reflect.DeepEqual(host, rig.host) {
		t.Fatalf("the good host changed:\n got %+v\nwant %+v\nproblems: %v", host, rig.host, p1)
	}
	if !reflect.DeepEqual(be, rig.backend) {
		t.Fatalf("the good backend changed:\n got %+v\nwant %+v", be, rig.backend)
	}
	for _, p := range p1 {
		if p.Object.Namespace == "good" {
			t.Fatalf("a problem is reported on the good objects: %+v", p)
		}
	}
}

// goodParts finds the good host and its backend in m.
func goodParts(m *model.Model) (model.VirtualHost, model.Backend, bool) {
	i := slices.IndexFunc(m.Hosts, func(h *model.VirtualHost) bool { return h.Name == "good.test" })
	if i < 0 || len(m.Hosts[i].Routes) == 0 {
		return model.VirtualHost{}, model.Backend{}, false
	}
	h := *m.Hosts[i]
	j := slices.IndexFunc(m.Backends, func(b model.Backend) bool { return b.Name == h.Routes[0].Action.Backend })
	if j < 0 {
		return h, model.Backend{}, false
	}
	return h, m.Backends[j], true
}

// checkModelOrder checks what the model package promises about order and
// references: names unique and sorted, routes in precedence order, every
// action either a backend that exists or a status.
func checkModelOrder(m *model.Model) error {
	strictly := func(what string, n int, less func(i int) bool) error {
		for i := 1; i < n; i++ {
			if !less(i) {
				return fmt.Errorf("%s not strictly sorted at %d", what, i)
			}
		}
		return nil
	}
	backends := map[string]bool{}
	for _, b := range m.Backends {
		backends[b.Name] = true
	}
	certs := map[string]bool{}
	for _, c := range m.Certificates {
		certs[c.Name] = true
	}
	errs := []error{
		strictly("hosts", len(m.Hosts), func(i int) bool { return m.Hosts[i-1].Name < m.Hosts[i].Name }),
		strictly("backends", len(m.Backends), func(i int) bool { return m.Backends[i-1].Name < m.Backends[i].Name }),
		strictly("certificates", len(m.Certificates), func(i int) bool { return m.Certificates[i-1].Name < m.Certificates[i].Name }),
		strictly("SNI bindings", len(m.SNI), func(i int) bool { return m.SNI[i-1].Host < m.SNI[i].Host }),
		strictly("passthrough hosts", len(m.Passthrough), func(i int) bool { return m.Passthrough[i-1].Host < m.Passthrough[i].Host }),
	}
	for _, b := range m.Backends {
		eps := b.Endpoints
		errs = append(errs, strictly("endpoints of "+b.Name, len(eps), func(i int) bool {
			return eps[i-1].Host < eps[i].Host || (eps[i-1].Host == eps[i].Host && eps[i-1].Port < eps[i].Port)
		}))
	}
	for _, s := range m.SNI {
		if !certs[s.Certificate] {
			errs = append(errs, fmt.Errorf("SNI binding %s names the missing certificate %q", s.Host, s.Certificate))
		}
	}
	for _, p := range m.Passthrough {
		if !backends[p.Backend] {
			errs = append(errs, fmt.Errorf("passthrough %s names the missing backend %q", p.Host, p.Backend))
		}
	}
	action := func(where string, a model.Action) {
		if (a.Backend == "") == (a.Status == 0) {
			errs = append(errs, fmt.Errorf("%s: action %+v is not exactly one of a backend and a status", where, a))
		} else if a.Backend != "" && !backends[a.Backend] {
			errs = append(errs, fmt.Errorf("%s: backend %q is not in the model", where, a.Backend))
		}
	}
	for _, h := range append(slices.Clone(m.Hosts), &m.CatchAll) {
		action(h.Name+" default", h.Default)
		if !slices.IsSorted(h.Aliases) {
			errs = append(errs, fmt.Errorf("aliases of %s not sorted: %q", h.Name, h.Aliases))
		}
		for i, r := range h.Routes {
			action(h.Name+" "+r.Name, r.Action)
			if c := r.Policy.Canary; c != nil && !backends[c.Backend] {
				errs = append(errs, fmt.Errorf("%s %s: canary backend %q is not in the model", h.Name, r.Name, c.Backend))
			}
			if !h.Regex && r.PathType == model.PathPrefix && r.Path != "/" && strings.HasSuffix(r.Path, "/") {
				errs = append(errs, fmt.Errorf("%s %s: prefix path %q keeps its trailing slash", h.Name, r.Name, r.Path))
			}
			if i == 0 {
				continue
			}
			a := h.Routes[i-1]
			if !routeBefore(h.Regex, a, r) {
				errs = append(errs, fmt.Errorf("%s: route %s (%s %q) before %s (%s %q)", h.Name, a.Name, a.PathType, a.Path, r.Name, r.PathType, r.Path))
			}
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// routeBefore reports whether a may precede b in a host's routes: in
// regex hosts longer paths first, then descending; otherwise Exact before
// Prefix, then longer paths first, then ascending; names break ties.
func routeBefore(regex bool, a, b model.Route) bool {
	if !regex && a.PathType != b.PathType {
		return a.PathType == model.PathExact
	}
	if len(a.Path) != len(b.Path) {
		return len(a.Path) > len(b.Path)
	}
	if a.Path != b.Path {
		return (a.Path < b.Path) != regex
	}
	return a.Name <= b.Name
}

func annotationNames() []string {
	var names []string
	for _, k := range annotations.All().Annotations {
		names = append(names, k.Name)
	}
	return names
}

func classes() snapshot.ClassOptions {
	return snapshot.ClassOptions{ControllerClass: "strait.dev/ingress-controller", IngressClass: "strait", WatchWithoutClass: true}
}

func fuzzIngress(ann map[string]string, host, path string, typ uint8, port int32, tlsHost string, defBackend bool) *networkingv1.Ingress {
	types := []networkingv1.PathType{networkingv1.PathTypeExact, networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific}
	var pt *networkingv1.PathType
	if int(typ) < len(types) {
		pt = &types[typ]
	}
	sb := &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: port}}
	if port < 0 {
		sb.Port = networkingv1.ServiceBackendPort{Name: "http"}
	}
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "f", Name: "fuzz", Annotations: ann, CreationTimestamp: metav1.NewTime(time.Unix(2, 0))},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
				{Path: path, PathType: pt, Backend: networkingv1.IngressBackend{Service: sb}},
			}}}}}},
	}
	if tlsHost != "" {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{tlsHost}, SecretName: "tls"}}
	}
	if defBackend {
		ing.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: sb}
	}
	return ing
}

// mentionsGood reports whether an Ingress names the good host or
// namespace anywhere.
func mentionsGood(ing *networkingv1.Ingress) bool {
	s := strings.ToLower(fmt.Sprint(ing.Annotations, ing.Spec.Rules[0].Host, ing.Spec.TLS))
	return strings.Contains(s, "good")
}

func goodIngress() *networkingv1.Ingress {
	prefix := networkingv1.PathTypePrefix
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "good", Name: "good", CreationTimestamp: metav1.NewTime(time.Unix(1, 0))},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "good.test",
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
				{Path: "/good", PathType: &prefix, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}},
			}}}}}},
	}
}

// fuzzSecrets are the Secrets the fuzzed annotations may name: a TLS
// certificate for fuzz.test (as "tls", and as a CA), an htpasswd file and
// a Secret of the wrong type.
func fuzzSecrets(tb testing.TB) []*corev1.Secret {
	crt, kpem := translate.CertForTest(tb, "fuzz.test", "*.fuzz.test")
	secret := func(name string, typ corev1.SecretType, data map[string][]byte) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "f", Name: name}, Type: typ, Data: data}
	}
	return []*corev1.Secret{
		secret("tls", corev1.SecretTypeTLS, map[string][]byte{"tls.crt": crt, "tls.key": kpem, "ca.crt": crt}),
		secret("htpasswd", corev1.SecretTypeOpaque, map[string][]byte{"auth": []byte("user:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n")}),
		secret("opaque", corev1.SecretTypeOpaque, map[string][]byte{"x": []byte("y")}),
	}
}
