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
	// wildcard names ("*.example.com", one label) both appear here. A
	// host unchanged from one model to the next is the same pointer, so
	// that a compiler can reuse its work without comparing contents.
	Hosts []*VirtualHost `json:"hosts,omitempty"`
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
	// Tracing, when set, is where the spans of traced routes
	// (Policy.Tracing) are exported; nil traces nothing.
	Tracing *Tracing `json:"tracing,omitempty"`
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
	// Headers are the request and response header settings of the
	// controller ConfigMap, applied on every route; the zero value is
	// ingress-nginx's default.
	Headers Headers `json:"headers,omitzero"`
	// ServerTLS are the TLS versions and suites of the HTTPS listener
	// (ssl-protocols, ssl-ciphers); nil means ingress-nginx's defaults,
	// TLS 1.2 and 1.3 with its ECDHE AES-GCM and ChaCha20 suites.
	ServerTLS *TLSParams `json:"serverTLS,omitempty"`
	// NoHTTP2 offers only HTTP/1.1 to TLS clients (use-http2 false).
	NoHTTP2 bool `json:"noHTTP2,omitempty"`
	// SNI binds server names (exact or one-label wildcard) to certificates,
	// sorted by Host. Names absent here get the default certificate.
	SNI []SNIBinding `json:"sni,omitempty"`
	// Passthrough lists the hosts whose TLS connections are passed,
	// unterminated, to a backend (ssl-passthrough), sorted by Host.
	Passthrough []Passthrough `json:"passthrough,omitempty"`
	// Gateways are the Gateway API Gateways served, sorted by Name (see
	// gateway.go).
	Gateways []Gateway `json:"gateways,omitempty"`
}

// Passthrough sends TLS connections whose SNI is Host to an endpoint of
// Backend without terminating them.
type Passthrough struct {
	Host    string `json:"host"`
	Backend string `json:"backend"`
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
	// Aliases are further names served by this host (server-alias), sorted:
	// exact names, one-label wildcards, and "~" followed by an RE2 regular
	// expression matched against the lower-case host without port; those
	// are tried, in model order, after every exact and wildcard name.
	Aliases []string `json:"aliases,omitempty"`
	// RedirectTo, when set, makes this a from-to-www-redirect host: every
	// request is redirected to this host name (see WWWRedirect).
	RedirectTo *WWWRedirect `json:"redirectTo,omitempty"`
	// ClientAuth, when set, asks TLS clients of the host for a
	// certificate and checks it (auth-tls-*).
	ClientAuth *ClientAuth `json:"clientAuth,omitempty"`
	// Routes in match precedence order: Exact before Prefix, then longer
	// paths before shorter ones, then by Name.
	Routes []Route `json:"routes,omitempty"`
	// Default is the action for requests that match no route.
	Default Action `json:"default"`
}

