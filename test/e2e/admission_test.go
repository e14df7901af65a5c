package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/straitgw/strait/internal/kubetest"
)

// webhookName is the webhook's name in the ValidatingWebhookConfiguration;
// the API server's refusals quote it.
const webhookName = "validate.strait.dev"

// TestValidatingWebhook runs Strait with --validating-webhook and registers
// it with the API server as ingress-nginx's chart does (a URL, a CA bundle,
// failurePolicy Fail). Then, through the API server: an Ingress with an
// invalid annotation is refused with a message naming the annotation and
// the problem; a valid one is stored; an update that breaks it is refused
// and the stored object stays as it was; an Ingress of another class is
// let in whatever its annotations; a missing Service comes back as a
// warning on a stored Ingress.
func TestValidatingWebhook(t *testing.T) {
	c := kubetest.Start(t)
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	ingressClass(t, c, "other", "example.com/other", false)
	const ns = "hooked"
	o := newObjects(t, c, ns)
	o.service("web")

	caPEM, certFile, keyFile := webhookCertificate(t)
	addr := freeAddr(t)
	s := startStrait(t, c, "--validating-webhook="+addr, "--validating-webhook-certificate="+certFile, "--validating-webhook-key="+keyFile)
	registerWebhook(t, c, "https://"+addr+"/networking/v1/ingresses", caPEM, ns)

	warnings := &warningLog{}
	rc := rest.CopyConfig(c.RESTConfig)
	rc.WarningHandler = warnings
	client := kubernetes.NewForConfigOrDie(rc)
	ings := client.NetworkingV1().Ingresses(ns)
	ctx := context.Background()
	waitForWebhook(t, ings)

	// An invalid annotation: refused, and nothing stored.
	_, err := ings.Create(ctx, webhookIngress("sized", "strait", "sized.test", "web", annMap("proxy-body-size", "12 megabytes")), metav1.CreateOptions{})
	assertRefused(t, err, "metadata.annotations: nginx.ingress.kubernetes.io/proxy-body-size", `invalid value "12 megabytes"`, "not a size")
	if _, err := ings.Get(ctx, "sized", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the refused Ingress: %v, want NotFound", err)
	}

	// A valid Ingress is stored, without warnings.
	warnings.take()
	good, err := ings.Create(ctx, webhookIngress("good", "strait", "good.test", "web", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("valid Ingress: %v", err)
	}
	if w := warnings.take(); len(w) != 0 {
		t.Errorf("warnings on a valid Ingress: %q", w)
	}

	// An update that breaks it is refused; the stored object is unchanged.
	broken := good.DeepCopy()
	broken.Annotations = annMap("use-regex", "true")
	broken.Spec.Rules[0].HTTP.Paths[0].Path = "/api/(v1"
	broken.Spec.Rules[0].HTTP.Paths[0].PathType = ptr(networkingv1.PathTypeImplementationSpecific)
	_, err = ings.Update(ctx, broken, metav1.UpdateOptions{})
	assertRefused(t, err, `path "/api/(v1" on host "good.test" is a regular expression`, "not valid RE2")
	stored, err := ings.Get(ctx, "good", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if stored.ResourceVersion != good.ResourceVersion || len(stored.Annotations) != 0 || stored.Spec.Rules[0].HTTP.Paths[0].Path != "/" {
		t.Errorf("stored Ingress changed: resourceVersion %s (was %s), annotations %v, path %q",
			stored.ResourceVersion, good.ResourceVersion, stored.Annotations, stored.Spec.Rules[0].HTTP.Paths[0].Path)
	}

	// A path another Ingress holds.
	_, err = ings.Create(ctx, webhookIngress("thief", "strait", "good.test", "web", nil), metav1.CreateOptions{})
	assertRefused(t, err, `Prefix path "/" on host "good.test" is already served by Ingress hooked/good`)

	// Another controller's Ingress is none of Strait's business.
	if _, err := ings.Create(ctx, webhookIngress("foreign", "other", "foreign.test", "web", annMap("proxy-body-size", "12 megabytes")), metav1.CreateOptions{}); err != nil {
		t.Errorf("Ingress of another class: %v", err)
	}

	// A Service created after the Ingress: let in, with a warning.
	warnings.take()
	if _, err := ings.Create(ctx, webhookIngress("early", "strait", "early.test", "later", nil), metav1.CreateOptions{}); err != nil {
		t.Fatalf("Ingress before its Service: %v", err)
	}
	want := "spec.rules[0].http.paths[0].backend.service.name: Service hooked/later not found"
	if w := warnings.take(); len(w) != 1 || !strings.Contains(w[0], want) {
		t.Errorf("warnings %q, want one containing %q", w, want)
	}

	if got := s.metric(`strait_admission_reviews_total{result="denied"}`); got < 3 {
		t.Errorf(`strait_admission_reviews_total{result="denied"} = %v, want at least 3`, got)
	}
	log, _ := os.ReadFile(s.log)
	if !strings.Contains(string(log), "Ingress refused") || !strings.Contains(string(log), "name=sized") || !strings.Contains(string(log), "reasons=[InvalidAnnotation]") {
		t.Errorf("no log line for the refusal of hooked/sized:\n%s", tailLines(string(log), 20))
	}
}

// assertRefused checks that err is the API server's report of a refusal
// by the webhook, whose message contains parts.
func assertRefused(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("accepted, want refused by the webhook")
		return
	}
	msg := err.Error()
	t.Logf("refused: %s", msg)
	if !strings.Contains(msg, `admission webhook "`+webhookName+`" denied the request`) {
		t.Errorf("error %q is not the webhook's refusal", msg)
	}
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("refusal %q lacks %q", msg, p)
		}
	}
}

