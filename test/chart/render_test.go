package chart

import (
	"os"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// TestLint runs helm lint on the chart with its default values and with
// each values file in ci/.
func TestLint(t *testing.T) {
	if out, err := runHelm(t, "", "lint", "--strict", chartDir(t)); err != nil {
		t.Errorf("default values: %v\n%s", err, out)
	}
	files, _ := os.ReadDir(chartDir(t) + "/ci")
	if len(files) < 3 {
		t.Fatalf("charts/strait/ci has %d values files, want at least 3", len(files))
	}
	for _, f := range files {
		if out, err := runHelm(t, "", "lint", "--strict", chartDir(t), "-f", valuesFile(t, f.Name())); err != nil {
			t.Errorf("%s: %v\n%s", f.Name(), err, out)
		}
	}
}

// TestDefaultValues checks the defaults: a two-replica Deployment, non-root
// with no capability, draining by itself, its class "strait", a generated
// webhook certificate.
func TestDefaultValues(t *testing.T) {
	r := render(t)
	tpl, kind := podTemplate(t, r)
	if kind != "Deployment" {
		t.Fatalf("renders a %s, want a Deployment", kind)
	}
	dep := as[appsv1.Deployment](t, r.get(t, "Deployment", controllerName))
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 2 {
		t.Errorf("replicas %v, want 2", dep.Spec.Replicas)
	}
	c := controllerContainer(t, r)
	var chart struct{ AppVersion string }
	b, err := os.ReadFile(chartDir(t) + "/Chart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &chart); err != nil {
		t.Fatal(err)
	}
	if want := "ghcr.io/straitgw/strait:v" + chart.AppVersion; c.Image != want {
		t.Errorf("image %q, want %q (the tag follows appVersion)", c.Image, want)
	}

	f := flags(t, r)
	wantFlag(t, f, "configmap", namespace+"/"+controllerName)
	wantFlag(t, f, "publish-service", namespace+"/"+controllerName)
	wantFlag(t, f, "controller-class", "strait.dev/ingress-controller")
	wantFlag(t, f, "ingress-class", "strait")
	wantFlag(t, f, "election-id", "strait-leader")
	wantFlag(t, f, "validating-webhook", ":8443")
	noFlag(t, f, "watch-namespace")
	noFlag(t, f, "watch-ingress-without-class")
	r.get(t, "ConfigMap", controllerName)
	r.get(t, "Service", controllerName)

	// Security: non-root, read-only, no capability at all; ports 80 and
	// 443 through the namespaced sysctl.
	psc := tpl.Spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("pod security context %+v: want runAsNonRoot and a non-zero user", psc)
	} else if !slices.Contains(psc.Sysctls, corev1.Sysctl{Name: "net.ipv4.ip_unprivileged_port_start", Value: "0"}) {
		t.Errorf("pod sysctls %v: want net.ipv4.ip_unprivileged_port_start=0 to bind 80 and 443 as non-root", psc.Sysctls)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 {
		t.Errorf("container security context %+v: want read-only root, no privilege escalation, ALL dropped and none added", sc)
	}
	if p := port(t, c, "http"); p.ContainerPort != 80 {
		t.Errorf("http port %d, want 80", p.ContainerPort)
	}

	// Probes on /healthz of the health port; no preStop hook; a grace
	// period covering the drain.
	for name, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || p.HTTPGet.Port != intstr.FromInt32(10254) {
			t.Errorf("%s probe %+v: want GET /healthz on 10254", name, p)
		}
	}
	if c.Lifecycle != nil {
		t.Errorf("container lifecycle %+v: Strait drains by itself, want none", c.Lifecycle)
	}
	drain := seconds(t, f, "shutdown-delay") + seconds(t, f, "shutdown-grace-period")
	if g := tpl.Spec.TerminationGracePeriodSeconds; g == nil || *g <= drain {
		t.Errorf("terminationGracePeriodSeconds %v, want more than shutdown delay plus grace period (%ds)", g, drain)
	}

	// Spread over nodes, softly.
	aff := tpl.Spec.Affinity
	if aff == nil || aff.PodAntiAffinity == nil || len(aff.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 ||
		len(aff.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) != 0 ||
		aff.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.TopologyKey != "kubernetes.io/hostname" {
		t.Errorf("affinity %+v: want one preferred anti-affinity term by hostname", aff)
	}
	if tsc := tpl.Spec.TopologySpreadConstraints; len(tsc) != 1 || tsc[0].TopologyKey != "kubernetes.io/hostname" || tsc[0].WhenUnsatisfiable != corev1.ScheduleAnyway {
		t.Errorf("topology spread %+v: want one soft constraint by hostname", tsc)
	}

	ic := as[networkingv1.IngressClass](t, r.get(t, "IngressClass", "strait"))
	if ic.Spec.Controller != "strait.dev/ingress-controller" {
		t.Errorf("IngressClass controller %q", ic.Spec.Controller)
	}
	if _, ok := ic.Annotations["ingressclass.kubernetes.io/is-default-class"]; ok {
		t.Error("the IngressClass is the default class, want it not to be by default")
	}

	// Two replicas: a budget. No autoscaler, no metrics objects.
	pdb := as[policyv1.PodDisruptionBudget](t, r.get(t, "PodDisruptionBudget", controllerName))
	if pdb.Spec.MinAvailable == nil || *pdb.Spec.MinAvailable != intstr.FromInt32(1) {
		t.Errorf("PodDisruptionBudget minAvailable %v, want 1", pdb.Spec.MinAvailable)
	}
	for _, kind := range []string{"HorizontalPodAutoscaler", "ServiceMonitor", "PrometheusRule", "Issuer", "Certificate"} {
		if n := len(r.all(kind)); n != 0 {
			t.Errorf("%d %s rendered by default, want none", n, kind)
		}
	}
	if r.has("Service", controllerName+"-metrics") {
		t.Error("a metrics Service is rendered by default")
	}
	checkRBAC(t, r, "strait-leader")
	checkWebhook(t, r)
}

// TestIngressNginxValues renders a values file written for the ingress-nginx
// chart and checks what each of its keys became.
func TestIngressNginxValues(t *testing.T) {
	r := render(t, "-f", valuesFile(t, "ingress-nginx-values.yaml"))
	tpl, kind := podTemplate(t, r)
	if kind != "Deployment" {
		t.Fatalf("renders a %s, want a Deployment", kind)
	}
	f := flags(t, r)
	wantFlag(t, f, "configmap", namespace+"/"+controllerName)
	wantFlag(t, f, "publish-service", namespace+"/"+controllerName)
	wantFlag(t, f, "controller-class", "k8s.io/ingress-nginx")
	wantFlag(t, f, "ingress-class", "nginx")
	wantFlag(t, f, "election-id", "ingress-nginx-leader")
	wantFlag(t, f, "watch-ingress-without-class", "true")
	wantFlag(t, f, "validating-webhook", ":8443")
	wantFlag(t, f, "validating-webhook-certificate", "/usr/local/certificates/cert")
	wantFlag(t, f, "validating-webhook-key", "/usr/local/certificates/key")
	// extraArgs: a value, an empty value (a bare flag), a large number.
	wantFlag(t, f, "default-ssl-certificate", "ingress-nginx/wildcard-tls")
	wantFlag(t, f, "enable-ssl-passthrough", "")
	wantFlag(t, f, "backend-max-requests", "1000000")

	// The ConfigMap --configmap names: controller.config, the snippet
	// switch, and the header ConfigMaps it references.
	cm := as[corev1.ConfigMap](t, r.get(t, "ConfigMap", controllerName))
	for k, v := range map[string]string{
		"use-forwarded-headers":     "true",
		"proxy-body-size":           "16m",
		"hsts-max-age":              "31536000",
		"annotations-risk-level":    "Critical",
		"allow-snippet-annotations": "false",
		"global-auth-url":           "http://oauth2-proxy." + namespace + ".svc.cluster.local/oauth2/auth", // a template
		"log-format-upstream":       `$remote_addr - $request_id - [$time_local] "$request" $status $body_bytes_sent`,
		"add-headers":               namespace + "/" + controllerName + "-custom-add-headers",
		"proxy-set-headers":         namespace + "/" + controllerName + "-custom-proxy-headers",
	} {
		if cm.Data[k] != v {
			t.Errorf("ConfigMap %s: %s=%q, want %q", cm.Name, k, cm.Data[k], v)
		}
	}
	if h := as[corev1.ConfigMap](t, r.get(t, "ConfigMap", controllerName+"-custom-add-headers")); h.Data["X-Frame-Options"] != "DENY" {
		t.Errorf("add-headers ConfigMap %v, want X-Frame-Options: DENY", h.Data)
	}
	if h := as[corev1.ConfigMap](t, r.get(t, "ConfigMap", controllerName+"-custom-proxy-headers")); h.Data["X-Request-Start"] != "t=${msec}" {
		t.Errorf("proxy-set-headers ConfigMap %v, want X-Request-Start: t=${msec}", h.Data)
	}

	// The published Service: NodePort with the given ports and annotation.
	svc := as[corev1.Service](t, r.get(t, "Service", controllerName))
	if svc.Spec.Type != corev1.ServiceTypeNodePort || svc.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal {
		t.Errorf("Service type %s, externalTrafficPolicy %s; want NodePort, Local", svc.Spec.Type, svc.Spec.ExternalTrafficPolicy)
	}
	if svc.Annotations["service.beta.kubernetes.io/aws-load-balancer-type"] != "nlb" {
		t.Errorf("Service annotations %v", svc.Annotations)
	}
	nodePorts := map[string]int32{}
	for _, p := range svc.Spec.Ports {
		nodePorts[p.Name] = p.NodePort
	}
	if nodePorts["http"] != 30080 || nodePorts["https"] != 30443 {
		t.Errorf("node ports %v, want http 30080, https 30443", nodePorts)
	}

	ic := as[networkingv1.IngressClass](t, r.get(t, "IngressClass", "nginx"))
	if ic.Annotations["ingressclass.kubernetes.io/is-default-class"] != "true" || ic.Spec.Controller != "k8s.io/ingress-nginx" {
		t.Errorf("IngressClass nginx: annotations %v, controller %q; want the default class of k8s.io/ingress-nginx", ic.Annotations, ic.Spec.Controller)
	}

	// Autoscaling: an HPA on CPU only (memory ""), no fixed replicas, and a
	// budget since minReplicas > 1.
	hpa := as[autoscalingv2.HorizontalPodAutoscaler](t, r.get(t, "HorizontalPodAutoscaler", controllerName))
	if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas != 3 || hpa.Spec.MaxReplicas != 10 || hpa.Spec.ScaleTargetRef.Name != controllerName {
		t.Errorf("HPA spec %+v", hpa.Spec)
	}
	if m := hpa.Spec.Metrics; len(m) != 1 || m[0].Resource == nil || m[0].Resource.Name != corev1.ResourceCPU || *m[0].Resource.Target.AverageUtilization != 70 {
		t.Errorf("HPA metrics %+v, want CPU at 70%%", m)
	}
	if hpa.Spec.Behavior == nil || hpa.Spec.Behavior.ScaleDown == nil || *hpa.Spec.Behavior.ScaleDown.StabilizationWindowSeconds != 300 {
		t.Errorf("HPA behavior %+v", hpa.Spec.Behavior)
	}
	if dep := as[appsv1.Deployment](t, r.get(t, "Deployment", controllerName)); dep.Spec.Replicas != nil {
		t.Errorf("Deployment replicas %d with autoscaling: the HPA owns the count", *dep.Spec.Replicas)
	}
	pdb := as[policyv1.PodDisruptionBudget](t, r.get(t, "PodDisruptionBudget", controllerName))
	if pdb.Spec.MinAvailable == nil || *pdb.Spec.MinAvailable != intstr.FromInt32(2) {
		t.Errorf("PodDisruptionBudget minAvailable %v, want 2", pdb.Spec.MinAvailable)
	}

	// Metrics: a Service with port "metrics", a ServiceMonitor for it.
	ms := as[corev1.Service](t, r.get(t, "Service", controllerName+"-metrics"))
	if len(ms.Spec.Ports) != 1 || ms.Spec.Ports[0].Name != "metrics" || ms.Spec.Ports[0].Port != 10254 || ms.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("metrics Service %+v", ms.Spec)
	}
	sm := r.get(t, "ServiceMonitor", controllerName)
	if sm.GetLabels()["release"] != "kube-prometheus-stack" {
		t.Errorf("ServiceMonitor labels %v, want release: kube-prometheus-stack", sm.GetLabels())
	}
	eps := nestedMaps(sm.Object, "spec", "endpoints")
	if len(eps) != 1 || eps[0]["port"] != "metrics" || eps[0]["interval"] != "15s" {
		t.Errorf("ServiceMonitor endpoints %v, want port metrics every 15s", eps)
	}
	r.get(t, "PrometheusRule", controllerName)

	// Pod settings carried over.
	c := controllerContainer(t, r)
	if c.Lifecycle != nil {
		t.Errorf("container lifecycle %+v: the ingress-nginx preStop hook must not be carried over", c.Lifecycle)
	}
	if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "TZ" && e.Value == "Europe/Berlin" }) {
		t.Errorf("extraEnvs missing from %v", c.Env)
	}
	if c.Resources.Limits.Memory().String() != "512Mi" {
		t.Errorf("memory limit %v", c.Resources.Limits.Memory())
	}
	if *tpl.Spec.TerminationGracePeriodSeconds != 300 || tpl.Spec.PriorityClassName != "system-cluster-critical" ||
		tpl.Spec.NodeSelector["node-role.example.com/ingress"] != "true" || len(tpl.Spec.Tolerations) != 1 ||
		tpl.Labels["team"] != "edge" || tpl.Annotations["prometheus.io/scrape"] != "true" ||
		len(tpl.Spec.ImagePullSecrets) != 1 || tpl.Spec.ImagePullSecrets[0].Name != "registry-credentials" {
		t.Errorf("pod template %+v: the values' pod settings are not all there", tpl)
	}
	if tsc := tpl.Spec.TopologySpreadConstraints; len(tsc) != 1 || tsc[0].TopologyKey != "topology.kubernetes.io/zone" {
		t.Errorf("topology spread %+v: want the values' zone constraint instead of the default", tsc)
	}
	if sa := r.get(t, "ServiceAccount", "strait"); sa.GetAnnotations()["eks.amazonaws.com/role-arn"] == "" {
		t.Errorf("ServiceAccount annotations %v", sa.GetAnnotations())
	}
	for _, o := range r {
		if o.GetLabels()["cost-center"] != "platform" {
			t.Errorf("%s %s lacks commonLabels", o.GetKind(), o.GetName())
		}
	}
	checkRBAC(t, r, "ingress-nginx-leader")
	vwc := checkWebhook(t, r)
	if vwc.Webhooks[0].NamespaceSelector == nil || len(vwc.Webhooks[0].NamespaceSelector.MatchExpressions) != 1 || *vwc.Webhooks[0].TimeoutSeconds != 5 {
		t.Errorf("webhook %+v: want the values' namespaceSelector and timeout", vwc.Webhooks[0])
	}
}

