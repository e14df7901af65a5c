package admission_test

import (
	"testing"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/straitgw/strait/internal/metrics"
	"github.com/straitgw/strait/internal/plugin"
	"github.com/straitgw/strait/internal/plugin/builtin"
	luaplugin "github.com/straitgw/strait/internal/plugin/lua"
)

// TestReviewPlugins: an Ingress configuring a plugin badly is refused
// before it is stored; one naming a plugin Strait does not have yet is
// let in with a warning.
func TestReviewPlugins(t *testing.T) {
	reg, err := plugin.NewRegistry(luaplugin.New(luaplugin.Options{}), builtin.List()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		kv   []string
		deny []string
		warn []string
	}{
		{name: "built-in plugin", kv: []string{"strait.dev/plugins", "request-id", "strait.dev/plugin.request-id.header", "X-Trace"}},
		// Its ConfigMap may be created after the Ingress.
		{name: "unknown plugin", kv: []string{"strait.dev/plugins", "request-id, nope"}, warn: []string{`unknown plugin "nope"`}},
		{name: "malformed configuration", kv: []string{"strait.dev/plugins", "request-id", "strait.dev/plugin.request-id.header", "a b"}, deny: []string{"plugin request-id", `"a b" is not a valid header name`}},
		{name: "configuration of a plugin not enabled", kv: []string{"strait.dev/plugin.request-id.header", "X-Trace"}, deny: []string{"not enabled"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := validator(world(), metrics.New(metrics.Controller{}))
			v.Translate.Plugins = reg
			resp, err := v.Review(request(t, admissionv1.Create, ingress("a", "strait", "a.test", "/", "web", tc.kv...)))
			if err != nil {
				t.Fatal(err)
			}
			checkResponse(t, resp, tc.deny, tc.warn)
		})
	}
}
