package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/straitgw/strait/internal/kubetest"
)

// pluginConfigMap creates or updates the Lua plugin ConfigMap of plugin
// name in ns (strait-plugin-<name>, labelled strait.dev/plugin).
func pluginConfigMap(t *testing.T, c *kubetest.Cluster, ns, name, code string) {
	t.Helper()
	ctx := context.Background()
	cms := c.Client.CoreV1().ConfigMaps(ns)
	cm, err := cms.Get(ctx, "strait-plugin-"+name, metav1.GetOptions{})
	if err != nil {
		cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "strait-plugin-" + name, Labels: map[string]string{"strait.dev/plugin": name}},
			Data: map[string]string{"main.lua": code}}
		_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
	} else {
		cm.Data = map[string]string{"main.lua": code}
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
}

// pluginReply is what a request through a plugin route gave.
type pluginReply struct {
	code     int
	plugin   string // the X-Plugin response header
	id       string // the X-Request-Id response header (request-id plugin)
	upstream string // X-Plugin-Version as the echo backend received it
	err      error
}

func pluginGet(addr, host string, hdr ...string) pluginReply {
	req, err := http.NewRequest("GET", "http://"+addr+"/", nil)
	if err != nil {
		return pluginReply{err: err}
	}
	req.Host = host
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := plainClient.Do(req)
	if err != nil {
		return pluginReply{err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := pluginReply{code: resp.StatusCode, plugin: resp.Header.Get("X-Plugin"), id: resp.Header.Get("X-Request-Id")}
	var echoed struct {
		Headers map[string][]string `json:"headers"`
	}
	if json.Unmarshal(b, &echoed) == nil && len(echoed.Headers["X-Plugin-Version"]) > 0 {
		r.upstream = echoed.Headers["X-Plugin-Version"][0]
	}
	return r
}

// gateCode is a plugin that marks the request upstream in rewrite, refuses
// requests whose X-Block header is block in access, and marks the
// response in header_filter.
func gateCode(version, block string) string {
	return fmt.Sprintf(`local _M = {}
function _M.rewrite() ngx.req.set_header("X-Plugin-Version", %[1]q) end
function _M.access()
  if ngx.req.get_headers()["x-block"] == %[2]q then return ngx.exit(ngx.HTTP_FORBIDDEN) end
end
function _M.header_filter() ngx.header["X-Plugin"] = %[1]q end
return _M
`, version, block)
}

// TestLuaPluginFromConfigMap: a Lua plugin from a ConfigMap adds a
// request header, refuses by a header and sets a response header; a
// change to the ConfigMap applies without a restart while four clients
// keep sending requests, none of which fails; code that does not compile
// leaves the previous version serving. The controller ConfigMap's plugins
// key runs the built-in request-id plugin on every route, and a plugin of
// --plugins-dir is reloaded when its file changes.
func TestLuaPluginFromConfigMap(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.150.1", "a")
	sys := newObjects(t, c, "strait-system")
	cfg := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "strait-config"}, Data: map[string]string{"plugins": "request-id"}}
	if _, err := c.Client.CoreV1().ConfigMaps(sys.ns).Create(context.Background(), cfg, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pluginConfigMap(t, c, sys.ns, "gate", gateCode("v1", "yes"))
	o := newObjects(t, c, "plug")
	o.service("web")
	o.slice("web", "10.244.150.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	o.ingress("gated", "gate.test", "web", ingressOpts{class: "strait", annotations: map[string]string{"strait.dev/plugins": "gate"}})
	o.ingress("open", "open.test", "web", ingressOpts{class: "strait"})
	o.ingress("dir", "dir.test", "web", ingressOpts{class: "strait", annotations: map[string]string{"strait.dev/plugins": "from-dir"}})
	dir := t.TempDir()
	writePlugin := func(code string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(dir, "from-dir"), 0o755); err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(dir, "from-dir", ".main.lua.new")
		if err := os.WriteFile(tmp, []byte(code), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "from-dir", "main.lua")); err != nil {
			t.Fatal(err)
		}
	}
	writePlugin(gateCode("d1", "yes"))
	// A generous budget: no request may fail, even on a loaded machine.
	s := startStrait(t, c, "--configmap=strait-system/strait-config", "--plugin-budget=5s", "--plugins-dir="+dir)

	waitFor(t, 10*time.Second, "the gated route", func() bool { return pluginGet(s.http, "gate.test").code == 200 })
	if r := pluginGet(s.http, "gate.test"); r.code != 200 || r.plugin != "v1" || r.upstream != "v1" {
		t.Errorf("v1: %+v", r)
	}
	if r := pluginGet(s.http, "gate.test", "X-Block", "yes"); r.code != 403 || r.upstream != "" {
		t.Errorf("v1 with X-Block yes: %+v, want 403 before the backend", r)
	}
	if r := pluginGet(s.http, "open.test"); r.code != 200 || r.plugin != "" || r.upstream != "" || len(r.id) != 32 {
		t.Errorf("route with only the global plugin: %+v", r)
	}
	if r := pluginGet(s.http, "gate.test"); len(r.id) != 32 {
		t.Errorf("the global plugin did not run on the gated route: %+v", r)
	}

	// Four clients loop while the ConfigMap changes twice.
	var stop atomic.Bool
	var wg sync.WaitGroup
	var sent, v1, v2 atomic.Int64
	failures := make(chan string, 100)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				r := pluginGet(s.http, "gate.test")
				sent.Add(1)
				switch {
				case r.err == nil && r.code == 200 && r.plugin == "v1" && r.upstream == "v1":
					v1.Add(1)
				case r.err == nil && r.code == 200 && r.plugin == "v2" && r.upstream == "v2":
					v2.Add(1)
				default:
					select {
					case failures <- fmt.Sprintf("%+v", r):
					default:
					}
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	pluginConfigMap(t, c, sys.ns, "gate", gateCode("v2", "please"))
	took := waitFor(t, 10*time.Second, "version 2", func() bool { return pluginGet(s.http, "gate.test").plugin == "v2" })
	t.Logf("the ConfigMap change served in %v", took.Round(time.Millisecond))
	time.Sleep(300 * time.Millisecond)
	pluginConfigMap(t, c, sys.ns, "gate", `return { rewrite = function( end }`)
	// The broken version is reported, and version 2 keeps serving.
	waitFor(t, 10*time.Second, "the compile error in the log", func() bool {
		b, _ := os.ReadFile(s.log)
		return strings.Contains(string(b), "does not compile")
	})
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Errorf("a request failed during the changes: %s", f)
	}
	t.Logf("%d requests during the changes: %d by version 1, %d by version 2", sent.Load(), v1.Load(), v2.Load())
	if v1.Load() == 0 || v2.Load() == 0 {
		t.Errorf("the load did not span the change: v1 %d, v2 %d", v1.Load(), v2.Load())
	}
	if r := pluginGet(s.http, "gate.test", "X-Block", "yes"); r.code != 200 || r.plugin != "v2" {
		t.Errorf("v2 with X-Block yes: %+v, want 200", r)
	}
	if r := pluginGet(s.http, "gate.test", "X-Block", "please"); r.code != 403 {
		t.Errorf("v2 with X-Block please: %+v, want 403", r)
	}

	// A plugin of --plugins-dir, reloaded when its file changes.
	if r := pluginGet(s.http, "dir.test"); r.code != 200 || r.plugin != "d1" || r.upstream != "d1" {
		t.Errorf("plugin from the directory: %+v", r)
	}
	writePlugin(gateCode("d2", "yes"))
	took = waitFor(t, 10*time.Second, "the directory change", func() bool { return pluginGet(s.http, "dir.test").plugin == "d2" })
	t.Logf("the directory change served in %v", took.Round(time.Millisecond))
	if r := pluginGet(s.http, "dir.test", "X-Block", "yes"); r.code != 403 {
		t.Errorf("directory plugin d2 with X-Block yes: %+v, want 403", r)
	}
}

