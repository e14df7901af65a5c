package examples

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// controllerName is the IngressClass controller string Strait claims.
const controllerName = "strait.dev/ingress-controller"

// quickstart is every object in the quickstart, decoded into its API type.
type quickstart struct {
	classes   []*networkingv1.IngressClass
	ingresses []*networkingv1.Ingress
	services  []*corev1.Service
	slices    []*discoveryv1.EndpointSlice
	secrets   []*corev1.Secret
	// ids are "Kind ns/name" in file order, to check for duplicates and
	// for the expected inventory.
	ids []string
}

// splitDocuments splits a multi-document YAML stream on "---" lines and
// drops documents that hold only comments or whitespace.
func splitDocuments(t *testing.T, data []byte) [][]byte {
	t.Helper()
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		var v any
		if err := yaml.Unmarshal(cur.Bytes(), &v); err != nil {
			t.Fatalf("invalid YAML document:\n%s\n%v", cur.Bytes(), err)
		}
		if v != nil {
			docs = append(docs, bytes.Clone(cur.Bytes()))
		}
		cur.Reset()
	}
	for line := range bytes.Lines(data) {
		if strings.TrimRight(string(line), " \t\r\n") == "---" {
			flush()
			continue
		}
		cur.Write(line)
	}
	flush()
	return docs
}

// load decodes every document of every quickstart file, strictly: unknown
// or duplicate fields fail the test, because the manifests source and a
// real API server would reject or silently drop them.
func load(t *testing.T) *quickstart {
	t.Helper()
	files, err := fs.Glob(Quickstart, "quickstart/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no embedded quickstart files")
	}
	q := &quickstart{}
	for _, name := range files {
		data, err := fs.ReadFile(Quickstart, name)
		if err != nil {
			t.Fatal(err)
		}
		docs := splitDocuments(t, data)
		if len(docs) == 0 {
			t.Errorf("%s: no documents", name)
		}
		for i, doc := range docs {
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal(doc, &tm); err != nil {
				t.Fatalf("%s document %d: %v", name, i, err)
			}
			var obj metav1.Object
			var into any
			switch tm.APIVersion + " " + tm.Kind {
			case "networking.k8s.io/v1 IngressClass":
				o := &networkingv1.IngressClass{}
				q.classes = append(q.classes, o)
				obj, into = o, o
			case "networking.k8s.io/v1 Ingress":
				o := &networkingv1.Ingress{}
				q.ingresses = append(q.ingresses, o)
				obj, into = o, o
			case "v1 Service":
				o := &corev1.Service{}
				q.services = append(q.services, o)
				obj, into = o, o
			case "discovery.k8s.io/v1 EndpointSlice":
				o := &discoveryv1.EndpointSlice{}
				q.slices = append(q.slices, o)
				obj, into = o, o
			case "v1 Secret":
				o := &corev1.Secret{}
				q.secrets = append(q.secrets, o)
				obj, into = o, o
			default:
				t.Fatalf("%s document %d: unexpected %s %s", name, i, tm.APIVersion, tm.Kind)
			}
			if err := yaml.UnmarshalStrict(doc, into); err != nil {
				t.Fatalf("%s document %d (%s): %v", name, i, tm.Kind, err)
			}
			if obj.GetName() == "" {
				t.Errorf("%s document %d (%s): no metadata.name", name, i, tm.Kind)
			}
			if tm.Kind != "IngressClass" && obj.GetNamespace() == "" {
				t.Errorf("%s document %d (%s %s): namespaced object without metadata.namespace", name, i, tm.Kind, obj.GetName())
			}
			id := tm.Kind + " " + path.Join(obj.GetNamespace(), obj.GetName())
			if slices.Contains(q.ids, id) {
				t.Errorf("%s: duplicate %s", name, id)
			}
			q.ids = append(q.ids, id)
		}
	}
	return q
}

// TestEmbedMatchesDisk guards the //go:embed pattern: a quickstart file it
// missed would work with --manifests but silently vanish from `strait demo`.
func TestEmbedMatchesDisk(t *testing.T) {
	entries, err := os.ReadDir("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	var onDisk []string
	for _, e := range entries {
		if !e.IsDir() && (strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
			onDisk = append(onDisk, "quickstart/"+e.Name())
		}
	}
	embedded, err := fs.Glob(Quickstart, "quickstart/*")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(onDisk, embedded) {
		t.Fatalf("embedded %q, on disk %q", embedded, onDisk)
	}
	for _, name := range embedded {
		a, _ := fs.ReadFile(Quickstart, name)
		b, err := os.ReadFile(name)
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: embedded copy differs from disk (%v)", name, err)
		}
	}
}

