package manifests

import (
	"strings"
	"testing"
)

// TestDecodeErrorsNameFileDocumentAndField checks that every kind of bad
// document is reported with its file, its position and the offending field,
// and that good documents in the same file still decode.
func TestDecodeErrorsNameFileDocumentAndField(t *testing.T) {
	in := `# leading comment
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: typed, namespace: ns}
spec:
  rules:
  - host: a
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: "eighty"}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: unknown}
spec:
  rules:
  - host: a
    http:
      paths:
      - {path: /, pathTyp: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: v1
kind: Service
metadata: {name: good, namespace: ns}
spec:
  ports: [{port: 80}]
---
# only a comment
---
apiVersion: v1
kind: Secret
metadata: {name: s}
stringData: {tls.crt: "x"}
---
kind: Service
metadata: {name: noversion}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
`
	objs, errs := Decode("f.yaml", []byte(in))
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	want := []string{
		`f.yaml: document 1 (Ingress ns/typed): `,
		`http.paths.backend.service.port.number of type int32`,
		`f.yaml: document 2 (Ingress default/unknown): unknown field "spec.rules[0].http.paths[0].pathTyp"`,
		`f.yaml: document 5: apiVersion and kind are required`,
		`f.yaml: document 6 (Deployment default/web): apps/v1/Deployment: unsupported kind, document ignored`,
	}
	all := strings.Join(msgs, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("errors lack %q; got:\n%s", w, all)
		}
	}
	if len(errs) != 4 {
		t.Errorf("%d errors, want 4:\n%s", len(errs), all)
	}
	if len(objs.Services) != 1 || objs.Services[0].Name != "good" {
		t.Errorf("good Service not decoded: %+v", objs.Services)
	}
	if len(objs.Secrets) != 1 || string(objs.Secrets[0].Data["tls.crt"]) != "x" || objs.Secrets[0].Namespace != "default" {
		t.Errorf("Secret stringData not merged into data in namespace default: %+v", objs.Secrets)
	}
	if !IsIgnorable(errs[3]) || IsIgnorable(errs[0]) {
		t.Error("only the unsupported kind is ignorable")
	}
}
