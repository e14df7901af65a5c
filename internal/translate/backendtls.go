package translate

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
)

// tlsSettings are the ConfigMap keys of the TLS features.
type tlsSettings struct {
	// crossNamespace lets proxy-ssl-secret and auth-tls-secret name
	// Secrets of other namespaces (allow-cross-namespace-resources).
	crossNamespace bool
	// server is the HTTPS listener's ssl-protocols and ssl-ciphers; nil
	// when neither key is set.
	server *model.TLSParams
	// proxySSLLocationOnly keeps proxy-ssl-* to their own Ingress's paths
	// (proxy-ssl-location-only) instead of the whole host's.
	proxySSLLocationOnly bool
}

// hostProxySSL returns the server-level proxy-ssl-* of a host: those of
// the oldest Ingress on the host with a usable proxy-ssl-secret, which
// nginx renders into the server block, so that the HTTPS paths of the
// host's other Ingresses inherit them. The hosts are found on first use.
func (t *translator) hostProxySSL(host string) *model.BackendTLS {
	if t.settings.tls.proxySSLLocationOnly {
		return nil
	}
	if t.proxySSLHosts == nil {
		t.proxySSLHosts = map[string]*model.BackendTLS{}
		quiet := func(error, string) {} // each Ingress reports its own problems
		for _, ing := range ordered(t.snap.Ingresses) {
			if ing.Annotations[annotations.Prefix+annotations.ProxySSLSecret.Name] == "" {
				continue
			}
			bt, fail := t.proxySSL(ing, quiet)
			if bt == nil || fail {
				continue
			}
			for _, r := range ing.Spec.Rules {
				h := model.CatchAllHost
				if r.Host != "" {
					var err error
					if h, err = normalizeHost(r.Host); err != nil {
						continue
					}
				}
				if _, ok := t.proxySSLHosts[h]; !ok {
					t.proxySSLHosts[h] = bt
				}
			}
		}
	}
	return t.proxySSLHosts[host]
}

// readTLSSettings reads ssl-protocols, ssl-ciphers and
// allow-cross-namespace-resources; a malformed value is a problem on the
// ConfigMap and leaves the default.
func (t *translator) readTLSSettings(ref model.ObjectRef, data map[string]string) tlsSettings {
	st := tlsSettings{
		crossNamespace:       t.configBool(ref, data, "allow-cross-namespace-resources", false),
		proxySSLLocationOnly: t.configBool(ref, data, "proxy-ssl-location-only", false),
	}
	_, p := data["ssl-protocols"]
	_, c := data["ssl-ciphers"]
	if !p && !c {
		return st
	}
	v, _ := annotations.SSLProtocols.Parse(annotations.SSLProtocols.Default)
	if got, ok, err := annotations.SSLProtocols.Lookup(data, ""); err != nil {
		t.problem(ref, "data.ssl-protocols", "InvalidConfiguration", "%v; using the default %q", err, annotations.SSLProtocols.Default)
	} else if ok {
		v = got
	}
	st.server = &model.TLSParams{MinVersion: v.Min, MaxVersion: v.Max}
	st.server.CipherSuites, _ = annotations.SSLCiphers.Parse(annotations.SSLCiphers.Default)
	if got, ok, err := annotations.SSLCiphers.Lookup(data, ""); err != nil {
		t.problem(ref, "data.ssl-ciphers", "InvalidConfiguration", "%v; using the default", err)
	} else if ok {
		st.server.CipherSuites = got
	}
	return st
}

// secretRef resolves "ns/name" from a TLS annotation, refusing other
// namespaces than the Ingress's unless the ConfigMap allows them.
func (t *translator) secretRef(ing *networkingv1.Ingress, name string) (map[string][]byte, error) {
	ns, n, _ := strings.Cut(name, "/")
	if ns != ing.Namespace && !t.settings.tls.crossNamespace {
		return nil, fmt.Errorf("Secret %s is in another namespace and allow-cross-namespace-resources is off", name)
	}
	s := t.secretObj(ns, n)
	if s == nil {
		return nil, notFound("Secret", "Secret %s not found", name)
	}
	return s.Data, nil
}

// proxySSL reads proxy-ssl-secret and, when it is set, the other
// proxy-ssl-* annotations. failClosed reports a Secret that cannot be
// used: the Ingress's paths then answer 503 rather than reach the
// upstream without the configured certificate or verification.
func (t *translator) proxySSL(ing *networkingv1.Ingress, bad func(error, string)) (bt *model.BackendTLS, failClosed bool) {
	a := ing.Annotations
	var secret string
	if read(a, &annotations.ProxySSLSecret, &secret, bad, "the Ingress's paths answer 503 until it is fixed") {
		return nil, true
	}
	if secret == "" {
		return nil, false
	}
	data, err := t.secretRef(ing, secret)
	if err == nil {
		err = checkProxySSL(data)
	}
	if err != nil {
		bad(fmt.Errorf("%sproxy-ssl-secret: %w", annotations.Prefix, err), "the Ingress's paths answer 503 until it is fixed")
		return nil, true
	}
	bt = &model.BackendTLS{Secret: secret, CertPEM: data["tls.crt"], KeyPEM: data["tls.key"], CAPEM: data["ca.crt"], VerifyDepth: 1, ServerName: "upstream_balancer"}
	read(a, &annotations.ProxySSLVerify, &bt.Verify, bad, "using the default off")
	read(a, &annotations.ProxySSLVerifyDepth, &bt.VerifyDepth, bad, "using the default 1")
	read(a, &annotations.ProxySSLName, &bt.ServerName, bad, "using the default upstream_balancer")
	read(a, &annotations.ProxySSLServerName, &bt.SNI, bad, "using the default off")
	versions := annotations.TLSVersions{Min: "TLSv1.2", Max: "TLSv1.2"}
	read(a, &annotations.ProxySSLProtocols, &versions, bad, "using the default TLSv1.2")
	bt.Params.MinVersion, bt.Params.MaxVersion = versions.Min, versions.Max
	read(a, &annotations.ProxySSLCiphers, &bt.Params.CipherSuites, bad, "using the default (Go's default suites)")
	bt.Fingerprint = fingerprint(bt, bt.CertPEM, bt.KeyPEM, bt.CAPEM)
	return bt, false
}

