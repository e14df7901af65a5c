package annotations

// configMapKeys describes the ingress-nginx ConfigMap keys.
func configMapKeys() []Key {
	return nil
}
