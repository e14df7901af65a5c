package model

// Gateway API routing. A Gateway is served on listeners of its own; each
// listener holds the rules of the routes attached to it, already in the
// order the Gateway API's precedence gives, so that the data plane takes
// the first rule that matches.

// Gateway is one Gateway API Gateway.
type Gateway struct {
	// Name is the Gateway's "namespace/name".
	Name string `json:"name"`
	// Addresses are the IP addresses the Gateway's listeners bind, when
	// each Gateway has addresses of its own (an address pool); empty
	// means the listeners share the controller's bind address.
	Addresses []string `json:"addresses,omitempty"`
	// Listeners are its valid listeners, sorted by Port, then Name.
	Listeners []Listener `json:"listeners"`
}

// Listener is one listener of a Gateway: a port, and a hostname that
// narrows the requests it takes.
type Listener struct {
	Name string `json:"name"`
	Port int32  `json:"port"`
	// TLS terminates TLS with Certificates (HTTPS).
	TLS bool `json:"tls,omitempty"`
	// Hostname is exact, a wildcard ("*." then a suffix of one label or
	// more), or empty for any host.
	Hostname string `json:"hostname,omitempty"`
	// Certificates name entries of Model.Certificates, in the order the
	// listener lists them.
	Certificates []string `json:"certificates,omitempty"`
	// Rules are the attached routes' matches, most specific first.
	Rules []GatewayRule `json:"rules,omitempty"`
}

// GatewayRule is one match of one route rule, with what the rule does to
// the requests it matches.
type GatewayRule struct {
	// Route names the route, rule and match ("HTTPRoute ns/name rule 0
	// match 1"), for logs and metrics.
	Route string `json:"route"`
	// Hostnames are the route's hostnames that intersect the listener's,
	// sorted; empty means every host the listener takes.
	Hostnames []string `json:"hostnames,omitempty"`
	// Path matches the request path; the zero value is a prefix match
	// of "/".
	Path PathMatch `json:"path"`
	// Method, when set, is the method requests must have.
	Method string `json:"method,omitempty"`
	// Headers and Query all must match, sorted by Name.
	Headers []ValueMatch `json:"headers,omitempty"`
	Query   []ValueMatch `json:"query,omitempty"`
	// RequestHeaders change the request sent upstream.
	RequestHeaders *HeaderChanges `json:"requestHeaders,omitempty"`
	// ResponseHeaders change the response sent to the client, whoever
	// answered it.
	ResponseHeaders *HeaderChanges `json:"responseHeaders,omitempty"`
	// Redirect answers with a redirect instead of proxying.
	Redirect *GatewayRedirect `json:"redirect,omitempty"`
	// Rewrite changes the Host and path sent upstream.
	Rewrite *URLRewrite `json:"rewrite,omitempty"`
	// Mirrors get a copy of the requests sent upstream, in the route's
	// order.
	Mirrors []GatewayMirror `json:"mirrors,omitempty"`
	// Timeouts bound the exchange; nil for the proxy's own.
	Timeouts *GatewayTimeouts `json:"timeouts,omitempty"`
	// CORS answers preflight requests and adds CORS headers to the
	// responses of allowed origins.
	CORS *GatewayCORS `json:"cors,omitempty"`
	// Backends share the requests by weight, sorted by Backend (entries
	// of one backend with different filters in the route's order). A
	// backend whose reference did not resolve has Status 500 instead of
	// a Backend, and gets its share of requests answered so; a rule that
	// cannot be served as written has that one backend and no filters. A
	// redirect has none.
	Backends []WeightedAction `json:"backends,omitempty"`
}

// PathMatch is a path condition.
type PathMatch struct {
	// Type is "Exact", "PathPrefix" (whole segments) or
	// "RegularExpression"; empty means "PathPrefix".
	Type  string `json:"type,omitempty"`
	Value string `json:"value,omitempty"`
}

// ValueMatch is a header or query parameter condition.
type ValueMatch struct {
	Name string `json:"name"`
	// Type is "Exact" (the default) or "RegularExpression".
	Type  string `json:"type,omitempty"`
	Value string `json:"value"`
}

// HeaderChanges set, add and remove headers, in that order. Names are as
// the route wrote them; no name appears twice.
type HeaderChanges struct {
	Set    []KV     `json:"set,omitempty"`
	Add    []KV     `json:"add,omitempty"`
	Remove []string `json:"remove,omitempty"`
}

