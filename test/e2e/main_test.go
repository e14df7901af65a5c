// Package e2e runs Strait's binary as users start it, against a real
// kube-apiserver and etcd, with backends on their own addresses inside a
// private network namespace (internal/kubetest).
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/straitgw/strait/internal/kubetest"
)

// straitBin is the binary built once for the whole package by TestMain.
var straitBin string

func TestMain(m *testing.M) {
	if os.Getenv(kubetest.NetnsEnv) != "1" {
		os.Exit(kubetest.RunInNetns(m))
	}
	dir, err := os.MkdirTemp("", "strait-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	straitBin = filepath.Join(dir, "strait")
	root, err := kubetest.RepoRoot()
	if err == nil {
		cmd := exec.Command("go", "build", "-o", straitBin, "./cmd/strait")
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stderr, os.Stderr
		err = cmd.Run()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "building strait:", err)
		os.Exit(1)
	}
	code := kubetest.RunInNetns(m)
	_ = os.RemoveAll(dir)
	os.Exit(code)
}
