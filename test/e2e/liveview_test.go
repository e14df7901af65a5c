package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/kubetest"
	"github.com/straitgw/strait/internal/live"
)

// TestLiveViewCluster: in cluster mode the live view (on by default) shows
// that this replica leads, the Ingress's route and its endpoint, and an
// EndpointSlice change as an endpoints generation with the new endpoint;
// --enable-live-view=false leaves it out.
func TestLiveViewCluster(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.140.1", "a")
	backend(t, "10.244.140.2", "b")
	o := newObjects(t, c, "live")
	o.service("web")
	o.slice("web", "10.244.140.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	o.ingress("web", "live.example", "web", ingressOpts{class: "strait"})
	s := startStrait(t, c)

	var v live.View
	fetch := func() bool {
		v = live.View{}
		resp, err := http.Get("http://" + s.healthz + live.APIPath)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		return resp.StatusCode == 200 && json.NewDecoder(resp.Body).Decode(&v) == nil
	}
	waitFor(t, 15*time.Second, "the live view to show this replica as the leader", func() bool {
		return fetch() && v.Generation.Leader != nil && *v.Generation.Leader
	})
	if g := v.Generation; g.Number < 1 || g.Kind != "full" || time.Since(g.Time) > time.Minute {
		t.Errorf("generation %+v, want a full one published in the last minute", g)
	}
	endpoints := func() []string {
		for _, b := range v.Backends {
			if b.Name == "live/web:80" {
				var out []string
				for _, e := range b.Endpoints {
					out = append(out, e.Address+" "+e.State)
				}
				return out
			}
		}
		return nil
	}
	if len(v.Hosts) != 2 || v.Hosts[0].Name != "live.example" || len(v.Hosts[0].Routes) != 1 ||
		v.Hosts[0].Routes[0].Source != (live.Object{Kind: "Ingress", Namespace: "live", Name: "web"}) ||
		len(v.Hosts[0].Routes[0].Backends) != 1 || v.Hosts[0].Routes[0].Backends[0].Backend != "live/web:80" {
		t.Fatalf("hosts %+v, want live.example / to live/web:80 from Ingress live/web, then the catch-all", v.Hosts)
	}
	if got := endpoints(); len(got) != 1 || got[0] != "10.244.140.1:8080 healthy" {
		t.Errorf("endpoints %q, want 10.244.140.1:8080 healthy", got)
	}

	full := v.Generation.Number
	o.slice("web", "10.244.140.1", "10.244.140.2")
	waitFor(t, 10*time.Second, "an endpoints generation with the new endpoint", func() bool {
		return fetch() && v.Generation.Kind == "endpoints" && v.Generation.Number > full && len(endpoints()) == 2
	})
	if got := endpoints(); got[1] != "10.244.140.2:8080 healthy" {
		t.Errorf("endpoints %q after the change", got)
	}

	off := startStrait(t, c, "--enable-live-view=false")
	for _, path := range []string{"/", "/live/", live.APIPath} {
		if code, _ := httpGet("http://"+off.healthz+path, ""); code != 404 {
			t.Errorf("--enable-live-view=false: GET %s answers %d, want 404", path, code)
		}
	}
}
