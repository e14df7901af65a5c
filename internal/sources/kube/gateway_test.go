package kube_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/straitgw/strait/internal/kubetest"
	"github.com/straitgw/strait/internal/snapshot"
	"github.com/straitgw/strait/internal/sources/kube"
)

// TestGatewayAPIObjects runs the source against a real API server with the
// Gateway API CRDs installed: its snapshots hold our GatewayClass, its
// Gateway, the routes and the namespaces; a status-only write (as Strait's
// own status writer makes) changes nothing, and a spec change does.
func TestGatewayAPIObjects(t *testing.T) {
	c := kubetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.InstallGatewayAPI(ctx); err != nil {
		t.Fatal(err)
	}
	gw := gatewayclient.NewForConfigOrDie(c.RESTConfig)
	mustCreate := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "infra", Labels: map[string]string{"team": "infra"}}}, metav1.CreateOptions{})
	mustCreate(err)
	_, err = gw.GatewayV1().GatewayClasses().Create(ctx, &gatewayv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "strait"},
		Spec: gatewayv1.GatewayClassSpec{ControllerName: "strait.dev/gateway-controller"}}, metav1.CreateOptions{})
	mustCreate(err)
	_, err = gw.GatewayV1().GatewayClasses().Create(ctx, &gatewayv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "other"},
		Spec: gatewayv1.GatewayClassSpec{ControllerName: "example.com/other"}}, metav1.CreateOptions{})
	mustCreate(err)
	_, err = gw.GatewayV1().Gateways("infra").Create(ctx, &gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "infra"},
		Spec: gatewayv1.GatewaySpec{GatewayClassName: "strait", Listeners: []gatewayv1.Listener{{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType}}}}, metav1.CreateOptions{})
	mustCreate(err)
	_, err = gw.GatewayV1().HTTPRoutes("infra").Create(ctx, &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "infra"},
		Spec: gatewayv1.HTTPRouteSpec{CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Name: "web"}}}}}, metav1.CreateOptions{})
	mustCreate(err)

	opts := kube.Options{Classes: snapshot.ClassOptions{GatewayController: "strait.dev/gateway-controller"}, Gateway: gw}
	src := kube.New(c.Client, opts, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := src.Start(ctx); err != nil {
		t.Fatal(err)
	}
	snap := src.Snapshot()
	if len(snap.GatewayClasses) != 1 || snap.GatewayClasses[0].Name != "strait" {
		t.Fatalf("GatewayClasses %d, want strait alone", len(snap.GatewayClasses))
	}
	if len(snap.Gateways) != 1 || len(snap.HTTPRoutes) != 1 || snap.Namespaces["infra"] == nil || snap.Namespaces["infra"].Labels["team"] != "infra" {
		t.Fatalf("snapshot: %d Gateways, %d HTTPRoutes, namespace infra %v", len(snap.Gateways), len(snap.HTTPRoutes), snap.Namespaces["infra"])
	}
	drain := func(d time.Duration) bool {
		changed := false
		timeout := time.After(d)
		for {
			select {
			case ch := <-src.Changes():
				changed = changed || ch.Full
			case <-timeout:
				return changed
			}
		}
	}
	drain(500 * time.Millisecond)

	g, err := gw.GatewayV1().Gateways("infra").Get(ctx, "web", metav1.GetOptions{})
	mustCreate(err)
	g.Status.Conditions = []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", LastTransitionTime: metav1.Now(), ObservedGeneration: g.Generation}}
	_, err = gw.GatewayV1().Gateways("infra").UpdateStatus(ctx, g, metav1.UpdateOptions{})
	mustCreate(err)
	if drain(time.Second) {
		t.Error("a status-only write to a Gateway was reported as a change")
	}

	g, err = gw.GatewayV1().Gateways("infra").Get(ctx, "web", metav1.GetOptions{})
	mustCreate(err)
	g.Spec.Listeners = append(g.Spec.Listeners, gatewayv1.Listener{Name: "alt", Port: 8080, Protocol: gatewayv1.HTTPProtocolType})
	_, err = gw.GatewayV1().Gateways("infra").Update(ctx, g, metav1.UpdateOptions{})
	mustCreate(err)
	if !drain(2 * time.Second) {
		t.Fatal("a listener added to a Gateway was not reported")
	}
	if snap := src.Snapshot(); len(snap.Gateways) != 1 || len(snap.Gateways[0].Spec.Listeners) != 2 {
		t.Errorf("after the change the snapshot's Gateway has %d listeners, want 2", len(snap.Gateways[0].Spec.Listeners))
	}
}
