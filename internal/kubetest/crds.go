package kubetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"
)

// gatewayAPIModule is the module whose CRDs InstallGatewayAPI installs:
// the version the calling module requires, so that the types and the CRDs
// agree.
const gatewayAPIModule = "sigs.k8s.io/gateway-api"

// InstallGatewayAPI installs the Gateway API's standard-channel CRDs, from
// the module in Strait's go.mod, and waits until the API server serves
// them.
func (c *Cluster) InstallGatewayAPI(ctx context.Context) error {
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	dir, err := GatewayAPICRDDir(ctx, root, "standard")
	if err != nil {
		return err
	}
	return c.InstallCRDs(ctx, dir)
}

// GatewayAPICRDDir returns the directory of the Gateway API CRDs of one
// release channel ("standard" or "experimental") in the version of
// sigs.k8s.io/gateway-api that the Go module in moduleDir builds with (go
// list -m; the module must already be in the module cache, as it is once
// the module's tests have been built).
func GatewayAPICRDDir(ctx context.Context, moduleDir, channel string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", gatewayAPIModule)
	cmd.Dir = moduleDir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("locating %s from %s: %w", gatewayAPIModule, moduleDir, err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "config", "crd", channel), nil
}

// InstallCRDs creates every CustomResourceDefinition found in the *.yaml
// files of dir (other kinds of object there are ignored) and waits until
// the API server serves them.
func (c *Cluster) InstallCRDs(ctx context.Context, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no CRD files in %s: %v", dir, err)
	}
	dyn, err := dynamic.NewForConfig(c.RESTConfig)
	if err != nil {
		return err
	}
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var obj map[string]any
		if err := yaml.Unmarshal(b, &obj); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.GetKind() != "CustomResourceDefinition" {
			continue // e.g. the Gateway API's safe-upgrades admission policy
		}
		if _, err := crds.Create(ctx, u, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating %s: %w", u.GetName(), err)
		}
		names = append(names, u.GetName())
	}
	// Established: the API server serves the kind.
	deadline := time.Now().Add(30 * time.Second)
	for _, name := range names {
		for {
			u, err := crds.Get(ctx, name, metav1.GetOptions{})
			if err == nil && established(u) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("CRD %s not established after 30s: %v", name, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// established reports whether a CRD's Established condition is True.
func established(u *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}
