// Package model holds Strait's routing model: the fully resolved, sorted and
// typed description of what the data plane serves. It is the output of
// translate and the input of the proxy's compiler. No Kubernetes types appear
// here, so the data plane never depends on the API machinery.
package model

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
)

// CatchAllHost is the name of the virtual host that answers requests whose
// Host matches no other virtual host (nginx's "_" server).
const CatchAllHost = "*"

// Model is one routing generation's worth of configuration. Every slice is
// sorted so that two equal inputs give byte-identical encodings.
type Model struct {
	// Hosts are the named virtual hosts, sorted by Name. Exact names and
	// wildcard names ("*.example.com", one label) both appear here.
	Hosts []VirtualHost `json:"hosts,omitempty"`
	// CatchAll answers requests for hosts that match nothing in Hosts: rules
	// without a host and the catch-all default backend.
	CatchAll VirtualHost `json:"catchAll"`
	// Backends are the upstream sets referenced by routes, sorted by Name.
	Backends []Backend `json:"backends,omitempty"`
	// Certificates are the server certificates referenced by SNI, sorted by
	// Name.
	Certificates []Certificate `json:"certificates,omitempty"`
	// DefaultCertificate names the entry of Certificates served when no
	// SNI binding matches (--default-ssl-certificate); empty means the
	// certificate generated at start.
	DefaultCertificate string `json:"defaultCertificate,omitempty"`
	// Forwarding says which forwarded headers are trusted.
	Forwarding Forwarding `json:"forwarding"`
	// AccessLog configures the access log; the zero value is
	// ingress-nginx's default (on, default format).
	AccessLog AccessLog `json:"accessLog,omitzero"`
	// Client holds limits on client connections; the zero value is
	// ingress-nginx's defaults.
	Client Client `json:"client,omitzero"`
	// Upstream holds the upstream keep-alive settings; the zero value is
	// ingress-nginx's defaults.
	Upstream Upstream `json:"upstream,omitzero"`
	// Gzip, when set, compresses responses for clients that accept gzip.
	Gzip *Gzip `json:"gzip,omitempty"`
	// ProxyProtocol expects a PROXY protocol header (v1 or v2) on every
	// connection to the HTTP and HTTPS listeners (use-proxy-protocol); the
	// client address is the one it names.
	ProxyProtocol bool `json:"proxyProtocol,omitempty"`
	// ProxyProtocolHeaderSeconds is proxy-protocol-header-timeout: the
	// time allowed to receive the PROXY header; 0 means the default 5 s.
	ProxyProtocolHeaderSeconds int `json:"proxyProtocolHeaderSeconds,omitempty"`
	// HSTS is the Strict-Transport-Security value added to every HTTPS
	// response (ConfigMap hsts*); empty means none.
	HSTS string `json:"hsts,omitempty"`
	// SNI binds server names (exact or one-label wildcard) to certificates,
	// sorted by Host. Names absent here get the default certificate.
	SNI []SNIBinding `json:"sni,omitempty"`
}

// VirtualHost is a set of routes selected by the request's Host.
type VirtualHost struct {
	// Name is a lower-case host name, a wildcard "*.parent" or CatchAllHost.
	Name string `json:"name"`
	// Regex puts the host in ingress-nginx's regex mode (use-regex or
	// rewrite-target on any of its Ingresses): every route's path, Exact
	// and Prefix alike, is a case-insensitive regex anchored at the start
	// only, and routes are tried longest path first, the first match
	// winning.
	Regex bool `json:"regex,omitempty"`
	// AppRoot, when set, answers requests for exactly "/" with a 302 to
	// this path (app-root), before anything else.
	AppRoot string `json:"appRoot,omitempty"`
	// Routes in match precedence order: Exact before Prefix, then longer
	// paths before shorter ones, then by Name.
	Routes []Route `json:"routes,omitempty"`
	// Default is the action for requests that match no route.
	Default Action `json:"default"`
}

// PathType says how a route's path is compared with the request path.
type PathType string

const (
	// PathExact matches the request path exactly, case-sensitively.
	PathExact PathType = "Exact"
	// PathPrefix matches element-wise: "/foo" matches "/foo", "/foo/" and
	// "/foo/bar" but never "/foobar".
	PathPrefix PathType = "Prefix"
)

// Route is one path of one rule of one source object.
type Route struct {
	// Name is stable across generations, e.g.
	// "ingress/<ns>/<name>/rule/<i>/path/<j>".
	Name string `json:"name"`
	// Source is the object the route comes from.
	Source ObjectRef `json:"source"`
	// PathType and Path select requests. Prefix paths are stored without a
	// trailing slash, except the root "/".
	PathType PathType `json:"pathType"`
	Path     string   `json:"path"`
	// Action says what to do with matched requests.
	Action Action `json:"action"`
	// Policy applies around the action.
	Policy Policy `json:"policy"`
}

// Action is what a route does with a request: proxy it to a backend or
// answer it directly. Exactly one of Backend and Status is set.
type Action struct {
	// Backend names an entry of Model.Backends.
	Backend string `json:"backend,omitempty"`
	// Status is a direct response code: 404 for the built-in default
	// backend, 503 for a route whose Service cannot be resolved.
	Status int `json:"status,omitempty"`
}

