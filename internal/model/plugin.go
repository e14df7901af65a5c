package model

// PluginRef is one plugin on a route (strait.dev/plugins, or the
// ConfigMap's plugins key), in the order its phases run.
type PluginRef struct {
	// Name is a Go plugin of the process's registry or a Lua plugin.
	Name string `json:"name"`
	// Config is the plugin's configuration (strait.dev/plugin.<name>.<key>
	// annotations by <key>), already checked by the plugin's parser.
	Config map[string]string `json:"config,omitempty"`
	// Lua, when set, makes this a Lua plugin.
	Lua *LuaScript `json:"lua,omitempty"`
}

// LuaScript is where a Lua plugin's main.lua comes from.
type LuaScript struct {
	// Source is the ConfigMap holding main.lua; empty when the plugin
	// comes from the plugins directory.
	Source ObjectRef `json:"source,omitempty"`
	// Code is the ConfigMap's main.lua; "" means the plugins directory's
	// <name>/main.lua, read by the data plane as it changes.
	Code string `json:"code,omitempty"`
}
