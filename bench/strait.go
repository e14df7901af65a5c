package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// straitPorts are the ports Strait listens on and the backend's port, which
// its manifests point at.
type straitPorts struct {
	http, https, healthz, backend int
}

// straitManifests returns, by file name, the Kubernetes objects that make
// Strait route exactly what the nginx proxy routes: Host bench.local, any
// path, to the backend. The Service maps port 80 to the backend's real
// port, as kube-proxy would, and the EndpointSlice is what Strait actually
// dials, so it must carry the backend's port too. They are separate files
// so that a manifest loader that reads one object per file works as well as
// one that splits multi-document YAML.
func straitManifests(backendPort int) map[string]string {
	return map[string]string{
		"service.yaml": fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: backend
  namespace: bench
spec:
  ports:
  - name: http
    port: 80
    protocol: TCP
    targetPort: %d
`, backendPort),
		"endpointslice.yaml": fmt.Sprintf(`apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: backend-bench
  namespace: bench
  labels:
    kubernetes.io/service-name: backend
addressType: IPv4
ports:
- name: http
  port: %d
  protocol: TCP
endpoints:
- addresses:
  - 127.0.0.1
  conditions:
    ready: true
`, backendPort),
		// As nginx's access_log off: logging is not what is compared.
		"configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: strait-config
  namespace: bench
data:
  disable-access-log: "true"
`,
		"ingress.yaml": fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: bench
  namespace: bench
spec:
  rules:
  - host: %s
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: backend
            port:
              number: 80
`, benchHost),
	}
}

// writeManifests writes straitManifests into dir.
func writeManifests(dir string, backendPort int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, body := range straitManifests(backendPort) {
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
		// The bench Ingress names no class.
		"--watch-ingress-without-class",
	}
}

// startStrait writes the manifests under dir and starts Strait on them,
// pinned to cpu, its output in dir/strait.log.
func startStrait(tools toolPaths, bin, dir string, ports straitPorts, cpu int) (*process, error) {
	manifests := filepath.Join(dir, "manifests")
	if err := writeManifests(manifests, ports.backend); err != nil {
		return nil, err
	}
	return startProcess("strait", filepath.Join(dir, "strait.log"), straitArgv(tools, bin, manifests, ports, cpu))
}