// TestLuaPluginIsolation: a plugin that loops forever and one that raises
// an error fail their own requests with 500 within the time budget,
// with a log line naming them; requests on another route keep being
// served (their latency before and during is printed, not asserted).
func TestLuaPluginIsolation(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.151.1", "a")
	sys := newObjects(t, c, "strait-system")
	pluginConfigMap(t, c, sys.ns, "spin", `return { access = function() local n = 0; while true do n = n + 1 end end }`)
	pluginConfigMap(t, c, sys.ns, "fail", `return { rewrite = function() error("deliberate failure") end }`)
	o := newObjects(t, c, "iso")
	o.service("web")
	o.slice("web", "10.244.151.1")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	o.ingress("spin", "spin.test", "web", ingressOpts{class: "strait", annotations: map[string]string{"strait.dev/plugins": "spin"}})
	o.ingress("fail", "fail.test", "web", ingressOpts{class: "strait", annotations: map[string]string{"strait.dev/plugins": "fail"}})
	o.ingress("calm", "calm.test", "web", ingressOpts{class: "strait"})
	s := startStrait(t, c, "--configmap=strait-system/strait-config", "--plugin-budget=200ms")
	waitFor(t, 10*time.Second, "the calm route", func() bool { return pluginGet(s.http, "calm.test").code == 200 })

	calm := func(n int) []time.Duration {
		t.Helper()
		var ds []time.Duration
		for range n {
			start := time.Now()
			if r := pluginGet(s.http, "calm.test"); r.code != 200 || r.err != nil {
				t.Errorf("calm route: %+v", r)
			}
			ds = append(ds, time.Since(start))
		}
		return ds
	}
	before := calm(300)
	// Alone, each fails with a 500 within its budget.
	for _, host := range []string{"spin.test", "fail.test"} {
		start := time.Now()
		if r := pluginGet(s.http, host); r.err != nil || r.code != 500 {
			t.Errorf("%s alone: %+v", host, r)
		}
		t.Logf("%s alone: 500 after %v", host, time.Since(start).Round(time.Millisecond))
	}

	var stop atomic.Bool
	var wg sync.WaitGroup
	var spins, fails atomic.Int64
	bad := make(chan string, 100)
	for i := range 4 {
		host := "spin.test"
		if i%2 == 1 {
			host = "fail.test"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				start := time.Now()
				r := pluginGet(s.http, host)
				if r.err != nil || r.code != 500 {
					select {
					case bad <- fmt.Sprintf("%s: %+v after %v", host, r, time.Since(start)):
					default:
					}
					continue
				}
				if host == "spin.test" {
					spins.Add(1)
				} else {
					fails.Add(1)
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	during := calm(300)
	stop.Store(true)
	wg.Wait()
	close(bad)
	for b := range bad {
		t.Errorf("a failing plugin's request was not a prompt 500: %s", b)
	}
	if spins.Load() == 0 || fails.Load() == 0 {
		t.Errorf("no 500s counted: spin %d, fail %d", spins.Load(), fails.Load())
	}
	t.Logf("calm route before: %s", percentiles(before))
	t.Logf("calm route during %d endless-loop and %d failing-plugin requests: %s", spins.Load(), fails.Load(), percentiles(during))
	b, _ := os.ReadFile(s.log)
	for _, want := range []string{"plugin=spin phase=access", "time budget", "plugin=fail phase=rewrite", "deliberate failure"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the log lacks %q", want)
		}
	}
}
