// Package annotations is the single registry of the ingress-nginx
// annotations and ConfigMap keys Strait knows: for each its scope, typed
// parser, default (and the ConfigMap key that sets it), risk level, what
// Strait does with it, and user documentation. Translate reads annotations
// through it, docs/annotations.md is generated from it, and `strait check`
// reports from it.
package annotations

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Prefix is ingress-nginx's default annotation prefix.
const Prefix = "nginx.ingress.kubernetes.io/"

// StraitPrefix is the prefix of Strait's own annotations, which
// ingress-nginx does not have.
const StraitPrefix = "strait.dev/"

// Scope says what an annotation applies to.
type Scope string

// Scopes, as ingress-nginx applies them (catalogue section 3.6).
const (
	// ScopeLocation annotations apply to the paths of their own Ingress.
	ScopeLocation Scope = "location"
	// ScopeHost annotations apply to a whole host; the oldest Ingress that
	// sets one wins.
	ScopeHost Scope = "host"
	// ScopeBackend annotations apply to a Service port shared by every
	// path that uses it; the oldest Ingress that sets one wins.
	ScopeBackend Scope = "backend"
	// ScopeIngress annotations apply to the Ingress as a whole (canary).
	ScopeIngress Scope = "ingress"
)

// Risk is ingress-nginx's annotation risk level, which
// annotations-risk-level compares against.
type Risk int

// Risk levels, lowest first.
const (
	RiskLow Risk = iota
	RiskMedium
	RiskHigh
	RiskCritical
)

func (r Risk) String() string {
	return [...]string{"Low", "Medium", "High", "Critical"}[r]
}

// Support says what Strait does with a key.
type Support string

// Support levels.
const (
	// Supported keys behave as ingress-nginx documents.
	Supported Support = "supported"
	// Differs keys are supported with the differences their Notes give.
	Differs Support = "supported, with differences"
	// Ignored keys are accepted and have no effect: they tune nginx
	// internals that have no counterpart in Strait's data plane.
	Ignored Support = "accepted, ignored (nginx-only)"
	// Unsupported keys are not implemented; Ingresses using them get an
	// Event, and `strait check` lists them.
	Unsupported Support = "not supported"
)

// Key describes one annotation or ConfigMap key.
type Key struct {
	// Name is the key without prefix, e.g. "rewrite-target".
	Name string
	// Scope is what an annotation applies to (empty for ConfigMap keys).
	Scope Scope
	// Risk is ingress-nginx's risk level (annotations only).
	Risk Risk
	// Support is what Strait does with it.
	Support Support
	// Default is the value used when the key is absent, as users write it.
	Default string
	// ConfigMapKey is the ConfigMap key whose value is the annotation's
	// default, if any.
	ConfigMapKey string
	// Doc says in one sentence what the key does.
	Doc string
	// Notes say how Strait differs, or why it ignores or lacks the key.
	Notes string
	// Aliases are older names read when Name is absent.
	Aliases []string
	// Prefix is the annotation's prefix when it is not ingress-nginx's
	// (StraitPrefix for Strait's own annotations); empty means Prefix.
	Prefix string
}

// Value is a typed annotation or ConfigMap key: its description plus a
// parser that turns the string value into T or a precise error.
type Value[T any] struct {
	Key
	// Parse converts a present, non-empty value.
	Parse func(raw string) (T, error)
}

// Annotation is what every typed Value offers the registry, whatever its
// value type.
type Annotation interface {
	// Describe returns the key's description.
	Describe() Key
	// CheckValue reports whether raw is a valid value.
	CheckValue(raw string) error
}

// Describe implements Annotation.
func (v *Value[T]) Describe() Key { return v.Key }

// CheckValue implements Annotation.
func (v *Value[T]) CheckValue(raw string) error {
	_, err := v.Parse(raw)
	return err
}

// Lookup reads the value from a map of annotations (with Prefix) or
// ConfigMap data (without): ok is false when the key and its aliases are
// absent or empty; err names the key and the value when it is malformed.
func (v *Value[T]) Lookup(m map[string]string, prefix string) (val T, ok bool, err error) {
	raw, name, found := lookupRaw(m, prefix, v.Name, v.Aliases)
	if !found {
		return val, false, nil
	}
	val, err = v.Parse(raw)
	if err != nil {
		return val, true, fmt.Errorf("%s%s: invalid value %q: %w", prefix, name, raw, err)
	}
	return val, true, nil
}

func lookupRaw(m map[string]string, prefix, name string, aliases []string) (raw, used string, ok bool) {
	for _, n := range append([]string{name}, aliases...) {
		if v, present := m[prefix+n]; present && strings.TrimSpace(v) != "" {
			return v, n, true
		}
	}
	return "", "", false
}

// Catalogue is the whole registry, for docs and `strait check`.
type Catalogue struct {
	// Annotations by name.
	Annotations []Key
	// ConfigMapKeys by name.
	ConfigMapKeys []Key
}

// All returns the registry, sorted by name.
func All() Catalogue {
	c := Catalogue{Annotations: annotationKeys(), ConfigMapKeys: configMapKeys()}
	impl := implementedConfigMapKeys()
	for i := range c.ConfigMapKeys {
		k := &c.ConfigMapKeys[i]
		if s, ok := impl[k.Name]; ok {
			// A key described as differing keeps its own notes.
			if s != Differs || k.Support != Differs {
				k.Notes = ""
				if s == Differs {
					k.Notes = "As the annotation it sets the default of."
				}
			}
			k.Support = s
		}
	}
	sort.Slice(c.Annotations, func(i, j int) bool { return c.Annotations[i].Name < c.Annotations[j].Name })
	sort.Slice(c.ConfigMapKeys, func(i, j int) bool { return c.ConfigMapKeys[i].Name < c.ConfigMapKeys[j].Name })
	return c
}

// CheckValue validates a value of the named annotation (without prefix,
// aliases included) when Strait implements it; it returns nil for the
// others, whose values Strait does not read.
func CheckValue(name, value string) error {
	for _, a := range implemented() {
		k := a.Describe()
		if k.Name == name || slices.Contains(k.Aliases, name) {
			return a.CheckValue(value)
		}
	}
	return nil
}

// Annotation returns the description of an annotation by name (without
// prefix; aliases included).
func (c Catalogue) Annotation(name string) (Key, bool) {
	for _, k := range c.Annotations {
		if k.Name == name {
			return k, true
		}
		for _, a := range k.Aliases {
			if a == name {
				return k, true
			}
		}
	}
	return Key{}, false
}
