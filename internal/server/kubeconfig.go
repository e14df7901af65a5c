package server

import "k8s.io/client-go/rest"

// RESTConfig returns the client configuration serve uses: the kubeconfig
// file at path when given, else the in-cluster configuration, else
// $KUBECONFIG or ~/.kube/config. `strait check` lists Ingresses with it.
func RESTConfig(path string) (*rest.Config, error) { return restConfig(path) }
