package e2e

import (
	"math"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/kubetest"
)

// The tests in this file check canary Ingresses (catalogue 1.4) and
// proxy-next-upstream end to end, with real backends.

// canaryGet sends GET / with Host host, header hdr (name, value; none when
// empty) and cookie ck (name, value), and returns the status and the echo
// backend that answered.
func (s *strait) canaryGet(t *testing.T, host string, hdr, ck [2]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+s.http+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	if hdr[0] != "" {
		req.Header.Set(hdr[0], hdr[1])
	}
	if ck[0] != "" {
		req.AddCookie(&http.Cookie{Name: ck[0], Value: ck[1]})
	}
	resp, err := plainClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", host, err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode, resp.Header.Get(echo.BackendHeader)
}

// TestCanary: canary Ingresses with the primary's host and path take the
// requests their header, cookie and weight rules select, in ingress-nginx's
// order; a canary without a primary is reported.
func TestCanary(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.40.1", "prod")
	backend(t, "10.244.40.2", "canary")
	o := newObjects(t, c, "canary")
	o.service("prod")
	o.slice("prod", "10.244.40.1")
	o.service("next")
	o.slice("next", "10.244.40.2")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	canary := func(name, host string, kv ...string) {
		annIngress(o, name, host, "/", "next", annMap(append([]string{"canary", "true"}, kv...)...), "")
	}
	for _, h := range []string{"hdr", "value", "pattern", "w30", "w100"} {
		annIngress(o, h, h+".test", "/", "prod", nil, "")
	}
	canary("hdr-canary", "hdr.test", "canary-by-header", "X-Canary", "canary-by-cookie", "user_canary", "canary-weight", "0")
	canary("value-canary", "value.test", "canary-by-header", "X-Env", "canary-by-header-value", "staging")
	canary("pattern-canary", "pattern.test", "canary-by-header", "X-Env", "canary-by-header-pattern", "^stag")
	canary("w30-canary", "w30.test", "canary-weight", "30")
	canary("w100-canary", "w100.test", "canary-weight", "100")
	canary("orphan", "orphan.test", "canary-weight", "100")
	s := startStrait(t, c)

	none := [2]string{}
	for _, tc := range []struct {
		host     string
		hdr, ck  [2]string
		wantFrom string
	}{
		{"hdr.test", none, none, "prod"},
		{"hdr.test", [2]string{"X-Canary", "always"}, none, "canary"},
		{"hdr.test", [2]string{"x-canary", "always"}, none, "canary"},
		{"hdr.test", [2]string{"X-Canary", "never"}, [2]string{"user_canary", "always"}, "prod"},
		{"hdr.test", [2]string{"X-Canary", "maybe"}, [2]string{"user_canary", "always"}, "canary"},
		{"hdr.test", none, [2]string{"user_canary", "always"}, "canary"},
		{"hdr.test", none, [2]string{"user_canary", "never"}, "prod"},
		{"value.test", [2]string{"X-Env", "staging"}, none, "canary"},
		{"value.test", [2]string{"X-Env", "always"}, none, "prod"},
		{"value.test", [2]string{"X-Env", "Staging"}, none, "prod"},
		{"pattern.test", [2]string{"X-Env", "staging-2"}, none, "canary"},
		{"pattern.test", [2]string{"X-Env", "prod"}, none, "prod"},
		{"pattern.test", [2]string{"X-Env", "always"}, none, "prod"},
		{"w100.test", [2]string{"X-Canary", "never"}, none, "canary"}, // no header rule here
	} {
		if code, from := s.canaryGet(t, tc.host, tc.hdr, tc.ck); code != http.StatusOK || from != tc.wantFrom {
			t.Errorf("%s header %q cookie %q: %d from %q, want 200 from %q", tc.host, tc.hdr, tc.ck, code, from, tc.wantFrom)
		}
	}

	// Weights: 0 and 100 are absolute; 30 is a binomial draw, checked
	// within five standard deviations.
	count := func(host string, n int) (canary int) {
		for range n {
			code, from := s.canaryGet(t, host, none, none)
			if code != http.StatusOK || (from != "prod" && from != "canary") {
				t.Fatalf("%s: %d from %q", host, code, from)
			}
			if from == "canary" {
				canary++
			}
		}
		return canary
	}
	if n := count("hdr.test", 200); n != 0 {
		t.Errorf("weight 0: %d of 200 requests went to the canary", n)
	}
	if n := count("w100.test", 200); n != 200 {
		t.Errorf("weight 100: %d of 200 requests went to the canary", n)
	}
	const n, p = 1000, 0.3
	mean, sigma := n*p, math.Sqrt(n*p*(1-p))
	if got := count("w30.test", n); math.Abs(float64(got)-mean) > 5*sigma {
		t.Errorf("weight 30: %d of %d requests went to the canary, want %.0f ± %.0f", got, n, mean, 5*sigma)
	}
	annWaitWarning(t, c, "canary", "orphan", "CanaryWithoutPrimary", "orphan.test")
	if code, _ := s.canaryGet(t, "orphan.test", none, none); code != http.StatusNotFound {
		t.Errorf("orphan.test: %d, want 404 (the canary has no primary)", code)
	}
}

