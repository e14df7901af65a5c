package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// nginxMain is the part of every nginx config the harness writes: one
// foreground master with one worker (so the proxy gets exactly one core, as
// Strait does with GOMAXPROCS=1), no access log (logging is not what is
// compared) and every path inside the instance's own prefix, so instances
// never touch /etc/nginx, /var/log/nginx or each other. %[1]s is the prefix,
// %[2]s the http-block body.
const nginxMain = `# Written by strait/bench; regenerated on every run.
daemon off;
master_process on;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;

events {
    # Room for thousands of wrk connections plus upstream keepalives.
    worker_connections 16384;
}

http {
    access_log off;
    default_type text/plain;
    client_body_temp_path %[1]s/tmp/client_body;
    proxy_temp_path %[1]s/tmp/proxy;
    fastcgi_temp_path %[1]s/tmp/fastcgi;
    uwsgi_temp_path %[1]s/tmp/uwsgi;
    scgi_temp_path %[1]s/tmp/scgi;
%[2]s}
`

// backendConf is the backend's http block: fixed answers, so nearly all
// the work measured is the proxy's. / answers "ok" for readiness probes;
// /body/<name> serves the files under root (see writeBodies), one per
// response size of the matrix. Its keepalive_requests is raised so the
// backend never closes upstream connections mid-run; no proxy is then
// charged for reconnects that the backend, not the proxy, causes.
func backendConf(port int, root string) string {
	return fmt.Sprintf(`    keepalive_requests 1000000;

    server {
        listen 127.0.0.1:%d;
        location / {
            return 200 "ok\n";
        }
        location /body/ {
            root %s;
        }
    }
`, port, root)
}

// writeBodies writes the backend's fixed answers under root/body.
func writeBodies(root string) error {
	dir := filepath.Join(root, "body")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, b := range responseBodies {
		if err := os.WriteFile(filepath.Join(dir, b.name), []byte(strings.Repeat("b", b.size)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ingressNginxHeaders are the request headers ingress-nginx's template sets
// on every proxied request. Setting them here makes nginx do the same
// per-request work (request ID generation, header rewriting) that Strait does.
var ingressNginxHeaders = [][2]string{
	{"Host", "$host"},
	{"X-Request-ID", "$request_id"},
	{"X-Real-IP", "$remote_addr"},
	{"X-Forwarded-For", "$remote_addr"},
	{"X-Forwarded-Host", "$host"},
	{"X-Forwarded-Port", "$server_port"},
	{"X-Forwarded-Proto", "$scheme"},
	{"X-Forwarded-Scheme", "$scheme"},
	{"X-Scheme", "$scheme"},
	{"X-Original-Forwarded-For", "$http_x_forwarded_for"},
}

// nginxProxyPorts are what the nginx proxy listens on and forwards to.
type nginxProxyPorts struct {
	http, https       int // listeners
	backend, wsEcho   int // upstreams
	certFile, keyFile string
}

// proxyConf is the nginx proxy's http block, shaped like what ingress-nginx
// generates for one Ingress with a TLS section: plain and TLS (HTTP/2 by
// ALPN) listeners in one server, keepalive upstream pools of 320 connections
// (ingress-nginx's upstream-keepalive-connections default, which Strait
// shares), HTTP/1.1 upstream, the ingress-nginx request headers, and the
// Upgrade/Connection pair of its template, which passes WebSocket upgrades
// and, for every other request, clears Connection so keepalive works. The
// TLS settings are ingress-nginx's defaults: TLS 1.2 and 1.3, a shared
// session cache, no session tickets. Client keepalive_requests stays at
// nginx's default of 1000, which is also ingress-nginx's; the upstream
// pool's keepalive_requests is ingress-nginx's default of 10000.
func proxyConf(p nginxProxyPorts) string {
	var b strings.Builder
	fmt.Fprintf(&b, `    map $http_upgrade $connection_upgrade {
        default upgrade;
        '' '';
    }

    upstream backend {
        server 127.0.0.1:%d;
        keepalive 320;
        keepalive_requests 10000;
    }

    upstream websocket {
        server 127.0.0.1:%d;
        keepalive 320;
        keepalive_requests 10000;
    }

    server {
        listen 127.0.0.1:%d;
        listen 127.0.0.1:%d ssl http2;
        server_name %s;

        ssl_certificate %s;
        ssl_certificate_key %s;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:SSL:10m;
        ssl_session_tickets off;
`, p.backend, p.wsEcho, p.http, p.https, benchHost, p.certFile, p.keyFile)
	for _, loc := range [][2]string{{"/", "backend"}, {wsPath, "websocket"}} {
		fmt.Fprintf(&b, `
        location %s {
            proxy_pass http://%s;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
`, loc[0], loc[1])
		for _, h := range ingressNginxHeaders {
			fmt.Fprintf(&b, "            proxy_set_header %s %s;\n", h[0], h[1])
		}
		b.WriteString("        }\n")
	}
	b.WriteString("    }\n")
	return b.String()
}

// startNginx writes a complete config under prefix, checks it with nginx -t
// (whose message is far clearer than a dead master's) and starts nginx in the
// foreground pinned to cpu.
func startNginx(ctx context.Context, tools toolPaths, name, prefix, httpBlock string, cpu int) (*process, error) {
	if err := os.MkdirAll(filepath.Join(prefix, "tmp"), 0o755); err != nil {
		return nil, err
	}
	conf := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(nginxMain, prefix, httpBlock)), 0o644); err != nil {
		return nil, err
	}
	// -e sends the messages nginx logs before reading the config away from
	// /var/log/nginx/error.log as well.
	args := []string{tools.nginx, "-p", prefix + "/", "-c", conf, "-e", filepath.Join(prefix, "error.log")}
	if _, err := runOutput(ctx, "", append(args, "-t", "-q")...); err != nil {
		return nil, fmt.Errorf("nginx %s config rejected: %w", name, err)
	}
	argv := append([]string{tools.taskset, "-c", strconv.Itoa(cpu)}, args...)
	return startProcess("nginx "+name, filepath.Join(prefix, "stdout.log"), argv, filepath.Join(prefix, "error.log"))
}
