package proxy_test

import (
	"encoding/hex"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
	"github.com/straitgw/strait/internal/proxy/upstream"
)

// threeEchoes starts echo backends a, b and c.
func threeEchoes(t *testing.T) []model.Endpoint {
	return []model.Endpoint{echoBackend(t, "a"), echoBackend(t, "b"), echoBackend(t, "c")}
}

func stickyModel(eps []model.Endpoint, a *model.Affinity) *model.Model {
	set := prefixRoute("/app", "web")
	set.Policy.AffinityCookiePath = "/app"
	other := prefixRoute("/other", "web")
	be := backend("web", eps...)
	be.Balance = &model.Balance{Algorithm: model.AlgorithmSticky, Affinity: a}
	return &model.Model{Hosts: []*model.VirtualHost{vhost("s.test", status(404), set, other)}, CatchAll: catchAll404(), Backends: []model.Backend{be}}
}

func getWithCookie(t *testing.T, c *http.Client, url, cookie string) result {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Host = "s.test"
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	return do(t, c, req)
}

// TestAffinityCookie: routes of an affinity Ingress set the cookie with
// its attributes when the client has none; the cookie pins the client to
// one endpoint on every route to the backend; other routes never set it;
// a foreign value is replaced; the upstream's own cookies stay.
func TestAffinityCookie(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		for _, mode := range []model.AffinityMode{model.AffinityBalanced, model.AffinityPersistent} {
			eps := threeEchoes(t)
			a := &model.Affinity{Mode: mode, Cookie: model.SessionCookie{Name: "route", SameSite: "Lax", MaxAge: 60}}
			h := startProxy(t, e, proxy.Timeouts{}, stickyModel(eps, a), false)
			c := newClient(t)
			r := getWithCookie(t, c, h.url("/app/x"), "")
			sc := r.header.Get("Set-Cookie")
			if !regexp.MustCompile(`^route=[0-9a-f]{16}; Path=/app; Max-Age=60; HttpOnly; SameSite=Lax$`).MatchString(sc) || r.status != 200 {
				t.Fatalf("%s: first response %d Set-Cookie %q", mode, r.status, sc)
			}
			cookie := strings.SplitN(sc, ";", 2)[0]
			first := r.header.Get(echo.BackendHeader)
			for i := range 9 {
				path := "/app/" + strconv.Itoa(i)
				if i%2 == 1 {
					path = "/other/" + strconv.Itoa(i)
				}
				r := getWithCookie(t, c, h.url(path), cookie+"; other=1")
				if got := r.header.Get(echo.BackendHeader); got != first || r.header.Get("Set-Cookie") != "" {
					t.Errorf("%s: %s with the cookie went to %q (Set-Cookie %q), want %q and no cookie", mode, path, got, r.header.Get("Set-Cookie"), first)
				}
			}
			if r := getWithCookie(t, c, h.url("/other"), ""); r.header.Get("Set-Cookie") != "" {
				t.Errorf("%s: a route without affinity set %q", mode, r.header.Get("Set-Cookie"))
			}
			if r := getWithCookie(t, c, h.url("/app"), "route=abc"); !strings.HasPrefix(r.header.Get("Set-Cookie"), "route=") {
				t.Errorf("%s: a foreign cookie value was not replaced: %q", mode, r.header.Get("Set-Cookie"))
			}
		}
	})
}

// TestAffinityAttributes: Secure follows TLS unless forced; Domain,
// Expires and SameSite=None; the upstream's Set-Cookie is kept next to
// the affinity cookie; a persistent client is re-pinned when its endpoint
// leaves.
func TestAffinityAttributes(t *testing.T) {
	t.Parallel()
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "app", Value: "1"})
	})
	_, ep1 := backendServer(t, up)
	eps := []model.Endpoint{ep1, echoBackend(t, "b")}
	yes := true
	a := &model.Affinity{Mode: model.AffinityPersistent, Cookie: model.SessionCookie{Name: "S", Path: "/", Domain: "s.test", SameSite: "None", Secure: &yes, Expires: 3600}}
	m := stickyModel(eps, a)
	h := startProxy(t, engineNetHTTP, proxy.Timeouts{}, m, false)
	c := newClient(t)
	for range 4 {
		r := getWithCookie(t, c, h.url("/app"), "")
		var ours string
		for _, v := range r.header.Values("Set-Cookie") {
			if strings.HasPrefix(v, "S=") {
				ours = v
			}
		}
		if !regexp.MustCompile(`^S=[0-9a-f]{16}; Path=/; Domain=s.test; Expires=[^;]+ GMT; HttpOnly; Secure; SameSite=None$`).MatchString(ours) {
			t.Fatalf("affinity cookie %q", ours)
		}
		if r.header.Get(echo.BackendHeader) == "" && !strings.Contains(strings.Join(r.header.Values("Set-Cookie"), "|"), "app=1") {
			t.Errorf("the upstream's Set-Cookie was lost: %q", r.header.Values("Set-Cookie"))
		}
	}
	// Pin to b, then take b away: the client is re-pinned to a new
	// endpoint with a new cookie.
	bKey := endpointKey(eps[1])
	if r := getWithCookie(t, c, h.url("/app"), "S="+bKey); r.header.Get(echo.BackendHeader) != "b" || r.header.Get("Set-Cookie") != "" {
		t.Fatalf("cookie for b went to %q, Set-Cookie %q", r.header.Get(echo.BackendHeader), r.header.Get("Set-Cookie"))
	}
	h.p.SetEndpoints("web", eps[:1])
	r := getWithCookie(t, c, h.url("/app"), "S="+bKey)
	if r.status != 200 || r.header.Get(echo.BackendHeader) == "b" || len(r.header.Values("Set-Cookie")) != 2 {
		t.Errorf("after b left: %d from %q, Set-Cookie %q", r.status, r.header.Get(echo.BackendHeader), r.header.Values("Set-Cookie"))
	}
}

