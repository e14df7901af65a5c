package kubetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RunWithStrait runs the tests of a package that starts Strait's binary, in
// a private network namespace (RunInNetns). Inside the namespace it first
// builds ./cmd/strait from the repository into a temporary directory and
// stores the binary's path in *bin; the directory is removed afterwards.
// Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(kubetest.RunWithStrait(m, &straitBin)) }
func RunWithStrait(m *testing.M, bin *string) int {
	if os.Getenv(NetnsEnv) != "1" {
		return RunInNetns(m)
	}
	dir, err := os.MkdirTemp("", "strait-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	*bin = filepath.Join(dir, "strait")
	root, err := RepoRoot()
	if err == nil {
		cmd := exec.Command("go", "build", "-o", *bin, "./cmd/strait")
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stderr, os.Stderr
		err = cmd.Run()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "building strait:", err)
		return 1
	}
	return RunInNetns(m)
}
