package translate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/plugin"
)

// Plugin annotations and ConfigMap keys. The annotations are Strait's own
// (ingress-nginx enables plugins only globally); the ConfigMap's plugins
// key is ingress-nginx's.
const (
	// PluginsAnnotation lists a route's plugins, comma-separated.
	PluginsAnnotation = "strait.dev/plugins"
	// PluginConfigPrefix starts a plugin's configuration annotation,
	// strait.dev/plugin.<name>.<key>; in the ConfigMap, for the global
	// plugins, the key is plugin.<name>.<key>.
	PluginConfigPrefix = "strait.dev/plugin."
	// PluginsKey is the ConfigMap key enabling plugins on every route.
	PluginsKey = "plugins"
	// PluginConfigMapPrefix names a Lua plugin's ConfigMap in the
	// controller ConfigMap's namespace: strait-plugin-<name>, labelled
	// PluginLabel: <name>, with the code under PluginCodeKey.
	PluginConfigMapPrefix = "strait-plugin-"
	PluginLabel           = "strait.dev/plugin"
	PluginCodeKey         = "main.lua"
)

// globalPlugins reads the ConfigMap's plugins key and the plugin.<name>.*
// keys configuring them. A name that cannot be resolved is a problem on
// the ConfigMap and fails every Ingress route closed: a missing plugin
// may be a missing check.
func (t *translator) globalPlugins(ref model.ObjectRef, data map[string]string) (refs []model.PluginRef, failClosed bool) {
	list, ok := data[PluginsKey]
	if !ok {
		return nil, false
	}
	names, err := pluginNames(list)
	if err != nil {
		t.problem(ref, "data."+PluginsKey, "InvalidConfiguration", "%v; every Ingress path answers 503 until it is fixed", err)
		return nil, true
	}
	cfgs, err := pluginConfigs(data, "plugin.", names)
	if err != nil {
		t.problem(ref, "data", "InvalidConfiguration", "%v; every Ingress path answers 503 until it is fixed", err)
		return nil, true
	}
	for _, n := range names {
		r, ok := t.resolvePlugin(ref, "data."+PluginsKey, n, cfgs[n])
		failClosed = failClosed || !ok
		refs = append(refs, r)
	}
	return refs, failClosed
}

// routePlugins reads an Ingress's plugin annotations and puts its
// plugins after the global ones. A plugin listed in both runs once, in
// the global place, with the Ingress's configuration if it has one.
func (t *translator) routePlugins(ref model.ObjectRef, a map[string]string) (refs []model.PluginRef, failClosed bool) {
	global := t.settings.plugins
	list, listed := a[PluginsAnnotation]
	var names []string
	if listed {
		var err error
		if names, err = pluginNames(list); err != nil {
			t.problem(ref, "metadata.annotations", "InvalidAnnotation", "%s: %v; the Ingress's paths answer 503 until it is fixed", PluginsAnnotation, err)
			return nil, true
		}
	}
	known := slices.Clone(names)
	for _, g := range global {
		known = append(known, g.Name)
	}
	cfgs, err := pluginConfigs(a, PluginConfigPrefix, known)
	if err != nil {
		t.problem(ref, "metadata.annotations", "InvalidAnnotation", "%v; the Ingress's paths answer 503 until it is fixed", err)
		return nil, true
	}
	if len(global) == 0 && len(names) == 0 {
		return nil, false
	}
	refs = make([]model.PluginRef, 0, len(global)+len(names))
	for _, g := range global {
		if c, own := cfgs[g.Name]; own {
			r, ok := t.resolvePlugin(ref, "metadata.annotations", g.Name, c)
			failClosed = failClosed || !ok
			g = r
		}
		refs = append(refs, g)
	}
	for _, n := range names {
		if slices.ContainsFunc(global, func(g model.PluginRef) bool { return g.Name == n }) {
			continue
		}
		r, ok := t.resolvePlugin(ref, "metadata.annotations", n, cfgs[n])
		failClosed = failClosed || !ok
		refs = append(refs, r)
	}
	return refs, failClosed
}

