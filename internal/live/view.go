package live

import "time"

// SchemaVersion is the version of the JSON document /live/api serves.
// Fields are only ever added within a version; a field renamed, removed or
// changed in meaning makes a new version.
const SchemaVersion = 1

// View is the /live/api document: what the current generation serves, and
// the live state of its backends. Every list is sorted (see each field)
// and is present, possibly empty, never null.
type View struct {
	SchemaVersion int `json:"schemaVersion"`
	// Now is when the document was made, UTC.
	Now time.Time `json:"now"`
	// Generation is the routing generation shown.
	Generation Generation `json:"generation"`
	// Hosts are the virtual hosts, by name; the catch-all host "*" last.
	Hosts []Host `json:"hosts"`
	// Backends are the upstream sets, by name.
	Backends []Backend `json:"backends"`
	// Certificates are the server certificates, by Secret name.
	Certificates []Certificate `json:"certificates"`
	// Problems are the objects Strait could not serve as written, by
	// object, field, reason and message.
	Problems []Problem `json:"problems"`
	// Gateways are the Gateway API Gateways, by name.
	Gateways []Gateway `json:"gateways"`
	// Traffic says whether request rates are known and over what window.
	Traffic TrafficInfo `json:"traffic"`
}

// Generation identifies the routing generation being served.
type Generation struct {
	// Number counts the generations published since the start: 1 is the
	// first.
	Number uint64 `json:"number"`
	// Kind is "full" (a new model compiled and swapped in) or "endpoints"
	// (only endpoint sets replaced in place).
	Kind string `json:"kind"`
	// Time is when it was published, UTC.
	Time time.Time `json:"time"`
	// Leader is whether this replica writes status (cluster mode); absent
	// in standalone mode.
	Leader *bool `json:"leader,omitempty"`
}

