package translate

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/straitgw/strait/internal/model"
)

// certResult is a Secret resolved once per translation.
type certResult struct {
	cert *model.Certificate // nil when the Secret is unusable
	leaf *x509.Certificate
	err  string
}

// tls binds the hosts of an Ingress's spec.tls entries to certificates. The
// oldest Ingress naming a host wins. Hosts whose Secret is missing or
// invalid, or whose certificate does not cover them, get the default
// certificate and the Ingress gets a problem.
func (t *translator) tls(ing *networkingv1.Ingress) {
	ref := ingressRef(ing)
	ruleHosts := map[string]bool{}
	for _, r := range ing.Spec.Rules {
		if h, err := normalizeHost(r.Host); err == nil {
			ruleHosts[h] = true
		}
	}
	for i, entry := range ing.Spec.TLS {
		field := fmt.Sprintf("spec.tls[%d]", i)
		var cr *certResult
		if entry.SecretName != "" {
			cr = t.secret(ing.Namespace, entry.SecretName)
			if cr.cert == nil {
				t.problem(ref, field+".secretName", "InvalidCertificate", "Secret %s/%s: %s; the default certificate is served instead", ing.Namespace, entry.SecretName, cr.err)
			}
		}
		if len(entry.Hosts) == 0 {
			// No hosts listed: the entry covers the rule hosts its
			// certificate names.
			if cr == nil || cr.cert == nil {
				continue
			}
			for _, r := range ing.Spec.Rules {
				if h := strings.ToLower(r.Host); ruleHosts[h] && covers(cr.leaf, h) {
					t.bind(h, cr.cert.Name)
				}
			}
			continue
		}
		for j, h := range entry.Hosts {
			hfield := fmt.Sprintf("%s.hosts[%d]", field, j)
			host, err := normalizeHost(h)
			if err != nil {
				t.problem(ref, hfield, "InvalidHost", "host %q: %v", h, err)
				continue
			}
			// Only an Ingress that routes a host may choose its
			// certificate; the oldest such Ingress wins.
			if !ruleHosts[host] {
				continue
			}
			if _, taken := t.sni[host]; taken {
				continue
			}
			switch {
			case cr == nil || cr.cert == nil:
				t.bind(host, "")
			case !covers(cr.leaf, host):
				t.problem(ref, hfield, "CertificateHostMismatch",
					"certificate in Secret %s/%s does not cover %q; the default certificate is served for it", ing.Namespace, entry.SecretName, host)
				t.bind(host, "")
			default:
				t.bind(host, cr.cert.Name)
			}
		}
	}
}

// bind records the certificate for host unless an older Ingress chose one;
// an empty name pins the default certificate.
func (t *translator) bind(host, cert string) {
	if _, taken := t.sni[host]; !taken {
		t.sni[host] = cert
	}
}

// secret loads and checks a kubernetes.io/tls Secret once per translation.
func (t *translator) secret(ns, name string) *certResult {
	key := ns + "/" + name
	if cr, ok := t.certs[key]; ok {
		return cr
	}
	cr := &certResult{}
	t.certs[key] = cr
	s := t.secretObj(ns, name)
	switch {
	case s == nil:
		cr.err = "not found"
	case len(s.Data[corev1.TLSCertKey]) == 0 || len(s.Data[corev1.TLSPrivateKeyKey]) == 0:
		cr.err = "has no tls.crt or tls.key"
	default:
		pair, err := tls.X509KeyPair(s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey])
		if err != nil {
			cr.err = "invalid certificate or key: " + err.Error()
			break
		}
		c := model.NewCertificate(key, s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey])
		cr.cert, cr.leaf = &c, pair.Leaf
	}
	return cr
}

// covers reports whether the certificate is valid for host. A wildcard host
// is covered only by a certificate for the same wildcard.
func covers(leaf *x509.Certificate, host string) bool {
	if leaf == nil {
		return false
	}
	if strings.HasPrefix(host, "*.") {
		for _, n := range leaf.DNSNames {
			if strings.EqualFold(n, host) {
				return true
			}
		}
		return false
	}
	return leaf.VerifyHostname(host) == nil
}

// defaultCertificate resolves --default-ssl-certificate into m. A problem
// leaves the generated certificate in place.
func (t *translator) defaultCertificate(m *model.Model, name string) {
	ns, n, ok := strings.Cut(name, "/")
	flag := model.ObjectRef{Kind: "Flag", Name: "default-ssl-certificate"}
	if !ok || ns == "" || n == "" {
		t.problem(flag, "", "InvalidFlag", "%q is not namespace/name; the generated certificate is served", name)
		return
	}
	cr := t.secret(ns, n)
	if cr.cert == nil {
		t.problem(model.ObjectRef{Kind: "Secret", Namespace: ns, Name: n}, "", "InvalidCertificate",
			"default certificate %s: %s; the generated certificate is served", name, cr.err)
		return
	}
	m.DefaultCertificate = cr.cert.Name
	for _, c := range m.Certificates {
		if c.Name == cr.cert.Name {
			return
		}
	}
	m.Certificates = append(m.Certificates, *cr.cert)
	sort.Slice(m.Certificates, func(i, j int) bool { return m.Certificates[i].Name < m.Certificates[j].Name })
}
