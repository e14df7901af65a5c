package proxy_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/model"
)

type mirrored struct {
	method, uri, host, body string
}

// TestMirror checks mirror-target on every engine: the mirror receives a
// copy with the expanded URI, mirror-host as Host and the body, while the
// client gets the upstream's answer; with mirror-request-body off the copy
// has no body.
func TestMirror(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		var mu sync.Mutex
		var got []mirrored
		_, mep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			got = append(got, mirrored{r.Method, r.RequestURI, r.Host, string(b)})
			mu.Unlock()
			w.WriteHeader(http.StatusTeapot)
		}))
		_, ep := backendServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			_, _ = io.WriteString(w, "main:"+string(b))
		}))
		target := "http://" + mep.Host + ":" + strconv.Itoa(int(mep.Port)) + "/copy$request_uri"
		withBody := prefixRoute("/", "web")
		withBody.Policy.Mirror = &model.Mirror{Target: target, Host: "shadow.test"}
		noBody := prefixRoute("/nobody", "web")
		noBody.Policy.Mirror = &model.Mirror{Target: target, NoBody: true}
		m := &model.Model{Hosts: []*model.VirtualHost{vhost("m.test", status(404), withBody, noBody)}, CatchAll: catchAll404(), Backends: []model.Backend{backend("web", ep)}}
		h := startProxy(t, e, testTimeouts, m, false)
		c := newClient(t)
		for _, path := range []string{"/a?b=1", "/nobody/x"} {
			req, _ := http.NewRequest(http.MethodPost, h.url(path), strings.NewReader("payload"))
			req.Host = "m.test"
			if r := do(t, c, req); r.status != 200 || string(r.body) != "main:payload" {
				t.Fatalf("POST %s: %d %q", path, r.status, r.body)
			}
		}
		want := map[string]mirrored{
			"/copy/a?b=1":    {"POST", "/copy/a?b=1", "shadow.test", "payload"},
			"/copy/nobody/x": {"POST", "/copy/nobody/x", mep.Host + ":" + strconv.Itoa(int(mep.Port)), ""},
		}
		if !waitFor(5*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 2 }) {
			t.Fatalf("mirror received %v", got)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, g := range got {
			if w, ok := want[g.uri]; !ok || w != g {
				t.Errorf("mirror got %+v, want %+v", g, w)
			}
		}
	})
}
