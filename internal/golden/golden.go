// Package golden compares test output with files under testdata and
// rewrites them when tests run with -update.
package golden

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

// update is registered on the test binary's command line so that
// `go test ./... -update` regenerates every golden file in the tree.
var update = flag.Bool("update", false, "rewrite golden files with the current output")

// Updating reports whether the test run was asked to rewrite golden files.
func Updating() bool { return *update }

// Check compares got with the contents of path, or writes got to path when
// -update is given.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test with -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the output (run go test with -update and review the diff):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}
