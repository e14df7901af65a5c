// Package manifests is the standalone source: it reads Kubernetes objects
// from a directory of YAML files, watches it, and hands every consistent
// state to the pipeline. A malformed file is reported and its previous good
// contents stay in force.
package manifests

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/straitgw/strait/internal/snapshot"
)

// DocumentError is a problem with one document of one file.
type DocumentError struct {
	// File is the path of the file.
	File string
	// Document is the 1-based index of the document in the file, counting
	// only documents with content (not empty or comment-only ones).
	Document int
	// Object names the object when its kind and name could be read.
	Object string
	// Err says what is wrong; for decoding errors it names the field.
	Err error
}

func (e *DocumentError) Error() string {
	if e.Object != "" {
		return fmt.Sprintf("%s: document %d (%s): %v", e.File, e.Document, e.Object, e.Err)
	}
	return fmt.Sprintf("%s: document %d: %v", e.File, e.Document, e.Err)
}

func (e *DocumentError) Unwrap() error { return e.Err }

// errUnsupportedKind marks documents of kinds Strait does not read; they are
// reported but do not make the file invalid.
var errUnsupportedKind = errors.New("unsupported kind, document ignored")

// IsIgnorable reports whether err only says a document was skipped, so the
// rest of the file is still good.
func IsIgnorable(err error) bool { return errors.Is(err, errUnsupportedKind) }

// Decode parses every document of one file. It returns the objects it could
// decode and one error per bad document.
func Decode(file string, data []byte) (snapshot.Objects, []error) {
	var objs snapshot.Objects
	var errs []error
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for doc := 1; ; doc++ {
		raw, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, &DocumentError{File: file, Document: doc, Err: err})
			break
		}
		if len(bytes.TrimSpace(stripComments(raw))) == 0 {
			doc--
			continue
		}
		if err := decodeOne(raw, &objs); err != nil {
			err.File, err.Document = file, doc
			errs = append(errs, err)
		}
	}
	return objs, errs
}

// stripComments drops comment-only lines so that a document made only of
// comments counts as empty.
func stripComments(b []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(b, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out = append(out, line...)
			out = append(out, '\n')
		}
	}
	return out
}

func decodeOne(raw []byte, objs *snapshot.Objects) *DocumentError {
	var tm struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        struct {
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(raw, &tm); err != nil {
		return &DocumentError{Err: err}
	}
	ns := tm.Metadata.Namespace
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	id := fmt.Sprintf("%s %s/%s", tm.Kind, ns, tm.Metadata.Name)
	if tm.Kind == "" || tm.APIVersion == "" {
		return &DocumentError{Err: errors.New("apiVersion and kind are required")}
	}
	if tm.Metadata.Name == "" {
		return &DocumentError{Object: tm.Kind, Err: errors.New("metadata.name is required")}
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return &DocumentError{Object: id, Err: err}
	}
	strict := func(into any) *DocumentError {
		// sigs.k8s.io/json names the full path of unknown and duplicate
		// fields, as the API server's strict field validation does.
		strictErrs, err := kjson.UnmarshalStrict(js, into)
		if err != nil {
			return &DocumentError{Object: id, Err: fieldError(err)}
		}
		if len(strictErrs) > 0 {
			return &DocumentError{Object: id, Err: errors.Join(strictErrs...)}
		}
		return nil
	}
	switch gvk := tm.APIVersion + "/" + tm.Kind; gvk {
	case "networking.k8s.io/v1/Ingress":
		o := &networkingv1.Ingress{}
		if err := strict(o); err != nil {
			return err
		}
		o.Namespace = ns
		objs.Ingresses = append(objs.Ingresses, o)
	case "networking.k8s.io/v1/IngressClass":
		o := &networkingv1.IngressClass{}
		if err := strict(o); err != nil {
			return err
		}
		objs.IngressClasses = append(objs.IngressClasses, o)
	case "v1/Service":
		o := &corev1.Service{}
		if err := strict(o); err != nil {
			return err
		}
		o.Namespace = ns
		objs.Services = append(objs.Services, o)
	case "discovery.k8s.io/v1/EndpointSlice":
		o := &discoveryv1.EndpointSlice{}
		if err := strict(o); err != nil {
			return err
		}
		o.Namespace = ns
		objs.EndpointSlices = append(objs.EndpointSlices, o)
	case "v1/Secret":
		o := &corev1.Secret{}
		if err := strict(o); err != nil {
			return err
		}
		o.Namespace = ns
		mergeStringData(o)
		objs.Secrets = append(objs.Secrets, o)
	case "v1/ConfigMap":
		o := &corev1.ConfigMap{}
		if err := strict(o); err != nil {
			return err
		}
		o.Namespace = ns
		objs.ConfigMaps = append(objs.ConfigMaps, o)
	case "v1/Namespace":
		o := &corev1.Namespace{}
		if err := strict(o); err != nil {
			return err
		}
		objs.Namespaces = append(objs.Namespaces, o)
	case gatewayGroup + "/v1/GatewayClass":
		o := &gatewayv1.GatewayClass{}
		if err := strict(o); err != nil {
			return err
		}
		objs.GatewayClasses = append(objs.GatewayClasses, o)
	case gatewayGroup + "/v1/Gateway":
		o := &gatewayv1.Gateway{}
		if err := strict(o); err != nil {
			return err
		}
		o.Namespace = ns
		objs.Gateways = append(objs.Gateways, o)
	case gatewayGroup + "/v1/HTTPRoute":
		o := &gatewayv1.HTTPRoute{}
		if err := strict(o); err != nil {
			return err
		}
		o.Namespace = ns
		objs.HTTPRoutes = append(objs.HTTPRoutes, o)
	case gatewayGroup + "/v1/GRPCRoute":
		o := &gatewayv1.GRPCRoute{}
		if err := strict(o); err != nil {
			return err
		}
		o.Namespace = ns
		objs.GRPCRoutes = append(objs.GRPCRoutes, o)
	case gatewayGroup + "/v1/ReferenceGrant", gatewayGroup + "/v1beta1/ReferenceGrant":
		// v1beta1 is still served and common in manifests; the schema is
		// the same.
		o := &gatewayv1.ReferenceGrant{}
		if err := strict(o); err != nil {
			return err
		}
		o.Namespace = ns
		objs.ReferenceGrants = append(objs.ReferenceGrants, o)
	default:
		return &DocumentError{Object: id, Err: fmt.Errorf("%s: %w", gvk, errUnsupportedKind)}
	}
	return nil
}

// gatewayGroup is the Gateway API's API group.
const gatewayGroup = "gateway.networking.k8s.io"

// mergeStringData folds stringData into data, as the API server does on
// write, so manifests may carry PEM text as it is.
func mergeStringData(s *corev1.Secret) {
	if len(s.StringData) == 0 {
		return
	}
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}

// fieldError shortens the JSON decoder's messages, which already carry the
// field path, and keeps base64 errors recognisable.
func fieldError(err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "error unmarshaling JSON: while decoding JSON: ")
	var b64 base64.CorruptInputError
	if errors.As(err, &b64) {
		msg = "invalid base64 in data: " + msg
	}
	return errors.New(msg)
}
