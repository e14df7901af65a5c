package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestBenchCert(t *testing.T) {
	c, err := newBenchCert(benchHost)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(c.certPEM, c.keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("certificate key is %T, want ECDSA P-256", leaf.PublicKey)
	}
	if err := leaf.VerifyHostname(benchHost); err != nil {
		t.Error(err)
	}
	if !bytes.HasPrefix(c.combinedPEM(), c.certPEM) || !bytes.HasSuffix(c.combinedPEM(), c.keyPEM) {
		t.Error("combined PEM is not the certificate followed by the key")
	}
}

func TestLoadgenFlagsRoundTrip(t *testing.T) {
	in := loadgenConfig{addr: "127.0.0.1:1", host: "h", path: "/p", connections: 3, duration: 1500 * time.Millisecond, rate: 12.5, size: 7}
	got, err := parseLoadgenFlags(cmdOpenLoop, in.args())
	if err != nil || got != in {
		t.Errorf("round trip = %+v, %v; want %+v", got, err, in)
	}
	for _, bad := range [][]string{{}, {"-addr", "x", "-connections", "0"}, {"-addr", "x", "-duration", "0s"}, {"-addr", "x", "-rate", "0"}} {
		if _, err := parseLoadgenFlags(cmdOpenLoop, bad); err == nil {
			t.Errorf("parseLoadgenFlags(%q) succeeded", bad)
		}
	}
}

// countingServer answers 200 with a short body and counts requests, failing
// those without the expected Host.
func countingServer(n *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.Host != benchHost {
			http.Error(w, "wrong host "+r.Host, http.StatusNotFound)
			return
		}
		w.Write([]byte("ok\n"))
	})
}

func TestRunOpenLoopKeepsItsRate(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(countingServer(&n))
	defer srv.Close()
	cfg := loadgenConfig{addr: strings.TrimPrefix(srv.URL, "http://"), host: benchHost, path: "/", connections: 4,
		duration: 500 * time.Millisecond, rate: 400}
	res, err := runOpenLoop(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("open loop: %+v", res)
	// 400/s for 0.5s is 200 sends, whatever the answers' speed.
	if res.Requests != 200 || n.Load() != 200 || res.Errors() != 0 {
		t.Errorf("sent %d requests (server saw %d, errors %d), want exactly 200", res.Requests, n.Load(), res.Errors())
	}
	if res.P50 <= 0 || res.P50 > res.P99 || res.P99 > res.P999 {
		t.Errorf("percentiles out of order: %+v", res)
	}
}

// TestRunOpenLoopChargesStalls: a server that stalls once holds up the
// requests due behind the stalled one, and those must show the wait. A
// closed-loop tool would record one slow request; here every request due
// on that connection during the stall is late.
func TestRunOpenLoopChargesStalls(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 10 {
			time.Sleep(300 * time.Millisecond)
		}
	}))
	defer srv.Close()
	cfg := loadgenConfig{addr: strings.TrimPrefix(srv.URL, "http://"), host: benchHost, path: "/", connections: 1,
		duration: time.Second, rate: 100}
	res, err := runOpenLoop(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("open loop with a 300ms stall: %+v", res)
	// 30 of 100 requests fall due during the stall: p99 sees it, p50 does not.
	if res.Requests != 100 || res.P99 < 200*time.Millisecond || res.P50 > 200*time.Millisecond {
		t.Errorf("stall not charged to the requests behind it: %+v", res)
	}
}

