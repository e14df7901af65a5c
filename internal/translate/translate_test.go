package translate_test

import (
	"bufio"
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/straitgw/strait/internal/golden"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/plugin"
	"github.com/straitgw/strait/internal/plugin/builtin"
	luaplugin "github.com/straitgw/strait/internal/plugin/lua"
	"github.com/straitgw/strait/internal/snapshot"
	"github.com/straitgw/strait/internal/sources/manifests"
	"github.com/straitgw/strait/internal/translate"
)

// goldenOptions is an optional document in an .in.yaml file that sets the
// translate and class options of the case.
type goldenOptions struct {
	Kind      string                 `json:"kind"`
	Translate translate.Options      `json:"translate"`
	Classes   *snapshot.ClassOptions `json:"classes"`
}

// goldenOutput is what an .out.yaml file holds.
type goldenOutput struct {
	Model    *model.Model    `json:"model"`
	Problems []model.Problem `json:"problems,omitempty"`
	Input    []string        `json:"inputErrors,omitempty"`
}

// TestGolden translates every testdata/*.in.yaml and compares the model and
// problems with the matching .out.yaml.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.in.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range files {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		t.Run(name, func(t *testing.T) {
			data := mustRead(t, in)
			opts, rest := splitOptions(t, data)
			objs, errs := manifests.Decode(filepath.Base(in), rest)
			out := goldenOutput{}
			for _, e := range errs {
				out.Input = append(out.Input, e.Error())
			}
			classes := snapshot.ClassOptions{ControllerClass: "strait.dev/ingress-controller", IngressClass: "strait", WatchWithoutClass: true}
			if opts.Classes != nil {
				classes = *opts.Classes
			}
			snap := snapshot.Build(objs, classes)
			opts.Translate.Plugins = goldenPlugins(t)
			out.Model, out.Problems = translate.Translate(snap, opts.Translate)

			// Translate is deterministic and pure: a second run over the same
			// snapshot gives the same model.
			again, _ := translate.Translate(snap, opts.Translate)
			if again.Hash() != out.Model.Hash() {
				t.Error("translating the same snapshot twice gave different models")
			}
			got, err := yaml.Marshal(out)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, strings.TrimSuffix(in, ".in.yaml")+".out.yaml", got)
		})
	}
}

// goldenPlugins is the plugin list of the golden cases: the built-in Go
// plugins and a Lua runtime without a plugins directory.
func goldenPlugins(t *testing.T) *plugin.Registry {
	reg, err := plugin.NewRegistry(luaplugin.New(luaplugin.Options{}), builtin.List()...)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func splitOptions(t *testing.T, data []byte) (goldenOptions, []byte) {
	var opts goldenOptions
	var rest bytes.Buffer
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var probe goldenOptions
		if yaml.Unmarshal(doc, &probe) == nil && probe.Kind == "TranslateOptions" {
			if err := yaml.UnmarshalStrict(doc, &opts); err != nil {
				t.Fatalf("options document: %v", err)
			}
			continue
		}
		rest.WriteString("---\n")
		rest.Write(doc)
	}
	return opts, rest.Bytes()
}
