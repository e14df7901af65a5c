package translate

import (
	"errors"
	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
)

// defaultProxyBufferSize is proxy-buffer-size's default, 4k.
const defaultProxyBufferSize = 4 << 10

// readClient reads large-client-header-buffers; a malformed value is a
// problem on the ConfigMap and leaves nginx's "4 8k". It also checks the
// buffering keys, which Strait accepts without acting on them.
func (t *translator) readClient(ref model.ObjectRef, data map[string]string) model.Client {
	var c model.Client
	if v, ok := data["large-client-header-buffers"]; ok {
		hb, err := annotations.ParseHeaderBuffers(v)
		switch {
		case err != nil:
			t.problem(ref, "data.large-client-header-buffers", "InvalidConfiguration", "large-client-header-buffers %q: %v; using 4 8k", v, err)
		case hb.Number != 4 || hb.Size != 8<<10:
			c.HeaderBuffers, c.HeaderBufferBytes = hb.Number, hb.Size
		}
	}
	configDefault(t, ref, data, &annotations.ProxyRequestBuffering)
	configDefault(t, ref, data, &annotations.ProxyBuffering)
	c.HeaderTimeoutSeconds = t.clientTimeout(ref, data, "client-header-timeout")
	c.BodyTimeoutSeconds = t.clientTimeout(ref, data, "client-body-timeout")
	return c
}

// clientTimeout reads client-header-timeout or client-body-timeout: whole
// seconds, as ingress-nginx's ConfigMap takes them; 0 means the default
// (60), which is also what a malformed value keeps.
func (t *translator) clientTimeout(ref model.ObjectRef, data map[string]string, key string) int {
	v, ok := data[key]
	if !ok {
		return 0
	}
	n, err := annotations.ParseInt(v)
	if err == nil && n < 1 {
		err = errors.New("must be at least 1")
	}
	if err != nil {
		t.problem(ref, "data."+key, "InvalidConfiguration", "%s %q: %v; using 60", key, v, err)
		return 0
	}
	if n == 60 {
		return 0
	}
	return n
}

// bufferPolicy reads proxy-buffer-size, and checks proxy-request-buffering
// and proxy-buffering, which Strait accepts: it always streams.
func (t *translator) bufferPolicy(a map[string]string, pol *model.Policy, bad func(error, string)) {
	size := t.settings.proxyBufferSize
	read(a, &annotations.ProxyBufferSize, &size, bad, "using the default")
	if size != defaultProxyBufferSize {
		pol.ProxyBufferBytes = size
	}
	var on bool
	read(a, &annotations.ProxyRequestBuffering, &on, bad, "Strait streams request bodies in any case")
	read(a, &annotations.ProxyBuffering, &on, bad, "Strait streams responses in any case")
}
