package echo

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// do sends req with c and decodes the echo body.
func do(t *testing.T, c *http.Client, req *http.Request) (*http.Response, Echo) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	var e Echo
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatalf("decoding echo body: %v", err)
	}
	return resp, e
}

func TestEchoFields(t *testing.T) {
	srv := httptest.NewServer(New("alpha"))
	defer srv.Close()

	req, err := http.NewRequest(http.MethodPost, srv.URL+"/some/p%61th?x=1&y=a%20b", strings.NewReader(`{"hello":"<world>"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "demo.strait.local"
	req.Header.Set("X-Custom", "one")
	req.Header.Add("X-Custom", "two")
	resp, e := do(t, srv.Client(), req)

	if resp.StatusCode != http.StatusOK {
		t.Errorf("status = %d, want 200", resp.StatusCode)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	if got := resp.Header.Get(BackendHeader); got != "alpha" {
		t.Errorf("%s = %q, want alpha", BackendHeader, got)
	}
	want := Echo{
		Backend: "alpha",
		Host:    "demo.strait.local",
		Method:  http.MethodPost,
		URI:     "/some/p%61th?x=1&y=a%20b",
		Path:    "/some/path",
		Query:   "x=1&y=a%20b",
		Proto:   "HTTP/1.1",
		Body:    `{"hello":"<world>"}`,
	}
	gotHeaders := e.Headers
	if !equalEcho(e, want) {
		t.Errorf("echo = %+v\nwant   %+v", e, want)
	}
	if got := gotHeaders["X-Custom"]; len(got) != 2 || got[0] != "one" || got[1] != "two" {
		t.Errorf("headers[X-Custom] = %q, want [one two]", got)
	}
	if _, ok := gotHeaders["Host"]; ok {
		// Go moves Host out of r.Header into r.Host; the echo reports it
		// once, in the host field.
		t.Errorf("unexpected Host in echoed headers")
	}
}

func equalEcho(a, b Echo) bool {
	a.Headers, b.Headers = nil, nil
	return a.Backend == b.Backend && a.Host == b.Host && a.Method == b.Method &&
		a.URI == b.URI && a.Path == b.Path && a.Query == b.Query &&
		a.Proto == b.Proto && a.Body == b.Body && a.BodyTruncated == b.BodyTruncated
}

func TestEchoHTTP2Proto(t *testing.T) {
	srv := httptest.NewUnstartedServer(New("h2"))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	req, err := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, e := do(t, srv.Client(), req)
	if e.Proto != "HTTP/2.0" {
		t.Errorf("proto = %q, want HTTP/2.0", e.Proto)
	}
}

func TestEchoBodyCap(t *testing.T) {
	srv := httptest.NewServer(New("big"))
	defer srv.Close()

	body := strings.Repeat("x", MaxBodyBytes+10)
	req, err := http.NewRequest(http.MethodPut, srv.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_, e := do(t, srv.Client(), req)
	if len(e.Body) != MaxBodyBytes || !e.BodyTruncated {
		t.Errorf("body len = %d truncated = %v, want %d true", len(e.Body), e.BodyTruncated, MaxBodyBytes)
	}

	req, err = http.NewRequest(http.MethodPut, srv.URL+"/", strings.NewReader(body[:MaxBodyBytes]))
	if err != nil {
		t.Fatal(err)
	}
	_, e = do(t, srv.Client(), req)
	if len(e.Body) != MaxBodyBytes || e.BodyTruncated {
		t.Errorf("body len = %d truncated = %v, want %d false", len(e.Body), e.BodyTruncated, MaxBodyBytes)
	}
}

func TestStatus(t *testing.T) {
	srv := httptest.NewServer(New("s"))
	defer srv.Close()

	for _, tc := range []struct {
		query    string
		want     int
		wantEcho bool
	}{
		{"status=418", 418, true},
		{"status=503", 503, true},
		{"status=200", 200, true},
		{"status=204", 204, false},
		{"status=abc", 400, false},
		{"status=100", 400, false},
		{"status=1000", 400, false},
		{"sleep=forever", 400, false},
		{"sleep=-1s", 400, false},
	} {
		resp, err := srv.Client().Get(srv.URL + "/?" + tc.query)
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: reading body: %v", tc.query, err)
		}
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status = %d, want %d", tc.query, resp.StatusCode, tc.want)
		}
		if tc.wantEcho {
			var e Echo
			if err := json.Unmarshal(b, &e); err != nil || e.Backend != "s" {
				t.Errorf("%s: body %q is not an echo from s (%v)", tc.query, b, err)
			}
		}
	}
}

func TestSleep(t *testing.T) {
	srv := httptest.NewServer(New("slow"))
	defer srv.Close()

	start := time.Now()
	resp, err := srv.Client().Get(srv.URL + "/?sleep=150ms&status=202")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if elapsed := time.Since(start); elapsed < 150*time.Millisecond {
		t.Errorf("answered after %v, want at least 150ms", elapsed)
	}
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("status = %d, want 202", resp.StatusCode)
	}
}

func TestSleepHonoursCancellation(t *testing.T) {
	done := make(chan struct{}, 1)
	h := New("slow")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		done <- struct{}{}
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/?sleep=1h", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := srv.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("request with 1h sleep succeeded before the client timeout")
	}
	// The client has gone; the handler must notice and return, not sleep
	// for an hour.
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("handler still sleeping 5s after the client went away")
	}
}

func TestWebSocketEcho(t *testing.T) {
	srv := httptest.NewServer(New("ws"))
	defer srv.Close()

	d := websocket.Dialer{Subprotocols: []string{"chat", "superchat"}}
	conn, resp, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/any/path?x=1", http.Header{"Origin": {"https://elsewhere.example"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	if got := resp.Header.Get(BackendHeader); got != "ws" {
		t.Errorf("%s = %q, want ws", BackendHeader, got)
	}
	if got := conn.Subprotocol(); got != "chat" {
		t.Errorf("subprotocol = %q, want chat (the client's first offer)", got)
	}

	msgs := []struct {
		typ  int
		data []byte
	}{
		{websocket.TextMessage, []byte("hello")},
		{websocket.BinaryMessage, []byte{0, 1, 2, 0xff, 0xfe}},
		{websocket.TextMessage, []byte("")},
		{websocket.BinaryMessage, make([]byte, 100<<10)},
	}
	for i, m := range msgs {
		if err := conn.WriteMessage(m.typ, m.data); err != nil {
			t.Fatalf("message %d: write: %v", i, err)
		}
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		typ, data, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("message %d: read: %v", i, err)
		}
		if typ != m.typ || string(data) != string(m.data) {
			t.Errorf("message %d: got type %d %d bytes, want type %d %d bytes", i, typ, len(data), m.typ, len(m.data))
		}
	}

	// A clean close is answered with a close frame, which ReadMessage
	// reports as a CloseError with the code we sent.
	if err := conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")); err != nil {
		t.Fatalf("write close: %v", err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = conn.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure {
		t.Errorf("after close: err = %v, want close 1000", err)
	}
}

func TestSSEFlushesEachEvent(t *testing.T) {
	srv := httptest.NewServer(New("sse"))
	defer srv.Close()

	const interval = 150 * time.Millisecond
	start := time.Now()
	resp, err := srv.Client().Get(srv.URL + "/sse?n=4&interval=" + interval.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// Headers are flushed before the first event, so they arrive promptly.
	if d := time.Since(start); d > 2*interval {
		t.Errorf("headers took %v", d)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/event-stream" {
		t.Errorf("Content-Type = %q, want text/event-stream", got)
	}
	if got := resp.Header.Get(BackendHeader); got != "sse" {
		t.Errorf("%s = %q, want sse", BackendHeader, got)
	}

	br := bufio.NewReader(resp.Body)
	var arrivals []time.Time
	var events []string
	for {
		line, err := br.ReadString('\n')
		if err == io.EOF && line == "" {
			break
		}
		if err != nil {
			t.Fatalf("reading stream: %v", err)
		}
		if line == "\n" {
			continue
		}
		arrivals = append(arrivals, time.Now())
		events = append(events, line)
		// The blank line ending the event must follow immediately.
		if blank, err := br.ReadString('\n'); err != nil || blank != "\n" {
			t.Fatalf("after %q: got %q, %v; want blank line", line, blank, err)
		}
	}
	want := []string{"data: 1\n", "data: 2\n", "data: 3\n", "data: 4\n"}
	if strings.Join(events, "") != strings.Join(want, "") {
		t.Fatalf("events = %q, want %q", events, want)
	}
	// If the server buffered, every event would arrive at about the same
	// instant at the end. Flushed events arrive about interval apart; allow
	// generous slack below for timer jitter.
	for i := 1; i < len(arrivals); i++ {
		if gap := arrivals[i].Sub(arrivals[i-1]); gap < interval/2 {
			t.Errorf("event %d arrived %v after event %d, want about %v: events are not flushed separately", i+1, gap, i, interval)
		}
	}
	if d := arrivals[0].Sub(start); d > interval {
		t.Errorf("first event took %v, want it immediately", d)
	}
}

func TestSSEDefaultsAndErrors(t *testing.T) {
	srv := httptest.NewServer(New("sse"))
	defer srv.Close()

	resp, err := srv.Client().Get(srv.URL + "/sse")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := "data: 1\n\ndata: 2\n\ndata: 3\n\n"; string(b) != want {
		t.Errorf("default stream = %q, want %q", b, want)
	}

	for _, q := range []string{"n=-1", "n=x", "n=10001", "interval=soon"} {
		resp, err := srv.Client().Get(srv.URL + "/sse?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("/sse?%s: status = %d, want 400", q, resp.StatusCode)
		}
	}
}
