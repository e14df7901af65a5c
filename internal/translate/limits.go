package translate

import (
	"net/netip"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
)

// rateLimit reads limit-rps, limit-rpm, limit-connections,
// limit-burst-multiplier and limit-allowlist. It returns nil when no limit
// is set. A malformed limit or allowlist is reported and fails the
// Ingress's paths closed: ingress-nginx rejects such an Ingress, and
// serving it unlimited would be the opposite of what was asked.
func (t *translator) rateLimit(ing *networkingv1.Ingress, bad func(error, string)) (lim *model.RateLimit, failClosed bool) {
	a := ing.Annotations
	l := model.RateLimit{
		Zone:             ing.Namespace + "/" + ing.Name + "/" + string(ing.UID),
		Multiplier:       5,
		RequestStatus:    t.settings.limitReqStatus,
		ConnectionStatus: t.settings.limitConnStatus,
	}
	const closed = "the Ingress's paths answer 503 until it is fixed"
	for _, v := range []struct {
		val *annotations.Value[int]
		dst *int
	}{{&annotations.LimitRPS, &l.RPS}, {&annotations.LimitRPM, &l.RPM}, {&annotations.LimitConnections, &l.Connections}} {
		if read(a, v.val, v.dst, bad, closed) {
			failClosed = true
		}
	}
	if l.RPS == 0 && l.RPM == 0 && l.Connections == 0 {
		// ingress-nginx creates no zone then; the other limit
		// annotations have nothing to act on.
		return nil, failClosed
	}
	read(a, &annotations.LimitBurstMultiplier, &l.Multiplier, bad, "using the default 5")
	var allow []netip.Prefix
	if read(a, &annotations.LimitAllowlist, &allow, bad, closed) {
		failClosed = true
	}
	for _, p := range allow {
		l.Allow = append(l.Allow, p.String())
	}
	return &l, failClosed
}

// Defaults of the limit status keys.
const defaultLimitStatus = 503

// readLimitStatus reads limit-req-status-code or limit-conn-status-code.
func (t *translator) readLimitStatus(ref model.ObjectRef, data map[string]string, key string) int {
	v, ok := data[key]
	if !ok || strings.TrimSpace(v) == "" {
		return defaultLimitStatus
	}
	n, err := annotations.ParseLimitStatus(strings.TrimSpace(v))
	if err != nil {
		t.problem(ref, "data."+key, "InvalidConfiguration", "%s %q: %v; using 503", key, v, err)
		return defaultLimitStatus
	}
	return n
}