// TestInventory pins the objects the demo, the README and the docs rely on.
func TestInventory(t *testing.T) {
	q := load(t)
	want := []string{
		"EndpointSlice demo/echo-a-1",
		"EndpointSlice demo/echo-b-1",
		"Ingress demo/apps",
		"Ingress demo/demo",
		"IngressClass strait",
		"Secret demo/apps-tls",
		"Secret demo/demo-tls",
		"Service demo/echo-a",
		"Service demo/echo-b",
	}
	got := slices.Sorted(slices.Values(q.ids))
	if !slices.Equal(got, want) {
		t.Errorf("objects = %q\nwant      %q", got, want)
	}
	if len(q.classes) != 1 || q.classes[0].Spec.Controller != controllerName {
		t.Errorf("want exactly one IngressClass with controller %q", controllerName)
	}
}

// TestRoutes pins the demo's routes, which the README's curl commands and
// `strait demo` exercise.
func TestRoutes(t *testing.T) {
	q := load(t)
	type route struct {
		ingress, host, path string
		pathType            networkingv1.PathType
		service             string
		port                networkingv1.ServiceBackendPort
	}
	want := []route{
		{"demo", "demo.strait.local", "/", networkingv1.PathTypePrefix, "echo-a", networkingv1.ServiceBackendPort{Number: 80}},
		{"demo", "demo.strait.local", "/b", networkingv1.PathTypePrefix, "echo-b", networkingv1.ServiceBackendPort{Name: "http"}},
		{"demo", "demo.strait.local", "/exact", networkingv1.PathTypeExact, "echo-b", networkingv1.ServiceBackendPort{Number: 80}},
		{"apps", "*.apps.strait.local", "/", networkingv1.PathTypePrefix, "echo-b", networkingv1.ServiceBackendPort{Number: 80}},
	}
	var got []route
	for _, ing := range q.ingresses {
		if ing.Spec.DefaultBackend != nil {
			t.Errorf("ingress %s: unexpected defaultBackend", ing.Name)
		}
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP == nil {
				t.Errorf("ingress %s host %s: no http rules", ing.Name, rule.Host)
				continue
			}
			for _, p := range rule.HTTP.Paths {
				if p.PathType == nil || p.Backend.Service == nil {
					t.Errorf("ingress %s path %s: missing pathType or service backend", ing.Name, p.Path)
					continue
				}
				got = append(got, route{ing.Name, rule.Host, p.Path, *p.PathType, p.Backend.Service.Name, p.Backend.Service.Port})
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("routes = %+v\nwant     %+v", got, want)
	}
}

// TestReferences checks that everything an Ingress points at exists and
// resolves, the way translate will resolve it: class → controller, backend
// → Service port (by number or name) → EndpointSlice port (by name) → ready
// endpoint.
func TestReferences(t *testing.T) {
	q := load(t)
	classes := map[string]*networkingv1.IngressClass{}
	for _, c := range q.classes {
		classes[c.Name] = c
	}
	services := map[string]*corev1.Service{}
	for _, s := range q.services {
		services[s.Namespace+"/"+s.Name] = s
	}
	secrets := map[string]*corev1.Secret{}
	for _, s := range q.secrets {
		secrets[s.Namespace+"/"+s.Name] = s
	}
	slicesByService := map[string][]*discoveryv1.EndpointSlice{}
	for _, es := range q.slices {
		svc := es.Labels[discoveryv1.LabelServiceName]
		if svc == "" {
			t.Errorf("EndpointSlice %s/%s: no %s label", es.Namespace, es.Name, discoveryv1.LabelServiceName)
			continue
		}
		slicesByService[es.Namespace+"/"+svc] = append(slicesByService[es.Namespace+"/"+svc], es)
	}

	for _, ing := range q.ingresses {
		name := ing.Namespace + "/" + ing.Name
		if ing.Spec.IngressClassName == nil {
			t.Errorf("ingress %s: no ingressClassName", name)
		} else if c := classes[*ing.Spec.IngressClassName]; c == nil || c.Spec.Controller != controllerName {
			t.Errorf("ingress %s: class %q is not Strait's", name, *ing.Spec.IngressClassName)
		}
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				if p.Backend.Service == nil {
					continue
				}
				b := p.Backend.Service
				svc := services[ing.Namespace+"/"+b.Name]
				if svc == nil {
					t.Errorf("ingress %s path %s: no Service %s", name, p.Path, b.Name)
					continue
				}
				i := slices.IndexFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool {
					if b.Port.Name != "" {
						return sp.Name == b.Port.Name
					}
					return sp.Port == b.Port.Number
				})
				if i < 0 {
					t.Errorf("ingress %s path %s: Service %s has no port %+v", name, p.Path, b.Name, b.Port)
					continue
				}
				checkEndpoints(t, svc, svc.Spec.Ports[i], slicesByService[svc.Namespace+"/"+svc.Name])
			}
		}
		// Every TLS secret exists and is a TLS secret; its certificate is
		// checked against the hosts in TestCertificates.
		for _, tlsEntry := range ing.Spec.TLS {
			s := secrets[ing.Namespace+"/"+tlsEntry.SecretName]
			if s == nil {
				t.Errorf("ingress %s: no Secret %s", name, tlsEntry.SecretName)
			} else if s.Type != corev1.SecretTypeTLS {
				t.Errorf("ingress %s: Secret %s has type %q", name, s.Name, s.Type)
			}
		}
	}
}

