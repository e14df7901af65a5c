// Package echo is a small backend that describes the requests it receives.
// The quickstart demo runs it behind Strait so that a user can see which
// backend a route chose and what the proxy forwarded (Host, path, headers),
// and tests use it as an upstream for plain HTTP, WebSocket and server-sent
// events without each writing its own fake.
package echo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
)

// MaxBodyBytes caps how much of a request body is read and echoed, so that a
// large upload cannot make the echo server hold unbounded memory. The same
// cap applies to single WebSocket messages.
const MaxBodyBytes = 1 << 20

// MaxEvents caps the n parameter of /sse so a typo cannot keep a stream, and
// the proxy connection under it, open for hours.
const MaxEvents = 10000

// BackendHeader is the response header carrying the backend's name, so
// callers can tell which backend answered without parsing the body (and can
// do so for SSE and WebSocket responses, which have no JSON body).
const BackendHeader = "X-Echo-Backend"

// Server is an http.Handler that echoes requests back. Its behaviour is
// selected per request:
//
//   - A WebSocket upgrade, on any path, is accepted and every message is
//     sent back with the same message type until the client closes.
//   - Path /sse streams server-sent events (see ServeHTTP for parameters).
//   - Anything else gets a JSON description of the request (see Echo).
//
// The query parameters status=NNN and sleep=DURATION tune plain responses.
// The zero value is usable; Name is then empty.
type Server struct {
	// Name identifies this backend in responses, so demos and tests can see
	// which of several backends a request reached.
	Name string
}

// New returns an echo handler that reports itself as name.
func New(name string) http.Handler {
	return &Server{Name: name}
}

// Echo is the JSON body of a plain echo response. It is exported so tests
// can decode responses into it rather than into untyped maps.
type Echo struct {
	// Backend is the Server's Name.
	Backend string `json:"backend"`
	// Host is the request's Host as the backend saw it, which shows whether
	// a proxy preserved or rewrote it.
	Host string `json:"host"`
	// Method is the request method.
	Method string `json:"method"`
	// URI is the unmodified request-target from the request line.
	URI string `json:"uri"`
	// Path is the decoded URL path.
	Path string `json:"path"`
	// Query is the raw, still-encoded query string without the "?".
	Query string `json:"query"`
	// Proto is the protocol version the backend received, e.g. "HTTP/1.1".
	Proto string `json:"proto"`
	// Headers are the request headers in canonical form. Host is not among
	// them; Go moves it to Host.
	Headers map[string][]string `json:"headers"`
	// Body is the request body, up to MaxBodyBytes. JSON strings are
	// UTF-8, so invalid bytes in binary bodies come out as U+FFFD; compare
	// text bodies only.
	Body string `json:"body"`
	// BodyTruncated reports that the body was longer than MaxBodyBytes and
	// Body holds only its start.
	BodyTruncated bool `json:"bodyTruncated,omitempty"`
}

// upgrader accepts connections from any origin: the echo server is a test
// and demo backend, and checking Origin is the job of whatever sits in front
// of it, not of the thing the proxy is being tested against.
var upgrader = websocket.Upgrader{
	CheckOrigin: func(*http.Request) bool { return true },
}