// TestDaemonSetHostNetworkValues: one pod per node on the node's network,
// binding 80 and 443 with NET_BIND_SERVICE (no sysctl there), and none of
// the objects that only fit a Deployment.
func TestDaemonSetHostNetworkValues(t *testing.T) {
	r := render(t, "-f", valuesFile(t, "daemonset-hostnetwork-values.yaml"))
	tpl, kind := podTemplate(t, r)
	if kind != "DaemonSet" {
		t.Fatalf("renders a %s, want a DaemonSet", kind)
	}
	for _, k := range []string{"HorizontalPodAutoscaler", "PodDisruptionBudget", "ValidatingWebhookConfiguration"} {
		if n := len(r.all(k)); n != 0 {
			t.Errorf("%d %s rendered with a DaemonSet (webhook disabled), want none", n, k)
		}
	}
	if !tpl.Spec.HostNetwork || tpl.Spec.DNSPolicy != corev1.DNSClusterFirstWithHostNet {
		t.Errorf("hostNetwork %v, dnsPolicy %s", tpl.Spec.HostNetwork, tpl.Spec.DNSPolicy)
	}
	if sc := tpl.Spec.SecurityContext; sc != nil && len(sc.Sysctls) != 0 {
		t.Errorf("pod sysctls %v: a host-network pod may not set network sysctls", sc.Sysctls)
	}
	c := controllerContainer(t, r)
	if sc := c.SecurityContext; sc == nil || sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Add, []corev1.Capability{"NET_BIND_SERVICE"}) {
		t.Errorf("container security context %+v: want NET_BIND_SERVICE added to bind the node's 80 and 443", sc)
	}
	if tpl.Spec.Affinity != nil || len(tpl.Spec.TopologySpreadConstraints) != 0 {
		t.Errorf("a DaemonSet gets affinity %+v and spread %+v, want neither", tpl.Spec.Affinity, tpl.Spec.TopologySpreadConstraints)
	}
	for _, m := range c.VolumeMounts {
		t.Errorf("volume mount %s with the webhook disabled", m.Name)
	}
	f := flags(t, r)
	wantFlag(t, f, "watch-namespace", namespace)
	wantFlag(t, f, "publish-status-address", "192.0.2.10,192.0.2.11")
	noFlag(t, f, "publish-service")
	for name := range f {
		if strings.HasPrefix(name, "validating-webhook") {
			t.Errorf("--%s passed with the webhook disabled", name)
		}
	}
	ds := as[appsv1.DaemonSet](t, r.get(t, "DaemonSet", controllerName))
	if ds.Spec.UpdateStrategy.RollingUpdate == nil || ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable.IntValue() != 1 {
		t.Errorf("DaemonSet update strategy %+v", ds.Spec.UpdateStrategy)
	}
	if svc := as[corev1.Service](t, r.get(t, "Service", controllerName)); svc.Spec.Type != corev1.ServiceTypeClusterIP || svc.Spec.ExternalTrafficPolicy != "" {
		t.Errorf("Service %+v, want a ClusterIP without traffic policy", svc.Spec)
	}
}

