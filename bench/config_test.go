package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/straitgw/strait/internal/server"
	"github.com/straitgw/strait/internal/snapshot"
)

func TestProxyConfHasIngressNginxWork(t *testing.T) {
	conf := proxyConf(nginxProxyPorts{http: 8080, https: 8443, backend: 9090, wsEcho: 9191, certFile: "/c.pem", keyFile: "/k.pem"})
	for _, want := range []string{
		"server 127.0.0.1:9090;", "server 127.0.0.1:9191;", "keepalive 320;", "listen 127.0.0.1:8080;",
		"listen 127.0.0.1:8443 ssl http2;", "server_name bench.local;", "ssl_certificate /c.pem;", "ssl_certificate_key /k.pem;",
		"ssl_protocols TLSv1.2 TLSv1.3;", "ssl_session_tickets off;",
		"location / {", "location /ws {", "proxy_pass http://backend;", "proxy_pass http://websocket;",
		"proxy_http_version 1.1;", "proxy_set_header Upgrade $http_upgrade;", "proxy_set_header Connection $connection_upgrade;",
		"map $http_upgrade $connection_upgrade {",
		"proxy_set_header Host $host;", "proxy_set_header X-Request-ID $request_id;",
		"proxy_set_header X-Real-IP $remote_addr;", "proxy_set_header X-Forwarded-For $remote_addr;",
		"proxy_set_header X-Forwarded-Host $host;", "proxy_set_header X-Forwarded-Port $server_port;",
		"proxy_set_header X-Forwarded-Proto $scheme;", "proxy_set_header X-Forwarded-Scheme $scheme;",
		"proxy_set_header X-Scheme $scheme;", "proxy_set_header X-Original-Forwarded-For $http_x_forwarded_for;",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("proxy config lacks %q:\n%s", want, conf)
		}
	}
	// Both locations carry every header.
	if n := strings.Count(conf, "proxy_set_header X-Request-ID"); n != 2 {
		t.Errorf("X-Request-ID set in %d locations, want 2:\n%s", n, conf)
	}
	if strings.Count(conf, "{") != strings.Count(conf, "}") {
		t.Errorf("unbalanced braces:\n%s", conf)
	}
}

func TestNginxMainIsSelfContained(t *testing.T) {
	conf := fmt.Sprintf(nginxMain, "/tmp/x", backendConf(7070, "/tmp/x/www"))
	for _, want := range []string{
		"daemon off;", "master_process on;", "worker_processes 1;", "access_log off;",
		"error_log /tmp/x/error.log", "pid /tmp/x/nginx.pid;", `return 200 "ok\n";`, "listen 127.0.0.1:7070;",
		"location /body/ {", "root /tmp/x/www;",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("nginx config lacks %q:\n%s", want, conf)
		}
	}
	if strings.Contains(conf, "%!") {
		t.Errorf("nginx config has a formatting error:\n%s", conf)
	}
	if strings.Count(conf, "{") != strings.Count(conf, "}") {
		t.Errorf("unbalanced braces:\n%s", conf)
	}
}