// resolvePlugin finds the plugin named n: a Go plugin of the registry,
// else the Lua plugin of the ConfigMap strait-plugin-<n>, else one in the
// plugins directory. It reports false, with a problem on obj, when the
// plugin cannot run as configured. Lua code that does not compile is a
// problem but not a failure: the data plane keeps serving the plugin's
// previous version.
func (t *translator) resolvePlugin(obj model.ObjectRef, field, n string, cfg map[string]string) (model.PluginRef, bool) {
	r := model.PluginRef{Name: n, Config: cfg}
	if f := t.plugins.Lookup(n); f != nil {
		if err := f.Check(cfg); err != nil {
			// An Ingress's own mistake refuses it at admission; a
			// missing plugin (below) may be a ConfigMap created later.
			const msg = "plugin %s: %v; the paths using it answer 503 until it is fixed"
			if obj.Kind == "Ingress" {
				t.problem(obj, field, "InvalidAnnotation", msg, n, err)
			} else {
				t.problem(obj, field, "InvalidConfiguration", msg, n, err)
			}
			return r, false
		}
		return r, true
	}
	scripts := t.plugins.Scripts()
	if ns := t.pluginNS; ns != "" {
		if cm := t.configMap(ns, PluginConfigMapPrefix+n); cm != nil {
			src := model.ObjectRef{Kind: "ConfigMap", Namespace: ns, Name: cm.Name}
			switch code, ok := cm.Data[PluginCodeKey]; {
			case cm.Labels[PluginLabel] != n:
				t.problem(src, "metadata.labels", "InvalidConfiguration", "a plugin ConfigMap needs the label %s: %s; the paths using plugin %s answer 503", PluginLabel, n, n)
			case !ok || code == "":
				t.problem(src, "data."+PluginCodeKey, "InvalidConfiguration", "plugin %s has no %s; the paths using it answer 503", n, PluginCodeKey)
			case scripts == nil:
				t.problem(src, "data."+PluginCodeKey, "InvalidConfiguration", "this process runs no Lua plugins; the paths using plugin %s answer 503", n)
			default:
				if err := scripts.Check(code); err != nil {
					t.problem(src, "data."+PluginCodeKey, "InvalidConfiguration", "plugin %s does not compile: %v; its previous version, if any, keeps serving", n, err)
				}
				r.Lua = &model.LuaScript{Source: src, Code: code}
				return r, true
			}
			return r, false
		}
	}
	if scripts != nil && scripts.Directory() {
		// Read by the data plane as the file changes; a missing file
		// fails the plugin's requests with 500.
		r.Lua = &model.LuaScript{}
		return r, true
	}
	t.problem(obj, field, "ConfigMapNotFound", "unknown plugin %q (Go plugins: %s; Lua plugins come from ConfigMaps %s<name> or the plugins directory); the paths using it answer 503",
		n, strings.Join(t.plugins.Names(), ", "), PluginConfigMapPrefix)
	return r, false
}

// pluginNames splits a comma-separated list of plugin names.
func pluginNames(list string) ([]string, error) {
	var names []string
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if err := plugin.CheckName(n); err != nil {
			return nil, err
		}
		if slices.Contains(names, n) {
			return nil, fmt.Errorf("plugin %q is listed twice", n)
		}
		names = append(names, n)
	}
	return names, nil
}

// pluginConfigs collects the <prefix><name>.<key> entries of kv by plugin
// name. A name not in names is an error: the configuration of a plugin
// that does not run is a mistake, not something to ignore.
func pluginConfigs(kv map[string]string, prefix string, names []string) (map[string]map[string]string, error) {
	var out map[string]map[string]string
	for k, v := range kv {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		n, key, ok := strings.Cut(rest, ".")
		if !ok || key == "" {
			return nil, fmt.Errorf("%s: want %s<plugin>.<key>", k, prefix)
		}
		if !slices.Contains(names, n) {
			return nil, fmt.Errorf("%s configures plugin %q, which is not enabled", k, n)
		}
		if out == nil {
			out = map[string]map[string]string{}
		}
		if out[n] == nil {
			out[n] = map[string]string{}
		}
		out[n][key] = v
	}
	return out, nil
}
