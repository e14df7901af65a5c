package oidc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestDiscoveryBackoff: a failing discovery is not retried before its
// backoff, which doubles; a success is cached, and a failed refetch of an
// old document keeps it.
func TestDiscoveryBackoff(t *testing.T) {
	var hits, failing atomic.Int32
	failing.Store(1)
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if failing.Load() == 1 {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"issuer":"` + srv.URL + `","authorization_endpoint":"` + srv.URL + `/a","token_endpoint":"` + srv.URL + `/t","jwks_uri":"` + srv.URL + `/k"}`))
	}))
	defer srv.Close()
	ps := NewProviders(nil)
	now := time.Unix(1_700_000_000, 0)
	ps.now = func() time.Time { return now }
	ctx := context.Background()
	step := func(advance time.Duration, wantHits int32, wantOK bool) {
		t.Helper()
		now = now.Add(advance)
		_, err := ps.get(ctx, srv.URL)
		if hits.Load() != wantHits || (err == nil) != wantOK {
			t.Fatalf("after %v: %d discovery requests, err %v; want %d, ok %v", advance, hits.Load(), err, wantHits, wantOK)
		}
	}
	step(0, 1, false)
	step(500*time.Millisecond, 1, false) // within the 1 s backoff
	step(600*time.Millisecond, 2, false) // backoff now 2 s
	step(1500*time.Millisecond, 2, false)
	failing.Store(0)
	step(600*time.Millisecond, 3, true)
	step(30*time.Minute, 3, true) // cached
	failing.Store(1)
	step(31*time.Minute, 4, true) // refetch fails: the old document stays
	step(500*time.Millisecond, 4, true)
}