func TestWriteBodies(t *testing.T) {
	root := t.TempDir()
	if err := writeBodies(root); err != nil {
		t.Fatal(err)
	}
	for name, size := range map[string]int64{"0b": 0, "1k": 1024, "4k": 4096} {
		fi, err := os.Stat(filepath.Join(root, "body", name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() != size {
			t.Errorf("body %s is %d bytes, want %d", name, fi.Size(), size)
		}
	}
}

func TestHAProxyConf(t *testing.T) {
	conf := haproxyConf(haproxyPorts{http: 8080, https: 8443, backend: 9090, wsEcho: 9191, pemFile: "/b.pem"})
	for _, want := range []string{
		"nbthread 1", "mode http", "option http-keep-alive", "http-reuse always",
		"bind 127.0.0.1:8080\n", "bind 127.0.0.1:8443 ssl crt /b.pem alpn h2,http/1.1",
		"http-request return status 404 unless { req.hdr(host) -i bench.local }",
		"http-request set-header X-Request-ID %[uuid]", "http-request set-header X-Real-IP %[src]",
		"http-request set-header X-Forwarded-For %[src]", "http-request set-header X-Forwarded-Host %[req.hdr(host)]",
		"http-request set-header X-Forwarded-Port %[dst_port]",
		"http-request set-header X-Forwarded-Proto %[ssl_fc,iif(https,http)]",
		"use_backend websocket if { path_beg /ws }", "default_backend backend",
		"server backend 127.0.0.1:9090", "server websocket 127.0.0.1:9191", "timeout tunnel",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("haproxy config lacks %q:\n%s", want, conf)
		}
	}
	// Logging is not what is compared: no log target anywhere.
	for _, line := range strings.Split(conf, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "log ") || strings.Contains(line, "option httplog") {
			t.Errorf("haproxy config logs: %q", line)
		}
	}
	if strings.Contains(conf, "%!") {
		t.Errorf("haproxy config has a formatting error:\n%s", conf)
	}
}

func TestStraitManifests(t *testing.T) {
	cert, err := newBenchCert(benchHost)
	if err != nil {
		t.Fatal(err)
	}
	m := straitManifests(straitPorts{backend: 7070, wsEcho: 7171}, cert)
	checks := map[string][]string{
		"service.yaml":                 {"kind: Service", "namespace: bench", "name: backend", "- name: http", "port: 80", "targetPort: 7070"},
		"endpointslice.yaml":           {"apiVersion: discovery.k8s.io/v1", "kubernetes.io/service-name: backend", "addressType: IPv4", "- 127.0.0.1", "ready: true", "port: 7070"},
		"service-websocket.yaml":       {"kind: Service", "name: websocket", "targetPort: 7171"},
		"endpointslice-websocket.yaml": {"kubernetes.io/service-name: websocket", "port: 7171"},
		"ingress.yaml": {"apiVersion: networking.k8s.io/v1", "host: bench.local", "path: /", "pathType: Prefix", "name: backend",
			"number: 80", "path: /ws", "name: websocket", "secretName: bench-tls", "- bench.local"},
		"configmap.yaml": {"kind: ConfigMap", "namespace: bench", "name: strait-config", `disable-access-log: "true"`, `ssl-redirect: "false"`},
		"secret.yaml":    {"kind: Secret", "name: bench-tls", "type: kubernetes.io/tls", "tls.crt: |", "tls.key: |", "    -----BEGIN CERTIFICATE-----", "    -----BEGIN PRIVATE KEY-----"},
	}
	if len(m) != len(checks) {
		t.Errorf("got %d manifests, want %d", len(m), len(checks))
	}
	for file, wants := range checks {
		for _, want := range wants {
			if !strings.Contains(m[file], want) {
				t.Errorf("%s lacks %q:\n%s", file, want, m[file])
			}
		}
		if strings.Contains(m[file], "\t") {
			t.Errorf("%s contains a tab, which YAML forbids in indentation", file)
		}
	}
}

func TestSecretManifestRoundTripsTheCertificate(t *testing.T) {
	cert, err := newBenchCert(benchHost)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		StringData map[string]string `json:"stringData"`
	}
	if err := yaml.Unmarshal([]byte(straitManifests(straitPorts{}, cert)["secret.yaml"]), &s); err != nil {
		t.Fatal(err)
	}
	if s.StringData["tls.crt"] != string(cert.certPEM) || s.StringData["tls.key"] != string(cert.keyPEM) {
		t.Errorf("Secret does not carry the certificate and key unchanged: %q", s.StringData)
	}
}

