package plugin_test

import (
	"strings"
	"testing"

	"github.com/straitgw/strait/internal/plugin"
	"github.com/straitgw/strait/internal/plugin/builtin"
)

func TestRegistry(t *testing.T) {
	reg, err := plugin.NewRegistry(nil, builtin.List()...)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(reg.Names(), ","); got != "request-id" {
		t.Errorf("names %q", got)
	}
	if reg.Lookup("request-id") == nil || reg.Lookup("nope") != nil || reg.Scripts() != nil {
		t.Error("lookup")
	}
	if _, err := plugin.NewRegistry(nil, builtin.RequestID, builtin.RequestID); err == nil {
		t.Error("a name listed twice was accepted")
	}
	bad := plugin.Spec[int]{PluginName: "Bad_Name"}
	if _, err := plugin.NewRegistry(nil, bad); err == nil {
		t.Error("a malformed name was accepted")
	}
	for _, n := range []string{"a", "add-header", "x9"} {
		if err := plugin.CheckName(n); err != nil {
			t.Errorf("%q: %v", n, err)
		}
	}
	for _, n := range []string{"", "9a", "-a", "A", "a_b", "a.b", strings.Repeat("a", 64)} {
		if plugin.CheckName(n) == nil {
			t.Errorf("%q accepted", n)
		}
	}
}

// TestRequestIDConfig checks that a malformed or unknown key is an error,
// never a default.
func TestRequestIDConfig(t *testing.T) {
	f := builtin.RequestID
	if err := f.Check(nil); err != nil {
		t.Errorf("no configuration: %v", err)
	}
	if err := f.Check(map[string]string{"header": "X-Trace"}); err != nil {
		t.Errorf("valid header: %v", err)
	}
	for _, cfg := range []map[string]string{{"header": "bad header"}, {"header": ""}, {"heder": "X"}} {
		if f.Check(cfg) == nil {
			t.Errorf("%v accepted", cfg)
		}
		if _, err := f.New(cfg); err == nil {
			t.Errorf("%v built", cfg)
		}
	}
}
