package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// haproxyPorts are what the HAProxy proxy listens on and forwards to.
type haproxyPorts struct {
	http, https     int // listeners
	backend, wsEcho int // upstreams
	pemFile         string
}

// haproxyHeaders are the ingress-nginx request headers (ingressNginxHeaders)
// in HAProxy's terms. HAProxy keeps Host as the client sent it, like
// ingress-nginx's $host for these requests. X-Original-Forwarded-For is left
// out: ingress-nginx sets it from the client's own X-Forwarded-For, which
// the load generators never send, so nginx omits it as well.
var haproxyHeaders = [][2]string{
	// uuid is a random version 4 UUID, as $request_id is 32 random hex digits.
	{"X-Request-ID", "%[uuid]"},
	{"X-Real-IP", "%[src]"},
	{"X-Forwarded-For", "%[src]"},
	{"X-Forwarded-Host", "%[req.hdr(host)]"},
	{"X-Forwarded-Port", "%[dst_port]"},
	{"X-Forwarded-Proto", "%[ssl_fc,iif(https,http)]"},
	{"X-Forwarded-Scheme", "%[ssl_fc,iif(https,http)]"},
	{"X-Scheme", "%[ssl_fc,iif(https,http)]"},
}

// haproxyConf is a complete HAProxy configuration equivalent to proxyConf:
// one thread (as nginx's one worker and Strait's GOMAXPROCS=1), HTTP mode,
// plain and TLS (HTTP/2 or HTTP/1.1 by ALPN) listeners, keep-alive on both
// sides with idle server connections shared between clients (http-reuse
// always, the closest HAProxy has to nginx's upstream keepalive pool), the
// ingress-nginx headers, WebSocket upgrades to the echo backend under
// wsPath, 404 for any other Host, and no logging. TLS follows ingress-nginx's
// defaults: TLS 1.2 and 1.3, no session tickets.
func haproxyConf(p haproxyPorts) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# Written by strait/bench; regenerated on every run.
global
    nbthread 1
    # Twice this in file descriptors must fit the process limit.
    maxconn 8000
    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets
    # HAProxy picks the suite by its own order, nginx and Go by the
    # client's; with AES-128 first all three settle on the same one.
    ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256

defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 75s
    timeout tunnel 1h

frontend bench
    bind 127.0.0.1:%d
    bind 127.0.0.1:%d ssl crt %s alpn h2,http/1.1
    http-request return status 404 unless { req.hdr(host) -i %s }
`, p.http, p.https, p.pemFile, benchHost)
	for _, h := range haproxyHeaders {
		fmt.Fprintf(&b, "    http-request set-header %s %s\n", h[0], h[1])
	}
	fmt.Fprintf(&b, `    use_backend websocket if { path_beg %s }
    default_backend backend

backend backend
    server backend 127.0.0.1:%d

backend websocket
    server websocket 127.0.0.1:%d
`, wsPath, p.backend, p.wsEcho)
	return b.String()
}

// startHAProxy writes its configuration and certificate under dir, checks
// the configuration with haproxy -c and starts HAProxy in the foreground
// (-db: no daemon, no master process) pinned to cpu. It never touches
// /etc/haproxy or the packaged service.
func startHAProxy(ctx context.Context, tools toolPaths, dir string, p haproxyPorts, cert benchCert, cpu int) (*process, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p.pemFile = filepath.Join(dir, "bench.pem")
	if err := os.WriteFile(p.pemFile, cert.combinedPEM(), 0o600); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(conf, []byte(haproxyConf(p)), 0o644); err != nil {
		return nil, err
	}
	if _, err := runOutput(ctx, "", tools.haproxy, "-c", "-q", "-f", conf); err != nil {
		return nil, fmt.Errorf("haproxy config rejected: %w", err)
	}
	return startProcess("haproxy", filepath.Join(dir, "haproxy.log"),
		[]string{tools.taskset, "-c", strconv.Itoa(cpu), tools.haproxy, "-db", "-f", conf})
}
