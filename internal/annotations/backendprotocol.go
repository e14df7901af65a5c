package annotations

import (
	"errors"
	"strings"
)

// BackendProtocol is the protocol spoken to the upstream.
var BackendProtocol = Value[string]{
	Key: Key{
		Name: "backend-protocol", Scope: ScopeLocation, Risk: RiskLow, Support: Differs, Default: "HTTP",
		Doc: "Protocol spoken to the upstream: HTTP, HTTPS (TLS to the endpoints, without certificate verification or SNI unless proxy-ssl-* say otherwise, as nginx's defaults), " +
			"GRPC (HTTP/2 in clear text, h2c), GRPCS (HTTP/2 over TLS) or AUTO_HTTP (HTTPS when the client came over TLS, else HTTP).",
		Notes: "FCGI is not supported: an Ingress asking for it gets a problem and its paths answer 503 rather than speak the wrong protocol. " +
			"gRPC clients must reach Strait over TLS (HTTP/2 by ALPN); gRPC upstreams have the read timeout (proxy-read-timeout, until the response head and between two reads); their connections are dialled within the controller's default connect timeout, and the send timeout does not apply.",
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
	case "HTTP", "HTTPS", "GRPC", "GRPCS", "AUTO_HTTP":
		return p, nil
	case "FCGI":
		return "", errProtocolUnsupported
	default:
		return "", errors.New("must be HTTP, HTTPS, GRPC, GRPCS, AUTO_HTTP or FCGI")
	}
}