// Object names a source object.
type Object struct {
	// Kind is the object's kind: Ingress, HTTPRoute, GRPCRoute, Secret,
	// Service, ConfigMap, Gateway, ...
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// Host is one virtual host.
type Host struct {
	// Name is the host name, a one-label wildcard ("*.example.com"), or
	// "*" for the catch-all host (requests matching no other name).
	Name string `json:"name"`
	// Aliases are further names served (server-alias), sorted.
	Aliases []string `json:"aliases"`
	// Certificate is the Secret ("namespace/name") whose certificate TLS
	// handshakes for Name get; empty means the default certificate.
	Certificate string `json:"certificate"`
	// Policies are host-wide settings in short form (app-root,
	// from-to-www-redirect, client certificates).
	Policies []string `json:"policies"`
	// Routes are in match precedence order (the order the data plane
	// tries them).
	Routes []Route `json:"routes"`
	// Default is what requests matching no route get.
	Default Target `json:"default"`
}

// Target is where requests go: a backend or a direct answer.
type Target struct {
	// Backend names an entry of View.Backends; empty with Status.
	Backend string `json:"backend,omitempty"`
	// Status is the direct answer's status code; 0 with Backend.
	Status int `json:"status,omitempty"`
}

// Route is one path of one host.
type Route struct {
	// Name is the route's stable name, e.g.
	// "ingress/<ns>/<name>/rule/<i>/path/<j>".
	Name string `json:"name"`
	// Path is the path matched: for Prefix without a trailing slash
	// (except "/").
	Path string `json:"path"`
	// Match is "Exact", "Prefix", or "Regex" in hosts in regex mode
	// (use-regex or rewrite-target on any of their Ingresses).
	Match string `json:"match"`
	// Source is the object the route comes from.
	Source Object `json:"source"`
	// Backends are where the route's requests go: the primary backend,
	// then the canary's, each with the per cent of the requests that no
	// canary header or cookie decided. Empty for a direct answer.
	Backends []RouteBackend `json:"backends"`
	// Status is the direct answer's status code (a redirect, or 503 for
	// a Service that could not be resolved); 0 when proxied.
	Status int `json:"status,omitempty"`
	// Canary, when set, are the rules that send requests to the canary
	// backend.
	Canary *Canary `json:"canary"`
	// Policies are the route's settings in short form, e.g.
	// "rewrite /$1" or "rate limit 10 rps"; never secret values.
	Policies []string `json:"policies"`
	// Traffic is the request rate; null when unknown (no counters, or a
	// single sample so far).
	Traffic *Rate `json:"traffic"`
}

// RouteBackend is one backend of a route and its share.
type RouteBackend struct {
	// Backend names an entry of View.Backends; empty when Status is set.
	Backend string `json:"backend,omitempty"`
	// Status is the answer of a Gateway API backend that did not resolve
	// (500); 0 otherwise.
	Status int `json:"status,omitempty"`
	// Weight is the backend's share of the requests no canary header or
	// cookie decided, out of the sum of the weights of the route's
	// backends (100 for Ingress routes).
	Weight int `json:"weight"`
	// Canary marks the canary backend of an Ingress route.
	Canary bool `json:"canary,omitempty"`
}

// Canary is the canary rule of an Ingress route, checked in order: the
// header, the cookie, the weight.
type Canary struct {
	// Backend names the canary's entry of View.Backends.
	Backend string `json:"backend"`
	// Source is the canary Ingress.
	Source        Object `json:"source"`
	Header        string `json:"header,omitempty"`
	HeaderValue   string `json:"headerValue,omitempty"`
	HeaderPattern string `json:"headerPattern,omitempty"`
	Cookie        string `json:"cookie,omitempty"`
	// Weight out of WeightTotal requests go to the canary.
	Weight      int `json:"weight"`
	WeightTotal int `json:"weightTotal"`
}

// Rate is a route's request rate over TrafficInfo.WindowSeconds.
type Rate struct {
	// RequestsPerSecond counts every answered request, canary ones
	// included.
	RequestsPerSecond float64 `json:"requestsPerSecond"`
	// Errors5xxPerSecond counts answers with a 5xx status.
	Errors5xxPerSecond float64 `json:"errors5xxPerSecond"`
	// CanaryPerSecond counts the requests the canary backend got.
	CanaryPerSecond float64 `json:"canaryPerSecond"`
}

// TrafficInfo says what the route rates mean.
type TrafficInfo struct {
	// Available is false when Strait has no per-route counters: every
	// route's Traffic is then null.
	Available bool `json:"available"`
	// WindowSeconds is the span the rates are measured over, about the
	// last 10 s; 0 until two samples were taken (one per page or API
	// fetch at most every second).
	WindowSeconds float64 `json:"windowSeconds"`
}

// Backend is one upstream set and its endpoints' health.
type Backend struct {
	// Name is "<namespace>/<service>:<port>".
	Name string `json:"name"`
	// Service is the Service it resolves.
	Service Object `json:"service"`
	// Port is the Service port's number.
	Port int32 `json:"port"`
	// Protocol is spoken to the endpoints: HTTP, HTTPS, GRPC, GRPCS or
	// AUTO_HTTP.
	Protocol string `json:"protocol"`
	// Balance is the balancer: round_robin, ewma, chash or sticky.
	Balance string `json:"balance"`
	// InFlight and Pending are the requests holding and waiting for a
	// circuit-breaker slot; MaxRequests and MaxPending their limits (0:
	// none). Saturated is set while every slot is taken.
	InFlight    int64 `json:"inFlight"`
	Pending     int   `json:"pending"`
	MaxRequests int   `json:"maxRequests"`
	MaxPending  int   `json:"maxPending"`
	Saturated   bool  `json:"saturated"`
	// Endpoints are the current endpoints in the balancer's order.
	Endpoints []Endpoint `json:"endpoints"`
}

// Endpoint states.
const (
	// StateHealthy: in service, no recent failure.
	StateHealthy = "healthy"
	// StateFailing: in service, with failures in a row.
	StateFailing = "failing"
	// StateEjected: out of service by passive health checking until
	// EjectedUntil.
	StateEjected = "ejected"
	// StateUnknown: the data plane's state could not be read.
	StateUnknown = "unknown"
)

// Endpoint is one endpoint's passive health.
type Endpoint struct {
	// Address is "host:port".
	Address string `json:"address"`
	// State is healthy, failing, ejected or unknown.
	State string `json:"state"`
	// ConsecutiveFailures is the run of failures (connect errors, resets,
	// timeouts, 502/503/504); an endpoint back from an ejection starts
	// one short of the threshold.
	ConsecutiveFailures int `json:"consecutiveFailures"`
	// EjectedUntil is when an ejection ends, UTC; null in service.
	EjectedUntil *time.Time `json:"ejectedUntil"`
}

// ExpiringSoonDays is how close to its NotAfter a certificate is flagged.
const ExpiringSoonDays = 14

// Certificate is a server certificate: what it names and when it
// expires. Neither its key nor its PEM is ever shown.
type Certificate struct {
	// Name is the Secret's "namespace/name".
	Name string `json:"name"`
	// Secret is the Secret it comes from.
	Secret Object `json:"secret"`
	// Fingerprint identifies the chain and key across generations.
	Fingerprint string `json:"fingerprint"`
	// Subject is the leaf's subject common name.
	Subject string `json:"subject"`
	// DNSNames are the leaf's subject alternative names, as written.
	DNSNames []string `json:"dnsNames"`
	// Hosts are the SNI names and Gateway listeners served with it,
	// sorted.
	Hosts []string `json:"hosts"`
	// Default is set for the --default-ssl-certificate.
	Default bool `json:"default"`
	// NotAfter is the leaf's expiry, UTC.
	NotAfter time.Time `json:"notAfter"`
	// DaysLeft is whole days until NotAfter; negative once expired.
	DaysLeft int `json:"daysLeft"`
	// ExpiringSoon is set within ExpiringSoonDays of NotAfter; Expired
	// past it.
	ExpiringSoon bool `json:"expiringSoon"`
	Expired      bool `json:"expired"`
	// Error says why the chain could not be read; the other fields are
	// then empty.
	Error string `json:"error,omitempty"`
}

// Problem is something wrong with one object.
type Problem struct {
	// Object is the object that carries the mistake.
	Object Object `json:"object"`
	// Field is the path of the offending field, when known.
	Field string `json:"field,omitempty"`
	// Reason is a short CamelCase word.
	Reason string `json:"reason"`
	// Message says what is wrong and what Strait did about it.
	Message string `json:"message"`
}

// Gateway is one Gateway API Gateway.
type Gateway struct {
	// Name is "namespace/name".
	Name string `json:"name"`
	// Addresses are the Gateway's own addresses (--gateway-address-pool);
	// empty when its listeners share the bind address.
	Addresses []string `json:"addresses"`
	// Listeners are its valid listeners.
	Listeners []Listener `json:"listeners"`
}

// Listener is one valid listener of a Gateway, by port then name.
type Listener struct {
	Name string `json:"name"`
	Port int32  `json:"port"`
	// Protocol is HTTP or HTTPS.
	Protocol string `json:"protocol"`
	// Hostname narrows the requests taken; empty takes any.
	Hostname string `json:"hostname"`
	// Certificates are Secret names, in the listener's order.
	Certificates []string `json:"certificates"`
	// Rules are the attached routes' matches, most specific first.
	Rules []Rule `json:"rules"`
}

// Rule is one match of one rule of an HTTPRoute or GRPCRoute.
type Rule struct {
	// Name is "<Kind> <ns>/<name> rule <rule> match <i>".
	Name string `json:"name"`
	// Source is the route object.
	Source Object `json:"source"`
	// Hostnames the rule applies to; empty means the listener's.
	Hostnames []string `json:"hostnames"`
	Path      string   `json:"path"`
	// Match is the path match: Exact, PathPrefix or RegularExpression.
	Match string `json:"match"`
	// Conditions are the method, header and query conditions in short
	// form.
	Conditions []string `json:"conditions"`
	// Backends share the requests by weight; empty for a redirect.
	Backends []RouteBackend `json:"backends"`
	Policies []string       `json:"policies"`
}
