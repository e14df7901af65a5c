package proxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy/upstream"
)

// retryOn is a set of proxy-next-upstream conditions.
type retryOn uint16

// The proxy-next-upstream conditions.
const (
	retryError retryOn = 1 << iota
	retryTimeout
	retryInvalidHeader
	retry403
	retry404
	retry429
	retry500
	retry502
	retry503
	retry504
)

// maxKeptBody is the largest request body kept in memory so that it can
// be sent again to another endpoint (proxy-body-size's default).
const maxKeptBody = 1 << 20

// retryPolicy is a route's compiled proxy-next-upstream settings.
type retryPolicy struct {
	on retryOn
	// nonIdempotent allows repeating POST, LOCK and PATCH once sent.
	nonIdempotent bool
	// tries caps the tries of a request; 0 is no cap.
	tries int
	// timeout is how long after the first try another may start; 0 is no
	// limit.
	timeout time.Duration
	// keepBody reads request bodies (up to maxKeptBody) before the first
	// try, so that they can be sent again. Only routes with a policy of
	// their own do: the default keeps streaming bodies.
	keepBody bool
}

// defaultRetry is proxy-next-upstream's default, "error timeout" and 3
// tries, which both engines apply.
func defaultRetry() retryPolicy { return retryPolicy{on: retryError | retryTimeout, tries: maxTries} }

// compileRetry compiles a route's retry policy; nil is the default.
func compileRetry(nu *model.NextUpstream) retryPolicy {
	if nu == nil {
		return defaultRetry()
	}
	p := retryPolicy{nonIdempotent: nu.NonIdempotent, tries: nu.Tries, timeout: time.Duration(nu.TimeoutSeconds) * time.Second}
	for _, c := range nu.On {
		switch c {
		case "error":
			p.on |= retryError
		case "timeout":
			p.on |= retryTimeout
		case "invalid_header":
			p.on |= retryInvalidHeader
		default:
			if code, ok := strings.CutPrefix(c, "http_"); ok {
				n, _ := strconv.Atoi(code)
				p.on |= statusCondition(n)
			}
		}
	}
	p.keepBody = p.on != 0
	return p
}

// statusCondition is the condition a response status falls under; 0 for
// statuses that are never retried.
func statusCondition(code int) retryOn {
	switch code {
	case http.StatusForbidden:
		return retry403
	case http.StatusNotFound:
		return retry404
	case http.StatusTooManyRequests:
		return retry429
	case http.StatusInternalServerError:
		return retry500
	case http.StatusBadGateway:
		return retry502
	case http.StatusServiceUnavailable:
		return retry503
	case http.StatusGatewayTimeout:
		return retry504
	}
	return 0
}

// failCondition classifies a failed try: a timeout, a malformed response
// head, or any other error.
func failCondition(err error) retryOn {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return retryTimeout
	case errors.Is(err, errNoResponse) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return retryError
	}
	return retryInvalidHeader
}

// idempotent reports whether a request may be sent again once an
// upstream received it: POST, LOCK and PATCH only with non_idempotent.
func (p *retryPolicy) idempotent(method string) bool {
	return p.nonIdempotent || (method != http.MethodPost && method != http.MethodPatch && method != "LOCK")
}

// more reports whether another try may start after tries failed ones:
// below the tries cap, within the time budget, and while the backend has
// an endpoint not tried yet.
func (p *retryPolicy) more(tries int, start time.Time, endpoints int) bool {
	return tries < endpoints && (p.tries == 0 || tries < p.tries) && (p.timeout == 0 || time.Since(start) < p.timeout)
}

// gatewayStatus reports the response statuses that count as endpoint
// failures for passive health checking: 502, 503 and 504, which say the
// endpoint (or what stands behind it) cannot serve. Other 5xx are the
// application's answers and leave the endpoint in service.
func gatewayStatus(code int) bool {
	return code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout
}

// reportStatus records a response's outcome for passive health checking.
func (p *Proxy) reportStatus(b *upstream.Backend, ep *upstream.Endpoint, code int) {
	if gatewayStatus(code) {
		p.reportFailure(b, ep)
		return
	}
	b.Success(ep)
}

// reportFailure records a gateway failure of ep, logging the ejection it
// may cause.
func (p *Proxy) reportFailure(b *upstream.Backend, ep *upstream.Endpoint) {
	if d := b.Failure(ep); d > 0 {
		p.log.Warn("upstream endpoint ejected", "backend", b.Name, "upstream", ep.Addr, "for", d)
	}
}

// admit takes a request slot of the route's backend (see
// upstream.Breaker), answering 503 when there is none; after true the
// caller releases it. Refusals are counted, and logged at debug level
// only: under overload they come by the thousand.
func (p *Proxy) admit(w http.ResponseWriter, r *http.Request, rt *route) bool {
	if rt.backend.Acquire(r.Context().Done(), rt.timeouts.Connect) {
		return true
	}
	p.log.Debug("circuit breaker open: too many requests to the backend", "route", rt.name, "backend", rt.backend.Name)
	plainError(w, http.StatusServiceUnavailable)
	return false
}

// keepBody reads r's body into memory, when it is at most maxKeptBody, so
// that each try can send it again; a body of unknown length is then sent
// with Content-Length, as nginx does with request buffering. A longer
// body is left to stream (kept is nil).
func keepBody(r *http.Request) (kept []byte, err error) {
	if r.ContentLength > maxKeptBody {
		return nil, nil
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, maxKeptBody+1))
	if err != nil {
		return nil, err
	}
	if len(buf) > maxKeptBody {
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
		return nil, nil
	}
	r.ContentLength = int64(len(buf))
	return buf, nil
}
