package chart

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// checkWebhook checks the admission webhook of a rendering whose
// certificate the chart generated: the configuration's rules and target,
// the Service and container port it reaches, the flags, the mounted
// Secret, and that the caBundle verifies the serving certificate for the
// Service's DNS name. It returns the configuration.
func checkWebhook(t *testing.T, r rendering) *admissionregistrationv1.ValidatingWebhookConfiguration {
	t.Helper()
	vwc := checkWebhookConfiguration(t, r)
	secret := as[corev1.Secret](t, r.get(t, "Secret", webhookName))
	if secret.Type != corev1.SecretTypeTLS {
		t.Errorf("Secret %s type %s, want kubernetes.io/tls", secret.Name, secret.Type)
	}
	if err := verifyServingCert(vwc.Webhooks[0].ClientConfig.CABundle, secret.Data["tls.crt"], secret.Data["tls.key"]); err != nil {
		t.Errorf("webhook certificate: %v", err)
	}
	if string(secret.Data["ca.crt"]) != string(vwc.Webhooks[0].ClientConfig.CABundle) {
		t.Error("the Secret's ca.crt differs from the caBundle")
	}
	return vwc
}

// checkWebhookConfiguration checks what does not depend on who issues the
// certificate.
func checkWebhookConfiguration(t *testing.T, r rendering) *admissionregistrationv1.ValidatingWebhookConfiguration {
	t.Helper()
	vwc := as[admissionregistrationv1.ValidatingWebhookConfiguration](t, r.get(t, "ValidatingWebhookConfiguration", webhookName))
	if len(vwc.Webhooks) != 1 {
		t.Fatalf("%d webhooks, want 1", len(vwc.Webhooks))
	}
	w := vwc.Webhooks[0]
	wantRule := admissionregistrationv1.RuleWithOperations{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
		Rule:       admissionregistrationv1.Rule{APIGroups: []string{"networking.k8s.io"}, APIVersions: []string{"v1"}, Resources: []string{"ingresses"}},
	}
	if len(w.Rules) != 1 || fmt.Sprint(w.Rules[0]) != fmt.Sprint(wantRule) {
		t.Errorf("webhook rules %+v, want %+v", w.Rules, wantRule)
	}
	if w.SideEffects == nil || *w.SideEffects != admissionregistrationv1.SideEffectClassNone ||
		!slices.Equal(w.AdmissionReviewVersions, []string{"v1"}) ||
		w.MatchPolicy == nil || *w.MatchPolicy != admissionregistrationv1.Equivalent {
		t.Errorf("webhook %s: sideEffects %v, admissionReviewVersions %v, matchPolicy %v", w.Name, w.SideEffects, w.AdmissionReviewVersions, w.MatchPolicy)
	}
	ref := w.ClientConfig.Service
	if ref == nil || ref.Name != webhookService || ref.Namespace != namespace || ref.Path == nil || *ref.Path != "/networking/v1/ingresses" {
		t.Fatalf("webhook client config %+v, want Service %s/%s path /networking/v1/ingresses", w.ClientConfig, namespace, webhookService)
	}

	// Service port -> container port "webhook" -> --validating-webhook.
	svc := as[corev1.Service](t, r.get(t, "Service", webhookService))
	if ref.Port == nil || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != *ref.Port {
		t.Fatalf("webhook Service ports %+v, configuration port %v", svc.Spec.Ports, ref.Port)
	}
	c := controllerContainer(t, r)
	cp := port(t, c, svc.Spec.Ports[0].TargetPort.String())
	f := flags(t, r)
	wantFlag(t, f, "validating-webhook", fmt.Sprintf(":%d", cp.ContainerPort))
	tpl, _ := podTemplate(t, r)
	for k, v := range svc.Spec.Selector {
		if tpl.Labels[k] != v {
			t.Errorf("webhook Service selects %s=%s, the pods have %q", k, v, tpl.Labels[k])
		}
	}

	// The files the flags name come from the webhook's Secret.
	files := map[string]string{} // path in the pod -> Secret key
	for _, m := range c.VolumeMounts {
		for _, v := range tpl.Spec.Volumes {
			if v.Name == m.Name && v.Secret != nil && v.Secret.SecretName == webhookName {
				for _, item := range v.Secret.Items {
					files[strings.TrimSuffix(m.MountPath, "/")+"/"+item.Path] = item.Key
				}
			}
		}
	}
	if k := files[f["validating-webhook-certificate"][0]]; k != "tls.crt" {
		t.Errorf("--validating-webhook-certificate=%s is Secret key %q, want tls.crt (mounted: %v)", f["validating-webhook-certificate"][0], k, files)
	}
	if k := files[f["validating-webhook-key"][0]]; k != "tls.key" {
		t.Errorf("--validating-webhook-key=%s is Secret key %q, want tls.key (mounted: %v)", f["validating-webhook-key"][0], k, files)
	}
	return vwc
}