// TestOptionalObjects: what appears only when enabled.
func TestOptionalObjects(t *testing.T) {
	cases := []struct {
		set          []string
		present      []string // kind/name
		absent       []string
		defaultClass bool
	}{
		{set: []string{"controller.replicaCount=1"}, absent: []string{"PodDisruptionBudget/" + controllerName}},
		{set: []string{"controller.autoscaling.enabled=true", "controller.autoscaling.minReplicas=1"},
			present: []string{"HorizontalPodAutoscaler/" + controllerName}, absent: []string{"PodDisruptionBudget/" + controllerName}},
		{set: []string{"controller.metrics.enabled=true"},
			present: []string{"Service/" + controllerName + "-metrics"}, absent: []string{"ServiceMonitor/" + controllerName}},
		{set: []string{"controller.ingressClassResource.enabled=false"}, absent: []string{"IngressClass/strait"}},
		{set: []string{"controller.ingressClassResource.default=true"}, present: []string{"IngressClass/strait"}, defaultClass: true},
		{set: []string{"controller.service.enabled=false"}, absent: []string{"Service/" + controllerName}},
		{set: []string{"controller.service.internal.enabled=true"}, present: []string{"Service/" + controllerName, "Service/" + controllerName + "-internal"}},
		{set: []string{"controller.admissionWebhooks.enabled=false"},
			absent: []string{"ValidatingWebhookConfiguration/" + webhookName, "Secret/" + webhookName, "Service/" + webhookService}},
		{set: []string{"rbac.create=false", "serviceAccount.create=false"},
			absent: []string{"ClusterRole/strait", "Role/strait", "ServiceAccount/strait"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.set, ","), func(t *testing.T) {
			var args []string
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			r := render(t, args...)
			for _, p := range tc.present {
				kind, name, _ := strings.Cut(p, "/")
				r.get(t, kind, name)
			}
			for _, a := range tc.absent {
				if kind, name, _ := strings.Cut(a, "/"); r.has(kind, name) {
					t.Errorf("%s rendered, want it absent", a)
				}
			}
			if r.has("IngressClass", "strait") {
				_, isDefault := r.get(t, "IngressClass", "strait").GetAnnotations()["ingressclass.kubernetes.io/is-default-class"]
				if isDefault != tc.defaultClass {
					t.Errorf("IngressClass default-class annotation present: %v, want %v", isDefault, tc.defaultClass)
				}
			}
		})
	}
}

