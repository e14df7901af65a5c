// Package conformance runs the Gateway API conformance suite against
// Strait (TestGatewayAPIConformance), and tests the cluster the suite runs
// on (TestHarness).
//
// The cluster has no kubelet, no container runtime and no network beyond
// one private network namespace: internal/kubetest runs etcd,
// kube-apiserver and kube-controller-manager, and kubesim binds and runs
// the Pods, starting the suite's echo server for each echo container on an
// address of 10.244.0.0/16. Strait gives each Gateway an address of
// 172.30.0.0/24, which is local in the same namespace, so the suite's
// requests reach it directly. docs/conformance.md tells how to run it.
package conformance
