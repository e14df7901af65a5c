package kubetest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ConformanceControllers returns the kube-controller-manager controllers a
// cluster needs to run workloads without a kubelet: Deployments become
// ReplicaSets and Pods, Services get EndpointSlices (and Endpoints, which
// some Ingress tests read), deleted namespaces are emptied and finalized,
// and owned objects are collected. Node lifecycle and pod garbage
// collection are left out on purpose: with no kubelet heartbeats they
// would taint the Node and evict its Pods.
func ConformanceControllers() []string {
	return []string{"deployment", "replicaset", "endpointslice", "endpoint", "namespace", "garbagecollector"}
}

// controllerManagerSettle is how long StartControllerManager watches the
// new process for an early exit (a rejected flag, an unreachable API
// server). With its secure port off, the controller manager serves no
// health endpoint that could say more.
const controllerManagerSettle = 2 * time.Second

// Binary returns the path of the executable name in BinDir's directory,
// or an error telling how to build it. The conformance harness's binaries
// (kube-controller-manager, echo-basic) are built by
// scripts/build-kube.sh conformance; etcd and kube-apiserver by
// scripts/build-kube.sh.
func Binary(name string) (string, error) {
	dir, err := BinDir()
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, name)
	fi, err := os.Stat(p)
	if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("kubetest: %s is missing: build it with scripts/build-kube.sh conformance, or set %s", p, BinEnv)
	}
	return p, nil
}

// StartControllerManager starts kube-controller-manager against the
// cluster, as the administrator, running only the named controllers (see
// ConformanceControllers), without leader election and without a serving
// port. Its log is kube-controller-manager.log in the cluster's directory.
// It returns an error if the process cannot be started or exits within
// its first two seconds; Stop kills it. Calling it again while it runs
// does nothing.
func (c *Cluster) StartControllerManager(controllers ...string) error {
	if len(controllers) == 0 {
		return errors.New("kubetest: StartControllerManager needs at least one controller")
	}
	bin, err := Binary("kube-controller-manager")
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return errors.New("kubetest: cluster stopped")
	}
	if c.controllerManager != nil && !c.controllerManager.exited() {
		c.mu.Unlock()
		return nil
	}
	args := []string{
		"--kubeconfig=" + c.Kubeconfig,
		"--controllers=" + strings.Join(controllers, ","),
		"--leader-elect=false",
		"--secure-port=0",
		// The controllers act as the administrator rather than as one
		// ServiceAccount each: nothing creates those accounts here.
		"--use-service-account-credentials=false",
		"--profiling=false",
	}
	p, err := startProcess("kube-controller-manager", bin, args, c.path("kube-controller-manager.log"))
	if err != nil {
		c.mu.Unlock()
		return err
	}
	c.controllerManager = p
	c.mu.Unlock()
	select {
	case <-p.done:
		return fmt.Errorf("kubetest: kube-controller-manager exited at start (%v); end of %s:\n%s", p.err, p.log, TailFile(p.log, 40))
	case <-time.After(controllerManagerSettle):
		return nil
	}
}

// stopControllerManager kills kube-controller-manager if it runs. The
// caller holds c.mu.
func (c *Cluster) stopControllerManager() {
	if c.controllerManager != nil {
		c.controllerManager.stop(syscall.SIGKILL)
	}
}
