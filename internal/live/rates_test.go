package live

import (
	"sync"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/model"
)

// counters is a stand-in for the data plane's per-route counters that
// the test moves by hand.
type counters struct {
	mu sync.Mutex
	m  map[RouteTraffic]uint64 // by labels (counts zero), requests
	e  map[RouteTraffic]uint64 // 5xx answers
}

func (c *counters) add(labels RouteTraffic, requests, errors uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m, c.e = map[RouteTraffic]uint64{}, map[RouteTraffic]uint64{}
	}
	c.m[labels] += requests
	c.e[labels] += errors
}

func (c *counters) traffic() []RouteTraffic {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []RouteTraffic
	for k, n := range c.m {
		k.Requests, k.Errors5xx = n, c.e[k]
		out = append(out, k)
	}
	return out
}

// rateModel has shop.test with a route /api whose canary is another
// Ingress, and a catch-all route.
func rateModel() *model.Model {
	ing := func(name string) model.ObjectRef {
		return model.ObjectRef{Kind: "Ingress", Namespace: "shop", Name: name}
	}
	return &model.Model{
		Hosts: []*model.VirtualHost{{
			Name: "shop.test",
			Routes: []model.Route{{
				Name: "ingress/shop/shop/rule/0/path/0", Source: ing("shop"), PathType: model.PathPrefix, Path: "/api",
				Action: model.Action{Backend: "shop/web:80"},
				Policy: model.Policy{MaxBodyBytes: defaultBodyBytes, ConnectTimeout: 5, ReadTimeout: 60, SendTimeout: 60,
					Canary: &model.Canary{Backend: "shop/canary:80", Source: ing("shop-canary"), Weight: 20, WeightTotal: 100}},
			}},
		}},
		CatchAll: model.VirtualHost{Name: model.CatchAllHost, Routes: []model.Route{{
			Name: "ingress/shop/any/rule/0/path/0", Source: ing("any"), PathType: model.PathPrefix, Path: "/",
			Action: model.Action{Backend: "shop/web:80"},
		}}},
	}
}

// Rates come from the counters' growth between fetches: none after the
// first, then per second over the window, canary requests of the canary
// Ingress included in the route's, the catch-all host's "_" mapped to
// "*", and counters that restarted read from zero.
func TestRates(t *testing.T) {
	var c counters
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := New(Options{
		State:   func() State { return State{Model: rateModel()} },
		Traffic: c.traffic,
		Now:     func() time.Time { return now },
	})
	primary := RouteTraffic{Namespace: "shop", Ingress: "shop", Host: "shop.test", Path: "/api", Service: "web"}
	canary := RouteTraffic{Namespace: "shop", Ingress: "shop-canary", Host: "shop.test", Path: "/api", Service: "canary", Canary: true}
	other := RouteTraffic{Namespace: "shop", Ingress: "any", Host: "_", Path: "/", Service: "web"}
	c.add(primary, 1000, 10)
	c.add(other, 5, 0)

	v := h.View()
	if !v.Traffic.Available || v.Traffic.WindowSeconds != 0 || v.Hosts[0].Routes[0].Traffic != nil {
		t.Fatalf("first fetch: traffic %+v, route %+v; want available, no window, no rate yet", v.Traffic, v.Hosts[0].Routes[0].Traffic)
	}
	now = now.Add(2 * time.Second)
	c.add(primary, 16, 4)
	c.add(canary, 4, 0)
	c.add(other, 1, 1)
	v = h.View()
	if v.Traffic.WindowSeconds != 2 {
		t.Fatalf("window %v s, want 2", v.Traffic.WindowSeconds)
	}
	if got, want := *v.Hosts[0].Routes[0].Traffic, (Rate{RequestsPerSecond: 10, Errors5xxPerSecond: 2, CanaryPerSecond: 2}); got != want {
		t.Errorf("shop.test /api: %+v, want %+v", got, want)
	}
	if got, want := *v.Hosts[1].Routes[0].Traffic, (Rate{RequestsPerSecond: 0.5, Errors5xxPerSecond: 0.5}); got != want {
		t.Errorf("catch-all /: %+v, want %+v", got, want)
	}

	// A fetch within the sampling interval takes no sample and gives the
	// same rates.
	now = now.Add(100 * time.Millisecond)
	c.add(primary, 1000, 0)
	if v := h.View(); v.Traffic.WindowSeconds != 2 || v.Hosts[0].Routes[0].Traffic.RequestsPerSecond != 10 {
		t.Errorf("fetch 100 ms later: window %v, rate %+v; want the same as before", v.Traffic.WindowSeconds, v.Hosts[0].Routes[0].Traffic)
	}
	// A counter that went down (a restart) counts from zero.
	c.mu.Lock()
	c.m[other] = 3
	c.mu.Unlock()
	now = now.Add(900 * time.Millisecond)
	v = h.View()
	if got := v.Hosts[1].Routes[0].Traffic.RequestsPerSecond; got != 1 {
		t.Errorf("after a counter restart: %v req/s over %v s, want 1 (3 requests since the base sample)", got, v.Traffic.WindowSeconds)
	}
}

// The window stays about rateWindow long as fetches go on, and a base
// sample older than staleAfter is dropped rather than averaged over.
func TestRatesWindow(t *testing.T) {
	var c counters
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := rates{src: c.traffic}
	key := RouteTraffic{Namespace: "shop", Ingress: "shop", Host: "shop.test", Path: "/"}
	for i := range 30 {
		c.add(key, uint64(i), 0) // a rate that grows: 1, 2, ... per second
		w, byRoute := r.observe(now)
		if i >= 11 {
			if w != rateWindow {
				t.Fatalf("fetch %d: window %v, want %v", i, w, rateWindow)
			}
			// Over the last 10 s the counter grew by i + (i-1) + ... + (i-9).
			want := float64(10*i-45) / 10
			if got := byRoute[routeKey{"shop", "shop", "shop.test", "/"}].RequestsPerSecond; got != want {
				t.Fatalf("fetch %d: %v req/s, want %v", i, got, want)
			}
		}
		now = now.Add(time.Second)
	}
	if len(r.samples) > 12 {
		t.Errorf("%d samples kept for a 10 s window at one per second", len(r.samples))
	}
	now = now.Add(2 * staleAfter)
	if w, _ := r.observe(now); w != 0 {
		t.Errorf("after %v without a fetch: window %v, want none", 2*staleAfter, w)
	}
}

// Without counters the rates are unavailable.
func TestRatesUnavailable(t *testing.T) {
	v := New(Options{State: func() State { return State{Model: rateModel()} }}).View()
	if v.Traffic.Available || v.Hosts[0].Routes[0].Traffic != nil {
		t.Errorf("traffic %+v, route rate %v; want unavailable", v.Traffic, v.Hosts[0].Routes[0].Traffic)
	}
}
