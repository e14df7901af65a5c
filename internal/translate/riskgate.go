package translate

import (
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
)

// riskGate is ingress-nginx's annotation risk gate, from the controller
// ConfigMap: annotations-risk-level (default High) and
// allow-snippet-annotations (default false). An Ingress carrying an
// annotation riskier than the level is not served at all, as
// ingress-nginx ignores it; snippets are Critical, so by default an
// Ingress with a snippet is not served. Strait never interprets snippets
// even when both keys allow them: the rest of the Ingress is then served.
type riskGate struct {
	level         annotations.Risk
	allowSnippets bool
}

// readRiskGate parses the gate's ConfigMap keys; a malformed value is a
// problem on the ConfigMap and keeps the default.
func (t *translator) readRiskGate(name string) riskGate {
	g := riskGate{level: annotations.RiskHigh}
	ns, n, ok := strings.Cut(name, "/")
	if !ok {
		return g
	}
	cm := t.configMap(ns, n)
	if cm == nil {
		return g
	}
	ref := model.ObjectRef{Kind: "ConfigMap", Namespace: ns, Name: n}
	if v, ok := cm.Data["annotations-risk-level"]; ok {
		if r, ok := parseRisk(v); ok {
			g.level = r
		} else {
			t.problem(ref, "data.annotations-risk-level", "InvalidConfiguration", "annotations-risk-level %q is not one of Low, Medium, High, Critical; using High", v)
		}
	}
	g.allowSnippets = t.configBool(ref, cm.Data, "allow-snippet-annotations", false)
	return g
}

// parseRisk accepts ingress-nginx's level names, as its parser does
// (case-insensitively).
func parseRisk(s string) (annotations.Risk, bool) {
	for _, r := range []annotations.Risk{annotations.RiskLow, annotations.RiskMedium, annotations.RiskHigh, annotations.RiskCritical} {
		if strings.EqualFold(s, r.String()) {
			return r, true
		}
	}
	return 0, false
}

// admit reports whether the gate lets ing be served. A refused Ingress
// gets one problem naming the annotations over the level.
func (t *translator) admit(ing *networkingv1.Ingress, ref model.ObjectRef) bool {
	over := t.riskOver(ing)
	if len(over) == 0 {
		return true
	}
	slices.Sort(over)
	t.problem(ref, "metadata.annotations", "AnnotationRiskTooHigh",
		"the Ingress is not served: %s above the ConfigMap's annotations-risk-level %s, as ingress-nginx does. Snippets are never interpreted by Strait; remove them and use typed annotations instead (configuration-snippet: custom-headers or add-headers for response headers, permanent-redirect or temporal-redirect for redirects, allowlist-source-range or denylist-source-range for access rules)",
		strings.Join(over, ", "), t.gate.level)
	return false
}

// riskOver lists the annotations of ing above the gate's level, each with
// its risk.
func (t *translator) riskOver(ing *networkingv1.Ingress) []string {
	t.loadCatalogue()
	var over []string
	for k := range ing.Annotations {
		name, ok := strings.CutPrefix(k, annotations.Prefix)
		if !ok {
			continue
		}
		key, known := t.catalogue[name]
		if !known || key.Risk <= t.gate.level {
			continue
		}
		over = append(over, k+" ("+key.Risk.String()+")")
	}
	return over
}

// loadCatalogue indexes every known annotation by name and alias.
func (t *translator) loadCatalogue() {
	if t.catalogue != nil {
		return
	}
	t.catalogue = map[string]annotations.Key{}
	for _, k := range annotations.All().Annotations {
		if k.Prefix != "" {
			// Not an ingress-nginx annotation: never read under Prefix.
			continue
		}
		t.catalogue[k.Name] = k
		for _, al := range k.Aliases {
			t.catalogue[al] = k
		}
	}
}