func TestRunOpenLoopCountsErrors(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(countingServer(&n))
	defer srv.Close()
	cfg := loadgenConfig{addr: strings.TrimPrefix(srv.URL, "http://"), host: "other.local", path: "/", connections: 2,
		duration: 200 * time.Millisecond, rate: 100}
	res, err := runOpenLoop(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 20 || res.Non2xx != 20 {
		t.Errorf("404s not counted: %+v", res)
	}
	srv.Close()
	res, err = runOpenLoop(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 0 || res.SocketErrors != 20 {
		t.Errorf("refused connections not counted: %+v", res)
	}
}

func TestRunTLSConnectMakesNewConnections(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewUnstartedServer(countingServer(&n))
	var conns atomic.Int64
	var otherVersion, resumed atomic.Bool
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.TLS = &tls.Config{VerifyConnection: func(cs tls.ConnectionState) error {
		if cs.Version != tls.VersionTLS13 {
			otherVersion.Store(true)
		}
		if cs.DidResume {
			resumed.Store(true)
		}
		return nil
	}}
	srv.StartTLS()
	defer srv.Close()
	cfg := loadgenConfig{addr: strings.TrimPrefix(srv.URL, "https://"), host: benchHost, path: "/", connections: 2,
		duration: 300 * time.Millisecond}
	res, err := runTLSConnect(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("TLS connections: %+v", res)
	if res.Requests == 0 || res.Errors() != 0 {
		t.Fatalf("result = %+v", res)
	}
	// One connection per request, every one a full TLS 1.3 handshake.
	if conns.Load() != int64(res.Requests) || n.Load() != int64(res.Requests) {
		t.Errorf("%d requests over %d connections (server counted %d)", res.Requests, conns.Load(), n.Load())
	}
	if resumed.Load() || otherVersion.Load() {
		t.Errorf("handshakes were not all full TLS 1.3: resumed %v, other version %v", resumed.Load(), otherVersion.Load())
	}
}

func TestRunWebSocketLoadEchoes(t *testing.T) {
	srv := httptest.NewServer(wsEchoHandler())
	defer srv.Close()
	cfg := loadgenConfig{addr: strings.TrimPrefix(srv.URL, "http://"), host: benchHost, path: wsPath, connections: 3,
		duration: 300 * time.Millisecond, size: 64}
	res, err := runWebSocketLoad(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("WebSocket: %+v", res)
	if res.Requests == 0 || res.Errors() != 0 || res.P50 <= 0 {
		t.Errorf("result = %+v", res)
	}
	// A plain GET on the echo path answers 200, which readiness relies on.
	resp, err := http.Get(srv.URL + wsPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("plain GET %s = %s", wsPath, resp.Status)
	}
	// A server that is not a WebSocket endpoint yields errors, not echoes.
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	cfg.addr = strings.TrimPrefix(plain.URL, "http://")
	res, err = runWebSocketLoad(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 0 || res.Non2xx == 0 {
		t.Errorf("refused upgrades: %+v", res)
	}
}

func TestRunSubcommandPrintsJSON(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(countingServer(&n))
	defer srv.Close()
	var out bytes.Buffer
	ok, err := runSubcommand([]string{cmdOpenLoop, "-addr", strings.TrimPrefix(srv.URL, "http://"), "-connections", "1",
		"-duration", "100ms", "-rate", "50"}, &out)
	if !ok || err != nil {
		t.Fatalf("runSubcommand = %v, %v", ok, err)
	}
	var res loadResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v: %q", err, out.String())
	}
	if res.Requests != 5 || res.Elapsed <= 0 {
		t.Errorf("decoded %+v", res)
	}
	if ok, _ := runSubcommand([]string{"-duration", "1s"}, &out); ok {
		t.Error("a harness flag was taken for a subcommand")
	}
}

func TestCheckTLS(t *testing.T) {
	want, err := newBenchCert(benchHost)
	if err != nil {
		t.Fatal(err)
	}
	other, err := newBenchCert(benchHost)
	if err != nil {
		t.Fatal(err)
	}
	serve := func(c benchCert, protos []string) *httptest.Server {
		pair, err := tls.X509KeyPair(c.certPEM, c.keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewUnstartedServer(http.NotFoundHandler())
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, NextProtos: protos}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv
	}
	addr := func(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "https://") }
	ctx := context.Background()
	if err := checkTLS(ctx, addr(serve(want, []string{"h2", "http/1.1"})), want, time.Second); err != nil {
		t.Errorf("right certificate and h2: %v", err)
	}
	if err := checkTLS(ctx, addr(serve(other, []string{"h2", "http/1.1"})), want, 200*time.Millisecond); err == nil {
		t.Error("another certificate passed")
	}
	if err := checkTLS(ctx, addr(serve(want, []string{"http/1.1"})), want, 200*time.Millisecond); err == nil {
		t.Error("a server without h2 passed")
	}
}
