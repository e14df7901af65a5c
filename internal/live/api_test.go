package live_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/live"
)

func findHost(t *testing.T, v *live.View, name string) *live.Host {
	t.Helper()
	for i := range v.Hosts {
		if v.Hosts[i].Name == name {
			return &v.Hosts[i]
		}
	}
	t.Fatalf("no host %q in the view", name)
	return nil
}

func findBackend(t *testing.T, v *live.View, name string) *live.Backend {
	t.Helper()
	for i := range v.Backends {
		if v.Backends[i].Name == name {
			return &v.Backends[i]
		}
	}
	t.Fatalf("no backend %q in the view", name)
	return nil
}

func findCert(t *testing.T, v *live.View, name string) *live.Certificate {
	t.Helper()
	for i := range v.Certificates {
		if v.Certificates[i].Name == name {
			return &v.Certificates[i]
		}
	}
	t.Fatalf("no certificate %q in the view", name)
	return nil
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAPI serves the quickstart and the shop scenario and checks that the
// JSON document shows their hosts, routes, canary, backends with the dead
// endpoint ejected, certificates with their expiry, and problems.
func TestAPI(t *testing.T) {
	sc := newShop(t)
	start := time.Now()
	srv := startServer(t, sc.dir)
	// The first fetch takes the first sample of the request counters.
	_ = getView(t, srv)
	sampled := time.Now()
	// Round robin sends every other request to the dead endpoint; each
	// such try fails, is retried on the live one, and counts towards the
	// ejection after 5 failures in a row.
	for range 12 {
		if got := proxyGet(t, srv, "shop.test", "/"); got != 200 {
			t.Fatalf("shop.test/ answers %d, want 200 (retried on the live endpoint)", got)
		}
	}
	// Rates need a second sample, at least a second later.
	time.Sleep(time.Until(sampled.Add(1100 * time.Millisecond)))
	v := getView(t, srv)

	g := v.Generation
	if g.Number < 1 || g.Kind != "full" || g.Time.Before(start) || g.Time.After(time.Now()) || g.Leader != nil {
		t.Errorf("generation = %+v, want number ≥ 1, full, published since the test started, no leader in standalone mode", g)
	}
	if v.SchemaVersion != live.SchemaVersion || !v.Traffic.Available || v.Traffic.WindowSeconds < 1 {
		t.Errorf("schema %d, traffic %+v: want version %d and rates over at least a second", v.SchemaVersion, v.Traffic, live.SchemaVersion)
	}
	var names []string
	for _, h := range v.Hosts {
		names = append(names, h.Name)
	}
	if want := []string{"*.apps.strait.local", "broken.test", "demo.strait.local", "shop.test", "*"}; !slices.Equal(names, want) {
		t.Errorf("hosts %q, want %q (sorted, catch-all last)", names, want)
	}

	// The quickstart's routes, in match order.
	demo := findHost(t, v, "demo.strait.local")
	var routes []string
	for _, r := range demo.Routes {
		routes = append(routes, fmt.Sprintf("%s %s %s %s %v", r.Match, r.Path, r.Source.Kind, r.Source.Namespace+"/"+r.Source.Name, r.Backends))
	}
	want := []string{
		"Exact /exact Ingress demo/demo [{demo/echo-b:80 0 100 false}]",
		"Prefix /b Ingress demo/demo [{demo/echo-b:80 0 100 false}]",
		"Prefix / Ingress demo/demo [{demo/echo-a:80 0 100 false}]",
	}
	if !slices.Equal(routes, want) || demo.Certificate != "demo/demo-tls" {
		t.Errorf("demo.strait.local: certificate %q, routes\n%s\nwant demo/demo-tls and\n%s", demo.Certificate, strings.Join(routes, "\n"), strings.Join(want, "\n"))
	}

	// shop.test: TLS, the canary split on /api, the body-size policy.
	shopHost := findHost(t, v, "shop.test")
	if shopHost.Certificate != "shop/shop-tls" || len(shopHost.Routes) != 2 {
		t.Fatalf("shop.test = %s", jsonText(t, shopHost))
	}
	api := shopHost.Routes[0]
	wantBackends := []live.RouteBackend{{Backend: "shop/web:80", Weight: 80}, {Backend: "shop/canary:80", Weight: 20, Canary: true}}
	if api.Path != "/api" || api.Name != "ingress/shop/shop/rule/0/path/1" || !slices.Equal(api.Backends, wantBackends) {
		t.Errorf("shop.test /api = %s, want backends %v", jsonText(t, api), wantBackends)
	}
	if c := api.Canary; c == nil || c.Header != "X-Canary" || c.Weight != 20 || c.WeightTotal != 100 || c.Source != (live.Object{Kind: "Ingress", Namespace: "shop", Name: "shop-canary"}) {
		t.Errorf("shop.test /api canary = %s", jsonText(t, api.Canary))
	}
	if !slices.Contains(api.Policies, "body ≤ 8m") || api.Traffic == nil || api.Traffic.RequestsPerSecond != 0 {
		t.Errorf("shop.test /api policies %q, traffic %v; want body ≤ 8m and no requests", api.Policies, api.Traffic)
	}
	// The 12 requests to shop.test / over the window since the first
	// sample, from the request metrics.
	root := shopHost.Routes[1]
	if r := root.Traffic; root.Path != "/" || r == nil || math.Abs(r.RequestsPerSecond*v.Traffic.WindowSeconds-12) > 0.1 || r.Errors5xxPerSecond != 0 {
		t.Errorf("shop.test / traffic %+v over %v s, want 12 requests' worth, no 5xx", r, v.Traffic.WindowSeconds)
	}
	// The broken Ingress's route answers 503 itself.
	if r := findHost(t, v, "broken.test").Routes; len(r) != 1 || r[0].Status != 503 || len(r[0].Backends) != 0 {
		t.Errorf("broken.test routes = %s, want one answering 503", jsonText(t, r))
	}
	if cs := findHost(t, v, "*"); cs.Default.Status != 404 {
		t.Errorf("catch-all default = %+v, want 404", cs.Default)
	}

	// The dead endpoint is ejected, the live one healthy.
	web := findBackend(t, v, "shop/web:80")
	if len(web.Endpoints) != 2 || web.MaxRequests != 10000 || web.Saturated || web.Protocol != "HTTP" || web.Balance != "round_robin" {
		t.Fatalf("shop/web:80 = %s", jsonText(t, web))
	}
	for _, e := range web.Endpoints {
		switch e.Address {
		case fmt.Sprintf("127.0.0.1:%d", sc.good):
			if e.State != live.StateHealthy || e.ConsecutiveFailures != 0 || e.EjectedUntil != nil {
				t.Errorf("live endpoint = %+v, want healthy", e)
			}
		case fmt.Sprintf("127.0.0.1:%d", sc.dead):
			now := time.Now()
			if e.State != live.StateEjected || e.EjectedUntil == nil || !e.EjectedUntil.After(now) || e.EjectedUntil.After(now.Add(30*time.Second)) {
				t.Errorf("dead endpoint = %+v, want ejected for up to 30 s", e)
			}
		default:
			t.Errorf("unexpected endpoint %+v", e)
		}
	}

	// Certificates: the shop's expires within 14 days; the quickstart's
	// in 2126.
	c := findCert(t, v, "shop/shop-tls")
	if !c.NotAfter.Equal(sc.notAfter) || c.DaysLeft != 9 || !c.ExpiringSoon || c.Expired || c.Subject != "shop.test" ||
		!slices.Equal(c.DNSNames, []string{"shop.test"}) || !slices.Equal(c.Hosts, []string{"shop.test"}) ||
		c.Secret != (live.Object{Kind: "Secret", Namespace: "shop", Name: "shop-tls"}) || c.Error != "" {
		t.Errorf("shop/shop-tls = %s, want NotAfter %v, 9 days left, expiring soon", jsonText(t, c), sc.notAfter)
	}
	if c := findCert(t, v, "demo/demo-tls"); c.ExpiringSoon || c.Expired || c.NotAfter.Year() != 2126 || c.DaysLeft < 36000 {
		t.Errorf("demo/demo-tls = %s", jsonText(t, c))
	}

	// The broken Ingress's problems, the markup as text.
	var missing, markup bool
	for _, p := range v.Problems {
		if p.Object != (live.Object{Kind: "Ingress", Namespace: "shop", Name: "broken"}) {
			continue
		}
		missing = missing || (p.Reason == "ServiceNotFound" && p.Message == "Service shop/missing not found; requests get 503")
		markup = markup || strings.Contains(p.Message, brokenAnnotation)
	}
	if !missing || !markup {
		t.Errorf("problems = %s, want the broken Ingress's missing Service and its annotation %q", jsonText(t, v.Problems), brokenAnnotation)
	}
}

// TestAPIRaw checks the document as bytes: markup in values is escaped,
// no key or Secret data appears, and two fetches of an unchanged state
// are equal but for the time.
func TestAPIRaw(t *testing.T) {
	srv := startServer(t, newShop(t).dir)
	get := func() []byte {
		resp, err := http.Get("http://" + srv.HealthzAddr() + live.APIPath)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	a, b := get(), get()
	if bytes.Contains(a, []byte("<img")) || !bytes.Contains(a, []byte(`\u003cimg src=x onerror=alert(1)\u003e`)) {
		t.Errorf("the annotation's markup is not escaped in the JSON")
	}
	// "LS0tLS1CRUdJTi" is "-----BEGIN" in base64.
	for _, secret := range []string{"PRIVATE KEY", "BEGIN", "LS0tLS1CRUdJTi", "tls.key"} {
		if bytes.Contains(a, []byte(secret)) {
			t.Errorf("the document contains %q", secret)
		}
	}
	noTime := func(doc []byte) string {
		var m map[string]any
		if err := json.Unmarshal(doc, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "now")
		return jsonText(t, m)
	}
	if noTime(a) != noTime(b) {
		t.Errorf("two fetches differ:\n%s\n%s", a, b)
	}
}

// TestHTTP checks the paths, methods and headers of the live view.
func TestHTTP(t *testing.T) {
	srv := startServer(t, quickstartDir(t))
	base := "http://" + srv.HealthzAddr()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string) (*http.Response, string) {
		req, _ := http.NewRequest(method, base+path, nil)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	for _, c := range []struct {
		method, path string
		status       int
		contentType  string
		body         string
	}{
		{"GET", "/", 302, "", ""},
		{"GET", "/live", 302, "", ""},
		{"GET", "/live/", 200, "text/html; charset=utf-8", `<script src="app.js" defer></script>`},
		{"GET", "/live/app.js", 200, "text/javascript; charset=utf-8", "textContent"},
		{"GET", "/live/style.css", 200, "text/css; charset=utf-8", ".badge"},
		{"GET", "/live/api", 200, "application/json", `"schemaVersion": 1`},
		{"HEAD", "/live/api", 200, "application/json", ""},
		{"GET", "/live/nothing", 404, "", ""},
		{"POST", "/live/api", 405, "", "read-only"},
		{"PUT", "/live/", 405, "", "read-only"},
		{"DELETE", "/", 405, "", "read-only"},
	} {
		resp, body := do(c.method, c.path)
		h := resp.Header
		if resp.StatusCode != c.status || (c.contentType != "" && h.Get("Content-Type") != c.contentType) || !strings.Contains(body, c.body) {
			t.Errorf("%s %s: %d %q, body %.80q; want %d %q with %q", c.method, c.path, resp.StatusCode, h.Get("Content-Type"), body, c.status, c.contentType, c.body)
		}
		if csp := h.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'self';") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s %s: Content-Security-Policy %q", c.method, c.path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s %s: no X-Content-Type-Options: nosniff", c.method, c.path)
		}
		if c.status == 302 && h.Get("Location") != "live/" {
			t.Errorf("%s %s: Location %q, want live/", c.method, c.path, h.Get("Location"))
		}
		if c.status == 405 && h.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s %s: Allow %q", c.method, c.path, h.Get("Allow"))
		}
	}
	// The page has no inline script or style for the policy to block.
	_, page := do("GET", "/live/")
	if strings.Contains(page, "<script>") || strings.Contains(page, "<style") || strings.Contains(page, "style=") || strings.Contains(page, "http") {
		t.Errorf("the page has inline script or style, or an external URL:\n%s", page)
	}
	// The other endpoints of the health port are unchanged.
	for path, status := range map[string]int{"/healthz": 200, "/debug/model": 200, "/metrics": 200, "/elsewhere": 404} {
		if resp, _ := do("GET", path); resp.StatusCode != status {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, status)
		}
	}
}
