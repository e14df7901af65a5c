package gatewayapi

import (
	"slices"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/pkg/features"
)

// RouteKinds returns the route kinds Strait's listeners take, in the order
// listener statuses list them.
func RouteKinds() []gatewayv1.Kind { return []gatewayv1.Kind{"HTTPRoute", "GRPCRoute"} }

// SupportedFeatures returns the Gateway API features Strait implements,
// sorted: announced in GatewayClass status.supportedFeatures, and the list
// the conformance run claims.
func SupportedFeatures() []gatewayv1.FeatureName {
	out := []gatewayv1.FeatureName{}
	for _, f := range []features.FeatureName{
		features.SupportGateway,
		features.SupportHTTPRoute,
		features.SupportReferenceGrant,
		features.SupportGRPCRoute,
		features.SupportGatewayPort8080,
		features.SupportHTTPRouteMethodMatching,
		features.SupportHTTPRouteQueryParamMatching,
		features.SupportHTTPRouteResponseHeaderModification,
		features.SupportHTTPRouteBackendRequestHeaderModification,
		features.SupportHTTPRouteHostRewrite,
		features.SupportHTTPRoutePathRewrite,
		features.SupportHTTPRoutePathRedirect,
		features.SupportHTTPRoutePortRedirect,
		features.SupportHTTPRouteSchemeRedirect,
		features.SupportHTTPRoute303RedirectStatusCode,
		features.SupportHTTPRoute307RedirectStatusCode,
		features.SupportHTTPRoute308RedirectStatusCode,
		features.SupportHTTPRouteRequestMirror,
		features.SupportHTTPRouteRequestMultipleMirrors,
		features.SupportHTTPRouteRequestPercentageMirror,
		features.SupportHTTPRouteRequestTimeout,
		features.SupportHTTPRouteBackendTimeout,
		features.SupportHTTPRouteCORS,
		features.SupportHTTPRouteBackendProtocolH2C,
		features.SupportHTTPRouteBackendProtocolWebSocket,
		features.SupportHTTPRouteParentRefPort,
		features.SupportHTTPRouteNamedRouteRule,
		features.SupportGRPCRouteNamedRouteRule,
		features.SupportGatewayAddressEmpty,
		features.SupportGatewayHTTPListenerIsolation,
	} {
		out = append(out, gatewayv1.FeatureName(f))
	}
	slices.Sort(out)
	return out
}
