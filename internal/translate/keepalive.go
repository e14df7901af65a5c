package translate

import (
	"errors"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
)

// readKeepAlive reads the client and upstream keep-alive keys into c and
// the returned Upstream; values equal to ingress-nginx's defaults are left
// zero. A malformed value is a problem on the ConfigMap and keeps the
// default.
func (t *translator) readKeepAlive(ref model.ObjectRef, data map[string]string, c *model.Client) model.Upstream {
	positive := func(parse func(string) (int, error)) func(string) (int, error) {
		return func(raw string) (int, error) {
			n, err := parse(raw)
			if err == nil && n < 1 {
				err = errors.New("must be at least 1")
			}
			return n, err
		}
	}
	num := func(key string, def int, parse func(string) (int, error), dst *int, off *bool) {
		raw, ok := data[key]
		if !ok {
			return
		}
		n, err := parse(raw)
		if err != nil {
			t.problem(ref, "data."+key, "InvalidConfiguration", "%s %q: %v; using %d", key, raw, err, def)
			return
		}
		switch {
		case n == 0 && off != nil:
			*off = true
		case n != def:
			*dst = n
		}
	}
	var u model.Upstream
	num("keep-alive", 75, annotations.ParseSeconds, &c.KeepAliveSeconds, &c.KeepAliveOff)
	num("keep-alive-requests", 1000, positive(annotations.ParseInt), &c.KeepAliveRequests, nil)
	num("upstream-keepalive-connections", 320, annotations.ParseSeconds, &u.KeepAliveConnections, &u.KeepAliveOff)
	num("upstream-keepalive-timeout", 60, positive(annotations.ParseSeconds), &u.KeepAliveTimeoutSeconds, nil)
	num("upstream-keepalive-requests", 10000, positive(annotations.ParseInt), &u.KeepAliveRequests, nil)
	num("upstream-keepalive-time", 3600, positive(annotations.ParseNginxDuration), &u.KeepAliveTimeSeconds, nil)
	return u
}
