package gatewayapi

import (
	"slices"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// classStatus accepts a GatewayClass of ours unless it names parameters:
// Strait takes none, and a class that expects some would not get what it
// asks for.
func classStatus(c *gatewayv1.GatewayClass, opts Options) ClassStatus {
	st := ClassStatus{Name: c.Name}
	accepted := condition(string(gatewayv1.GatewayClassConditionStatusAccepted), true,
		string(gatewayv1.GatewayClassReasonAccepted), "Served by Strait", c.Generation)
	if p := c.Spec.ParametersRef; p != nil {
		accepted = condition(string(gatewayv1.GatewayClassConditionStatusAccepted), false,
			string(gatewayv1.GatewayClassReasonInvalidParameters),
			"Strait takes no parameters, but the class names "+string(p.Kind)+" "+p.Name, c.Generation)
	}
	st.Conditions = append(st.Conditions, accepted)
	features := slices.Clone(opts.Features)
	slices.Sort(features)
	for _, f := range slices.Compact(features) {
		st.SupportedFeatures = append(st.SupportedFeatures, gatewayv1.SupportedFeature{Name: f})
	}
	return st
}
