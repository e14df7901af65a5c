package gatewayapi

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/snapshot"
)

// certificates returns the certificates the programmed HTTPS listeners
// name, once each. Only listeners whose references all resolved are
// programmed, so every name has its Secret.
func certificates(s *snapshot.Snapshot, gws []model.Gateway) []model.Certificate {
	var names []string
	for _, g := range gws {
		for _, l := range g.Listeners {
			names = append(names, l.Certificates...)
		}
	}
	slices.Sort(names)
	var out []model.Certificate
	for _, name := range slices.Compact(names) {
		ns, n, _ := strings.Cut(name, "/")
		sec := s.Secrets[types.NamespacedName{Namespace: ns, Name: n}]
		if sec == nil {
			continue
		}
		out = append(out, model.NewCertificate(name, sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey]))
	}
	return out
}
