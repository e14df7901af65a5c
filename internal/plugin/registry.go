package plugin

import (
	"fmt"
	"slices"
)

// Factory makes a plugin from a route's configuration: the
// strait.dev/plugin.<name>.<key> annotations, keyed by <key>.
type Factory interface {
	// Name is what strait.dev/plugins lists.
	Name() string
	// Check reports what is wrong with a configuration; translate calls
	// it, so a malformed value is a problem on the object, never a
	// default.
	Check(cfg map[string]string) error
	// New builds the plugin of one route, once per generation.
	New(cfg map[string]string) (Plugin, error)
}

// Spec is a Factory whose configuration parses into a typed value.
type Spec[C any] struct {
	// PluginName is the plugin's name.
	PluginName string
	// Parse turns the configuration into C; unknown keys and malformed
	// values are errors.
	Parse func(cfg map[string]string) (C, error)
	// Build makes the plugin from a parsed configuration.
	Build func(C) Plugin
}

// Name returns PluginName.
func (s Spec[C]) Name() string { return s.PluginName }

// Check parses cfg.
func (s Spec[C]) Check(cfg map[string]string) error {
	_, err := s.Parse(cfg)
	return err
}

// New parses cfg and builds the plugin.
func (s Spec[C]) New(cfg map[string]string) (Plugin, error) {
	c, err := s.Parse(cfg)
	if err != nil {
		return nil, err
	}
	return s.Build(c), nil
}

// Scripts runs plugins written in a scripting language (Lua), which are
// loaded while the process runs rather than compiled in.
type Scripts interface {
	// Check reports whether code compiles, for translate's problems.
	Check(code string) error
	// Script returns the plugin named name on a route. code is its
	// source from a ConfigMap; "" means the plugins directory's
	// <name>/main.lua, looked up for every request so that the file's
	// changes apply at once.
	Script(name, code string, cfg map[string]string) Plugin
	// Directory reports whether a plugins directory is configured.
	Directory() bool
}

// Registry is the list of plugins a process can run: its Go plugins by
// name and its script runtime. It is built once at start and never
// changes.
type Registry struct {
	byName  map[string]Factory
	names   []string
	scripts Scripts
}

// NewRegistry lists fs, refusing empty, malformed and repeated names.
// scripts may be nil: then only Go plugins run.
func NewRegistry(scripts Scripts, fs ...Factory) (*Registry, error) {
	r := &Registry{byName: make(map[string]Factory, len(fs)), scripts: scripts}
	for _, f := range fs {
		n := f.Name()
		if err := CheckName(n); err != nil {
			return nil, err
		}
		if r.byName[n] != nil {
			return nil, fmt.Errorf("plugin %q is listed twice", n)
		}
		r.byName[n] = f
		r.names = append(r.names, n)
	}
	slices.Sort(r.names)
	return r, nil
}

// Names lists the Go plugins, sorted.
func (r *Registry) Names() []string {
	if r == nil {
		return nil
	}
	return slices.Clone(r.names)
}

// Lookup returns the Go plugin named n, or nil.
func (r *Registry) Lookup(n string) Factory {
	if r == nil {
		return nil
	}
	return r.byName[n]
}

// Scripts returns the script runtime, nil when there is none.
func (r *Registry) Scripts() Scripts {
	if r == nil {
		return nil
	}
	return r.scripts
}

// CheckName reports whether n can name a plugin: 1 to 63 lower-case
// letters, digits and dashes, starting with a letter, so that it fits a
// directory name, a ConfigMap name and an annotation key.
func CheckName(n string) error {
	if n == "" || len(n) > 63 {
		return fmt.Errorf("plugin name %q must have 1 to 63 characters", n)
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c >= 'a' && c <= 'z' || i > 0 && (c >= '0' && c <= '9' || c == '-') {
			continue
		}
		return fmt.Errorf("plugin name %q must be lower-case letters, digits and dashes, starting with a letter", n)
	}
	return nil
}
