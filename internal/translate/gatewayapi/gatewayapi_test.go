package gatewayapi_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/straitgw/strait/internal/golden"
	"github.com/straitgw/strait/internal/snapshot"
	"github.com/straitgw/strait/internal/sources/manifests"
	"github.com/straitgw/strait/internal/translate/gatewayapi"
)

// testOptions serve HTTPRoutes and GRPCRoutes and announce two features.
var testOptions = gatewayapi.Options{
	RouteKinds:     []gatewayv1.Kind{"HTTPRoute", "GRPCRoute"},
	Features:       []gatewayv1.FeatureName{"HTTPRoute", "Gateway", "HTTPRoute"},
	ControllerName: "strait.dev/gateway-controller",
}

// TestGolden translates every testdata/*.in.yaml and compares the
// statuses with the matching .out.yaml; translating twice gives the same.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.in.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range files {
		t.Run(strings.TrimSuffix(filepath.Base(in), ".in.yaml"), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			objs, errs := manifests.Decode(filepath.Base(in), data)
			if len(errs) > 0 {
				t.Fatalf("input: %v", errs)
			}
			snap := snapshot.Build(objs, snapshot.ClassOptions{GatewayController: "strait.dev/gateway-controller"})
			got, err := yaml.Marshal(gatewayapi.Translate(snap, testOptions))
			if err != nil {
				t.Fatal(err)
			}
			again, _ := yaml.Marshal(gatewayapi.Translate(snap, testOptions))
			if string(again) != string(got) {
				t.Error("translating the same snapshot twice gave different statuses")
			}
			golden.Check(t, strings.TrimSuffix(in, ".in.yaml")+".out.yaml", got)
		})
	}
}
