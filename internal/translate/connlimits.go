package translate

import (
	"errors"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
)

// readConnLimits reads max-worker-connections and
// http2-max-concurrent-streams into c; values equal to ingress-nginx's
// defaults are left zero. A malformed value is a problem on the ConfigMap
// and keeps the default.
func (t *translator) readConnLimits(ref model.ObjectRef, data map[string]string, c *model.Client) {
	if v, ok := data["max-worker-connections"]; ok {
		n, err := annotations.ParseInt(v)
		if err == nil && n < 0 {
			err = errors.New("must not be negative")
		}
		switch {
		case err != nil:
			t.problem(ref, "data.max-worker-connections", "InvalidConfiguration", "max-worker-connections %q: %v; using 16384", v, err)
		case n == 0:
			// As in ingress-nginx, 0 derives the cap from the open-file
			// limit.
			c.MaxConnectionsFromFileLimit = true
		case n != 16384:
			c.MaxConnections = n
		}
	}
	if v, ok := data["http2-max-concurrent-streams"]; ok {
		n, err := annotations.ParseInt(v)
		if err == nil && n < 1 {
			err = errors.New("must be at least 1")
		}
		switch {
		case err != nil:
			t.problem(ref, "data.http2-max-concurrent-streams", "InvalidConfiguration", "http2-max-concurrent-streams %q: %v; using 128", v, err)
		case n != 128:
			c.HTTP2MaxConcurrentStreams = n
		}
	}
}