// TestExtraArgsReplaceChartFlags: a flag the chart sets itself, given in
// controller.extraArgs, is passed once, with the extraArgs value.
func TestExtraArgsReplaceChartFlags(t *testing.T) {
	r := render(t, "--set", "controller.extraArgs.election-id=custom", "--set", "controller.extraArgs.shutdown-delay=7s",
		"--set", "controller.extraArgs.log-level=debug")
	f := flags(t, r)
	wantFlag(t, f, "election-id", "custom")
	wantFlag(t, f, "shutdown-delay", "7s")
	wantFlag(t, f, "log-level", "debug")
	checkRBAC(t, r, "custom") // the Role follows the flag
}

// TestInvalidValues: values that cannot work fail rendering with a message
// naming the key.
func TestInvalidValues(t *testing.T) {
	for _, tc := range []struct {
		set  []string
		want string
	}{
		{[]string{"controller.kind=StatefulSet"}, "controller.kind"},
		{[]string{"controller.service.type=ExternalName"}, "controller.service.type"},
		{[]string{"controller.terminationGracePeriodSeconds=10"}, "controller.terminationGracePeriodSeconds"},
		{[]string{"controller.kind=DaemonSet", "controller.autoscaling.enabled=true"}, "controller.autoscaling.enabled"},
		{[]string{"controller.admissionWebhooks.key=/etc/keys/key"}, "controller.admissionWebhooks.certificate"},
		{[]string{"controller.admissionWebhooks.port=10254"}, "controller.admissionWebhooks.port"},
		{[]string{"controller.metrics.serviceMonitor.enabled=true"}, "controller.metrics.enabled"},
	} {
		var args []string
		for _, s := range tc.set {
			args = append(args, "--set", s)
		}
		_, err := runHelm(t, "", append([]string{"template", release, chartDir(t), "--namespace", namespace}, args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--set %v: got %v, want an error naming %s", tc.set, err, tc.want)
		}
	}
}

// checkRBAC checks the rules against deploy/10-rbac.yaml's and that the
// Lease the controller elects with is the one its Role grants.
func checkRBAC(t *testing.T, r rendering, electionID string) {
	t.Helper()
	cr := as[rbacv1.ClusterRole](t, r.get(t, "ClusterRole", "strait"))
	deployRules := readDeployRBAC(t)
	if !rulesEqual(cr.Rules, deployRules.cluster) {
		t.Errorf("ClusterRole rules differ from deploy/10-rbac.yaml's:\n got %+v\nwant %+v", cr.Rules, deployRules.cluster)
	}
	role := as[rbacv1.Role](t, r.get(t, "Role", "strait"))
	var granted []string
	for _, rule := range role.Rules {
		if slices.Contains(rule.Verbs, "update") {
			granted = append(granted, rule.ResourceNames...)
		}
	}
	if !slices.Equal(granted, []string{electionID}) {
		t.Errorf("Role grants updates of Leases %v, want [%s]", granted, electionID)
	}
	wantFlag(t, flags(t, r), "election-id", electionID)
	crb := as[rbacv1.ClusterRoleBinding](t, r.get(t, "ClusterRoleBinding", "strait"))
	tpl, _ := podTemplate(t, r)
	if len(crb.Subjects) != 1 || crb.Subjects[0].Name != tpl.Spec.ServiceAccountName || crb.Subjects[0].Namespace != namespace {
		t.Errorf("ClusterRoleBinding subjects %+v, want the pods' ServiceAccount %s", crb.Subjects, tpl.Spec.ServiceAccountName)
	}
}

// seconds parses a flag's "Ns" duration.
func seconds(t testing.TB, f map[string][]string, name string) int64 {
	t.Helper()
	v := f[name]
	if len(v) != 1 || !strings.HasSuffix(v[0], "s") {
		t.Fatalf("--%s=%v: want one value in seconds", name, v)
	}
	var n int64
	for _, ch := range strings.TrimSuffix(v[0], "s") {
		if ch < '0' || ch > '9' {
			t.Fatalf("--%s=%s: want whole seconds", name, v[0])
		}
		n = n*10 + int64(ch-'0')
	}
	return n
}

// nestedMaps returns a nested list of maps of an object, nil when it is
// missing or of another shape.
func nestedMaps(obj map[string]any, fields ...string) []map[string]any {
	list, _, _ := unstructured.NestedSlice(obj, fields...)
	var out []map[string]any
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}