// TestNextUpstream: with an endpoint refusing connections, requests still
// succeed (the default "error timeout"); with an endpoint answering 502,
// they succeed when http_502 is listed, and some fail by default; with
// "off", the refused endpoint's requests fail with 502.
func TestNextUpstream(t *testing.T) {
	c := kubetest.Start(t)
	backend(t, "10.244.41.1", "good")
	ln, err := net.Listen("tcp", "10.244.41.2:8080")
	if err != nil {
		t.Fatal(err)
	}
	bad := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(echo.BackendHeader, "bad")
		http.Error(w, "bad gateway", http.StatusBadGateway)
	})}
	go func() { _ = bad.Serve(ln) }()
	t.Cleanup(func() { _ = bad.Close() })

	o := newObjects(t, c, "retry")
	o.service("refusing")
	o.slice("refusing", "10.244.41.1", "10.244.41.9") // nothing listens on .9
	o.service("mixed")
	o.slice("mixed", "10.244.41.1", "10.244.41.2")
	ingressClass(t, c, "strait", "strait.dev/ingress-controller", false)
	annIngress(o, "refused", "refused.test", "/", "refusing", nil, "")
	annIngress(o, "off", "off.test", "/", "refusing", annMap("proxy-next-upstream", "off"), "")
	annIngress(o, "default502", "default502.test", "/", "mixed", nil, "")
	annIngress(o, "retry502", "retry502.test", "/", "mixed", annMap("proxy-next-upstream", "error timeout http_502", "proxy-next-upstream-tries", "2"), "")
	// The test is about proxy-next-upstream alone: passive health
	// checking would eject the failing endpoints after five failures
	// (see TestOutlierEjection).
	s := startStrait(t, c, "--outlier-consecutive-failures=0")

	none := [2]string{}
	for _, tc := range []struct {
		host  string
		allOK bool
	}{
		{"refused.test", true},
		{"retry502.test", true},
		{"off.test", false},
		{"default502.test", false},
	} {
		ok, failed := 0, 0
		for range 10 {
			switch code, from := s.canaryGet(t, tc.host, none, none); {
			case code == http.StatusOK && from == "good":
				ok++
			case code == http.StatusBadGateway:
				failed++
			default:
				t.Errorf("%s: %d from %q", tc.host, code, from)
			}
		}
		if tc.allOK && ok != 10 {
			t.Errorf("%s: %d of 10 requests answered by the good endpoint, %d failed with 502; want all answered", tc.host, ok, failed)
		}
		if !tc.allOK && (ok == 0 || failed == 0) {
			t.Errorf("%s: %d answered, %d failed with 502; want both (no retry)", tc.host, ok, failed)
		}
	}
}
