package annotations

import (
	"errors"
	"strings"
)

// BackendProtocol is the protocol spoken to the upstream.
var BackendProtocol = Value[string]{
	Key: Key{
		Name: "backend-protocol", Scope: ScopeLocation, Risk: RiskLow, Support: Differs, Default: "HTTP",
		Doc: "Protocol spoken to the upstream: HTTP or HTTPS (TLS to the endpoints, without certificate verification or SNI, as nginx's defaults).",
		Notes: "GRPC, GRPCS, AUTO_HTTP and FCGI are not supported yet: an Ingress asking for one gets a problem and its paths answer 503 " +
			"rather than speak the wrong protocol.",
	},
	Parse: parseBackendProtocol,
}

// Protocols Strait can speak to upstreams, and those it recognises but
// refuses.
var (
	errProtocolUnsupported = errors.New("not supported by Strait yet")
)

func parseBackendProtocol(raw string) (string, error) {
	switch p := strings.ToUpper(strings.TrimSpace(raw)); p {
	case "HTTP", "HTTPS":
		return p, nil
	case "GRPC", "GRPCS", "AUTO_HTTP", "FCGI":
		return "", errProtocolUnsupported
	default:
		return "", errors.New("must be HTTP, HTTPS, GRPC, GRPCS, AUTO_HTTP or FCGI")
	}
}
