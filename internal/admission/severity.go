package admission

// The rule deciding which problems refuse an Ingress, by problem reason.
//
// An Ingress is refused for what it says itself: a malformed annotation,
// host, path or backend, an annotation above the ConfigMap's risk level,
// or a claim on something older Ingresses already hold (a path, an alias,
// a passthrough host, a canary slot). Each of these leaves the Ingress, or
// part of it, not served as written, and only a change to the Ingress
// fixes it.
//
// It is let in, with the problem as a warning, when the problem lies with
// another object or with the controller's configuration: a Service,
// Secret or ConfigMap that does not exist yet (users create the Ingress
// before what it names, and ingress-nginx lets that in too), a Service
// without the port named, a Secret whose certificate or htpasswd content
// is unusable, a canary whose primary does not exist yet, a feature the
// controller's flags leave off. Notes about annotations that have no
// effect (unknown, unsupported, ignored on a canary) are warnings too.

// denyingReasons are the reasons that refuse an Ingress.
func denyingReasons() []string {
	return []string{
		"AnnotationRiskTooHigh",
		"CanaryConflict",
		"CanarySameBackend",
		"InvalidAnnotation",
		"InvalidBackend",
		"InvalidHost",
		"InvalidPath",
		"InvalidPathType",
		"InvalidRegex",
		"PathConflict",
		"ServerAliasConflict",
		"SSLPassthroughConflict",
		"UnsupportedBackend",
	}
}

// warningReasons are the reasons reported as warnings only.
func warningReasons() []string {
	return []string{
		// Objects that may be created after the Ingress.
		"ConfigMapNotFound",
		"DefaultBackendNotFound",
		"SecretNotFound",
		"ServiceNotFound",
		"CanaryWithoutPrimary",
		"CanaryBackendUnavailable",
		// What other objects hold, which the Ingress does not control.
		"CanaryPrimaryUnavailable",
		"CertificateHostMismatch",
		"InvalidAuthSecret",
		"InvalidCertificate",
		"PortNotFound",
		"ServiceUpstreamIgnored",
		// The controller's flags.
		"SSLPassthroughDisabled",
		// What other Ingresses of the host may serve.
		"OIDCPathNotRouted",
		// Problems of the flags, the ConfigMap and Services, never of
		// an Ingress.
		"InvalidConfiguration",
		"InvalidFlag",
		"InvalidService",
		// Annotations or fields without effect.
		"CanaryAnnotationIgnored",
		"CanaryDefaultBackendIgnored",
		"CanaryNotEnabled",
		"SnippetNotSupported",
		"SSLPassthroughWithoutRoot",
		"UnknownAnnotation",
		"UnsupportedAnnotation",
		"WWWRedirectIgnored",
	}
}

// denies reports whether a problem of this reason refuses the Ingress. A
// reason in neither list (one added to translate without a decision
// here, which TestEveryReasonClassified catches) is a warning: an
// unforeseen refusal would block deployments that worked before.
func denies(reason string) bool {
	for _, r := range denyingReasons() {
		if r == reason {
			return true
		}
	}
	return false
}
