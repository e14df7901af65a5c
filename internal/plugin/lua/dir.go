package lua

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// loadDir reads every <dir>/<name>/main.lua. A file that does not
// compile keeps the plugin's previous version; a removed one removes the
// plugin.
func (rt *Runtime) loadDir() {
	old := *rt.dirVersions.Load()
	next := map[string]*version{}
	entries, err := os.ReadDir(rt.dir)
	if err != nil {
		rt.log.Error("reading the plugins directory", "dir", rt.dir, "error", err)
		return
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		code, err := os.ReadFile(filepath.Join(rt.dir, name, "main.lua"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			rt.log.Error("reading a Lua plugin", "plugin", name, "error", err)
			if v := old[name]; v != nil {
				next[name] = v
			}
			continue
		}
		if v := old[name]; v != nil && v.code == string(code) {
			next[name] = v
			continue
		}
		v, err := rt.compileVersion(name, string(code))
		if err != nil {
			rt.log.Error("Lua plugin does not compile", "plugin", name, "error", err, "previous version serving", old[name] != nil)
			if v := old[name]; v != nil {
				next[name] = v
			}
			continue
		}
		v.code = string(code)
		if old[name] != nil {
			rt.log.Info("Lua plugin reloaded", "plugin", name)
		}
		next[name] = v
	}
	rt.dirVersions.Store(&next)
}

// Watch reloads the directory's plugins when its files change, until ctx
// ends. Changes are read after 100 ms of quiet, so that an editor's or
// a ConfigMap volume's multi-step update is seen whole.
func (rt *Runtime) Watch(ctx context.Context) error {
	if rt.dir == "" {
		return nil
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	add := func() {
		_ = w.Add(rt.dir)
		entries, _ := os.ReadDir(rt.dir)
		for _, e := range entries {
			if e.IsDir() {
				_ = w.Add(filepath.Join(rt.dir, e.Name()))
			}
		}
	}
	add()
	rt.loadDir() // what changed before the watch began
	var settle <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-w.Events:
			if !ok {
				return nil
			}
			settle = time.After(100 * time.Millisecond)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			rt.log.Warn("watching the plugins directory", "error", err)
		case <-settle:
			settle = nil
			add()
			rt.loadDir()
		}
	}
}
