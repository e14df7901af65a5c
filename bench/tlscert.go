package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// benchCert is the one certificate all three proxies serve, so that the TLS
// scenarios compare the same handshake: an ECDSA P-256 key (the cheapest
// common choice to sign with) and a self-signed certificate for benchHost.
type benchCert struct {
	certPEM, keyPEM []byte
}

// newBenchCert generates a fresh key and a self-signed certificate for host,
// valid from an hour ago (clock skew) for a day.
func newBenchCert(host string) (benchCert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return benchCert{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return benchCert{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: host},
		DNSNames:              []string{host},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return benchCert{}, fmt.Errorf("self-sign certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return benchCert{}, err
	}
	return benchCert{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

// combinedPEM is the certificate followed by its key, the one-file form
// HAProxy's crt expects.
func (c benchCert) combinedPEM() []byte {
	return append(append([]byte(nil), c.certPEM...), c.keyPEM...)
}

// checkTLS connects to a proxy's TLS listener as the load generators do
// (SNI benchHost, ALPN h2 then http/1.1) until it serves cert and
// negotiates HTTP/2, or timeout passes. It guards the comparison itself: a
// proxy that fell back to a default certificate (another key type, another
// signature cost) or to HTTP/1.1 would be measured doing different work.
func checkTLS(ctx context.Context, addr string, cert benchCert, timeout time.Duration) error {
	block, _ := pem.Decode(cert.certPEM)
	if block == nil {
		return errors.New("bench certificate is not PEM")
	}
	cfg := &tls.Config{ServerName: benchHost, InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}}
	deadline := time.Now().Add(timeout)
	for {
		err := func() error {
			d := tls.Dialer{NetDialer: &net.Dialer{Timeout: time.Second}, Config: cfg}
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return err
			}
			defer c.Close()
			st := c.(*tls.Conn).ConnectionState()
			switch {
			case len(st.PeerCertificates) == 0 || !bytes.Equal(st.PeerCertificates[0].Raw, block.Bytes):
				return errors.New("serves another certificate than the bench one")
			case st.NegotiatedProtocol != "h2":
				return fmt.Errorf("negotiated ALPN %q, not h2", st.NegotiatedProtocol)
			}
			return nil
		}()
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("TLS on %s: %w", addr, err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
