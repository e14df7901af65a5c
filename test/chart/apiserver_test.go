package chart

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/straitgw/strait/internal/kubetest"
)

// TestAPIServerAcceptsRendering sends every object of every rendering to a
// real API server (server-side dry run, strict field validation), then
// installs the chart with helm and upgrades it, checking that the upgrade
// keeps the webhook's certificate.
func TestAPIServerAcceptsRendering(t *testing.T) {
	c := kubetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The kinds of other projects the chart renders, as stand-in CRDs.
	if err := c.InstallCRDs(ctx, "testdata/crds"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	groups, err := restmapper.GetAPIGroupResources(c.Client.Discovery())
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDiscoveryRESTMapper(groups)
	dyn, err := dynamic.NewForConfig(c.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}

	cases := map[string][]string{"default values": nil}
	for _, f := range []string{"ingress-nginx-values.yaml", "daemonset-hostnetwork-values.yaml", "cert-manager-values.yaml"} {
		cases[f] = []string{"-f", valuesFile(t, f)}
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			r := render(t, args...)
			for _, o := range r {
				if err := dryRunCreate(ctx, dyn, mapper, o); err != nil {
					t.Errorf("the API server refuses %s %s: %v", o.GetKind(), o.GetName(), err)
				}
			}
		})
	}
	if t.Failed() {
		t.FailNow()
	}

	t.Run("install and upgrade", func(t *testing.T) {
		values := valuesFile(t, "ingress-nginx-values.yaml")
		out, err := runHelm(t, c.Kubeconfig, "install", release, chartDir(t), "--namespace", namespace, "-f", values)
		if err != nil {
			t.Fatal(err)
		}
		// NOTES.txt names the ingress-nginx settings the values hold that
		// Strait does not use.
		if !strings.Contains(out, "does not use") || !strings.Contains(out, "controller.lifecycle") {
			t.Errorf("helm install's notes do not name the unused controller.lifecycle:\n%s", out)
		}
		before := webhookCA(ctx, t, c)

		if _, err := runHelm(t, c.Kubeconfig, "upgrade", release, chartDir(t), "--namespace", namespace, "-f", values,
			"--set", "controller.autoscaling.maxReplicas=12"); err != nil {
			t.Fatal(err)
		}
		hpa, err := c.Client.AutoscalingV2().HorizontalPodAutoscalers(namespace).Get(ctx, controllerName, metav1.GetOptions{})
		if err != nil || hpa.Spec.MaxReplicas != 12 {
			t.Fatalf("after the upgrade: HPA %v, %v; want maxReplicas 12", hpa, err)
		}
		if after := webhookCA(ctx, t, c); !bytes.Equal(before.ca, after.ca) || !bytes.Equal(before.crt, after.crt) || !bytes.Equal(before.key, after.key) {
			t.Error("the upgrade replaced the webhook's certificate: the chart must reuse the Secret it finds")
		}
	})
}

// installedWebhook is the webhook certificate as installed in the cluster.
type installedWebhook struct{ ca, crt, key []byte }

// webhookCA reads the installed webhook Secret and configuration, checks
// that the configuration trusts the Secret's certificate, and returns them.
func webhookCA(ctx context.Context, t *testing.T, c *kubetest.Cluster) installedWebhook {
	t.Helper()
	s, err := c.Client.CoreV1().Secrets(namespace).Get(ctx, webhookName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vwc, err := c.Client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, webhookName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ca := vwc.Webhooks[0].ClientConfig.CABundle
	if err := verifyServingCert(ca, s.Data["tls.crt"], s.Data["tls.key"]); err != nil {
		t.Errorf("installed webhook certificate: %v", err)
	}
	return installedWebhook{ca: ca, crt: s.Data["tls.crt"], key: s.Data["tls.key"]}
}

// dryRunCreate asks the API server to create o without storing it, with
// strict field validation: unknown and duplicate fields are errors.
func dryRunCreate(ctx context.Context, dyn dynamic.Interface, mapper meta.RESTMapper, o *unstructured.Unstructured) error {
	gvk := o.GroupVersionKind()
	mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	opts := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"}
	if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
		if o.GetNamespace() != "" {
			return fmt.Errorf("cluster-scoped but names namespace %q", o.GetNamespace())
		}
		_, err = dyn.Resource(mapping.Resource).Create(ctx, o, opts)
		return err
	}
	if o.GetNamespace() != namespace {
		return fmt.Errorf("in namespace %q, want the release namespace %q", o.GetNamespace(), namespace)
	}
	_, err = dyn.Resource(mapping.Resource).Namespace(namespace).Create(ctx, o, opts)
	return err
}
