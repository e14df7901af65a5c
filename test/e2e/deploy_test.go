package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	yamlutil "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/restmapper"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/straitgw/strait/internal/kubetest"
)

// deployObject is one document of deploy/*.yaml, decoded.
type deployObject struct {
	source string // file:document number, for messages
	obj    runtime.Object
	gvk    schema.GroupVersionKind
	meta   metav1.Object
}

func (o deployObject) String() string {
	name := o.meta.GetName()
	if ns := o.meta.GetNamespace(); ns != "" {
		name = ns + "/" + name
	}
	return fmt.Sprintf("%s %s (%s)", o.gvk.Kind, name, o.source)
}

// TestDeployManifests proves the manifests in deploy/ are valid and
// sufficient: they decode strictly into the API types, the API server
// accepts every one of them (server-side dry run, strict field validation),
// and Strait started with the Deployment's arguments under the
// ServiceAccount's identity, granted only the manifests' RBAC, routes
// traffic, leads through its Lease, writes Ingress status and records
// Events, while the identity cannot write anything else.
func TestDeployManifests(t *testing.T) {
	objs := readDeployManifests(t)
	byKind := map[string][]deployObject{}
	for _, o := range objs {
		byKind[o.gvk.Kind] = append(byKind[o.gvk.Kind], o)
	}
	for _, kind := range []string{"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "IngressClass", "Deployment", "Service", "PodDisruptionBudget"} {
		if len(byKind[kind]) == 0 {
			t.Errorf("deploy/ has no %s", kind)
		}
	}
	if len(byKind["Namespace"]) != 1 || len(byKind["Deployment"]) != 1 {
		t.Fatalf("deploy/ should hold exactly one Namespace and one Deployment, has %d and %d", len(byKind["Namespace"]), len(byKind["Deployment"]))
	}
	if t.Failed() {
		t.FailNow()
	}
	nsObj := byKind["Namespace"][0].obj.(*corev1.Namespace)
	deploy := byKind["Deployment"][0].obj.(*appsv1.Deployment)
	checkDeployConsistency(t, nsObj.Name, deploy, byKind)

	c := kubetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The API server validates every object: the Namespace for real (the
	// others live in it), the rest by server-side dry run.
	groups, err := restmapper.GetAPIGroupResources(c.Client.Discovery())
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDiscoveryRESTMapper(groups)
	dyn, err := dynamic.NewForConfig(c.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	create := func(o deployObject, dryRun bool) error {
		mapping, err := mapper.RESTMapping(o.gvk.GroupKind(), o.gvk.Version)
		if err != nil {
			return err
		}
		namespaced := mapping.Scope.Name() == meta.RESTScopeNameNamespace
		if ns := o.meta.GetNamespace(); namespaced && ns != nsObj.Name {
			return fmt.Errorf("namespaced but in namespace %q, not %q (kubectl apply would put it in the current namespace)", ns, nsObj.Name)
		} else if !namespaced && ns != "" {
			return fmt.Errorf("cluster-scoped but names namespace %q", ns)
		}
		content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o.obj)
		if err != nil {
			return err
		}
		u := &unstructured.Unstructured{Object: content}
		u.SetGroupVersionKind(o.gvk)
		opts := metav1.CreateOptions{FieldValidation: "Strict"}
		if dryRun {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		var ri dynamic.ResourceInterface = dyn.Resource(mapping.Resource)
		if namespaced {
			ri = dyn.Resource(mapping.Resource).Namespace(o.meta.GetNamespace())
		}
		_, err = ri.Create(ctx, u, opts)
		return err
	}
	if err := create(byKind["Namespace"][0], false); err != nil {
		t.Fatalf("%v: %v", byKind["Namespace"][0], err)
	}
	for _, o := range objs {
		if o.gvk.Kind == "Namespace" {
			continue
		}
		if err := create(o, true); err != nil {
			t.Errorf("API server rejects %v: %v", o, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// For real: the identity, its RBAC and the IngressClass.
	for _, o := range objs {
		switch o.gvk.Kind {
		case "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "IngressClass":
			if err := create(o, false); err != nil {
				t.Fatalf("creating %v: %v", o, err)
			}
		}
	}
	sa := byKind["ServiceAccount"][0].meta
	saKubeconfig, err := c.ServiceAccountKubeconfig(sa.GetNamespace(), sa.GetName())
	if err != nil {
		t.Fatal(err)
	}
	saConfig, err := c.ServiceAccountConfig(sa.GetNamespace(), sa.GetName())
	if err != nil {
		t.Fatal(err)
	}
	saClient, err := kubernetes.NewForConfig(saConfig)
	if err != nil {
		t.Fatal(err)
	}

	// What Strait serves, created by the administrator.
	class := byKind["IngressClass"][0].meta.GetName()
	backend(t, "10.244.9.1", "a")
	o := newObjects(t, c, "deploy-demo")
	o.service("web")
	o.slice("web", "10.244.9.1")
	o.ingress("web", "deploy.example", "web", ingressOpts{class: class})
	o.ingress("broken", "broken.example", "missing", ingressOpts{class: class})

	// The Deployment's container: its arguments, with $(VAR) references
	// expanded from its environment as the kubelet would.
	ctr := deploy.Spec.Template.Spec.Containers[0]
	podEnv := map[string]string{"POD_NAMESPACE": nsObj.Name, "POD_NAME": "strait-e2e-0"}
	var env []string
	for _, e := range ctr.Env {
		v, ok := podEnv[e.Name]
		if !ok {
			t.Fatalf("container env %s: the test does not know its value", e.Name)
		}
		env = append(env, e.Name+"="+v)
	}
	args := slices.Clone(ctr.Args)
	for i, a := range args {
		for k, v := range podEnv {
			a = strings.ReplaceAll(a, "$("+k+")", v)
		}
		if strings.Contains(a, "$(") {
			t.Fatalf("container arg %q references an undefined variable", ctr.Args[i])
		}
		args[i] = a
	}
	for i, a := range args {
		if strings.HasPrefix(a, "--shutdown-grace-period=") {
			args[i] = "--shutdown-grace-period=5s" // stop quickly at the end
		}
	}
	args = append(args, "--kubeconfig", saKubeconfig)

	// The Deployment publishes the LoadBalancer Service's address
	// (--publish-service, exclusive of --publish-status-address): create
	// the Service and give it the address a cloud's load balancer would.
	publish := deployFlag(args, "--publish-service")
	if publish == "" {
		t.Fatal("the Deployment has no --publish-service: nothing would fill Ingress status")
	}
	var svcObj *deployObject
	for i, o := range byKind["Service"] {
		if o.meta.GetNamespace()+"/"+o.meta.GetName() == publish {
			svcObj = &byKind["Service"][i]
		}
	}
	if svcObj == nil {
		t.Fatalf("--publish-service=%s names no Service of deploy/", publish)
	}
	if err := create(*svcObj, false); err != nil {
		t.Fatalf("creating %v: %v", svcObj, err)
	}
	pubSvc, err := c.Client.CoreV1().Services(nsObj.Name).Get(ctx, svcObj.meta.GetName(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pubSvc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.10"}}
	if _, err := c.Client.CoreV1().Services(nsObj.Name).UpdateStatus(ctx, pubSvc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	// The Gateway API, installed in the cluster: a Gateway of Strait's
	// class with a route, served on the bind address (no address pool),
	// its status carrying the published address.
	if err := c.InstallGatewayAPI(ctx); err != nil {
		t.Fatal(err)
	}
	gwc, err := gatewayclient.NewForConfig(c.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	gwName := deployFlag(args, "--gateway-controller-name")
	if gwName == "" {
		gwName = "strait.dev/gateway-controller"
	}
	if _, err := gwc.GatewayV1().GatewayClasses().Create(ctx, &gatewayv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: "strait-deploy"},
		Spec:       gatewayv1.GatewayClassSpec{ControllerName: gatewayv1.GatewayController(gwName)},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gwc.GatewayV1().GatewayClasses().Delete(ctx, "strait-deploy", metav1.DeleteOptions{}) })
	gwPort := freeAddrs(t, 1)[0]
	gwPortNum, _ := strconv.Atoi(port(gwPort))
	if _, err := gwc.GatewayV1().Gateways("deploy-demo").Create(ctx, &gatewayv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: "gw"},
		Spec: gatewayv1.GatewaySpec{GatewayClassName: "strait-deploy", Listeners: []gatewayv1.Listener{
			{Name: "http", Port: gatewayv1.PortNumber(gwPortNum), Protocol: gatewayv1.HTTPProtocolType},
		}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	(&gwObjects{t: t, gw: gwc, ns: "deploy-demo"}).httpRoute("gw-web", "gw", "gw.deploy.example", "web")

	s := startStraitAs(t, env, args...)

	waitFor(t, 10*time.Second, "Gateway deploy-demo/gw programmed with address 203.0.113.10", func() bool {
		gw, err := gwc.GatewayV1().Gateways("deploy-demo").Get(ctx, "gw", metav1.GetOptions{})
		return err == nil && len(gw.Status.Addresses) == 1 && gw.Status.Addresses[0].Value == "203.0.113.10" &&
			meta.IsStatusConditionTrue(gw.Status.Conditions, "Programmed")
	})
	waitFor(t, 10*time.Second, "HTTPRoute deploy-demo/gw-web accepted", func() bool {
		hr, err := gwc.GatewayV1().HTTPRoutes("deploy-demo").Get(ctx, "gw-web", metav1.GetOptions{})
		return err == nil && len(hr.Status.Parents) == 1 && meta.IsStatusConditionTrue(hr.Status.Parents[0].Conditions, "Accepted")
	})
	if code, got := httpGet("http://"+gwPort+"/", "gw.deploy.example"); code != 200 || got != "a" {
		t.Errorf("gw.deploy.example through the Gateway: %d from %q, want 200 from \"a\"", code, got)
	}

	// Reads suffice to route.
	if code, got := s.get("deploy.example", "/"); code != 200 || got != "a" {
		t.Errorf("deploy.example: %d from %q, want 200 from \"a\"", code, got)
	}
	if code, _ := s.get("broken.example", "/"); code != 503 {
		t.Errorf("broken.example (missing Service): %d, want 503", code)
	}

	// Only the leader writes status: the Lease and ingresses/status
	// permissions suffice.
	waitFor(t, 10*time.Second, "Ingress status address 203.0.113.10", func() bool {
		ing, err := c.Client.NetworkingV1().Ingresses("deploy-demo").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false
		}
		lb := ing.Status.LoadBalancer.Ingress
		return len(lb) == 1 && lb[0].IP == "203.0.113.10"
	})
	// Events create suffices.
	waitFor(t, 10*time.Second, "a Warning Event ServiceNotFound on Ingress broken", func() bool {
		evs, err := c.Client.CoreV1().Events("deploy-demo").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false
		}
		for _, e := range evs.Items {
			if e.Type == corev1.EventTypeWarning && e.Reason == "ServiceNotFound" &&
				e.InvolvedObject.Kind == "Ingress" && e.InvolvedObject.Name == "broken" {
				return true
			}
		}
		return false
	})
	// The leader renews its Lease (get and update of that one Lease name),
	// in its own namespace.
	electionID := deployFlag(ctr.Args, "--election-id")
	lease := func() *coordinationv1.Lease {
		l, err := c.Client.CoordinationV1().Leases(nsObj.Name).Get(ctx, electionID, metav1.GetOptions{})
		if err != nil {
			return nil
		}
		return l
	}
	waitFor(t, 10*time.Second, "the leader to renew Lease "+nsObj.Name+"/"+electionID, func() bool {
		l := lease()
		return l != nil && l.Spec.HolderIdentity != nil && strings.HasPrefix(*l.Spec.HolderIdentity, "strait-e2e-0_") &&
			l.Spec.AcquireTime != nil && l.Spec.RenewTime != nil && l.Spec.RenewTime.After(l.Spec.AcquireTime.Time)
	})

	// Least privilege: the identity writes nothing else.
	ing, err := saClient.NetworkingV1().Ingresses("deploy-demo").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the ServiceAccount cannot read Ingresses: %v", err)
	}
	ing.Spec.Rules[0].Host = "hijacked.example"
	_, err = saClient.NetworkingV1().Ingresses("deploy-demo").Update(ctx, ing, metav1.UpdateOptions{})
	expectForbidden(t, "updating an Ingress spec", err)
	err = saClient.CoreV1().Services("deploy-demo").Delete(ctx, "web", metav1.DeleteOptions{})
	expectForbidden(t, "deleting a Service", err)
	_, err = saClient.CoreV1().Secrets("deploy-demo").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "stolen"}, StringData: map[string]string{"k": "v"},
	}, metav1.CreateOptions{})
	expectForbidden(t, "creating a Secret", err)
	_, err = saClient.CoordinationV1().Leases("deploy-demo").Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: electionID},
	}, metav1.CreateOptions{})
	expectForbidden(t, "creating a Lease outside its namespace", err)

	// No permission error anywhere else (informers, event aggregation).
	b, _ := os.ReadFile(s.log)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(strings.ToLower(line), "forbidden") {
			t.Errorf("strait logged a permission error: %s", line)
		}
	}
}