// verifyServingCert checks that certPEM, with keyPEM, is a serving
// certificate that caPEM verifies for the webhook Service's in-cluster
// name, as the API server will check it.
func verifyServingCert(caPEM, certPEM, keyPEM []byte) error {
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return fmt.Errorf("certificate and key do not match: %v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("caBundle holds no PEM certificate")
	}
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return fmt.Errorf("tls.crt holds no PEM block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return err
	}
	for _, name := range []string{webhookService + "." + namespace + ".svc", webhookService + "." + namespace + ".svc.cluster.local"} {
		if _, err := cert.Verify(x509.VerifyOptions{
			DNSName:     name,
			Roots:       roots,
			KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			CurrentTime: time.Now().Add(365 * 24 * time.Hour), // and still in a year
		}); err != nil {
			return fmt.Errorf("for %s: %v", name, err)
		}
	}
	return nil
}

// TestCertManagerValues: with cert-manager, the chart renders the issuers
// and certificates instead of a Secret, and the configuration asks for the
// CA to be injected.
func TestCertManagerValues(t *testing.T) {
	r := render(t, "-f", valuesFile(t, "cert-manager-values.yaml"))
	vwc := checkWebhookConfiguration(t, r)
	if len(vwc.Webhooks[0].ClientConfig.CABundle) != 0 {
		t.Error("caBundle set: cert-manager's injector fills it")
	}
	if got := vwc.Annotations["cert-manager.io/inject-ca-from"]; got != namespace+"/"+webhookName {
		t.Errorf("inject-ca-from %q, want %s/%s", got, namespace, webhookName)
	}
	if *vwc.Webhooks[0].FailurePolicy != admissionregistrationv1.Ignore {
		t.Errorf("failurePolicy %v, want the values' Ignore", *vwc.Webhooks[0].FailurePolicy)
	}
	if r.has("Secret", webhookName) {
		t.Error("the chart renders the webhook Secret: cert-manager writes it")
	}
	if n := len(r.all("Issuer")); n != 2 {
		t.Errorf("%d Issuers, want 2 (self-signed, CA)", n)
	}
	cert := r.get(t, "Certificate", webhookName)
	secretName, _, _ := unstructured.NestedString(cert.Object, "spec", "secretName")
	if secretName != webhookName {
		t.Errorf("Certificate secretName %q, want %q (the Secret the pods mount)", secretName, webhookName)
	}
	dns, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames")
	if !slices.Contains(dns, webhookService+"."+namespace+".svc") {
		t.Errorf("Certificate dnsNames %v, want %s.%s.svc", dns, webhookService, namespace)
	}
	issuer, _, _ := unstructured.NestedString(cert.Object, "spec", "issuerRef", "name")
	root := r.get(t, "Issuer", issuer)
	caSecret, _, _ := unstructured.NestedString(root.Object, "spec", "ca", "secretName")
	rootCert := r.get(t, "Certificate", webhookName+"-root")
	if isCA, _, _ := unstructured.NestedBool(rootCert.Object, "spec", "isCA"); !isCA {
		t.Error("root Certificate is not a CA")
	}
	if s, _, _ := unstructured.NestedString(rootCert.Object, "spec", "secretName"); s != caSecret {
		t.Errorf("CA Issuer reads Secret %q, the root Certificate writes %q", caSecret, s)
	}
	if d, _, _ := unstructured.NestedString(cert.Object, "spec", "duration"); d != "2160h" {
		t.Errorf("serving Certificate duration %q, want the values' 2160h", d)
	}

	// The dashboard ConfigMap carries the file as it is.
	dash := as[corev1.ConfigMap](t, r.get(t, "ConfigMap", "strait-dashboard"))
	if dash.Labels["grafana_dashboard"] != "1" {
		t.Errorf("dashboard ConfigMap labels %v, want grafana_dashboard: \"1\"", dash.Labels)
	}
	if want := string(readFile(t, chartDir(t)+"/dashboards/strait.json")); strings.TrimSpace(dash.Data["strait.json"]) != strings.TrimSpace(want) {
		t.Error("the dashboard ConfigMap's strait.json differs from dashboards/strait.json")
	}
}
