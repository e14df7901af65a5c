package proxy_test

import (
	"bytes"
	"net/http"
	"testing"
)

// TestUnroutableTargetsRefused: request targets that are neither origin
// form nor http(s) absolute form ("*", CONNECT's authority form, other
// schemes) never reach a backend, even a catch-all one: every engine
// answers 400 (net/http answers "OPTIONS *" itself).
func TestUnroutableTargetsRefused(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		ep := echoBackend(t, "catch")
		m := singleHost("t.test", "catch", ep)
		m.CatchAll.Default = toBackend("catch")
		h := startProxy(t, e, testTimeouts, m, false)
		for _, tc := range []struct{ method, target string }{
			{"OPTIONS", "*"},
			{"GET", "*"},
			{"CONNECT", "t.test:443"},
			{"GET", "ftp://t.test/x"},
			{"GET", "x:y"},
		} {
			r := raw(t, h.addr, tc.method, tc.method+" "+tc.target+" HTTP/1.1\r\nHost: t.test\r\nConnection: close\r\n\r\n")
			if bytes.Contains(r.body, []byte(`"backend"`)) {
				t.Errorf("%s %s reached the backend", tc.method, tc.target)
			}
			want := http.StatusBadRequest
			if tc.method == "CONNECT" {
				want = http.StatusMethodNotAllowed // as nginx answers
			}
			if r.status != want {
				t.Errorf("%s %s: status %d, want %d; body %q", tc.method, tc.target, r.status, want, r.body)
			}
		}
		// Absolute form without a path is still routed, as "/".
		if r := raw(t, h.addr, "GET", "GET http://t.test HTTP/1.1\r\nHost: t.test\r\nConnection: close\r\n\r\n"); r.status != http.StatusOK {
			t.Errorf("GET http://t.test: status %d, want 200", r.status)
		}
	})
}