// ServeHTTP dispatches on the kind of request.
//
// Plain requests accept:
//   - status=NNN: answer with status NNN (200-599) instead of 200.
//   - sleep=DURATION: wait a Go duration (e.g. "250ms") before answering, or
//     until the client goes away, whichever comes first.
//
// Path /sse accepts n=N (default 3) and interval=DURATION (default 100ms) and
// writes N events "data: <i>\n\n", i counting from 1, flushing each one and
// waiting interval between them. sleep applies to it too, before the headers.
//
// Malformed parameters get 400 with a plain-text reason, so a typo in a test
// fails loudly instead of silently using a default.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if websocket.IsWebSocketUpgrade(r) {
		s.serveWebSocket(w, r)
		return
	}
	q := r.URL.Query()
	status := http.StatusOK
	if v := q.Get("status"); v != "" {
		n, err := strconv.Atoi(v)
		// 1xx would be sent as an interim response followed by an implicit
		// 200, and net/http panics outside 100-999, so neither is useful.
		if err != nil || n < 200 || n > 599 {
			http.Error(w, fmt.Sprintf("echo: status %q is not an integer in 200-599", v), http.StatusBadRequest)
			return
		}
		status = n
	}
	var sleep time.Duration
	if v := q.Get("sleep"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			http.Error(w, fmt.Sprintf("echo: sleep %q is not a non-negative Go duration", v), http.StatusBadRequest)
			return
		}
		sleep = d
	}

	if r.URL.Path == "/sse" {
		s.serveSSE(w, r, sleep)
		return
	}

	// Read the body before sleeping so that a client streaming an upload is
	// not stalled by the delay, and the delay measures only response time.
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		http.Error(w, "echo: reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	truncated := len(body) > MaxBodyBytes
	if truncated {
		body = body[:MaxBodyBytes]
	}
	if !wait(r, sleep) {
		return
	}

	e := Echo{
		Backend:       s.Name,
		Host:          r.Host,
		Method:        r.Method,
		URI:           r.RequestURI,
		Path:          r.URL.Path,
		Query:         r.URL.RawQuery,
		Proto:         r.Proto,
		Headers:       r.Header,
		Body:          string(body),
		BodyTruncated: truncated,
	}
	// Indented and without HTML escaping because people read this output in
	// a terminal during the demo; "<" is clearer than "\u003c" there.
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(e); err != nil {
		// Echo holds only strings, bools and a map of strings; this cannot
		// happen, but a 500 is a better answer than a panic if it does.
		http.Error(w, "echo: encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set(BackendHeader, s.Name)
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// Errors here mean the client left or the status forbids a body (204,
	// 304); there is no one left to tell.
	_, _ = w.Write(out.Bytes())
}

// wait sleeps for d unless the request's context ends first, and reports
// whether the handler should still answer. Honouring the context matters for
// proxy timeout tests: the proxy gives up, and the backend must not keep a
// goroutine sleeping for the rest of a long sleep.
func wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return r.Context().Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// serveSSE streams numbered events. Each event is flushed as soon as it is
// written, which is the point: a proxy that buffers responses makes all the
// events arrive together at the end, and tests detect that by timing.
func (s *Server) serveSSE(w http.ResponseWriter, r *http.Request, sleep time.Duration) {
	q := r.URL.Query()
	n := 3
	if v := q.Get("n"); v != "" {
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 || i > MaxEvents {
			http.Error(w, fmt.Sprintf("echo: n %q is not an integer in 0-%d", v, MaxEvents), http.StatusBadRequest)
			return
		}
		n = i
	}
	interval := 100 * time.Millisecond
	if v := q.Get("interval"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			http.Error(w, fmt.Sprintf("echo: interval %q is not a non-negative Go duration", v), http.StatusBadRequest)
			return
		}
		interval = d
	}
	if !wait(r, sleep) {
		return
	}

	h := w.Header()
	h.Set(BackendHeader, s.Name)
	h.Set("Content-Type", "text/event-stream")
	// Caches and buffering proxies must pass the stream through as it comes.
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	// ResponseController finds the Flusher through wrapping writers (e.g.
	// middleware that implements Unwrap), which a type assertion would miss.
	rc := http.NewResponseController(w)
	// Send the headers now, so the client sees the stream open before the
	// first event and can tell a slow first event from a stuck response.
	if rc.Flush() != nil {
		return
	}
	for i := 1; i <= n; i++ {
		if i > 1 && !wait(r, interval) {
			return
		}
		if _, err := fmt.Fprintf(w, "data: %d\n\n", i); err != nil {
			return
		}
		if rc.Flush() != nil {
			return
		}
	}
}

// serveWebSocket upgrades the connection and echoes messages until the
// client closes or the connection fails.
func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	// A copy per request so the chosen subprotocol can depend on the
	// request: accepting the client's first offer lets tests check that a
	// proxy forwards Sec-WebSocket-Protocol both ways.
	u := upgrader
	u.Subprotocols = websocket.Subprotocols(r)
	resp := http.Header{BackendHeader: {s.Name}}
	conn, err := u.Upgrade(w, r, resp)
	if err != nil {
		// Upgrade has already written an error response to the client.
		return
	}
	defer conn.Close()
	conn.SetReadLimit(MaxBodyBytes)
	for {
		// ReadMessage also answers pings and close frames through gorilla's
		// default handlers, so a client close ends the loop with an error
		// after the close handshake has been acknowledged.
		mt, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		if err := conn.WriteMessage(mt, data); err != nil {
			return
		}
	}
}
