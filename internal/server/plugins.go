package server

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/straitgw/strait/internal/plugin"
	"github.com/straitgw/strait/internal/plugin/builtin"
	luaplugin "github.com/straitgw/strait/internal/plugin/lua"
)

// PluginsConfig configures the Lua plugin runtime.
type PluginsConfig struct {
	// Dir is --plugins-dir: <name>/main.lua files, watched; empty means
	// none.
	Dir string
	// Budget is --plugin-budget, the longest one phase call may run;
	// 0 means luaplugin.DefaultBudget.
	Budget time.Duration
}

// registry builds the process's plugin list: the built-in Go plugins
// and the Lua runtime.
func (c PluginsConfig) registry(log *slog.Logger) (*luaplugin.Runtime, *plugin.Registry, error) {
	if c.Dir != "" {
		if fi, err := os.Stat(c.Dir); err != nil || !fi.IsDir() {
			return nil, nil, fmt.Errorf("--plugins-dir %q is not a readable directory", c.Dir)
		}
	}
	if c.Budget < 0 {
		return nil, nil, fmt.Errorf("--plugin-budget %v is negative", c.Budget)
	}
	rt := luaplugin.New(luaplugin.Options{Log: log, Budget: c.Budget, Dir: c.Dir})
	reg, err := plugin.NewRegistry(rt, builtin.List()...)
	if err != nil {
		return nil, nil, err
	}
	return rt, reg, nil
}
