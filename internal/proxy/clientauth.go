package proxy

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy/upstream"
)

// clientAuth is a host's compiled client-certificate check (auth-tls-*).
// The TLS listener asks the host's clients for a certificate without
// verifying it in the handshake; the handler verifies it, so that a
// missing or invalid certificate gets HTTP 400 as with nginx rather than a
// failed handshake.
type clientAuth struct {
	deny    bool // the Secret could not be used: every HTTPS request gets 403
	verify  string
	roots   *x509.CertPool
	revoked map[string]bool // serial numbers (decimal) of the CRL, keyed with the issuer
	depth   int
	pass    bool
	match   *regexp.Regexp // auth-tls-match-cn; nil for none
	// errorPage replaces the 400 with a redirect; "" for none.
	errorPage string
}

// The headers nginx sends upstream for auth-tls hosts.
const (
	hdrClientVerify = "Ssl-Client-Verify"
	hdrClientSubDN  = "Ssl-Client-Subject-Dn"
	hdrClientIssDN  = "Ssl-Client-Issuer-Dn"
	hdrClientCert   = "Ssl-Client-Cert"
)

// compileClientAuth parses a host's CA and CRL. A CA that does not parse
// (translate checked it) denies the host rather than admit everyone.
func compileClientAuth(m *model.ClientAuth) *clientAuth {
	if m == nil {
		return nil
	}
	ca := &clientAuth{deny: m.Deny, verify: m.Verify, depth: m.VerifyDepth, pass: m.PassCertificate, errorPage: m.ErrorPage}
	if ca.deny {
		return ca
	}
	if m.MatchSubject != "" {
		re, err := regexp.Compile(m.MatchSubject)
		if err != nil {
			ca.deny = true
			return ca
		}
		ca.match = re
	}
	ca.roots = x509.NewCertPool()
	if !ca.roots.AppendCertsFromPEM(m.CAPEM) {
		ca.deny = true
		return ca
	}
	if len(m.CRLPEM) > 0 {
		der := m.CRLPEM
		if b, _ := pem.Decode(der); b != nil {
			der = b.Bytes
		}
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			ca.deny = true
			return ca
		}
		ca.revoked = map[string]bool{}
		for _, e := range crl.RevokedCertificateEntries {
			ca.revoked[revocationKey(crl.RawIssuer, e.SerialNumber)] = true
		}
	}
	return ca
}

func revocationKey(issuer []byte, serial *big.Int) string {
	return string(issuer) + "/" + serial.String()
}

// requestsCertificate reports whether the handshake asks for a
// certificate.
func (ca *clientAuth) requestsCertificate() bool {
	return ca != nil && !ca.deny && ca.verify != annotations.VerifyOff
}

// strip removes the ssl-client-* headers a client sent over plain HTTP,
// where nginx sends none of its own.
func (ca *clientAuth) strip(r *http.Request) {
	h := r.Header
	h.Del(hdrClientVerify)
	h.Del(hdrClientSubDN)
	h.Del(hdrClientIssDN)
	h.Del(hdrClientCert)
}

// check verifies the client certificate of an HTTPS request and sets the
// ssl-client-* headers sent upstream, replacing any the client sent. It
// returns the status to answer with, 0 to go on, and for the error page
// its Location.
func (ca *clientAuth) check(r *http.Request) (int, string) {
	code := ca.verifyRequest(r)
	if code == http.StatusBadRequest && ca.errorPage != "" {
		return http.StatusFound, ca.errorPage
	}
	return code, ""
}

func (ca *clientAuth) verifyRequest(r *http.Request) int {
	ca.strip(r)
	h := r.Header
	if ca.deny {
		return http.StatusForbidden
	}
	var certs []*x509.Certificate
	if ca.verify != annotations.VerifyOff {
		certs = r.TLS.PeerCertificates
	}
	result := "NONE"
	if len(certs) > 0 {
		if err := ca.verifyChain(certs); err != nil {
			result = "FAILED:" + verifyReason(err)
		} else {
			result = "SUCCESS"
		}
	}
	switch ca.verify {
	case annotations.VerifyOn:
		if result != "SUCCESS" {
			return http.StatusBadRequest
		}
	case annotations.VerifyOptional:
		if strings.HasPrefix(result, "FAILED") {
			return http.StatusBadRequest
		}
	}
	if ca.match != nil {
		// nginx compares $ssl_client_s_dn, empty without a certificate.
		dn := ""
		if len(certs) > 0 {
			dn = certs[0].Subject.String()
		}
		if !ca.match.MatchString(dn) {
			return http.StatusForbidden
		}
	}
	h[hdrClientVerify] = []string{result}
	if len(certs) > 0 {
		h[hdrClientSubDN] = []string{certs[0].Subject.String()}
		h[hdrClientIssDN] = []string{certs[0].Issuer.String()}
		if ca.pass {
			h[hdrClientCert] = []string{escapeCert(certs[0])}
		}
	}
	return 0
}

var errRevoked = errors.New("certificate revoked")

func (ca *clientAuth) verifyChain(certs []*x509.Certificate) error {
	if err := upstream.VerifyChain(certs, ca.roots, ca.depth); err != nil {
		return err
	}
	if ca.revoked != nil && ca.revoked[revocationKey(certs[0].RawIssuer, certs[0].SerialNumber)] {
		return errRevoked
	}
	return nil
}

// verifyReason words a verification failure as OpenSSL does, which is what
// upstreams of nginx see after "FAILED:".
func verifyReason(err error) string {
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		return "unable to get local issuer certificate"
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		return "certificate has expired"
	case errors.As(err, &ci) && ci.Reason == x509.IncompatibleUsage:
		return "unsupported certificate purpose"
	case errors.Is(err, errRevoked):
		return "certificate revoked"
	}
	return err.Error()
}

// escapeCert renders a certificate as nginx's $ssl_client_escaped_cert:
// PEM, URL-escaped.
func escapeCert(c *x509.Certificate) string {
	p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	return strings.ReplaceAll(url.QueryEscape(string(p)), "+", "%20")
}
