// Package chart tests the Helm chart in charts/strait with the helm command
// built by scripts/build-helm.sh: lint, rendering with the values files in
// charts/strait/ci (one of them written for the ingress-nginx chart), what
// the rendered objects say, and the real API server's acceptance of every
// one of them (server-side dry run), plus an install and an upgrade.
package chart

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	yamlutil "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/straitgw/strait/internal/kubetest"
)

// HelmBinEnv names the directory holding the helm binary. When it is unset,
// helm is taken from .cache/helm/bin under the repository root, where
// scripts/build-helm.sh puts it.
const HelmBinEnv = "STRAIT_HELM_BIN"

// release and namespace are the release name and namespace every rendering
// uses; the expected object names below follow from them.
const (
	release   = "strait"
	namespace = "strait"
)

// straitBin is the strait binary built by kubetest.RunWithStrait.
var straitBin string

func TestMain(m *testing.M) { os.Exit(kubetest.RunWithStrait(m, &straitBin)) }

// repoPath returns a path under the repository root.
func repoPath(t testing.TB, elem ...string) string {
	t.Helper()
	root, err := kubetest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(append([]string{root}, elem...)...)
}

// chartDir is the chart under test.
func chartDir(t testing.TB) string { return repoPath(t, "charts", "strait") }

// valuesFile returns the path of a values file in the chart's ci folder.
func valuesFile(t testing.TB, name string) string { return filepath.Join(chartDir(t), "ci", name) }

// helmPath finds helm, failing the test (never skipping it) when it has not
// been built.
func helmPath(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(HelmBinEnv)
	if dir == "" {
		dir = repoPath(t, ".cache", "helm", "bin")
	}
	p := filepath.Join(dir, "helm")
	if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		t.Fatalf("helm is missing at %s: build it with scripts/build-helm.sh, or set %s", p, HelmBinEnv)
	}
	return p
}

// runHelm runs helm with args and returns its standard output. Helm's own
// files (repositories, caches, plugins) go to a fresh directory, so that
// nothing of the user's configuration takes part. kubeconfig may be empty.
func runHelm(t testing.TB, kubeconfig string, args ...string) (string, error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(helmPath(t), args...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"KUBECONFIG="+kubeconfig,
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// rendering is the output of helm template: the objects in order.
type rendering []*unstructured.Unstructured

// render runs helm template on the chart with extra arguments (-f FILE,
// --set K=V) and decodes every object it prints.
func render(t testing.TB, args ...string) rendering {
	t.Helper()
	out, err := runHelm(t, "", append([]string{"template", release, chartDir(t), "--namespace", namespace}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeObjects(out)
	if err != nil {
		t.Fatalf("decoding helm template's output: %v", err)
	}
	return objs
}

// decodeObjects decodes a stream of YAML documents, skipping empty ones.
func decodeObjects(s string) (rendering, error) {
	dec := yamlutil.NewYAMLOrJSONDecoder(strings.NewReader(s), 4096)
	var objs rendering
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetKind() == "" || u.GetAPIVersion() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("an object without kind, apiVersion or name: %v", m)
		}
		objs = append(objs, u)
	}
}

// all returns the objects of a kind.
func (r rendering) all(kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range r {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// get returns the object of a kind and name, failing the test when there
// is none.
func (r rendering) get(t testing.TB, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range r.all(kind) {
		if o.GetName() == name {
			return o
		}
	}
	var have []string
	for _, o := range r {
		have = append(have, o.GetKind()+"/"+o.GetName())
	}
	t.Fatalf("no %s %s rendered; the rendering has %s", kind, name, strings.Join(have, ", "))
	return nil
}

// has reports whether an object of a kind and name was rendered.
func (r rendering) has(kind, name string) bool {
	for _, o := range r.all(kind) {
		if o.GetName() == name {
			return true
		}
	}
	return false
}

// readFile reads a file, failing the test when it cannot.
func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