// Protocol is the protocol spoken to a backend.
type Protocol string

// Protocols spoken to backends.
const (
	// ProtocolHTTP is HTTP/1.1 in clear text, ingress-nginx's default.
	ProtocolHTTP Protocol = "HTTP"
	// ProtocolHTTPS is HTTP/1.1 over TLS, without certificate
	// verification or SNI (nginx's proxy_ssl defaults).
	ProtocolHTTPS Protocol = "HTTPS"
)

// Backend is a set of endpoints one Service port resolves to.
type Backend struct {
	// Name is "<namespace>/<service>:<port>", with the Service port's
	// number (an ExternalName Service without ports keeps the Ingress's).
	Name string `json:"name"`
	// Service is the Service the backend resolves.
	Service ObjectRef `json:"service"`
	// Port is the Service port's number (0 for an ExternalName Service
	// without ports); with Service it locates the endpoints again when
	// only EndpointSlices change.
	Port int32 `json:"port,omitempty"`
	// Protocol spoken to the endpoints.
	Protocol Protocol `json:"protocol"`
	// Endpoints are the ready addresses, sorted. Empty means every request
	// is answered 503.
	Endpoints []Endpoint `json:"endpoints,omitempty"`
}

// Endpoint is one upstream address. Host is an IP address, or a DNS name for
// Services of type ExternalName (resolved when dialling).
type Endpoint struct {
	Host string `json:"host"`
	Port int32  `json:"port"`
}

// Certificate is a server certificate and its private key, PEM encoded.
type Certificate struct {
	// Name is "<namespace>/<secret>".
	Name string `json:"name"`
	// Fingerprint is a hash of the chain and the key; it identifies the
	// certificate across generations and shows in golden files instead of
	// the key material.
	Fingerprint string `json:"fingerprint"`
	// ChainPEM and KeyPEM are the Secret's tls.crt and tls.key.
	ChainPEM []byte `json:"-"`
	KeyPEM   []byte `json:"-"`
}

// NewCertificate returns a Certificate with its fingerprint computed.
func NewCertificate(name string, chainPEM, keyPEM []byte) Certificate {
	h := sha256.New()
	h.Write(chainPEM)
	h.Write([]byte{0})
	h.Write(keyPEM)
	return Certificate{Name: name, Fingerprint: hex.EncodeToString(h.Sum(nil))[:16], ChainPEM: chainPEM, KeyPEM: keyPEM}
}

// SNIBinding serves Certificate for TLS handshakes naming Host.
type SNIBinding struct {
	Host        string `json:"host"`
	Certificate string `json:"certificate"`
}

// ObjectRef names a source object.
type ObjectRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// String renders the reference as "Kind ns/name".
func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// Problem is something wrong with one object that translate worked around.
// Problems become log lines, Kubernetes Events and status conditions.
type Problem struct {
	// Object is the object that carries the mistake.
	Object ObjectRef `json:"object"`
	// Field is the path of the offending field, e.g.
	// "spec.rules[0].http.paths[1].backend.service.name".
	Field string `json:"field,omitempty"`
	// Reason is a short CamelCase word for Events and metrics.
	Reason string `json:"reason"`
	// Message says what is wrong and what Strait did about it.
	Message string `json:"message"`
}

// Equal reports whether two models serve the same. It is the change
// detector run on every generation: comparing field by field stops at the
// first difference and, on a 10,000-Ingress model, costs a sixth of
// hashing its encoding.
func Equal(a, b *Model) bool { return reflect.DeepEqual(a, b) }

// Hash returns a digest of the model's canonical encoding. Equal models have
// equal hashes, so it detects generations that change nothing.
func (m *Model) Hash() string {
	b, err := json.Marshal(m)
	if err != nil {
		// Model holds only plain values; Marshal cannot fail on it.
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Forwarding is ingress-nginx's trust in forwarded headers, from the
// ConfigMap: use-forwarded-headers, compute-full-forwarded-for,
// enable-real-ip, forwarded-for-header and proxy-real-ip-cidr.
type Forwarding struct {
	// UseForwardedHeaders trusts the incoming X-Forwarded-For (for the
	// client address), -Proto, -Port and the first -Host.
	UseForwardedHeaders bool `json:"useForwardedHeaders,omitempty"`
	// ComputeFullForwardedFor sends the incoming X-Forwarded-For plus the
	// peer, instead of the client address alone.
	ComputeFullForwardedFor bool `json:"computeFullForwardedFor,omitempty"`
	// EnableRealIP takes the client address from RealIPHeader without
	// trusting the other forwarded headers.
	EnableRealIP bool `json:"enableRealIP,omitempty"`
	// RealIPHeader names the header carrying client addresses.
	RealIPHeader string `json:"realIPHeader,omitempty"`
	// TrustedCIDRs are the proxies whose RealIPHeader is believed.
	TrustedCIDRs []string `json:"trustedCIDRs,omitempty"`
}
