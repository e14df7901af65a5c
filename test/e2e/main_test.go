// Package e2e runs Strait's binary as users start it, against a real
// kube-apiserver and etcd, with backends on their own addresses inside a
// private network namespace (internal/kubetest).
package e2e

import (
	"os"
	"testing"

	"github.com/straitgw/strait/internal/kubetest"
)

// straitBin is the binary built once for the whole package by TestMain.
var straitBin string

func TestMain(m *testing.M) { os.Exit(kubetest.RunWithStrait(m, &straitBin)) }