// webhookIngress is an Ingress of class routing host/ to svc port 80.
func webhookIngress(name, class, host, svc string, annotations map[string]string) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annotations},
		Spec: networkingv1.IngressSpec{IngressClassName: ptr(class), Rules: []networkingv1.IngressRule{{
			Host: host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: "/", PathType: ptr(networkingv1.PathTypePrefix),
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Number: 80}}},
			}}}},
		}}},
	}
	return ing
}

// registerWebhook creates the ValidatingWebhookConfiguration for url,
// covering the Ingresses of namespace ns.
func registerWebhook(t *testing.T, c *kubetest.Cluster, url string, caPEM []byte, ns string) {
	t.Helper()
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "strait-admission"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:         webhookName,
			ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: caPEM},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
				Rule: admissionregistrationv1.Rule{
					APIGroups: []string{"networking.k8s.io"}, APIVersions: []string{"v1"}, Resources: []string{"ingresses"},
				},
			}},
			FailurePolicy:           ptr(admissionregistrationv1.Fail),
			MatchPolicy:             ptr(admissionregistrationv1.Equivalent),
			SideEffects:             ptr(admissionregistrationv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          ptr(int32(10)),
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{
				"kubernetes.io/metadata.name": ns,
			}},
		}},
	}
	if _, err := c.Client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(context.Background(), cfg, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitForWebhook waits until the API server calls the webhook: it caches
// webhook configurations, so a new one takes effect a moment later. The
// probe is a dry run, which the webhook decides like any request and
// nothing stores.
func waitForWebhook(t *testing.T, ings interface {
	Create(context.Context, *networkingv1.Ingress, metav1.CreateOptions) (*networkingv1.Ingress, error)
}) {
	t.Helper()
	probe := webhookIngress("probe", "strait", "probe.test", "web", annMap("proxy-body-size", "probe"))
	var last error
	waitFor(t, 30*time.Second, "the API server to call the webhook", func() bool {
		_, last = ings.Create(context.Background(), probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if last != nil && strings.Contains(last.Error(), webhookName) {
			return true
		}
		time.Sleep(100 * time.Millisecond)
		return false
	})
	if !strings.Contains(last.Error(), "denied the request") {
		t.Fatalf("the probe's refusal: %v", last)
	}
}

// warningLog is a rest.WarningHandler that keeps the warnings the API
// server sends.
type warningLog struct {
	mu   sync.Mutex
	list []string
}

func (w *warningLog) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

// take returns the warnings received since the last take.
func (w *warningLog) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

// webhookCertificate makes a CA and a serving certificate it signs for IP
// 127.0.0.1, writes the certificate and key to files, and returns the
// CA's PEM and the files' paths.
func webhookCertificate(t *testing.T) (caPEM []byte, certFile, keyFile string) {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	serial := func() *big.Int {
		n, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
		return n
	}
	caKey, key := newKey(), newKey()
	ca := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "strait-admission-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "strait-admission"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert"), filepath.Join(dir, "key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), certFile, keyFile
}