// checkProxySSL makes sure the Secret holds a usable key pair and CA.
func checkProxySSL(data map[string][]byte) error {
	if _, err := tls.X509KeyPair(data["tls.crt"], data["tls.key"]); err != nil {
		return fmt.Errorf("tls.crt and tls.key: %v", err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(data["ca.crt"]) {
		return fmt.Errorf("ca.crt holds no PEM certificate")
	}
	return nil
}

// fingerprint hashes a value's JSON encoding and the key material, which
// the encoding leaves out.
func fingerprint(v any, material ...[]byte) string {
	h := sha256.New()
	b, _ := json.Marshal(v)
	h.Write(b)
	for _, m := range material {
		h.Write([]byte{0})
		h.Write(m)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// clientAuth reads auth-tls-secret and the auth-tls-* annotations of an
// Ingress; nil when it sets no auth-tls-secret. A Secret that cannot be
// used gives a ClientAuth that denies the host.
func (t *translator) clientAuth(ing *networkingv1.Ingress, bad func(error, string)) *model.ClientAuth {
	a := ing.Annotations
	var secret string
	if read(a, &annotations.AuthTLSSecret, &secret, bad, "the host answers 403 over HTTPS until it is fixed") {
		return &model.ClientAuth{Deny: true, Verify: annotations.VerifyOn}
	}
	if secret == "" {
		return nil
	}
	ca := &model.ClientAuth{Secret: secret, Verify: annotations.VerifyOn, VerifyDepth: 1}
	data, err := t.secretRef(ing, secret)
	if err == nil && !x509.NewCertPool().AppendCertsFromPEM(data["ca.crt"]) {
		err = fmt.Errorf("Secret %s: ca.crt holds no PEM certificate", secret)
	}
	if err == nil && len(data["ca.crl"]) > 0 {
		if _, cerr := parseCRL(data["ca.crl"]); cerr != nil {
			err = fmt.Errorf("Secret %s: ca.crl: %v", secret, cerr)
		}
	}
	if err != nil {
		bad(fmt.Errorf("%sauth-tls-secret: %w", annotations.Prefix, err), "the host answers 403 over HTTPS until it is fixed")
		ca.Deny = true
		return ca
	}
	ca.CAPEM, ca.CRLPEM = data["ca.crt"], data["ca.crl"]
	read(a, &annotations.AuthTLSVerifyClient, &ca.Verify, bad, "using the default on")
	read(a, &annotations.AuthTLSVerifyDepth, &ca.VerifyDepth, bad, "using the default 1")
	read(a, &annotations.AuthTLSPassCertificate, &ca.PassCertificate, bad, "using the default false")
	if read(a, &annotations.AuthTLSMatchCN, &ca.MatchSubject, bad, "the host answers 403 over HTTPS until it is fixed") {
		// Admitting every subject would open what the user meant to close.
		ca.Deny = true
	}
	read(a, &annotations.AuthTLSErrorPage, &ca.ErrorPage, bad, "clients get 400")
	ca.Fingerprint = fingerprint(nil, ca.CAPEM, ca.CRLPEM)
	return ca
}

// parseCRL reads a PEM or DER revocation list.
func parseCRL(b []byte) (*x509.RevocationList, error) {
	if p, _ := pem.Decode(b); p != nil {
		b = p.Bytes
	}
	return x509.ParseRevocationList(b)
}

// addClientAuth merges an Ingress's auth-tls-* into its host: the oldest
// usable one wins; any unusable one denies the host, failing closed.
func (hb *hostBuilder) addClientAuth(ca *model.ClientAuth) {
	switch {
	case ca == nil:
	case ca.Deny:
		hb.clientAuthDeny = true
	case hb.clientAuth == nil:
		hb.clientAuth = ca
	}
}

func (hb *hostBuilder) buildClientAuth() *model.ClientAuth {
	if !hb.clientAuthDeny {
		return hb.clientAuth
	}
	ca := model.ClientAuth{Verify: annotations.VerifyOn}
	if hb.clientAuth != nil {
		ca = *hb.clientAuth
	}
	ca.Deny = true
	return &ca
}

// inheritsProxySSL reports a protocol that speaks TLS to the endpoints,
// for which proxy-ssl-* matter.
func (ip *ingressPolicy) inheritsProxySSL() bool {
	switch ip.protocol {
	case model.ProtocolHTTPS, model.ProtocolGRPCS, model.ProtocolAutoHTTP:
		return true
	}
	return false
}