func TestStraitArgv(t *testing.T) {
	tools := toolPaths{taskset: "taskset"}
	got := strings.Join(straitArgv(tools, "/t/strait", "/t/m", straitPorts{http: 1, https: 2, healthz: 3}, 0), " ")
	want := "taskset -c 0 env GOMAXPROCS=1 /t/strait serve --manifests /t/m --configmap bench/strait-config --http-port 1 --https-port 2 --healthz-port 3 " +
		"--bind-address 127.0.0.1 --default-ssl-certificate bench/bench-tls --shutdown-delay 0s --watch-ingress-without-class"
	if got != want {
		t.Errorf("argv = %q, want %q", got, want)
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.duration != 5*time.Second || o.rounds != 3 || o.out != "" || o.rate != 0 ||
		strings.Join(o.proxies, ",") != "nginx,haproxy,strait" || len(o.scenarios) != len(allScenarios(o.duration)) {
		t.Errorf("defaults = %+v", o)
	}
	if got := o.reproduceCommand(); got != "go run ./bench -duration 5s -rounds 3" {
		t.Errorf("reproduceCommand = %q", got)
	}
	o, err = parseFlags([]string{"-scenarios", "h1-open-*", "-proxies", "strait,nginx", "-duration", "2s"})
	if err != nil {
		t.Fatal(err)
	}
	// The open-loop scenario brings its closed-loop reference along, first.
	if got := strings.Join(scenarioNames(o.scenarios), ","); got != "h1-c16-0b,h1-open-c16-0b" {
		t.Errorf("scenarios = %s", got)
	}
	if got := o.reproduceCommand(); got != "go run ./bench -duration 2s -rounds 3 -scenarios h1-open-* -proxies strait,nginx" {
		t.Errorf("reproduceCommand = %q", got)
	}
	o, err = parseFlags([]string{"-scenarios", "h1-open-c16-0b", "-rate", "1000"})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.scenarios) != 1 || o.scenarios[0].rate != 1000 {
		t.Errorf("with -rate: scenarios = %+v", o.scenarios)
	}
	for _, bad := range [][]string{
		{"-duration", "1500ms"}, {"-duration", "0s"}, {"-rounds", "0"}, {"-rate", "-1"},
		{"-proxies", "nginx,envoy"}, {"-scenarios", "h3-*"}, {"-scenarios", "h1-open-*", "-proxies", "strait"}, {"-scenarios", "["}, {"-scenarios", ","}, {"extra"},
	} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) succeeded", bad)
		}
	}
}

func TestModulePath(t *testing.T) {
	for in, want := range map[string]string{
		"module github.com/straitgw/strait\n\ngo 1.26\n": "github.com/straitgw/strait",
		"// c\nmodule \"example.com/x\"\n":               "example.com/x",
		"modules x\n":                                    "",
	} {
		if got := modulePath(in); got != want {
			t.Errorf("modulePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseCPUInfo(t *testing.T) {
	in := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n"
	model, n := parseCPUInfo(in)
	if model != "AMD EPYC 7B13" || n != 2 {
		t.Errorf("parseCPUInfo = %q, %d", model, n)
	}
	if model, n := parseCPUInfo(""); model != "unknown" || n != 0 {
		t.Errorf("parseCPUInfo(\"\") = %q, %d", model, n)
	}
}

// TestStraitLuaPlugin serves the manifests of a -strait-lua-plugin run with
// a real Strait and checks that the plugin runs: the backend sees its
// header. Without it the run would measure no plugin at all.
func TestStraitLuaPlugin(t *testing.T) {
	got := make(chan string, 1)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.Header.Get("X-Bench-Plugin"):
		default:
		}
	}))
	defer backend.Close()
	bport := backend.Listener.Addr().(*net.TCPAddr).Port
	cert, err := newBenchCert(benchHost)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := writeManifests(dir, straitPorts{backend: bport, wsEcho: bport, luaPlugin: true}, cert); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{
		Manifests: dir, BindAddress: "127.0.0.1",
		Kube:    server.KubeConfig{ConfigMap: "bench/strait-config"},
		Classes: snapshot.ClassOptions{WatchWithoutClass: true},
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, "http://"+srv.HTTPAddr()+"/body/0b", nil)
		req.Host = benchHost
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Strait did not serve the bench route within 10 s (last: %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if h := <-got; h != "1" {
		t.Errorf("the backend saw X-Bench-Plugin %q, want the plugin's 1", h)
	}
}
