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
	// Redirect answers with a redirect instead of proxying.
	Redirect *GatewayRedirect `json:"redirect,omitempty"`
	// Backends share the requests by weight, sorted by Backend. A
	// backend whose reference did not resolve has Status 500 instead of
	// a Backend, and gets its share of requests answered so.
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

// HeaderChanges set, add and remove headers, in that order.
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
	Scheme   string `json:"scheme,omitempty"`
	Hostname string `json:"hostname,omitempty"`
	// Port, 0 to keep the request's (or the scheme's default when the
	// scheme changes).
	Port int32 `json:"port,omitempty"`
	// Path replaces the whole path (ReplaceFullPath) or, with Prefix
	// set, the matched prefix (ReplacePrefixMatch).
	Path       string `json:"path,omitempty"`
	PrefixPath bool   `json:"prefixPath,omitempty"`
	// Status is 301 or 302 (the default).
	Status int `json:"status"`
}

// WeightedAction is one backend of a rule and its weight.
type WeightedAction struct {
	Action
	Weight int32 `json:"weight"`
}
