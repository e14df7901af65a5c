package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// straitPorts are the ports Strait listens on and the backends' ports,
// which its manifests point at, and whether its routes run a Lua plugin.
type straitPorts struct {
	http, https, healthz int
	backend, wsEcho      int
	// luaPlugin puts benchLuaPlugin on the bench Ingress's routes.
	luaPlugin bool
}

// benchLuaPlugin is the smallest useful plugin: it sets one request header
// in the rewrite phase, so a run with it measures what running any plugin
// costs.
const benchLuaPlugin = `local _M = {}
function _M.rewrite()
  ngx.req.set_header("X-Bench-Plugin", "1")
end
return _M
`

// serviceManifests are a Service named name mapping port 80 to the
// backend's real port, as kube-proxy would, and the EndpointSlice Strait
// actually dials, which must carry that port too.
func serviceManifests(name string, port int) (service, slice string) {
	service = fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %[1]s
  namespace: bench
spec:
  ports:
  - name: http
    port: 80
    protocol: TCP
    targetPort: %[2]d
`, name, port)
	slice = fmt.Sprintf(`apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %[1]s-bench
  namespace: bench
  labels:
    kubernetes.io/service-name: %[1]s
addressType: IPv4
ports:
- name: http
  port: %[2]d
  protocol: TCP
endpoints:
- addresses:
  - 127.0.0.1
  conditions:
    ready: true
`, name, port)
	return service, slice
}

// indentPEM indents PEM text for a YAML block scalar at the given depth.
func indentPEM(pem []byte, spaces int) string {
	pad := strings.Repeat(" ", spaces)
	lines := strings.Split(strings.TrimRight(string(pem), "\n"), "\n")
	return pad + strings.Join(lines, "\n"+pad) + "\n"
}

// straitManifests returns, by file name, the Kubernetes objects that make
// Strait route exactly what the nginx and HAProxy proxies route: Host
// bench.local, wsPath to the WebSocket echo backend, every other path to the
// nginx backend, and TLS for bench.local with the run's certificate. The
// ConfigMap turns off the access log (as the others log nothing) and
// ssl-redirect, which would otherwise answer plain-HTTP requests for a host
// with a TLS section with a redirect, as ingress-nginx does by default; the
// nginx and HAProxy configurations have no such redirect either. The
// objects are separate files so that a manifest loader that reads one
// object per file works as well as one that splits multi-document YAML.
func straitManifests(p straitPorts, cert benchCert) map[string]string {
	m := map[string]string{
		"configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: strait-config
  namespace: bench
data:
  disable-access-log: "true"
  ssl-redirect: "false"
`,
		"secret.yaml": `apiVersion: v1
kind: Secret
metadata:
  name: bench-tls
  namespace: bench
type: kubernetes.io/tls
stringData:
  tls.crt: |
` + indentPEM(cert.certPEM, 4) + `  tls.key: |
` + indentPEM(cert.keyPEM, 4),
		"ingress.yaml": fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: bench
  namespace: bench
spec:
  tls:
  - hosts:
    - %[1]s
    secretName: bench-tls
  rules:
  - host: %[1]s
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: backend
            port:
              number: 80
      - path: %[2]s
        pathType: Prefix
        backend:
          service:
            name: websocket
            port:
              number: 80
`, benchHost, wsPath),
	}
	if p.luaPlugin {
		m["ingress.yaml"] = strings.Replace(m["ingress.yaml"], "  namespace: bench\n", "  namespace: bench\n  annotations:\n    strait.dev/plugins: bench\n", 1)
		m["plugin.yaml"] = `apiVersion: v1
kind: ConfigMap
metadata:
  name: strait-plugin-bench
  namespace: bench
  labels:
    strait.dev/plugin: bench
data:
  main.lua: |
` + indentPEM([]byte(benchLuaPlugin), 4)
	}
	m["service.yaml"], m["endpointslice.yaml"] = serviceManifests("backend", p.backend)
	m["service-websocket.yaml"], m["endpointslice-websocket.yaml"] = serviceManifests("websocket", p.wsEcho)
	return m
}

// writeManifests writes straitManifests into dir.
func writeManifests(dir string, p straitPorts, cert benchCert) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, body := range straitManifests(p, cert) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// straitArgv is Strait's command line. GOMAXPROCS=1 plus the one-core pin
// matches nginx's single worker, so CPU per request compares one core's
// worth of work with one core's; without it the Go runtime would still size
// itself to the core the affinity mask allows, but saying it keeps the
// comparison explicit and independent of how the runtime reads the mask.
func straitArgv(tools toolPaths, bin, manifests string, ports straitPorts, cpu int) []string {
	return []string{
		tools.taskset, "-c", strconv.Itoa(cpu),
		"env", "GOMAXPROCS=1",
		bin, "serve",
		"--manifests", manifests,
		"--configmap", "bench/strait-config",
		"--http-port", strconv.Itoa(ports.http),
		"--https-port", strconv.Itoa(ports.https),
		"--healthz-port", strconv.Itoa(ports.healthz),
		"--bind-address", "127.0.0.1",
		// The Secret is also the default certificate, so that a client
		// without SNI gets the same ECDSA certificate as from the others.
		"--default-ssl-certificate", "bench/bench-tls",
		// Stopping between scenarios need not wait out a readiness delay.
		"--shutdown-delay", "0s",
		// The bench Ingress names no class.
		"--watch-ingress-without-class",
	}
}

// startStrait writes the manifests under dir and starts Strait on them,
// pinned to cpu, its output in dir/strait.log.
func startStrait(tools toolPaths, bin, dir string, ports straitPorts, cert benchCert, cpu int) (*process, error) {
	manifests := filepath.Join(dir, "manifests")
	if err := writeManifests(manifests, ports, cert); err != nil {
		return nil, err
	}
	return startProcess("strait", filepath.Join(dir, "strait.log"), straitArgv(tools, bin, manifests, ports, cpu))
}
