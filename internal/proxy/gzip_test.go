package proxy_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/straitgw/strait/internal/model"
)

// TestGzip checks use-gzip on every engine (the HTTP/1 engine hands
// compressed routes over): a JSON body over gzip-min-length is compressed
// for a client that accepts gzip, with Vary, a weak ETag and not the upstream's Content-Length;
// short bodies, other types, already-encoded responses and clients
// without gzip get the upstream's bytes.
func TestGzip(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		big := strings.Repeat(`{"k":"v"}`, 100)
		_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/json":
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.Header().Set("ETag", `"abc"`)
				_, _ = io.WriteString(w, big)
			case "/short":
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{}`)
			case "/png":
				w.Header().Set("Content-Type", "image/png")
				_, _ = io.WriteString(w, big)
			case "/encoded":
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("Content-Encoding", "br")
				_, _ = io.WriteString(w, big)
			}
		}))
		m := singleHost("gz.test", "web", ep)
		m.Gzip = &model.Gzip{Level: 5, MinLength: 256, Types: []string{"application/json", "text/html", "text/plain"}, DisableUserAgents: []string{`MSIE [4-6]\.`, "oldbot/1"}}
		h := startProxy(t, e, testTimeouts, m, false)
		// A transport that leaves Accept-Encoding and the body alone.
		c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
		t.Cleanup(c.CloseIdleConnections)
		ua := ""
		fetch := func(path, accept string) (*http.Response, string) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, h.url(path), nil)
			req.Host = "gz.test"
			if ua != "" {
				req.Header.Set("User-Agent", ua)
			}
			if accept != "" {
				req.Header.Set("Accept-Encoding", accept)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body io.Reader = resp.Body
			if resp.Header.Get("Content-Encoding") == "gzip" {
				zr, err := gzip.NewReader(resp.Body)
				if err != nil {
					t.Fatalf("%s: bad gzip: %v", path, err)
				}
				body = zr
			}
			b, err := io.ReadAll(body)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			return resp, string(b)
		}
		resp, body := fetch("/json", "deflate, gzip;q=0.8")
		if resp.Header.Get("Content-Encoding") != "gzip" || body != big || resp.Header.Get("Vary") != "Accept-Encoding" ||
			resp.ContentLength == int64(len(big)) || resp.Header.Get("Etag") != `W/"abc"` {
			t.Errorf("/json: encoding %q, vary %q, length %d, etag %q, body ok %v", resp.Header.Get("Content-Encoding"),
				resp.Header.Get("Vary"), resp.ContentLength, resp.Header.Get("Etag"), body == big)
		}
		for _, tc := range []struct{ path, accept, enc string }{
			{"/json", "", ""}, {"/json", "gzip;q=0", ""}, {"/short", "gzip", ""}, {"/png", "gzip", ""}, {"/encoded", "gzip", "br"},
		} {
			resp, _ := fetch(tc.path, tc.accept)
			if got := resp.Header.Get("Content-Encoding"); got != tc.enc || resp.StatusCode != 200 {
				t.Errorf("%s with Accept-Encoding %q: %d, Content-Encoding %q, want %q", tc.path, tc.accept, resp.StatusCode, got, tc.enc)
			}
		}
		// gzip-disable: these user agents never get compressed answers,
		// matched case-insensitively.
		for _, agent := range []string{"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.0)", "OLDBOT/1.2"} {
			ua = agent
			if resp, body := fetch("/json", "gzip"); resp.Header.Get("Content-Encoding") != "" || body != big {
				t.Errorf("User-Agent %q: Content-Encoding %q, want none", agent, resp.Header.Get("Content-Encoding"))
			}
		}
		ua = "Mozilla/5.0 (compatible; MSIE 10.0)"
		if resp, _ := fetch("/json", "gzip"); resp.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("MSIE 10: Content-Encoding %q, want gzip", resp.Header.Get("Content-Encoding"))
		}
	})
}