// WWWRedirect is the answer of a from-to-www-redirect host:
// <scheme>://<Host>:<port><request URI with one trailing "/" removed>,
// the port always written (80 or 443, or X-Forwarded-Port when forwarded
// headers are trusted).
type WWWRedirect struct {
	// Host is the name redirected to.
	Host string `json:"host"`
	// Code is the redirect status (http-redirect-code).
	Code int `json:"code"`
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
	// ProtocolGRPC is HTTP/2 in clear text with prior knowledge (h2c).
	ProtocolGRPC Protocol = "GRPC"
	// ProtocolGRPCS is HTTP/2 over TLS.
	ProtocolGRPCS Protocol = "GRPCS"
	// ProtocolAutoHTTP is HTTPS for requests that came over TLS, HTTP
	// otherwise (nginx's $scheme).
	ProtocolAutoHTTP Protocol = "AUTO_HTTP"
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
	// TLS, when set, configures TLS to the endpoints (proxy-ssl-*); nil
	// means nginx's defaults: no client certificate, no verification, no
	// SNI. Backends that differ only here have different names.
	TLS *BackendTLS `json:"tls,omitempty"`
	// Endpoints are the ready addresses, sorted. Empty means every request
	// is answered 503.
	Endpoints []Endpoint `json:"endpoints,omitempty"`
	// ServiceUpstream: Endpoints is the Service's cluster IP and port
	// (service-upstream), not its EndpointSlices.
	ServiceUpstream bool `json:"serviceUpstream,omitempty"`
	// Balance chooses the endpoint per request; nil is round robin.
	Balance *Balance `json:"balance,omitempty"`
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

// Text is the problem as users read it, in Events and admission answers:
// the field, when there is one, then the message.
func (p Problem) Text() string {
	if p.Field == "" {
		return p.Message
	}
	return p.Field + ": " + p.Message
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

// Headers are ingress-nginx's global header settings, from the ConfigMap:
// proxy-set-headers, add-headers, hide-headers, server-tokens,
// generate-request-id and enable-underscores-in-headers.
type Headers struct {
	// Upstream are sent on every upstream request, sorted by Name; each
	// replaces the client's header of that name, and an empty Value only
	// removes it.
	Upstream []Header `json:"upstream,omitempty"`
	// Response are set on every response, sorted by Name; each replaces
	// the upstream's header of that name, and an empty Value only removes
	// it.
	Response []Header `json:"response,omitempty"`
	// Hide are lower-case names of upstream response headers removed,
	// sorted.
	Hide []string `json:"hide,omitempty"`
	// ServerTokens sends "Server: strait" on every response.
	ServerTokens bool `json:"serverTokens,omitempty"`
	// NoRequestIDGeneration passes the client's X-Request-ID upstream but
	// makes none up when it is absent (generate-request-id false).
	NoRequestIDGeneration bool `json:"noRequestIDGeneration,omitempty"`
	// Underscores passes client headers whose names contain "_", which
	// are dropped by default (enable-underscores-in-headers).
	Underscores bool `json:"underscores,omitempty"`
	// InvalidNames passes client headers whose names have characters
	// other than letters, digits, "-" and "_", which are dropped by
	// default (ignore-invalid-headers false).
	InvalidNames bool `json:"invalidNames,omitempty"`
}

// Header is a header name, canonical, and its value.
type Header struct {
	Name string `json:"name"`
	// Value is the literal value, or, when Parts is set, the value as
	// written, for reading only.
	Value string `json:"value"`
	// Parts, when set, build the value per request (proxy-set-headers
	// with variables).
	Parts []HeaderPart `json:"parts,omitempty"`
}

// HeaderPart is literal Text or, when Var is set, a variable's value.
type HeaderPart struct {
	Text string    `json:"text,omitempty"`
	Var  HeaderVar `json:"var,omitempty"`
}

// HeaderVar is an nginx variable a header value may use.
type HeaderVar string

// The variables of header values.
const (
	// VarHost is $host: the request's host name, lower-case, no port.
	VarHost HeaderVar = "host"
	// VarMsec is $msec: the time in seconds with millisecond resolution.
	VarMsec HeaderVar = "msec"
	// VarRemoteAddr is $remote_addr: the client address (after the
	// real-IP rules).
	VarRemoteAddr HeaderVar = "remote_addr"
	// VarScheme is $scheme: the scheme of the client connection.
	VarScheme HeaderVar = "scheme"
)

// Balance is how a backend chooses an endpoint for each request
// (load-balance, upstream-hash-by and affinity). A nil *Balance is
// round robin.
type Balance struct {
	// Algorithm is the balancer, resolved with ingress-nginx's
	// precedence: affinity cookie, then upstream-hash-by, then
	// load-balance.
	Algorithm Algorithm `json:"algorithm"`
	// HashBy is the key hashed for AlgorithmHash.
	HashBy *HashBy `json:"hashBy,omitempty"`
	// Affinity is the cookie for AlgorithmSticky.
	Affinity *Affinity `json:"affinity,omitempty"`
}

// Algorithm names a balancer.
type Algorithm string

// Balancers.
const (
	// AlgorithmRoundRobin takes the endpoints in turn.
	AlgorithmRoundRobin Algorithm = "round_robin"
	// AlgorithmEWMA picks the better of two random endpoints by their
	// exponentially weighted moving average response time.
	AlgorithmEWMA Algorithm = "ewma"
	// AlgorithmHash maps a key computed from the request onto a
	// consistent-hash ring of the endpoints.
	AlgorithmHash Algorithm = "chash"
	// AlgorithmSticky pins clients to an endpoint with a cookie.
	AlgorithmSticky Algorithm = "sticky"
)

// HashBy is an upstream-hash-by expression: the concatenation of its
// parts, evaluated per request, is the consistent-hash key.
type HashBy struct {
	// Expr is the expression as written, for display.
	Expr string `json:"expr"`
	// Parts are the literals and variables of Expr, in order.
	Parts []HashPart `json:"parts"`
	// SubsetSize, when not 0, hashes to a group of this many endpoints
	// and picks one of the group at random (upstream-hash-by-subset).
	SubsetSize int `json:"subsetSize,omitempty"`
}

// HashPart is a literal or a variable of an upstream-hash-by expression.
// Exactly one of Literal and Var is set.
type HashPart struct {
	Literal string  `json:"literal,omitempty"`
	Var     HashVar `json:"var,omitempty"`
	// Name is the argument, header or cookie name of HashArg, HashHeader
	// and HashCookie variables (headers lower-case, with "-" for "_").
	Name string `json:"name,omitempty"`
}

// HashVar is an nginx variable upstream-hash-by can use.
type HashVar string

// The variables upstream-hash-by understands, with nginx's meaning.
const (
	HashRequestURI HashVar = "request_uri" // path and query as received
	HashURI        HashVar = "uri"         // the normalised, decoded path
	HashArgs       HashVar = "args"        // the query string (also $query_string)
	HashArg        HashVar = "arg_"        // one query argument
	HashHeader     HashVar = "http_"       // one request header
	HashCookie     HashVar = "cookie_"     // one request cookie
	HashRemoteAddr HashVar = "remote_addr" // the client address (also $binary_remote_addr)
	HashHost       HashVar = "host"        // the Host without port, lower-case
	HashScheme     HashVar = "scheme"      // http or https, of the connection
	HashMethod     HashVar = "request_method"
)

// Affinity is cookie-based session affinity.
type Affinity struct {
	// Mode is "balanced" (a random key on the consistent-hash ring) or
	// "persistent" (the cookie names an endpoint).
	Mode AffinityMode `json:"mode"`
	// ChangeOnFailure re-pins a client whose endpoint failed to another
	// endpoint and re-issues the cookie; otherwise retries go back to the
	// cookie's endpoint.
	ChangeOnFailure bool `json:"changeOnFailure,omitempty"`
	// Cookie are the cookie's attributes.
	Cookie SessionCookie `json:"cookie"`
}

// AffinityMode is affinity-mode.
type AffinityMode string

// Affinity modes.
const (
	AffinityBalanced   AffinityMode = "balanced"
	AffinityPersistent AffinityMode = "persistent"
)

// SessionCookie are the attributes of the affinity cookie. HttpOnly is
// always set.
type SessionCookie struct {
	Name string `json:"name"`
	// Path, when empty, is the path of the Ingress of the route that sets
	// the cookie (Policy.AffinityCookiePath).
	Path   string `json:"path,omitempty"`
	Domain string `json:"domain,omitempty"`
	// SameSite is "None", "Lax", "Strict" or empty for no attribute.
	SameSite string `json:"sameSite,omitempty"`
	// ConditionalSameSiteNone is session-cookie-conditional-samesite-none.
	ConditionalSameSiteNone bool `json:"conditionalSameSiteNone,omitempty"`
	// Secure, when nil, is true for requests that arrived over TLS.
	Secure *bool `json:"secure,omitempty"`
	// Expires and MaxAge are lifetimes in seconds; 0 means not sent.
	Expires int `json:"expires,omitempty"`
	MaxAge  int `json:"maxAge,omitempty"`
}

// TLSParams are TLS versions and suites.
type TLSParams struct {
	// MinVersion and MaxVersion are nginx's names, "TLSv1" to "TLSv1.3";
	// empty means Go's defaults.
	MinVersion string `json:"minVersion,omitempty"`
	MaxVersion string `json:"maxVersion,omitempty"`
	// CipherSuites are Go's names of the TLS 1.0 to 1.2 suites offered,
	// sorted; empty means Go's defaults. TLS 1.3 suites are not chosen.
	CipherSuites []string `json:"cipherSuites,omitempty"`
}

// BackendTLS is TLS towards a backend beyond nginx's defaults
// (proxy-ssl-secret and the proxy-ssl-* it enables).
type BackendTLS struct {
	// Secret is "<namespace>/<name>" of the Secret with the material.
	Secret string `json:"secret"`
	// Fingerprint identifies the material and every setting below; pools
	// of connections are keyed by it.
	Fingerprint string `json:"fingerprint"`
	// CertPEM and KeyPEM are the client certificate presented to the
	// endpoints (tls.crt, tls.key); CAPEM is the CA bundle (ca.crt).
	CertPEM []byte `json:"-"`
	KeyPEM  []byte `json:"-"`
	CAPEM   []byte `json:"-"`
	// Verify checks the endpoint's certificate against CAPEM and
	// ServerName.
	Verify bool `json:"verify,omitempty"`
	// VerifyDepth is the number of CA certificates allowed above the
	// endpoint's.
	VerifyDepth int `json:"verifyDepth"`
	// ServerName is checked when verifying and sent as SNI with SNI.
	ServerName string `json:"serverName"`
	// SNI sends ServerName in the handshake.
	SNI bool `json:"sni,omitempty"`
	// Params are the versions and suites offered.
	Params TLSParams `json:"params"`
}

// ClientAuth is a host's client-certificate check (auth-tls-*).
type ClientAuth struct {
	// Secret is "<namespace>/<name>" of the Secret with the CA.
	Secret string `json:"secret"`
	// Fingerprint identifies CAPEM and CRLPEM.
	Fingerprint string `json:"fingerprint,omitempty"`
	// CAPEM is the CA bundle (ca.crt); CRLPEM the optional revocation
	// list (ca.crl).
	CAPEM  []byte `json:"-"`
	CRLPEM []byte `json:"-"`
	// Verify is "on", "off", "optional" or "optional_no_ca".
	Verify string `json:"verify"`
	// VerifyDepth is the number of CA certificates allowed above the
	// client's.
	VerifyDepth int `json:"verifyDepth"`
	// PassCertificate sends the certificate upstream in ssl-client-cert.
	PassCertificate bool `json:"passCertificate,omitempty"`
	// MatchSubject, when set, is a Go regular expression the certificate's
	// subject DN must match (auth-tls-match-cn); else 403.
	MatchSubject string `json:"matchSubject,omitempty"`
	// ErrorPage, when set, is where requests whose certificate is missing
	// or invalid are redirected (302) instead of getting 400.
	ErrorPage string `json:"errorPage,omitempty"`
	// Deny answers every HTTPS request of the host 403: the Secret could
	// not be used.
	Deny bool `json:"deny,omitempty"`
}
