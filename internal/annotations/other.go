package annotations

// otherAnnotations describes the ingress-nginx annotations Strait does not
// (yet) implement or deliberately ignores.
func otherAnnotations() []Key {
	return nil
}