// endpointKey is the persistent cookie value of an endpoint.
func endpointKey(ep model.Endpoint) string {
	h := upstream.Hash([]byte(net.JoinHostPort(ep.Host, strconv.Itoa(int(ep.Port)))))
	var b [8]byte
	for i := range b {
		b[i] = byte(h >> (8 * i))
	}
	return hex.EncodeToString(b[:])
}

// TestAffinityChangeOnFailure: a client pinned to a failing endpoint is
// retried on it (502) unless session-cookie-change-on-failure, which
// re-pins it and re-issues the cookie; new clients never get pinned to a
// failing endpoint.
func TestAffinityChangeOnFailure(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		for _, change := range []bool{false, true} {
			dead, live := closedPort(t), echoBackend(t, "live")
			a := &model.Affinity{Mode: model.AffinityPersistent, ChangeOnFailure: change, Cookie: model.SessionCookie{Name: "S"}}
			h := startProxy(t, e, proxy.Timeouts{}, stickyModel([]model.Endpoint{dead, live}, a), false)
			c := newClient(t)
			for range 3 {
				r := getWithCookie(t, c, h.url("/app"), "")
				if r.status != 200 || r.header.Get("Set-Cookie") != "S="+endpointKey(live)+"; Path=/app; HttpOnly" {
					t.Errorf("change %v: new client got %d, Set-Cookie %q", change, r.status, r.header.Get("Set-Cookie"))
				}
			}
			r := getWithCookie(t, c, h.url("/app"), "S="+endpointKey(dead))
			switch {
			case !change && (r.status != http.StatusBadGateway || r.header.Get("Set-Cookie") != ""):
				t.Errorf("pinned to a dead endpoint without change-on-failure: %d, Set-Cookie %q; want 502", r.status, r.header.Get("Set-Cookie"))
			case change && (r.status != 200 || r.header.Get("Set-Cookie") != "S="+endpointKey(live)+"; Path=/app; HttpOnly"):
				t.Errorf("pinned to a dead endpoint with change-on-failure: %d, Set-Cookie %q", r.status, r.header.Get("Set-Cookie"))
			}
		}
	})
}

// TestUpstreamHashBy: the same key goes to the same endpoint, different
// keys spread; the key is the evaluated expression, so $arg_user ignores
// the path.
func TestUpstreamHashBy(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		for _, tc := range []struct {
			parts []model.HashPart
			same  []string // paths that must share an endpoint
		}{
			{[]model.HashPart{{Var: model.HashRequestURI}}, []string{"/p?x=1", "/p?x=1", "/p?x=1"}},
			{[]model.HashPart{{Var: model.HashArg, Name: "user"}, {Literal: "-x"}}, []string{"/a?user=7", "/b?USER=7&z=1", "/c/d?q=2&user=7"}},
		} {
			eps := threeEchoes(t)
			be := backend("web", eps...)
			be.Balance = &model.Balance{Algorithm: model.AlgorithmHash, HashBy: &model.HashBy{Parts: tc.parts}}
			m := &model.Model{Hosts: []*model.VirtualHost{vhost("s.test", toBackend("web"))}, CatchAll: catchAll404(), Backends: []model.Backend{be}}
			h := startProxy(t, e, proxy.Timeouts{}, m, false)
			c := newClient(t)
			want := ""
			for _, p := range tc.same {
				got := getWithCookie(t, c, h.url(p), "").header.Get(echo.BackendHeader)
				if want == "" {
					want = got
				}
				if got != want || got == "" {
					t.Errorf("%v: %s went to %q, want %q", tc.parts, p, got, want)
				}
			}
			seen := map[string]bool{}
			for i := range 30 {
				seen[getWithCookie(t, c, h.url("/p?user="+strconv.Itoa(i)+"&x="+strconv.Itoa(i)), "").header.Get(echo.BackendHeader)] = true
			}
			if len(seen) < 2 {
				t.Errorf("%v: 30 keys all went to %v", tc.parts, seen)
			}
		}
	})
}

// TestEWMABackend: an ewma backend serves on every engine and spreads over
// its endpoints.
func TestEWMABackend(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		be := backend("web", threeEchoes(t)...)
		be.Balance = &model.Balance{Algorithm: model.AlgorithmEWMA}
		m := &model.Model{Hosts: []*model.VirtualHost{vhost("s.test", toBackend("web"))}, CatchAll: catchAll404(), Backends: []model.Backend{be}}
		h := startProxy(t, e, proxy.Timeouts{}, m, false)
		c := newClient(t)
		seen := map[string]bool{}
		for range 60 {
			r := getWithCookie(t, c, h.url("/"), "")
			if r.status != 200 {
				t.Fatalf("status %d", r.status)
			}
			seen[r.header.Get(echo.BackendHeader)] = true
		}
		if len(seen) < 2 {
			t.Errorf("ewma used only %v", seen)
		}
	})
}
