package translate

import (
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
)

// sslPassthrough records the hosts of an Ingress with ssl-passthrough:
// each rule host's "/" path names the backend its TLS connections are
// passed to, as in ingress-nginx. The oldest Ingress to claim a host wins.
func (t *translator) sslPassthrough(ing *networkingv1.Ingress, ref model.ObjectRef) {
	on, ok, err := annotations.SSLPassthrough.Lookup(ing.Annotations, annotations.Prefix)
	field := "metadata.annotations[" + annotations.Prefix + annotations.SSLPassthrough.Name + "]"
	switch {
	case err != nil:
		t.problem(ref, field, "InvalidAnnotation", "%v; TLS connections are terminated as usual", err)
		return
	case !ok || !on:
		return
	case !t.passthroughOn:
		t.problem(ref, field, "SSLPassthroughDisabled", "ssl-passthrough needs the controller flag --enable-ssl-passthrough; TLS connections are terminated as usual")
		return
	}
	claimed := false
	for i, rule := range ing.Spec.Rules {
		if rule.Host == "" || rule.HTTP == nil {
			continue
		}
		host, err := normalizeHost(rule.Host)
		if err != nil {
			continue // reported with the rule
		}
		for j := range rule.HTTP.Paths {
			p := &rule.HTTP.Paths[j]
			if p.Path != "/" && p.Path != "" {
				continue
			}
			claimed = true
			if prev, taken := t.passthrough[host]; taken {
				t.problem(ref, fmt.Sprintf("spec.rules[%d].host", i), "SSLPassthroughConflict", "host %q already passes TLS through to %s (an older Ingress); ignored here", host, prev)
				break
			}
			a := t.backend(ref, ing.Namespace, &p.Backend, loc{rule: i, path: j}, model.ProtocolHTTP)
			if a.Backend == "" {
				break // the backend's problem is reported
			}
			if t.passthrough == nil {
				t.passthrough = map[string]string{}
			}
			t.passthrough[host] = a.Backend
			break
		}
	}
	if !claimed {
		t.problem(ref, field, "SSLPassthroughWithoutRoot", "ssl-passthrough passes a host's connections to the backend of its \"/\" path, and no rule with a host has one; no effect")
	}
}
