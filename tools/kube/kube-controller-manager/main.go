// Command kube-controller-manager is the Kubernetes controller manager,
// built from k8s.io/kubernetes for Strait's Gateway API conformance harness
// (test/conformance), where it turns Deployments into Pods, Services into
// EndpointSlices and finishes namespace deletion.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
