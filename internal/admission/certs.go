package admission

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
)

// CertFiles serves a certificate and key read from PEM files, and reads
// them again when either file changes, so that a rotated Secret mounted as
// a volume takes effect without a restart. Each TLS handshake stats both
// files (the kubelet swaps a Secret volume's files by a symlink, which a
// stat follows); a pair that cannot be loaded, such as a certificate
// already replaced whose key is not yet, keeps the previous pair in
// service and is tried again at the next handshake.
type CertFiles struct {
	certFile, keyFile string
	log               *slog.Logger

	mu   sync.Mutex
	cert *tls.Certificate
	// loaded are the files as they were when cert was read.
	loaded [2]os.FileInfo
	// failed is the error of the last failed read, logged once.
	failed string
}

// LoadCertFiles reads the pair; an error says which file is wrong.
func LoadCertFiles(certFile, keyFile string, log *slog.Logger) (*CertFiles, error) {
	c := &CertFiles{certFile: certFile, keyFile: keyFile, log: log}
	stat, err := c.stat()
	if err != nil {
		return nil, err
	}
	if err := c.load(stat); err != nil {
		return nil, err
	}
	return c, nil
}

// GetCertificate is tls.Config.GetCertificate: the current pair, read
// again first when the files changed.
func (c *CertFiles) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	stat, err := c.stat()
	if err == nil && !sameFiles(stat, c.loaded) {
		err = c.load(stat)
	}
	switch {
	case err == nil:
		c.failed = ""
	case err.Error() != c.failed:
		c.failed = err.Error()
		c.log.Warn("validating webhook certificate not reloaded; the previous one stays in service", "error", err)
	}
	return c.cert, nil
}

func (c *CertFiles) stat() ([2]os.FileInfo, error) {
	var st [2]os.FileInfo
	for i, f := range []string{c.certFile, c.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return st, err
		}
		st[i] = fi
	}
	return st, nil
}

// load reads the pair the files hold now, recorded as stat.
func (c *CertFiles) load(stat [2]os.FileInfo) error {
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("certificate %s and key %s: %w", c.certFile, c.keyFile, err)
	}
	if c.cert != nil {
		c.log.Info("validating webhook certificate reloaded", "certificate", c.certFile)
	}
	c.cert, c.loaded = &pair, stat
	return nil
}

// sameFiles reports whether a and b are the same files, unchanged: same
// inode, size and modification time.
func sameFiles(a, b [2]os.FileInfo) bool {
	for i := range a {
		if a[i] == nil || b[i] == nil || !os.SameFile(a[i], b[i]) || a[i].Size() != b[i].Size() || !a[i].ModTime().Equal(b[i].ModTime()) {
			return false
		}
	}
	return true
}