func expectForbidden(t *testing.T, what string, err error) {
	t.Helper()
	if !apierrors.IsForbidden(err) {
		t.Errorf("%s as the ServiceAccount: got %v, want Forbidden", what, err)
	}
}

// readDeployManifests reads deploy/*.yaml and decodes every document
// strictly (unknown or duplicate fields fail) with the client-go scheme's
// universal deserializer.
func readDeployManifests(t *testing.T) []deployObject {
	t.Helper()
	root, err := kubetest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "deploy", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no deploy/*.yaml in %s (%v)", root, err)
	}
	decoder := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

	// The decoder must reject what the API server would silently drop.
	bad := "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: x}\nspec: {controler: x}\n"
	if _, _, err := decoder.Decode([]byte(bad), nil, nil); err == nil {
		t.Fatal("the strict decoder accepts an unknown field")
	}

	var out []deployObject
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		r := yamlutil.NewYAMLReader(bufio.NewReader(f))
		for n := 1; ; n++ {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			source := fmt.Sprintf("%s#%d", filepath.Base(file), n)
			if j, err := yamlutil.ToJSON(doc); err != nil {
				t.Fatalf("%s: %v", source, err)
			} else if bytes.Equal(bytes.TrimSpace(j), []byte("null")) {
				continue // only comments
			}
			obj, gvk, err := decoder.Decode(doc, nil, nil)
			if err != nil {
				t.Errorf("%s: %v", source, err)
				continue
			}
			m, err := meta.Accessor(obj)
			if err != nil {
				t.Fatalf("%s: %v", source, err)
			}
			o := deployObject{source: source, obj: obj, gvk: *gvk, meta: m}
			t.Logf("decoded %v", o)
			out = append(out, o)
		}
		f.Close()
	}
	if t.Failed() {
		t.FailNow()
	}
	return out
}

// checkDeployConsistency checks that the objects refer to one another:
// the Deployment runs as the ServiceAccount the bindings grant, the
// Service and the PodDisruptionBudget select its Pods, the Service targets
// its ports, the leader-election Role names its Lease, and the IngressClass
// names the controller Strait is by default.
func checkDeployConsistency(t *testing.T, ns string, d *appsv1.Deployment, byKind map[string][]deployObject) {
	t.Helper()
	pod := d.Spec.Template
	podLabels := labels.Set(pod.Labels)
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("Deployment has %d containers, want 1", len(pod.Spec.Containers))
	}
	ctr := pod.Spec.Containers[0]
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || !sel.Matches(podLabels) {
		t.Errorf("Deployment selector %v does not match its Pod labels %v (%v)", d.Spec.Selector, pod.Labels, err)
	}

	saName := pod.Spec.ServiceAccountName
	if !slices.ContainsFunc(byKind["ServiceAccount"], func(o deployObject) bool {
		return o.meta.GetName() == saName && o.meta.GetNamespace() == ns
	}) {
		t.Errorf("Deployment runs as ServiceAccount %q, which deploy/ does not create in %s", saName, ns)
	}
	bound := func(subjects []rbacv1.Subject) bool {
		return slices.ContainsFunc(subjects, func(s rbacv1.Subject) bool {
			return s.Kind == rbacv1.ServiceAccountKind && s.Name == saName && s.Namespace == ns
		})
	}
	roles := map[string]*rbacv1.Role{}
	for _, o := range byKind["Role"] {
		roles[o.meta.GetName()] = o.obj.(*rbacv1.Role)
	}
	clusterRoles := map[string]bool{}
	for _, o := range byKind["ClusterRole"] {
		clusterRoles[o.meta.GetName()] = true
	}
	for _, o := range byKind["ClusterRoleBinding"] {
		b := o.obj.(*rbacv1.ClusterRoleBinding)
		if b.RoleRef.Kind != "ClusterRole" || !clusterRoles[b.RoleRef.Name] || !bound(b.Subjects) {
			t.Errorf("%v: roleRef %v, subjects %v: not a ClusterRole of deploy/ bound to %s/%s", o, b.RoleRef, b.Subjects, ns, saName)
		}
	}
	for _, o := range byKind["RoleBinding"] {
		b := o.obj.(*rbacv1.RoleBinding)
		if b.RoleRef.Kind != "Role" || roles[b.RoleRef.Name] == nil || !bound(b.Subjects) {
			t.Errorf("%v: roleRef %v, subjects %v: not a Role of deploy/ bound to %s/%s", o, b.RoleRef, b.Subjects, ns, saName)
		}
	}

	electionID := deployFlag(ctr.Args, "--election-id")
	if electionID == "" {
		electionID = "strait-leader" // the flag's default
	}
	leaseNamed := false
	for _, r := range roles {
		for _, rule := range r.Rules {
			if slices.Contains(rule.APIGroups, "coordination.k8s.io") && slices.Contains(rule.Resources, "leases") &&
				slices.Contains(rule.Verbs, "update") && slices.Contains(rule.ResourceNames, electionID) {
				leaseNamed = true
			}
		}
	}
	if !leaseNamed {
		t.Errorf("no Role lets the ServiceAccount update Lease %q (--election-id)", electionID)
	}

	ports := map[string]int32{}
	for _, p := range ctr.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for _, o := range byKind["Service"] {
		svc := o.obj.(*corev1.Service)
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
			t.Errorf("%v: selector %v does not match the Pod labels %v", o, svc.Spec.Selector, pod.Labels)
		}
		for _, p := range svc.Spec.Ports {
			if p.TargetPort.StrVal != "" && ports[p.TargetPort.StrVal] == 0 {
				t.Errorf("%v: port %s targets %q, which the container does not declare", o, p.Name, p.TargetPort.StrVal)
			}
		}
	}
	for _, o := range byKind["PodDisruptionBudget"] {
		pdb := o.obj.(*policyv1.PodDisruptionBudget)
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || !sel.Matches(podLabels) {
			t.Errorf("%v: selector %v does not match the Pod labels %v (%v)", o, pdb.Spec.Selector, pod.Labels, err)
		}
	}
	for _, o := range byKind["IngressClass"] {
		if ic := o.obj.(*networkingv1.IngressClass); ic.Spec.Controller != "strait.dev/ingress-controller" {
			t.Errorf("%v: controller %q, not Strait's default --controller-class", o, ic.Spec.Controller)
		}
	}
}

// deployFlag returns the value of --name=value in args ("" if absent).
func deployFlag(args []string, name string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return ""
}
