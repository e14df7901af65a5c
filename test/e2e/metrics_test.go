package e2e

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/straitgw/strait/internal/kubetest"
)

// TestRequestMetrics sends a scripted load through Strait (both HTTP
// engines: plain routes on the HTTP/1 engine, a canary route on net/http)
// and checks that /metrics counts it under ingress-nginx's names and
// labels, series by series, against what the client sent and received.
func TestRequestMetrics(t *testing.T) {
	c := kubetest.Start(t)
	annBackend(t, "10.244.89.1", "main")
	annBackend(t, "10.244.89.2", "canary")
	o := newObjects(t, c, "metrics")
	o.service("web")
	o.slice("web", "10.244.89.1")
	o.service("web-canary")
	o.slice("web-canary", "10.244.89.2")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "shop", "shop.test", "/", "web", nil, "")
	annIngress(o, "api", "api.test", "/v1", "web", nil, "")
	annIngress(o, "api-canary", "api.test", "/v1", "web-canary", annMap("canary", "true", "canary-by-header", "X-Canary"), "")
	s := startStraitAs(t, []string{"POD_NAMESPACE=strait-system", "POD_NAME=strait-7d9f"},
		"serve", "--kubeconfig", c.Kubeconfig, "--shutdown-delay=0s")

	// series identifies one request series by the labels that vary here.
	type series struct{ ingress, host, path, service, canary, method, status string }
	type tally struct {
		requests  int
		respBytes int64
		reqBytes  int64 // body bytes only: the head adds to what is counted
	}
	var mu sync.Mutex
	sent := map[series]*tally{}
	send := func(method, host, path, body string, canary bool, want series) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+s.http+path, strings.NewReader(body))
		req.Host = host
		if canary {
			req.Header.Set("X-Canary", "always")
		}
		resp, err := plainClient.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if got := fmt.Sprint(resp.StatusCode); got != want.status {
			t.Errorf("%s %s%s: status %s, want %s", method, host, path, got, want.status)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		tl := sent[want]
		if tl == nil {
			tl = &tally{}
			sent[want] = tl
		}
		tl.requests++
		tl.respBytes += n
		tl.reqBytes += int64(len(body))
	}
	type step struct {
		n                  int
		method, host, path string
		body               string
		canary             bool
		want               series
	}
	script := []step{
		{20, "GET", "shop.test", "/", "", false, series{"shop", "shop.test", "/", "web", "", "GET", "200"}},
		{5, "GET", "shop.test", "/cart?status=503", "", false, series{"shop", "shop.test", "/", "web", "", "GET", "503"}},
		{3, "POST", "shop.test", "/order", strings.Repeat("x", 100), false, series{"shop", "shop.test", "/", "web", "", "POST", "200"}},
		{7, "GET", "api.test", "/v1/items", "", false, series{"api", "api.test", "/v1", "web", "", "GET", "200"}},
		{4, "GET", "api.test", "/v1/missing?status=404", "", false, series{"api", "api.test", "/v1", "web", "", "GET", "404"}},
		{6, "GET", "api.test", "/v1/items", "", true, series{"api", "api.test", "/v1", "web", "metrics-web-canary-80", "GET", "200"}},
	}
	// Four clients at once, each taking every fourth request of the
	// script.
	var jobs []step
	for _, st := range script {
		for range st.n {
			jobs = append(jobs, st)
		}
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(jobs); i += 4 {
				j := jobs[i]
				send(j.method, j.host, j.path, j.body, j.canary, j.want)
			}
		})
	}
	wg.Wait()
	// A host no Ingress names is answered by the default server and is
	// not an Ingress's request.
	if code, _ := s.get("unknown.test", "/"); code != http.StatusNotFound {
		t.Fatalf("unknown host: %d, want 404", code)
	}
	if t.Failed() {
		t.FailNow()
	}

	families := scrape(t, "http://"+s.healthz+"/metrics")
	labelsOf := func(m *dto.Metric) map[string]string {
		out := map[string]string{}
		for _, l := range m.GetLabel() {
			out[l.GetName()] = l.GetValue()
		}
		return out
	}
	key := func(l map[string]string) series {
		return series{l["ingress"], l["host"], l["path"], l["service"], l["canary"], l["method"], l["status"]}
	}
	// Every series of the request metrics, by the labels above.
	for _, name := range []string{"nginx_ingress_controller_requests", "nginx_ingress_controller_request_duration_seconds",
		"nginx_ingress_controller_response_duration_seconds", "nginx_ingress_controller_request_size", "nginx_ingress_controller_response_size"} {
		f := families[name]
		if f == nil {
			t.Fatalf("%s missing from /metrics", name)
		}
		got := map[series]*dto.Metric{}
		for _, m := range f.GetMetric() {
			l := labelsOf(m)
			if l["namespace"] != "metrics" {
				continue
			}
			if l["controller_class"] != "strait.dev/ingress-controller" || l["controller_namespace"] != "strait-system" || l["controller_pod"] != "strait-7d9f" {
				t.Errorf("%s: constant labels %v", name, l)
			}
			got[key(l)] = m
		}
		if want := slices.SortedFunc(maps.Keys(sent), cmpSeries); !slices.Equal(slices.SortedFunc(maps.Keys(got), cmpSeries), want) {
			t.Errorf("%s series %v, want %v", name, slices.SortedFunc(maps.Keys(got), cmpSeries), want)
			continue
		}
		for k, tl := range sent {
			m := got[k]
			var count uint64
			switch {
			case m.GetCounter() != nil:
				count = uint64(m.GetCounter().GetValue())
			case m.GetHistogram() != nil:
				count = m.GetHistogram().GetSampleCount()
			}
			if count != uint64(tl.requests) {
				t.Errorf("%s%v = %d, want %d requests", name, k, count, tl.requests)
			}
			switch name {
			case "nginx_ingress_controller_response_size":
				if sum := m.GetHistogram().GetSampleSum(); sum != float64(tl.respBytes) {
					t.Errorf("response_size%v sum %v, want the %d body bytes the client read", k, sum, tl.respBytes)
				}
			case "nginx_ingress_controller_request_size":
				// Request line, headers and body: at least the body plus a
				// minimal head per request.
				if sum := m.GetHistogram().GetSampleSum(); sum < float64(tl.reqBytes+int64(tl.requests)*20) {
					t.Errorf("request_size%v sum %v, want at least the %d body bytes and heads", k, sum, tl.reqBytes)
				}
			}
		}
	}
	// The upstream latency summary, per Ingress, Service and canary.
	lat := map[string]uint64{}
	for _, m := range families["nginx_ingress_controller_ingress_upstream_latency_seconds"].GetMetric() {
		l := labelsOf(m)
		if l["namespace"] == "metrics" {
			lat[l["ingress"]+"/"+l["service"]+"/"+l["canary"]] = m.GetSummary().GetSampleCount()
			if len(m.GetSummary().GetQuantile()) != 3 {
				t.Errorf("upstream latency %v: quantiles %v, want 0.5, 0.9 and 0.99", l, m.GetSummary().GetQuantile())
			}
		}
	}
	wantLat := map[string]uint64{"shop/web/": 28, "api/web/": 11, "api/web/metrics-web-canary-80": 6}
	if !maps.Equal(lat, wantLat) {
		t.Errorf("upstream latency counts %v, want %v", lat, wantLat)
	}
	if v := s.metric(`nginx_ingress_controller_config_last_reload_successful{controller_class="strait.dev/ingress-controller",controller_namespace="strait-system",controller_pod="strait-7d9f"}`); v != 1 {
		t.Errorf("config_last_reload_successful = %v, want 1", v)
	}

	// A removed Ingress's series go: the label set stays bounded by what
	// is served.
	if err := o.c.NetworkingV1().Ingresses(o.ns).Delete(o.ctx(), "api-canary", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the canary series to go", func() bool {
		for _, m := range scrape(t, "http://"+s.healthz+"/metrics")["nginx_ingress_controller_requests"].GetMetric() {
			if labelsOf(m)["canary"] != "" {
				return false
			}
		}
		return true
	})
}

// cmpSeries orders series for comparison.
func cmpSeries[T any](a, b T) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) }

// scrape reads a /metrics page into metric families by name.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return fams
}
