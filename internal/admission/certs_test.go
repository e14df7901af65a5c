package admission_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/admission"
)

// keyPair returns a self-signed certificate for 127.0.0.1 named cn, and
// its key, in PEM.
func keyPair(t *testing.T, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// secretVolume lays files out as the kubelet mounts a Secret: dir/cert
// and dir/key are links through dir/..data to a directory of the version;
// a new version is swapped in by renaming one link.
type secretVolume struct {
	t   *testing.T
	dir string
	n   int
}

func (v *secretVolume) write(cert, key []byte) {
	v.t.Helper()
	v.n++
	version := filepath.Join(v.dir, "..v"+string(rune('0'+v.n)))
	must(v.t, os.Mkdir(version, 0o755))
	must(v.t, os.WriteFile(filepath.Join(version, "cert"), cert, 0o600))
	must(v.t, os.WriteFile(filepath.Join(version, "key"), key, 0o600))
	tmp := filepath.Join(v.dir, "..data_tmp")
	must(v.t, os.Symlink(filepath.Base(version), tmp))
	must(v.t, os.Rename(tmp, filepath.Join(v.dir, "..data")))
	if v.n == 1 {
		must(v.t, os.Symlink("..data/cert", filepath.Join(v.dir, "cert")))
		must(v.t, os.Symlink("..data/key", filepath.Join(v.dir, "key")))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// servedName returns the common name of the certificate a new TLS
// handshake with addr gets.
func servedName(t *testing.T, addr string) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].Subject.CommonName
}

func TestCertificateReloaded(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	vol := &secretVolume{t: t, dir: t.TempDir()}
	certA, keyA := keyPair(t, "first")
	vol.write(certA, keyA)
	certs, err := admission.LoadCertFiles(filepath.Join(vol.dir, "cert"), filepath.Join(vol.dir, "key"), log)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := admission.Listen("127.0.0.1:0", certs, http.NotFoundHandler(), log)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	if got := servedName(t, srv.Addr()); got != "first" {
		t.Fatalf("served %q, want first", got)
	}

	// The Secret is rotated: the next handshake gets the new pair.
	certB, keyB := keyPair(t, "second")
	vol.write(certB, keyB)
	if got := servedName(t, srv.Addr()); got != "second" {
		t.Fatalf("after rotation served %q, want second", got)
	}

	// A pair that does not match keeps the previous one in service...
	certC, keyC := keyPair(t, "third")
	vol.write(certC, keyB)
	if got := servedName(t, srv.Addr()); got != "second" {
		t.Fatalf("with a mismatched pair served %q, want second", got)
	}
	// ...until it is right.
	vol.write(certC, keyC)
	if got := servedName(t, srv.Addr()); got != "third" {
		t.Fatalf("after the fix served %q, want third", got)
	}
}

func TestCertificateFilesChecked(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	cert, key := keyPair(t, "x")
	certFile, keyFile := filepath.Join(dir, "cert"), filepath.Join(dir, "key")
	must(t, os.WriteFile(certFile, cert, 0o600))
	if _, err := admission.LoadCertFiles(certFile, keyFile, log); err == nil || !strings.Contains(err.Error(), keyFile) {
		t.Errorf("missing key: error %v, want one naming %s", err, keyFile)
	}
	must(t, os.WriteFile(keyFile, []byte("not a key"), 0o600))
	if _, err := admission.LoadCertFiles(certFile, keyFile, log); err == nil || !strings.Contains(err.Error(), keyFile) {
		t.Errorf("bad key: error %v, want one naming %s", err, keyFile)
	}
	must(t, os.WriteFile(keyFile, key, 0o600))
	if _, err := admission.LoadCertFiles(certFile, keyFile, log); err != nil {
		t.Errorf("good pair: %v", err)
	}
}
