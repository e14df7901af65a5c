package proxy

import (
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"testing"
	"weak"

	"github.com/straitgw/strait/internal/model"
)

// A generation reuses the compiled hosts of the previous one whose model
// host is the same (the same route array, as the incremental translation
// leaves it), compiles the others, and compiles everything again when
// what hosts are compiled with changes.
func TestCompileReusesUnchangedHosts(t *testing.T) {
	route := func(path string) []model.Route {
		return []model.Route{{Name: "r" + path, PathType: model.PathPrefix, Path: path, Action: model.Action{Status: http.StatusTeapot}}}
	}
	catchAll := model.VirtualHost{Name: model.CatchAllHost, Default: model.Action{Status: http.StatusNotFound}}
	a := model.VirtualHost{Name: "a.test", Routes: route("/a"), Default: model.Action{Status: http.StatusNotFound}}
	b := model.VirtualHost{Name: "b.test", Routes: route("/b"), Default: model.Action{Status: http.StatusNotFound}}
	g1 := compile(&model.Model{Hosts: []*model.VirtualHost{&a, &b}, CatchAll: catchAll}, nil, nil, hostContext{}, nil)

	b2 := b
	b2.Routes = route("/b2")
	g2 := compile(&model.Model{Hosts: []*model.VirtualHost{&a, &b2}, CatchAll: catchAll}, nil, nil, hostContext{}, g1)
	if g2.exact.get("a.test") != g1.exact.get("a.test") {
		t.Errorf("the unchanged host was compiled again")
	}
	if g2.exact.get("b.test") == g1.exact.get("b.test") {
		t.Fatalf("the changed host was reused")
	}
	if r := g2.exact.get("b.test").match("/b2/x"); r == nil || r.status != http.StatusTeapot {
		t.Errorf("the changed host does not serve its new route: %+v", r)
	}
	if r := g2.exact.get("b.test").match("/b"); r != g2.exact.get("b.test").def {
		t.Errorf("the changed host still serves its old route")
	}

	// The same routes in a new array are compiled again (equal content is
	// not checked: the translation shares what it did not redo).
	a2 := a
	a2.Routes = route("/a")
	g3 := compile(&model.Model{Hosts: []*model.VirtualHost{&a2, &b2}, CatchAll: catchAll}, nil, nil, hostContext{}, g2)
	if g3.exact.get("a.test") == g2.exact.get("a.test") || g3.exact.get("b.test") != g2.exact.get("b.test") {
		t.Errorf("reuse does not follow the route arrays")
	}

	// Global headers are compiled into every route: a change compiles
	// every host again.
	g4 := compile(&model.Model{Hosts: []*model.VirtualHost{&a2, &b2}, CatchAll: catchAll}, nil, nil, hostContext{model: model.Headers{ServerTokens: true}}, g3)
	if g4.exact.get("a.test") == g3.exact.get("a.test") || g4.exact.get("b.test") == g3.exact.get("b.test") {
		t.Fatalf("hosts were reused across a change of global headers")
	}
	if r := g4.exact.get("b.test").match("/b2"); r == nil || r.headers == nil || r.headers != g4.headers {
		t.Errorf("a route compiled with global headers does not carry them")
	}
	g5 := compile(&model.Model{Hosts: []*model.VirtualHost{&a2, &b2}, CatchAll: catchAll}, nil, nil, hostContext{model: model.Headers{ServerTokens: true}}, g4)
	if g5.exact.get("a.test") != g4.exact.get("a.test") || g5.headers != g4.headers {
		t.Errorf("equal global headers did not keep the compiled hosts")
	}
}

// A compiled host reused by later generations keeps nothing of the model
// it was first compiled from: with one host changing per generation, old
// models must not pile up (each is a copy of every host).
func TestReusedHostsDoNotKeepOldModels(t *testing.T) {
	p, err := New(Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	catchAll := model.VirtualHost{Name: model.CatchAllHost, Default: model.Action{Status: http.StatusNotFound}}
	routes := []model.Route{{Name: "r", PathType: model.PathPrefix, Path: "/", Action: model.Action{Status: http.StatusTeapot}}}
	stable := model.VirtualHost{Name: "stable.test", Routes: routes, Default: model.Action{Status: http.StatusNotFound}}
	gen := func(i int) *model.Model {
		changing := model.VirtualHost{Name: "changing.test", Routes: slices.Clone(routes), Default: model.Action{Status: 400 + i}}
		return &model.Model{Hosts: []*model.VirtualHost{&changing, &stable}, CatchAll: catchAll}
	}
	first := gen(0)
	p.Apply(first)
	// The host list and the host that changed; the stable host is shared.
	oldList, oldHost := weak.Make(&first.Hosts[0]), weak.Make(first.Hosts[0])
	first = nil
	for i := 1; i <= 3; i++ {
		p.Apply(gen(i))
	}
	if p.gen.Load().exact.get("stable.test") == nil {
		t.Fatal("the stable host is not served")
	}
	runtime.GC()
	runtime.GC()
	if oldList.Value() != nil || oldHost.Value() != nil {
		t.Errorf("the first model is still reachable three generations later")
	}
	runtime.KeepAlive(p) // the proxy, and what it serves, are live
}

// When only some hosts change, the name maps are the previous ones with
// those changes: a removed host (exact or wildcard) stops being served,
// an added one is served, and aliases fall back to building every map.
func TestCompileChangesOnlyChangedNames(t *testing.T) {
	route := []model.Route{{Name: "r", PathType: model.PathPrefix, Path: "/", Action: model.Action{Status: http.StatusTeapot}}}
	host := func(name string) *model.VirtualHost {
		return &model.VirtualHost{Name: name, Routes: route, Default: model.Action{Status: http.StatusNotFound}}
	}
	catchAll := model.VirtualHost{Name: model.CatchAllHost, Default: model.Action{Status: http.StatusNotFound}}
	gen := func(prev *generation, hosts ...*model.VirtualHost) *generation {
		return compile(&model.Model{Hosts: hosts, CatchAll: catchAll}, nil, nil, hostContext{}, prev)
	}
	served := func(g *generation, name string) bool { return g.host(name) != g.catchAll }
	a, b, w := host("a.test"), host("b.test"), host("*.w.test")
	g1 := gen(nil, w, a, b)
	if !served(g1, "a.test") || !served(g1, "b.test") || !served(g1, "x.w.test") {
		t.Fatal("the first generation does not serve its hosts")
	}
	c := host("c.test")
	g2 := gen(g1, a, c) // *.w.test and b.test removed, c.test added
	for name, want := range map[string]bool{"a.test": true, "c.test": true, "b.test": false, "x.w.test": false} {
		if served(g2, name) != want {
			t.Errorf("after the change, %s served: %v, want %v", name, !want, want)
		}
	}
	if g2.exact.get("a.test") != g1.exact.get("a.test") {
		t.Error("the unchanged host was compiled again")
	}
	if g1.exact.n != 2 || g1.wildcard.n != 1 {
		t.Errorf("the previous generation's maps changed: %d exact, %d wildcard", g1.exact.n, g1.wildcard.n)
	}
	aliased := *a
	aliased.Aliases = []string{"alias.test"}
	g3 := gen(g2, &aliased, c)
	if !served(g3, "alias.test") || g3.host("alias.test") != g3.host("a.test") {
		t.Error("an alias is not served as its host")
	}
	g4 := gen(g3, c)
	if served(g4, "alias.test") || served(g4, "a.test") || !served(g4, "c.test") {
		t.Error("after the aliased host went, its alias or it is still served")
	}
}
