package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestProxyConfHasIngressNginxWork(t *testing.T) {
	conf := proxyConf(8080, 9090)
	for _, want := range []string{
		"server 127.0.0.1:9090;", "keepalive 64;", "listen 127.0.0.1:8080;", "server_name bench.local;",
		"proxy_pass http://backend;", "proxy_http_version 1.1;", `proxy_set_header Connection "";`,
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
}

func TestNginxMainIsSelfContained(t *testing.T) {
	conf := fmt.Sprintf(nginxMain, "/tmp/x", backendConf(7070))
	for _, want := range []string{
		"daemon off;", "master_process on;", "worker_processes 1;", "access_log off;",
		"error_log /tmp/x/error.log", "pid /tmp/x/nginx.pid;", `return 200 "ok\n";`, "listen 127.0.0.1:7070;",
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

func TestStraitManifests(t *testing.T) {
	m := straitManifests(7070)
	checks := map[string][]string{
		"service.yaml":       {"kind: Service", "namespace: bench", "name: backend", "- name: http", "port: 80", "targetPort: 7070"},
		"endpointslice.yaml": {"apiVersion: discovery.k8s.io/v1", "kubernetes.io/service-name: backend", "addressType: IPv4", "- 127.0.0.1", "ready: true", "port: 7070"},
		"ingress.yaml":       {"apiVersion: networking.k8s.io/v1", "host: bench.local", "path: /", "pathType: Prefix", "name: backend", "number: 80"},
		"configmap.yaml":     {"kind: ConfigMap", "namespace: bench", "name: strait-config", `disable-access-log: "true"`},
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

func TestStraitArgv(t *testing.T) {
	tools := toolPaths{taskset: "taskset"}
	got := strings.Join(straitArgv(tools, "/t/strait", "/t/m", straitPorts{http: 1, https: 2, healthz: 3}, 0), " ")
	want := "taskset -c 0 env GOMAXPROCS=1 /t/strait serve --manifests /t/m --configmap bench/strait-config --http-port 1 --https-port 2 --healthz-port 3 --watch-ingress-without-class"
	if got != want {
		t.Errorf("argv = %q, want %q", got, want)
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.duration != 10*time.Second || o.connections != 32 || o.rounds != 3 || o.out != "" ||
		strings.Join(o.proxies, ",") != "nginx,strait" {
		t.Errorf("defaults = %+v", o)
	}
	if got := o.reproduceCommand(); got != "go run ./bench -duration 10s -connections 32 -rounds 3" {
		t.Errorf("reproduceCommand = %q", got)
	}
	for _, bad := range [][]string{
		{"-duration", "1500ms"}, {"-duration", "0s"}, {"-connections", "0"}, {"-rounds", "0"},
		{"-proxies", "nginx,envoy"}, {"extra"},
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
