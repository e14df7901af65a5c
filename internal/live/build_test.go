package live

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/model"
)

func certPEM(t *testing.T, host string, notAfter time.Time) (chain, key []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: notAfter.Add(-24 * time.Hour), NotAfter: notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(k)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// Certificates show their expiry against the view's clock, the hosts
// bound to them by SNI (wildcards included) and by Gateway listeners; an
// unreadable chain shows its error; no key material appears.
func TestCertificates(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	okChain, okKey := certPEM(t, "*.apps.test", now.Add(100*24*time.Hour))
	soonChain, soonKey := certPEM(t, "soon.test", now.Add(13*24*time.Hour+time.Hour))
	oldChain, oldKey := certPEM(t, "old.test", now.Add(-time.Hour))
	m := &model.Model{
		Hosts: []*model.VirtualHost{{Name: "a.apps.test"}, {Name: "plain.test"}, {Name: "soon.test"}},
		Certificates: []model.Certificate{
			model.NewCertificate("ns/apps", okChain, okKey),
			model.NewCertificate("ns/bad", []byte("not PEM"), okKey),
			model.NewCertificate("ns/old", oldChain, oldKey),
			model.NewCertificate("ns/soon", soonChain, soonKey),
		},
		DefaultCertificate: "ns/old",
		SNI:                []model.SNIBinding{{Host: "*.apps.test", Certificate: "ns/apps"}, {Host: "soon.test", Certificate: "ns/soon"}},
		Gateways: []model.Gateway{{Name: "gw/main", Listeners: []model.Listener{
			{Name: "https", Port: 443, TLS: true, Certificates: []string{"ns/apps"}},
		}}},
	}
	h := New(Options{State: func() State { return State{Model: m} }, Now: func() time.Time { return now }})
	v := h.View()
	byName := map[string]Certificate{}
	for _, c := range v.Certificates {
		byName[c.Name] = c
	}
	if c := byName["ns/apps"]; c.DaysLeft != 100 || c.ExpiringSoon || c.Expired || c.Subject != "*.apps.test" ||
		!slices.Equal(c.Hosts, []string{"*.apps.test", "Gateway gw/main listener https (port 443)"}) {
		t.Errorf("ns/apps = %+v", c)
	}
	if c := byName["ns/soon"]; c.DaysLeft != 13 || !c.ExpiringSoon || c.Expired {
		t.Errorf("ns/soon = %+v, want 13 days left, expiring soon", c)
	}
	if c := byName["ns/old"]; c.DaysLeft != -1 || c.ExpiringSoon || !c.Expired || !c.Default {
		t.Errorf("ns/old = %+v, want expired, -1 days left, the default", c)
	}
	if c := byName["ns/bad"]; c.Error == "" || !c.NotAfter.IsZero() {
		t.Errorf("ns/bad = %+v, want an error", c)
	}
	certOf := map[string]string{}
	for _, h := range v.Hosts {
		certOf[h.Name] = h.Certificate
	}
	if certOf["a.apps.test"] != "ns/apps" || certOf["plain.test"] != "" || certOf["soon.test"] != "ns/soon" {
		t.Errorf("host certificates %v", certOf)
	}
	b, _ := json.Marshal(v)
	if strings.Contains(string(b), "PRIVATE") || strings.Contains(string(b), "BEGIN") {
		t.Errorf("key material in the document: %s", b)
	}
	// A second view reuses the parsed certificates, and forgets those
	// no longer served.
	m.Certificates = m.Certificates[:1]
	h.View()
	if len(h.certs.byFPR) != 1 {
		t.Errorf("%d certificates cached, want 1", len(h.certs.byFPR))
	}
}

// Policies show in short form, without secrets: basic authentication
// without users or hashes, URLs without user information.
func TestPolicies(t *testing.T) {
	p := model.Policy{
		MaxBodyBytes:      8 << 20,
		HTTPSRedirectCode: 308,
		Limit:             &model.RateLimit{RPS: 10, Connections: 3},
		AllowSourceRange:  []string{"10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12", "127.0.0.1/32"},
		BasicAuth:         model.NewBasicAuth("Staff only", "ns/users", []model.Credential{{User: "alice", Hash: "$apr1$secret$hash"}}),
		ExternalAuth:      &model.ExternalAuth{URL: []model.TemplatePart{{Text: "https://user:hunter2@auth.test/check?rd="}, {Var: "request_uri"}}},
		Rewrite:           &model.Rewrite{Target: "/$1"},
		ResponseHeaders:   []model.Header{{Name: "X-Token", Value: "s3cr3t"}},
		ConnectTimeout:    5, ReadTimeout: 120, SendTimeout: 60,
		NextUpstream: &model.NextUpstream{On: []string{"error", "timeout"}, Tries: 3},
		Mirror:       &model.Mirror{Target: "https://bob:pw@mirror.test/$request_uri"},
	}
	got := routePolicies(&p)
	want := []string{
		"body ≤ 8m",
		"https redirect 308",
		"rate limit 10 rps, 3 connections per client",
		"allow only 10.0.0.0/8, 192.168.0.0/16, 172.16.0.0/12 and 1 more",
		`basic auth "Staff only" (Secret ns/users)`,
		"external auth https://auth.test",
		"rewrite /$1",
		"response headers X-Token",
		"timeouts connect 5s, read 120s, send 60s",
		"retry on error timeout (3 tries)",
		"mirror to https://redacted@mirror.test/$request_uri",
	}
	if !slices.Equal(got, want) {
		t.Errorf("policies\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, s := range []string{"alice", "apr1", "hunter2", "s3cr3t", "pw@"} {
		if strings.Contains(strings.Join(got, " "), s) {
			t.Errorf("policies show %q", s)
		}
	}
	if got := routePolicies(&model.Policy{MaxBodyBytes: defaultBodyBytes, ConnectTimeout: 5, ReadTimeout: 60, SendTimeout: 60}); len(got) != 0 {
		t.Errorf("default policy shows %q, want nothing", got)
	}
}

// Gateway API rules show their route object, match, conditions, weighted
// backends and filters; hosts in regex mode show their routes as Regex.
func TestGatewaysAndRegex(t *testing.T) {
	m := &model.Model{
		Hosts: []*model.VirtualHost{{Name: "re.test", Regex: true, Routes: []model.Route{{
			Name: "r", Source: model.ObjectRef{Kind: "Ingress", Namespace: "ns", Name: "re"}, PathType: model.PathPrefix, Path: "/v[0-9]+",
			Action: model.Action{Backend: "ns/web:80"},
		}}}},
		Gateways: []model.Gateway{{Name: "gw/main", Listeners: []model.Listener{{
			Name: "http", Port: 8080, Hostname: "*.example.test",
			Rules: []model.GatewayRule{{
				Route:     "HTTPRoute app/store rule 0 match 1",
				Hostnames: []string{"store.example.test"},
				Path:      model.PathMatch{Type: "Exact", Value: "/cart"},
				Method:    "POST",
				Headers:   []model.ValueMatch{{Name: "X-Env", Value: "canary"}},
				Backends: []model.WeightedAction{
					{Action: model.Action{Backend: "app/store:80"}, Weight: 90},
					{Action: model.Action{Status: 500}, Weight: 10},
				},
				RequestHeaders: &model.HeaderChanges{Set: []model.KV{{Name: "X-Secret", Value: "v"}}},
			}, {
				Route: "GRPCRoute app/rpc rule named match 0",
			}},
		}}}},
	}
	v := New(Options{State: func() State { return State{Model: m} }}).View()
	if r := v.Hosts[0].Routes[0]; r.Match != "Regex" || r.Path != "/v[0-9]+" {
		t.Errorf("regex host route = %+v", r)
	}
	l := v.Gateways[0].Listeners[0]
	if l.Protocol != "HTTP" || l.Hostname != "*.example.test" || len(l.Rules) != 2 {
		t.Fatalf("listener = %+v", l)
	}
	r := l.Rules[0]
	if r.Source != (Object{Kind: "HTTPRoute", Namespace: "app", Name: "store"}) || r.Match != "Exact" || r.Path != "/cart" ||
		!slices.Equal(r.Conditions, []string{"method POST", "header X-Env = canary"}) ||
		!slices.Equal(r.Backends, []RouteBackend{{Backend: "app/store:80", Weight: 90}, {Status: 500, Weight: 10}}) ||
		!slices.Equal(r.Policies, []string{"request headers set X-Secret"}) {
		t.Errorf("rule = %+v", r)
	}
	if r := l.Rules[1]; r.Source != (Object{Kind: "GRPCRoute", Namespace: "app", Name: "rpc"}) || r.Match != "PathPrefix" || r.Path != "/" {
		t.Errorf("rule without a path = %+v", r)
	}
}

// Before the first generation the document is empty but complete: every
// list present.
func TestEmptyView(t *testing.T) {
	v := New(Options{State: func() State { return State{} }}).View()
	b, _ := json.Marshal(v)
	if strings.Contains(string(b), "null") {
		t.Errorf("empty view has a null list: %s", b)
	}
}
