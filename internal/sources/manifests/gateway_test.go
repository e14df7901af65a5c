package manifests

import (
	"strings"
	"testing"

	"github.com/straitgw/strait/internal/snapshot"
)

// TestDecodeGatewayAPI: Gateway API documents decode into the snapshot's
// objects (ReferenceGrant in both served versions); the snapshot keeps
// the classes of its controller, their Gateways, and every route, grant
// and namespace, sorted; a misspelt field fails its document only.
func TestDecodeGatewayAPI(t *testing.T) {
	in := `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: strait}
spec: {controllerName: strait.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: other}
spec: {controllerName: example.com/other}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: infra}
spec:
  gatewayClassName: strait
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: elsewhere, namespace: infra}
spec:
  gatewayClassName: other
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: api}
spec:
  gatewayClassName: strait
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: z, namespace: apps}
spec:
  parentRefs: [{name: web, namespace: infra}]
  hostnames: [example.com]
  rules: [{backendRefs: [{name: svc, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: a, namespace: apps}
spec:
  parentRefs: [{name: web, namespace: infra}]
  rules: [{matches: [{path: {type: PathPrefix, value: /a}}], backendRefs: [{name: svc, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: typo, namespace: apps}
spec:
  parentRefs: [{name: web, namespace: infra}]
  rules: [{backendRef: [{name: svc, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: g, namespace: apps}
spec:
  parentRefs: [{name: web, namespace: infra}]
  rules: [{backendRefs: [{name: grpc, port: 9000}]}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: old, namespace: apps}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: infra}]
  to: [{group: "", kind: Service}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: ReferenceGrant
metadata: {name: certs, namespace: certs}
spec:
  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: infra}]
  to: [{group: "", kind: Secret, name: wildcard}]
---
apiVersion: v1
kind: Namespace
metadata: {name: apps, labels: {team: a}}
`
	objs, errs := Decode("gw.yaml", []byte(in))
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "HTTPRoute apps/typo") || !strings.Contains(errs[0].Error(), "backendRef") {
		t.Fatalf("errors %v, want one naming HTTPRoute apps/typo and its field backendRef", errs)
	}
	if n := len(objs.GatewayClasses) + len(objs.Gateways) + len(objs.HTTPRoutes) + len(objs.GRPCRoutes) + len(objs.ReferenceGrants) + len(objs.Namespaces); n != 11 {
		t.Fatalf("decoded %d Gateway API objects and namespaces, want 11", n)
	}
	if ns := objs.Gateways[2].Namespace; ns != "default" {
		t.Errorf("Gateway without a namespace is in %q, want default", ns)
	}

	none := snapshot.Build(objs, snapshot.ClassOptions{})
	if none.GatewayClasses != nil || none.Gateways != nil || none.HTTPRoutes != nil || none.Namespaces != nil {
		t.Error("without a Gateway controller the snapshot holds Gateway API objects")
	}

	s := snapshot.Build(objs, snapshot.ClassOptions{GatewayController: "strait.dev/gateway-controller"})
	if len(s.GatewayClasses) != 1 || s.GatewayClasses[0].Name != "strait" {
		t.Errorf("GatewayClasses %d, want only strait", len(s.GatewayClasses))
	}
	var gws []string
	for _, g := range s.Gateways {
		gws = append(gws, g.Namespace+"/"+g.Name)
	}
	if got := strings.Join(gws, " "); got != "default/api infra/web" {
		t.Errorf("Gateways %q, want the two of class strait in order", got)
	}
	if len(s.HTTPRoutes) != 2 || s.HTTPRoutes[0].Name != "a" || s.HTTPRoutes[1].Name != "z" {
		t.Errorf("HTTPRoutes not the two decoded, in order")
	}
	if len(s.GRPCRoutes) != 1 || len(s.ReferenceGrants["apps"]) != 1 || len(s.ReferenceGrants["certs"]) != 1 {
		t.Errorf("GRPCRoutes %d, grants in apps %d and certs %d; want 1 each", len(s.GRPCRoutes), len(s.ReferenceGrants["apps"]), len(s.ReferenceGrants["certs"]))
	}
	if n := s.Namespaces["apps"]; n == nil || n.Labels["team"] != "a" {
		t.Error("namespace apps missing or without its labels")
	}
}
