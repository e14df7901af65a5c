package lua

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDirectory loads plugins from a watched directory: a new file is
// served, a change replaces it, a file that does not compile keeps the
// previous version, and a removed one fails its requests.
func TestDirectory(t *testing.T) {
	dir := t.TempDir()
	write := func(code string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(dir, "tag"), 0o755); err != nil {
			t.Fatal(err)
		}
		// Written beside, then renamed, as a ConfigMap volume updates.
		tmp := filepath.Join(dir, "tag", ".main.lua.tmp")
		if err := os.WriteFile(tmp, []byte(code), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "tag", "main.lua")); err != nil {
			t.Fatal(err)
		}
	}
	tagCode := func(v string) string {
		return `return { rewrite = function() ngx.req.set_header("X-Tag", "` + v + `") end }`
	}
	write(tagCode("one"))
	var logs syncBuffer
	rt := New(Options{Dir: dir, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Watch(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	p := rt.Script("tag", "", nil)
	tag := func() (string, error) {
		r := request("/")
		o := runPhases(p, r)
		return r.Header.Get("X-Tag"), o.err
	}
	waitFor := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, err := tag()
			if err == nil && got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("X-Tag = %q (%v), want %q; log:\n%s", got, err, want, logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("one")
	write(tagCode("two"))
	waitFor("two")
	write(`return { rewrite = function( end }`)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "does not compile") {
		if time.Now().After(deadline) {
			t.Fatalf("no compile error logged:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got, err := tag(); err != nil || got != "two" {
		t.Errorf("after a bad change: %q %v, want the previous version", got, err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "tag")); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		if _, err := tag(); err != nil && strings.Contains(err.Error(), "plugins directory") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a removed plugin still runs")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
