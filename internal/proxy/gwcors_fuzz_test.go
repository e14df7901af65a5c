package proxy

import (
	"strings"
	"testing"

	"github.com/straitgw/strait/internal/model"
)

// FuzzGatewayCORSOrigin: any Origin a client sends is matched without
// panicking; an allowed one has an allowed origin's scheme, and one
// differing from an exact allowed origin by case only is allowed too.
func FuzzGatewayCORSOrigin(f *testing.F) {
	for _, s := range []string{"https://www.foo.com", "https://x.bar.com:443", "http://[::1]:80", "null", "https://", "HTTPS://WWW.FOO.COM", "https://a.bar.com:99999"} {
		f.Add(s)
	}
	c := compileGatewayCORS(&model.GatewayCORS{AllowOrigins: []string{"https://www.foo.com:443", "https://*.bar.com:443", "http://*:8080"}})
	f.Fuzz(func(t *testing.T, origin string) {
		ok := c.allows(origin)
		if ok && !strings.HasPrefix(lower(origin), "https://") && !strings.HasPrefix(lower(origin), "http://") {
			t.Errorf("%q allowed", origin)
		}
		if strings.EqualFold(origin, "https://www.foo.com") && !ok {
			t.Errorf("%q refused", origin)
		}
	})
}
