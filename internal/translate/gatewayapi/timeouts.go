package gatewayapi

import (
	"regexp"
	"time"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/straitgw/strait/internal/model"
)

// ruleTimeouts is a rule's timeouts: durations in the API's format
// (GEP-2257), "0s" meaning none; the backend's no longer than the
// request's.
func ruleTimeouts(t *gatewayv1.HTTPRouteTimeouts) (*model.GatewayTimeouts, *ruleProblem) {
	if t == nil {
		return nil, nil
	}
	var out model.GatewayTimeouts
	for _, f := range []struct {
		name string
		in   *gatewayv1.Duration
		out  *int64
	}{{"request", t.Request, &out.RequestMillis}, {"backendRequest", t.BackendRequest, &out.BackendMillis}} {
		if f.in == nil {
			continue
		}
		d, ok := parseDuration(string(*f.in))
		if !ok {
			return nil, unsupported("timeouts.%s %q is not a duration of the API's format", f.name, *f.in)
		}
		*f.out = d.Milliseconds() // the format has no finer unit
	}
	if out.RequestMillis > 0 && out.BackendMillis > out.RequestMillis {
		return nil, unsupported("timeouts.backendRequest %s is longer than timeouts.request %s", *t.BackendRequest, *t.Request)
	}
	if out == (model.GatewayTimeouts{}) {
		return nil, nil
	}
	return &out, nil
}

// durationFormat is the API's Duration (GEP-2257): up to four numbers of
// up to five digits, each with a unit of h, m, s or ms.
var durationFormat = regexp.MustCompile(`^([0-9]{1,5}(h|m|s|ms)){1,4}$`)

// parseDuration parses a Duration of the API; Go's syntax, of which it
// is a subset, gives its value.
func parseDuration(s string) (time.Duration, bool) {
	if !durationFormat.MatchString(s) {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	return d, err == nil
}
