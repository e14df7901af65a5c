package proxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/straitgw/strait/internal/model"
)

// mirror-target sends a copy of each proxied request to another URL and
// discards the answer. It is served by the net/http handler (needsFull).
// The copy goes out alongside the proxied request; the client's answer
// never waits for it.

// mirrorRule is a compiled model.Mirror.
type mirrorRule struct {
	target string
	host   string
	body   bool
}

// maxMirrorBody bounds the request body held in memory to be sent twice;
// a longer body is mirrored without it.
const maxMirrorBody = 8 << 20

func compileMirror(m *model.Mirror) *mirrorRule {
	if m == nil {
		return nil
	}
	return &mirrorRule{target: m.Target, host: m.Host, body: !m.NoBody}
}

// newMirrorClient returns the client mirrors are sent with: nginx's
// proxy_ssl defaults (no verification), no redirects followed.
func newMirrorClient() *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: mirrorConnectTimeout}).DialContext,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // nginx's proxy_ssl_verify off
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     60 * time.Second,
	}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// mirrorConnectTimeout is the connect timeout towards mirrors,
// proxy-connect-timeout's default.
const mirrorConnectTimeout = 5 * time.Second

// expand substitutes the target's variables for request r.
func (m *mirrorRule) expand(r *http.Request, https bool) string {
	if !strings.Contains(m.target, "$") {
		return m.target
	}
	uri := r.RequestURI
	if uri == "" || uri[0] != '/' {
		uri = r.URL.RequestURI()
	}
	path, query, _ := strings.Cut(uri, "?")
	scheme := "http"
	if https {
		scheme = "https"
	}
	return strings.NewReplacer(
		"$request_uri", uri, "$query_string", query, "$uri", path, "$args", query,
		"$host", lower(stripPort(r.Host)), "$scheme", scheme,
	).Replace(m.target)
}

// mirror sends a copy of r to m's target. When the body is mirrored it
// is read first (up to maxMirrorBody) and r gets it back for the proxied
// request.
func (p *Proxy) mirror(m *mirrorRule, r *http.Request, https bool, timeout time.Duration) {
	var body []byte
	if m.body {
		body = mirrorBody(r)
	}
	target := m.expand(r, https)
	mr, cancel, err := mirrorRequest(r, target, body, timeout)
	if err != nil {
		p.log.Warn("mirror request failed", "target", target, "error", err)
		return
	}
	if m.host != "" {
		mr.Host = m.host
	}
	// nginx's mirror sub-request carries the original's proxy headers.
	mr.Header.Set("X-Original-URI", r.RequestURI)
	p.sendMirror(p.mirrors.Transport, mr, cancel)
}

// mirrorBody reads r's body, up to maxMirrorBody, and gives it back to r
// for the proxied request. It returns nil for a body it does not hold
// whole (or none).
func mirrorBody(r *http.Request) []byte {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxMirrorBody+1))
	rest := r.Body
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), rest), rest}
	if err != nil || len(b) > maxMirrorBody {
		return nil
	}
	return b
}

// mirrorRequest is a copy of r for target with body, and the headers of
// r that are passed on. cancel ends it, at the latest after timeout.
func mirrorRequest(r *http.Request, target string, body []byte, timeout time.Duration) (*http.Request, context.CancelFunc, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	mr, err := http.NewRequestWithContext(ctx, r.Method, target, bytes.NewReader(body))
	if err != nil {
		cancel()
		return nil, nil, err
	}
	if body == nil {
		mr.Body, mr.ContentLength = http.NoBody, 0
	}
	for k, vv := range r.Header {
		if !skipRequestHeader(k) {
			mr.Header[k] = vv
		}
	}
	return mr, cancel, nil
}

// sendMirror sends mr with rt in the background and discards the answer.
func (p *Proxy) sendMirror(rt http.RoundTripper, mr *http.Request, cancel context.CancelFunc) {
	go func() {
		defer cancel()
		resp, err := rt.RoundTrip(mr)
		if err != nil {
			p.log.Debug("mirror request failed", "target", mr.URL.String(), "error", err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}()
}
