// Package plugin is Strait's plugin API: code that runs in a route's
// request phases, in ingress-nginx's order, around proxying.
//
// A plugin is written once as a Factory (a name, a configuration parser
// and a constructor) and listed in a Registry that the process builds at
// start; there is no package-level list to add to. A route names its
// plugins with the strait.dev/plugins annotation (or every route with the
// ConfigMap's plugins key), and configures each with
// strait.dev/plugin.<name>.<key> annotations. Translate checks names and
// configuration against the registry; the data plane builds one Plugin
// per route and generation and calls it for every request of the route.
//
// The phases, per request, are:
//
//   - Rewrite, before access checks: may change the request's headers
//     and path, or answer it.
//   - Access: may refuse the request with an Answer.
//   - HeaderFilter, once the response head is known (the upstream's, or
//     an answer of Strait or of a plugin): may change its status and
//     headers.
//   - FilterBody, for plugins that implement BodyFilter: each chunk of
//     the response body, uncompressed.
//   - Log, after the response: read-only, always called once the
//     request's Rewrite was called, whatever happened since.
//
// A phase that returns an error fails the request with a 500 and a log
// line naming the plugin, the phase and the error.
package plugin

import (
	"net/http"
)

// Plugin is one configured plugin on one route. Its methods are called
// concurrently for different requests; per-request data goes in
// Call.State.
type Plugin interface {
	// Rewrite may change c.Request (headers, URL path) or answer the
	// request: a non-nil Answer is sent instead of proxying.
	Rewrite(c *Call) (*Answer, error)
	// Access may refuse the request with a non-nil Answer.
	Access(c *Call) (*Answer, error)
	// HeaderFilter may change the response's status and headers before
	// they are sent.
	HeaderFilter(c *Call, resp *Head) error
	// Log runs after the response was sent; resp is what was sent.
	Log(c *Call, resp *Head)
}

// BodyFilter is implemented by plugins that see or change response
// bodies (body_filter). A plugin that changes a body's length should
// remove Content-Length in HeaderFilter, as nginx plugins do.
type BodyFilter interface {
	// FilterBody is called with each chunk of the response body as it is
	// written, then once with last set and a nil chunk when the response
	// ends; what it returns is sent instead. An error ends the body
	// there (the status is already sent) and is logged.
	FilterBody(c *Call, chunk []byte, last bool) ([]byte, error)
}

// Call is what a plugin sees of one request. Each plugin of a route gets
// its own Call per request, so State is private to it.
type Call struct {
	// Request is the client's request; Rewrite may change its headers
	// and URL (SetPath keeps the URL and RequestURI in step).
	Request *http.Request
	// ClientIP is the client's address (after trusted forwarded headers).
	ClientIP string
	// Scheme is "http" or "https", as the client used.
	Scheme string
	// Port is the port of the listener the request came in on.
	Port string
	// Route names the route ("ingress/<ns>/<name>/rule/<i>/path/<j>").
	Route string
	// ResponseHeader is the response's header map: what a plugin sets in
	// Rewrite or Access goes out with the response.
	ResponseHeader http.Header
	// State is the plugin's own per-request value, nil at first.
	State any
}

// SetPath changes the path sent upstream, keeping the query.
func (c *Call) SetPath(path string) {
	u := c.Request.URL
	u.Path, u.RawPath = path, ""
	c.Request.RequestURI = u.RequestURI()
}

// Answer is a response a plugin sends instead of proxying.
type Answer struct {
	// Status is the response status, 100 to 599.
	Status int
	// Header is added to the response.
	Header http.Header
	// Body is the response body; empty gives Strait's plain error page
	// for statuses from 400 and an empty body otherwise.
	Body []byte
}

// Head is a response's status and headers.
type Head struct {
	Status int
	Header http.Header
}

// Base implements every phase as doing nothing: embed it and override
// the phases a plugin needs.
type Base struct{}

// Rewrite does nothing.
func (Base) Rewrite(*Call) (*Answer, error) { return nil, nil }

// Access admits the request.
func (Base) Access(*Call) (*Answer, error) { return nil, nil }

// HeaderFilter leaves the response as it is.
func (Base) HeaderFilter(*Call, *Head) error { return nil }

// Log does nothing.
func (Base) Log(*Call, *Head) {}

var _ Plugin = Base{}