// KV is a header name and value.
type KV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// GatewayRedirect is a RequestRedirect filter: unset parts keep the
// request's.
type GatewayRedirect struct {
	// Scheme is "http", "https" or empty for the listener's.
	Scheme   string `json:"scheme,omitempty"`
	Hostname string `json:"hostname,omitempty"`
	// Port, 0 for the scheme's well-known port when Scheme is set, else
	// the listener's port. Port 80 with http and 443 with https are
	// left out of the Location.
	Port int32 `json:"port,omitempty"`
	// Path, when set, changes the path.
	Path *PathModifier `json:"path,omitempty"`
	// Status is 301, 302 (the default), 303, 307 or 308.
	Status int `json:"status"`
}

// URLRewrite is a URLRewrite filter: unset parts keep the request's.
type URLRewrite struct {
	// Hostname replaces the Host header sent upstream.
	Hostname string `json:"hostname,omitempty"`
	// Path, when set, changes the path sent upstream.
	Path *PathModifier `json:"path,omitempty"`
}

// GatewayMirror is a RequestMirror filter: a copy of a share of the
// requests goes to one endpoint of Backend, whose answer is discarded.
type GatewayMirror struct {
	// Backend names an entry of Model.Backends.
	Backend string `json:"backend"`
	// Numerator out of Denominator requests are mirrored, picked at
	// random; 0 < Numerator <= Denominator.
	Numerator   int32 `json:"numerator"`
	Denominator int32 `json:"denominator"`
}

// GatewayTimeouts are a rule's timeouts, in milliseconds; 0 for none. A
// request whose response has not begun when one passes is answered 504;
// a response under way is cut.
type GatewayTimeouts struct {
	// RequestMillis bounds the whole exchange, from the request's arrival
	// to the end of the response.
	RequestMillis int64 `json:"requestMillis,omitempty"`
	// BackendMillis bounds the exchange with the backend, from when the
	// request starts being sent to the end of the response; it is no
	// longer than RequestMillis when both are set.
	BackendMillis int64 `json:"backendMillis,omitempty"`
}

// GatewayCORS is a CORS filter. Allowed origins are echoed in
// Access-Control-Allow-Origin.
type GatewayCORS struct {
	// AllowOrigins are "*" alone, for every origin, or lower-case
	// "scheme://host:port" with the scheme's port written when the route
	// left it out; host "*" is any host, and a host "*.suffix" any name
	// of one label or more before the suffix.
	AllowOrigins []string `json:"allowOrigins,omitempty"`
	// AllowCredentials sends Access-Control-Allow-Credentials: true.
	AllowCredentials bool `json:"allowCredentials,omitempty"`
	// AllowMethods and AllowHeaders answer preflights; "*" alone answers
	// with the method or headers the preflight asks for.
	AllowMethods []string `json:"allowMethods,omitempty"`
	AllowHeaders []string `json:"allowHeaders,omitempty"`
	// ExposeHeaders are the response headers scripts may read; "*" alone
	// is every one (with credentials, the names the response has).
	ExposeHeaders []string `json:"exposeHeaders,omitempty"`
	// MaxAgeSeconds is how long a preflight's answer may be cached.
	MaxAgeSeconds int32 `json:"maxAgeSeconds"`
}

// PathModifier replaces the path of a request: the whole of it, or the
// prefix the rule's PathPrefix match matched (whole segments; a trailing
// slash of either the prefix or Value is ignored, and an empty result is
// "/").
type PathModifier struct {
	Type  PathModifierType `json:"type"`
	Value string           `json:"value"`
}

// PathModifierType says what a PathModifier replaces.
type PathModifierType string

// Path modifiers.
const (
	ReplaceFullPath    PathModifierType = "ReplaceFullPath"
	ReplacePrefixMatch PathModifierType = "ReplacePrefixMatch"
)

// WeightedAction is one backend of a rule and its weight.
type WeightedAction struct {
	Action
	Weight int32 `json:"weight"`
	// RequestHeaders and ResponseHeaders are the backend's own header
	// filters, applied after the rule's to the requests sent to it and
	// their responses.
	RequestHeaders  *HeaderChanges `json:"requestHeaders,omitempty"`
	ResponseHeaders *HeaderChanges `json:"responseHeaders,omitempty"`
}
