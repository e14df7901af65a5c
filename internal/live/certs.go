package live

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/straitgw/strait/internal/model"
)

// certInfo is what the view shows of a certificate's leaf.
type certInfo struct {
	subject  string
	dnsNames []string
	notAfter time.Time
	err      error
}

// certCache keeps parsed leaves by fingerprint, so that a page polling
// every two seconds parses each certificate once.
type certCache struct {
	mu    sync.Mutex
	byFPR map[string]certInfo
}

// lookup returns the parsed leaves of the model's certificates and
// forgets those of earlier models.
func (c *certCache) lookup(certs []model.Certificate) []certInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := make(map[string]certInfo, len(certs))
	out := make([]certInfo, len(certs))
	for i := range certs {
		mc := &certs[i]
		info, ok := c.byFPR[mc.Fingerprint]
		if !ok {
			info = parseLeaf(mc.ChainPEM)
		}
		next[mc.Fingerprint] = info
		out[i] = info
	}
	c.byFPR = next
	return out
}

// parseLeaf reads the first certificate of a PEM chain.
func parseLeaf(chain []byte) certInfo {
	for {
		var b *pem.Block
		b, chain = pem.Decode(chain)
		if b == nil {
			return certInfo{err: errors.New("no CERTIFICATE block in tls.crt")}
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return certInfo{err: err}
		}
		return certInfo{subject: c.Subject.CommonName, dnsNames: c.DNSNames, notAfter: c.NotAfter}
	}
}

// certificates lists the model's certificates with the names they serve
// and their expiry.
func certificates(m *model.Model, now time.Time, cache *certCache) []Certificate {
	hosts := map[string][]string{}
	for _, b := range m.SNI {
		hosts[b.Certificate] = append(hosts[b.Certificate], b.Host)
	}
	for _, g := range m.Gateways {
		for _, l := range g.Listeners {
			name := "Gateway " + g.Name + " listener " + l.Name + " (port " + strconv.Itoa(int(l.Port)) + ")"
			for _, c := range l.Certificates {
				hosts[c] = append(hosts[c], name)
			}
		}
	}
	infos := cache.lookup(m.Certificates)
	out := make([]Certificate, len(m.Certificates))
	for i, mc := range m.Certificates {
		c := Certificate{
			Name:        mc.Name,
			Secret:      secretObject(mc.Name),
			Fingerprint: mc.Fingerprint,
			DNSNames:    []string{},
			Hosts:       slices.Sorted(slices.Values(hosts[mc.Name])),
			Default:     mc.Name == m.DefaultCertificate,
		}
		if c.Hosts == nil {
			c.Hosts = []string{}
		}
		info := infos[i]
		if info.err != nil {
			c.Error = info.err.Error()
		} else {
			c.Subject = info.subject
			c.DNSNames = append(c.DNSNames, info.dnsNames...)
			c.NotAfter = info.notAfter.UTC()
			left := info.notAfter.Sub(now)
			c.DaysLeft = wholeDays(left)
			c.Expired = left <= 0
			c.ExpiringSoon = !c.Expired && left < ExpiringSoonDays*24*time.Hour
		}
		out[i] = c
	}
	return out
}

// secretObject reads "<namespace>/<name>".
func secretObject(name string) Object {
	ns, n, ok := splitName(name)
	if !ok {
		return Object{Kind: "Secret", Name: name}
	}
	return Object{Kind: "Secret", Namespace: ns, Name: n}
}

// wholeDays rounds d down to whole days: a certificate that expired an
// hour ago has -1 days left.
func wholeDays(d time.Duration) int {
	const day = 24 * time.Hour
	n := int(d / day)
	if d < 0 && d%day != 0 {
		n--
	}
	return n
}
