package proxy

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/straitgw/strait/internal/model"
)

// Gateway API rule timeouts: one deadline, the earlier of the request
// timeout (counted from the request's arrival) and the backend timeout
// (counted from when forwarding begins), on the context of the request
// proxied. Before the response begins, the deadline ends the exchange
// with a 504; after, the next write of the response fails and the
// response is cut.

// errRouteTimeout is the cause of a context whose rule timeout passed.
var errRouteTimeout = errors.New("the route's timeout passed")

// gwTimeouts is a compiled model.GatewayTimeouts.
type gwTimeouts struct {
	request, backend time.Duration
}

func compileTimeouts(t *model.GatewayTimeouts) *gwTimeouts {
	if t == nil || t.RequestMillis <= 0 && t.BackendMillis <= 0 {
		return nil
	}
	return &gwTimeouts{request: time.Duration(t.RequestMillis) * time.Millisecond, backend: time.Duration(t.BackendMillis) * time.Millisecond}
}

// longest is the longer timeout: the upstream read and send timeouts
// (which wait between two reads or writes) are raised to it, so that
// they do not end an exchange the rule allows more time.
func (t *gwTimeouts) longest() time.Duration { return max(t.request, t.backend) }

// deadline is the deadline of a request that arrived at start, forwarded
// now.
func (t *gwTimeouts) deadline(start time.Time) time.Time {
	var d time.Time
	if t.request > 0 {
		d = start.Add(t.request)
	}
	if t.backend > 0 {
		if b := time.Now().Add(t.backend); d.IsZero() || b.Before(d) {
			d = b
		}
	}
	return d
}

// forwardWithin proxies r to rt before deadline: the forwarding code ends
// an exchange whose context is done by aborting the handler, which is
// turned here into a 504 when nothing was written yet.
func (h *gwHandler) forwardWithin(w *gwResponse, r *http.Request, rt *route, deadline time.Time) {
	ctx, cancel := context.WithDeadlineCause(r.Context(), deadline, errRouteTimeout)
	defer cancel()
	w.ctx = ctx
	defer func() {
		v := recover()
		if v == nil && !w.cut {
			return
		}
		if v == http.ErrAbortHandler && !w.wrote && context.Cause(ctx) == errRouteTimeout {
			w.ctx = nil
			plainError(w, http.StatusGatewayTimeout)
			return
		}
		if v == nil {
			v = http.ErrAbortHandler // a response cut short
		}
		panic(v)
	}()
	h.p.forward(w, r.WithContext(ctx), rt, &h.li, nil)
}
