package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/server"
)

// TestMalformedFileKeepsServing checks that a broken edit to a manifest
// leaves what the file served before in force, that fixing it applies the
// fix, and that deleting a file removes its routes.
func TestMalformedFileKeepsServing(t *testing.T) {
	e1 := backend(t, "e1")
	dir := t.TempDir()
	writeFile(t, dir, "svc.yaml", stableManifests+slices("stable", e1))
	writeFile(t, dir, "extra.yaml", churnRoutes(0, e1))
	srv := start(t, dir)
	base := "http://" + srv.HTTPAddr()

	waitStatus(t, base, "r0.test", 200)
	// A syntax error and a misspelt field: both rejected, r0 stays.
	writeFile(t, dir, "extra.yaml", "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: r0\n")
	time.Sleep(150 * time.Millisecond)
	if got := status(t, base, "r0.test"); got != 200 {
		t.Fatalf("after a malformed edit r0.test answers %d, want 200 from the previous contents", got)
	}
	writeFile(t, dir, "extra.yaml", "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: r0, namespace: churn}\nspec: {rulez: []}\n")
	time.Sleep(150 * time.Millisecond)
	if got := status(t, base, "r0.test"); got != 200 {
		t.Fatalf("after an edit with an unknown field r0.test answers %d, want 200", got)
	}
	// A correct edit applies.
	writeFile(t, dir, "extra.yaml", churnRoutes(1, e1))
	waitStatus(t, base, "r1.test", 200)
	// Removing the file removes its routes; the stable route stays.
	if err := os.Remove(filepath.Join(dir, "extra.yaml")); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, base, "r1.test", 404)
	if got := status(t, base, "stable.test"); got != 200 {
		t.Fatalf("stable.test answers %d", got)
	}
}

func status(t *testing.T, base, host string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/", nil)
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func waitStatus(t *testing.T, base, host string, want int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		got := status(t, base, host)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s answers %d, want %d", host, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSamePortTwiceRefused: the listeners share ports by SO_REUSEPORT, so a
// port named by two flags would bind twice and split its connections
// between two servers; New refuses it with the flags' names.
func TestSamePortTwiceRefused(t *testing.T) {
	_, err := server.New(server.Config{
		Manifests:   t.TempDir(),
		BindAddress: "127.0.0.1",
		HTTPPort:    18080, HTTPSPort: 18443, HealthzPort: 18080,
		Log: slog.New(slog.NewTextHandler(logSink(), nil)),
	})
	if err == nil || !strings.Contains(err.Error(), "--healthz-port and --http-port are both 18080") {
		t.Fatalf("New: %v, want the two flags named", err)
	}
}
