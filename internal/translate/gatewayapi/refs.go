package gatewayapi

import (
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/straitgw/strait/internal/snapshot"
)

// reference is one object naming another in a different namespace: the
// referrer's group, kind and namespace, and the target's.
type reference struct {
	fromGroup, fromKind, fromNamespace string
	toGroup, toKind, toNamespace       string
	toName                             string
}

// permitted reports whether a ReferenceGrant in the target's namespace
// allows ref (a reference within one namespace needs none).
func permitted(s *snapshot.Snapshot, ref reference) bool {
	if ref.fromNamespace == ref.toNamespace {
		return true
	}
	for _, g := range s.ReferenceGrants[ref.toNamespace] {
		from := false
		for _, f := range g.Spec.From {
			if string(f.Group) == ref.fromGroup && string(f.Kind) == ref.fromKind && string(f.Namespace) == ref.fromNamespace {
				from = true
				break
			}
		}
		if !from {
			continue
		}
		for _, t := range g.Spec.To {
			if string(t.Group) == ref.toGroup && string(t.Kind) == ref.toKind && (t.Name == nil || string(*t.Name) == ref.toName) {
				return true
			}
		}
	}
	return false
}

// gatewayGroup is the Gateway API's group.
const gatewayGroup = gatewayv1.GroupName