// checkEndpoints checks that sp of svc resolves to at least one ready
// endpoint, and that the endpoint port is the Service's targetPort (which
// is what `strait demo` listens on).
func checkEndpoints(t *testing.T, svc *corev1.Service, sp corev1.ServicePort, ess []*discoveryv1.EndpointSlice) {
	t.Helper()
	ready := 0
	for _, es := range ess {
		if es.AddressType != discoveryv1.AddressTypeIPv4 {
			t.Errorf("EndpointSlice %s: addressType %q, want IPv4", es.Name, es.AddressType)
		}
		for _, ep := range es.Ports {
			if ep.Name == nil || *ep.Name != sp.Name {
				continue
			}
			if ep.Port == nil || *ep.Port != sp.TargetPort.IntVal {
				t.Errorf("EndpointSlice %s port %s = %v, want Service %s targetPort %s", es.Name, sp.Name, ep.Port, svc.Name, sp.TargetPort.String())
			}
			for _, e := range es.Endpoints {
				if e.Conditions.Ready != nil && *e.Conditions.Ready && len(e.Addresses) > 0 {
					ready++
				}
			}
		}
	}
	if ready == 0 {
		t.Errorf("Service %s/%s port %s: no ready endpoints", svc.Namespace, svc.Name, sp.Name)
	}
}

// TestCertificates checks every TLS Secret: the pair parses, it is the
// ECDSA P-256 key with the validity the tls.yaml comment promises, and its
// SANs cover every host an Ingress lists for it. It also checks that every
// Ingress host has a TLS entry, so the README's https examples work for all.
func TestCertificates(t *testing.T) {
	q := load(t)
	leaves := map[string]*x509.Certificate{}
	for _, s := range q.secrets {
		id := s.Namespace + "/" + s.Name
		if s.Type != corev1.SecretTypeTLS {
			t.Errorf("Secret %s: type %q, want %q", id, s.Type, corev1.SecretTypeTLS)
			continue
		}
		if len(s.StringData) != 0 {
			t.Errorf("Secret %s: use data, not stringData", id)
		}
		pair, err := tls.X509KeyPair(s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey])
		if err != nil {
			t.Errorf("Secret %s: %v", id, err)
			continue
		}
		leaf := pair.Leaf
		if leaf == nil {
			if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
				t.Errorf("Secret %s: %v", id, err)
				continue
			}
		}
		if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
			t.Errorf("Secret %s: key is %T, want ECDSA P-256", id, leaf.PublicKey)
		}
		notBefore := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if !leaf.NotBefore.Equal(notBefore) || leaf.NotAfter.Before(notBefore.AddDate(100, 0, 0)) {
			t.Errorf("Secret %s: valid %v to %v, want from %v for 100 years", id, leaf.NotBefore, leaf.NotAfter, notBefore)
		}
		if now := time.Now(); now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
			t.Errorf("Secret %s: not valid now (%v to %v)", id, leaf.NotBefore, leaf.NotAfter)
		}
		// CheckSignatureFrom would insist that the signer be a CA; these
		// are deliberately non-CA leaves, so check the signature directly.
		if err := leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature); err != nil {
			t.Errorf("Secret %s: not self-signed: %v", id, err)
		}
		leaves[id] = leaf
	}

	for _, ing := range q.ingresses {
		tlsHosts := map[string]bool{}
		for _, entry := range ing.Spec.TLS {
			leaf := leaves[ing.Namespace+"/"+entry.SecretName]
			if leaf == nil {
				t.Errorf("ingress %s: TLS secret %s missing or invalid", ing.Name, entry.SecretName)
				continue
			}
			if len(entry.Hosts) == 0 {
				t.Errorf("ingress %s: TLS entry for %s lists no hosts", ing.Name, entry.SecretName)
			}
			for _, h := range entry.Hosts {
				tlsHosts[h] = true
				if err := covers(leaf, h); err != nil {
					t.Errorf("ingress %s: Secret %s does not cover %s: %v", ing.Name, entry.SecretName, h, err)
				}
			}
		}
		for _, rule := range ing.Spec.Rules {
			if rule.Host != "" && !tlsHosts[rule.Host] {
				t.Errorf("ingress %s: host %s has no TLS entry", ing.Name, rule.Host)
			}
		}
	}
}

// covers reports whether cert is valid for the Ingress host h. A wildcard
// host needs the identical wildcard SAN (a list of exact names would not do)
// and must verify for a concrete name under it.
func covers(cert *x509.Certificate, h string) error {
	if parent, ok := strings.CutPrefix(h, "*."); ok {
		if !slices.ContainsFunc(cert.DNSNames, func(n string) bool { return strings.EqualFold(n, h) }) {
			return &x509.HostnameError{Certificate: cert, Host: h}
		}
		return cert.VerifyHostname("probe." + parent)
	}
	return cert.VerifyHostname(h)
}
