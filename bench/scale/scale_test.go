// Package scale measures Strait's control plane at scale against a real
// kube-apiserver and etcd: propagation of Ingresses created one after
// another (with and without thousands of others churning), time from start
// to ready, memory, and generation build times at 1,000 to 10,000
// Ingresses. It is a benchmark, run on demand:
//
//	make bench-scale
//
// which runs go test ./bench/scale -run '^$' -bench . -benchtime 1x with
// -args -out naming docs/scale.md by its absolute path.
//
// It prints what it measures and asserts nothing about speed.
package scale

import (
	"flag"
	"os"
	"testing"

	"github.com/straitgw/strait/internal/kubetest"
)

// Flags, after -args.
var (
	outPath   = flag.String("out", "", "also write the report as Markdown to this path")
	sizesFlag = flag.String("sizes", "1000,5000,10000", "Ingress counts for the memory and start-up measurements")
	propN     = flag.Int("propagate", 3000, "Ingresses created one after another in the propagation measurements")
	churnN    = flag.Int("churn", 5000, "Ingresses churning in the background during the second propagation measurement")
	pathsFlag = flag.Int("paths", 10, "paths per Ingress")
)

// straitBin is built once by TestMain.
var straitBin string

func TestMain(m *testing.M) { os.Exit(kubetest.RunWithStrait(m, &straitBin)) }
