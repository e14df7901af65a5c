package live_test

import (
	"testing"
	"time"
)

// shop is the scenario of the live view's tests: the quickstart's
// manifests plus namespace shop, whose host shop.test has TLS with a
// certificate that expires in 10 days, a route /api with a canary taking
// 20 % of the requests, and a route / whose backend has a dead endpoint
// next to a live one; and an Ingress broken.test whose Service does not
// exist and whose annotation value is markup.
type shop struct {
	dir      string
	good     int // the live endpoint's port
	dead     int // the dead endpoint's port
	notAfter time.Time
}

// brokenAnnotation is the markup in the broken Ingress's annotation: it
// must show as text, never run.
const brokenAnnotation = `<img src=x onerror=alert(1)>`

func newShop(t *testing.T) *shop {
	t.Helper()
	s := &shop{
		dir:  quickstartDir(t),
		good: port(t, backendServer(t)),
		dead: deadPort(t),
		// Whole seconds: certificates keep no finer time.
		notAfter: time.Now().Add(10 * 24 * time.Hour).UTC().Truncate(time.Second),
	}
	writeFile(t, s.dir, "shop-svc.yaml", service("shop", "web", s.good, s.dead)+"---\n"+service("shop", "canary", s.good))
	writeFile(t, s.dir, "shop-tls.yaml", tlsSecret(t, "shop", "shop-tls", "shop.test", s.notAfter))
	writeFile(t, s.dir, "shop.yaml", `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: shop
  annotations:
    nginx.ingress.kubernetes.io/ssl-redirect: "false"
    nginx.ingress.kubernetes.io/proxy-body-size: 8m
spec:
  ingressClassName: strait
  tls:
    - {hosts: [shop.test], secretName: shop-tls}
  rules:
    - host: shop.test
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
          - {path: /api, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop-canary
  namespace: shop
  annotations:
    nginx.ingress.kubernetes.io/canary: "true"
    nginx.ingress.kubernetes.io/canary-weight: "20"
    nginx.ingress.kubernetes.io/canary-by-header: X-Canary
spec:
  ingressClassName: strait
  rules:
    - host: shop.test
      http:
        paths:
          - {path: /api, pathType: Prefix, backend: {service: {name: canary, port: {number: 80}}}}
`)
	writeFile(t, s.dir, "broken.yaml", `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: broken
  namespace: shop
  annotations:
    nginx.ingress.kubernetes.io/proxy-connect-timeout: "`+brokenAnnotation+`"
spec:
  ingressClassName: strait
  rules:
    - host: broken.test
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: missing, port: {number: 80}}}}
`)
	return s
}
