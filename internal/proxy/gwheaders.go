package proxy

import (
	"context"
	"net/http"

	"github.com/straitgw/strait/internal/model"
)

// Gateway API header filters: RequestHeaderModifier and
// ResponseHeaderModifier, of a rule or of one of its backends.

// gwHeaderOps is a compiled model.HeaderChanges: canonical names, and
// the one-value lists set assigns, built once.
type gwHeaderOps struct {
	set    []gwHeaderValue
	add    []gwHeaderValue
	remove []string
}

type gwHeaderValue struct {
	name  string
	value string
	// list is []string{value} with no room to grow: an append to what
	// set stored copies it instead of writing here.
	list []string
}

// compileHeaderOps returns nil for no changes.
func compileHeaderOps(c *model.HeaderChanges) *gwHeaderOps {
	if c == nil || len(c.Set)+len(c.Add)+len(c.Remove) == 0 {
		return nil
	}
	o := &gwHeaderOps{}
	for _, kv := range c.Set {
		v := []string{kv.Value}
		o.set = append(o.set, gwHeaderValue{name: http.CanonicalHeaderKey(kv.Name), value: kv.Value, list: v[:1:1]})
	}
	for _, kv := range c.Add {
		o.add = append(o.add, gwHeaderValue{name: http.CanonicalHeaderKey(kv.Name), value: kv.Value})
	}
	for _, n := range c.Remove {
		o.remove = append(o.remove, http.CanonicalHeaderKey(n))
	}
	return o
}

// apply sets, adds and removes, in that order. A nil o changes nothing.
func (o *gwHeaderOps) apply(h http.Header) {
	if o == nil {
		return
	}
	for _, kv := range o.set {
		h[kv.name] = kv.list
	}
	for _, kv := range o.add {
		vv := h[kv.name]
		h[kv.name] = append(vv[:len(vv):len(vv)], kv.value)
	}
	for _, n := range o.remove {
		delete(h, n)
	}
}

// gwResponse applies response header changes to the response of a
// request, whoever writes it: the upstream's copied by respond, or
// Strait's own answer. It also refuses writes once a rule timeout passed
// (gwtimeout.go).
type gwResponse struct {
	http.ResponseWriter
	// cors, when set, adds the CORS headers for origin, which it allows;
	// changes apply after, in order: the rule's, then the backend's.
	cors    *gwCORS
	origin  string
	changes [2]*gwHeaderOps
	wrote   bool
	// ctx, when set, carries the rule's deadline: once it is done, writes
	// fail and set cut.
	ctx context.Context
	cut bool
}

func (w *gwResponse) WriteHeader(code int) {
	if !w.wrote && code >= 200 {
		w.wrote = true
		h := w.ResponseWriter.Header()
		if w.cors != nil {
			w.cors.respond(h, w.origin)
		}
		for _, c := range w.changes {
			c.apply(h)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *gwResponse) Write(b []byte) (int, error) {
	if w.ctx != nil && w.ctx.Err() != nil {
		w.cut = true
		return 0, context.Cause(w.ctx)
	}
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the server's writer (flush,
// deadlines, hijacking for upgrades).
func (w *gwResponse) Unwrap() http.ResponseWriter { return w.ResponseWriter }
