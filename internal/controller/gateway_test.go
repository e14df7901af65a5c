package controller

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/snapshot"
)

// TestAddressPool: Gateways get the lowest free addresses and keep them
// while they exist; a removed Gateway frees its address; after a restart
// the address a Gateway's status shows is taken again; an exhausted pool
// leaves a Gateway without an address.
func TestAddressPool(t *testing.T) {
	p, err := NewAddressPool("10.1.0.0/30") // .1, .2, .3
	if err != nil {
		t.Fatal(err)
	}
	gws := func(names ...string) []model.Gateway {
		var out []model.Gateway
		for _, n := range names {
			out = append(out, model.Gateway{Name: n})
		}
		return out
	}
	addrs := func(list []model.Gateway) []string {
		var out []string
		for _, g := range list {
			out = append(out, g.Name+"="+slices.Concat(g.Addresses, []string{""})[0])
		}
		return out
	}
	snap := &snapshot.Snapshot{}
	check := func(list []model.Gateway, want ...string) {
		t.Helper()
		p.assign(snap, list)
		if got := addrs(list); !slices.Equal(got, want) {
			t.Errorf("addresses %v, want %v", got, want)
		}
	}
	check(gws("a/x", "b/y"), "a/x=10.1.0.1", "b/y=10.1.0.2")
	check(gws("b/y", "c/z"), "b/y=10.1.0.2", "c/z=10.1.0.1")
	check(gws("b/y", "c/z", "d/w", "e/v"), "b/y=10.1.0.2", "c/z=10.1.0.1", "d/w=10.1.0.3", "e/v=")

	// A restart: a new pool, and Gateways whose status shows addresses.
	p, _ = NewAddressPool("10.1.0.0/30")
	gw := func(ns, name, addr string) *gatewayv1.Gateway {
		return &gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Status: gatewayv1.GatewayStatus{Addresses: []gatewayv1.GatewayStatusAddress{{Value: addr}}}}
	}
	snap = &snapshot.Snapshot{Gateways: []*gatewayv1.Gateway{gw("a", "x", "10.1.0.3"), gw("b", "y", "192.0.2.1")}}
	check(gws("a/x", "b/y"), "a/x=10.1.0.3", "b/y=10.1.0.1")

	if _, err := NewAddressPool("10.1.0.1/32"); err == nil {
		t.Error("a pool of one address accepted")
	}
	if _, err := NewAddressPool("10.1.0.0"); err == nil {
		t.Error("a pool without a prefix length accepted")
	}
}

// TestWithGatewaysMergesByName: the Gateway API's backends and
// certificates join the Ingress ones in name order, the Ingress entry
// winning a shared name.
func TestWithGatewaysMergesByName(t *testing.T) {
	m := &model.Model{Backends: []model.Backend{{Name: "a/svc:80", Balance: &model.Balance{}}, {Name: "c/svc:80"}}}
	gw := []model.Backend{{Name: "a/svc:80"}, {Name: "b/svc:80"}}
	got := mergeByName(m.Backends, gw, func(b model.Backend) string { return b.Name })
	var names []string
	for _, b := range got {
		names = append(names, b.Name)
	}
	if !slices.Equal(names, []string{"a/svc:80", "b/svc:80", "c/svc:80"}) {
		t.Errorf("merged %v", names)
	}
	if got[0].Balance == nil {
		t.Error("the Ingress's entry of a shared name was not kept")
	}
}
