package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/straitgw/strait/internal/model"
)

// certStore keeps parsed certificates across generations, keyed by
// fingerprint, so that an unchanged Secret is parsed once.
type certStore struct {
	def    *tls.Certificate
	mu     sync.Mutex
	parsed map[string]*tls.Certificate // by fingerprint
}

func newCertStore(def *tls.Certificate) *certStore {
	return &certStore{def: def, parsed: map[string]*tls.Certificate{}}
}

// update returns the model's certificates by name, parsing only new ones
// and forgetting those no longer used.
func (s *certStore) update(certs []model.Certificate, log *slog.Logger) map[string]*tls.Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]*tls.Certificate, len(certs))
	keep := make(map[string]*tls.Certificate, len(certs))
	for _, mc := range certs {
		c := s.parsed[mc.Fingerprint]
		if c == nil {
			pair, err := tls.X509KeyPair(mc.ChainPEM, mc.KeyPEM)
			if err != nil {
				// translate validated the pair; log rather than fail the
				// generation if it ever disagrees.
				log.Error("certificate rejected by the data plane", "certificate", mc.Name, "error", err)
				continue
			}
			c = &pair
		}
		keep[mc.Fingerprint] = c
		out[mc.Name] = c
	}
	s.parsed = keep
	return out
}

// SelfSignedCertificate returns a fresh self-signed ECDSA certificate, the
// default served when no other certificate matches (ingress-nginx's "Fake
// Certificate").
func SelfSignedCertificate() (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Strait Default Certificate", Organization: []string{"Strait"}},
		DNSNames:              []string{"ingress.local"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}
