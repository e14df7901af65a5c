// Package builtin holds the Go plugins compiled into Strait and the list
// that registers them.
package builtin

import "github.com/straitgw/strait/internal/plugin"

// List returns the built-in plugins, for plugin.NewRegistry.
func List() []plugin.Factory {
	return []plugin.Factory{RequestID}
}
