// Package lua runs plugins written in Lua with ingress-nginx's layout: a
// main.lua module returning a table whose init_worker, rewrite, access,
// header_filter, body_filter and log functions are called in those phases, with the
// part of OpenResty's ngx API such plugins use (ngx.go, ngxreq.go).
//
// Plugins run in sandboxed states (sandbox.go) with a time budget per
// call. Each source version is compiled once and runs in a pool of
// states, so requests run in parallel; a new version gets a new pool
// while requests in flight finish on the old one.
package lua

import (
	"crypto/sha256"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/straitgw/strait/internal/plugin"
)

// DefaultBudget is the time a plugin's phase function may run per call.
const DefaultBudget = 100 * time.Millisecond

// Options configure a Runtime.
type Options struct {
	// Log receives plugin log lines and load errors. Nil means
	// slog.Default().
	Log *slog.Logger
	// Budget is the longest one phase call may run; beyond, the call
	// fails and its request gets a 500. 0 means DefaultBudget.
	Budget time.Duration
	// Dir, when set, holds plugins as <name>/main.lua, watched for
	// changes (Watch).
	Dir string
	// Now is the clock of ngx.time and ngx.shared expiry; nil means
	// time.Now.
	Now func() time.Time
	// Parallel is how many phase calls of all Lua plugins may run at
	// once; 0 means half of GOMAXPROCS, at least one. It keeps the other
	// cores for proxying when a plugin loops until its budget: a call
	// waits for a slot for at most the budget, then fails its request.
	Parallel int
}

// Runtime runs Lua plugins; it implements plugin.Scripts. One Runtime
// serves a process: its versions and shared dictionaries outlive
// generations.
type Runtime struct {
	log    *slog.Logger
	budget time.Duration
	now    func() time.Time
	shared *sharedDicts
	dir    string
	// slots bounds the Lua calls running at once (Options.Parallel).
	slots chan struct{}

	mu sync.Mutex
	// byCode are the compiled ConfigMap versions by source digest, and
	// good the last version of each plugin that compiled.
	byCode map[[32]byte]*version
	good   map[string]*version
	// dirVersions are the directory's plugins by name, replaced whole on
	// a change so that requests read them without a lock.
	dirVersions atomic.Pointer[map[string]*version]
}

var _ plugin.Scripts = (*Runtime)(nil)

// New returns a Runtime; with a Dir it loads the directory's plugins.
func New(opts Options) *Runtime {
	rt := &Runtime{log: opts.Log, budget: opts.Budget, now: opts.Now, dir: opts.Dir,
		byCode: map[[32]byte]*version{}, good: map[string]*version{}}
	if rt.log == nil {
		rt.log = slog.Default()
	}
	if rt.budget <= 0 {
		rt.budget = DefaultBudget
	}
	if rt.now == nil {
		rt.now = time.Now
	}
	rt.shared = newSharedDicts(rt.now)
	n := opts.Parallel
	if n <= 0 {
		n = max(1, runtime.GOMAXPROCS(0)/2)
	}
	rt.slots = make(chan struct{}, n)
	empty := map[string]*version{}
	rt.dirVersions.Store(&empty)
	if rt.dir != "" {
		rt.loadDir()
	}
	return rt
}

// acquire takes a slot to run Lua, waiting at most the budget; it
// reports false when none came free.
func (rt *Runtime) acquire() bool {
	select {
	case rt.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(rt.budget)
	defer t.Stop()
	select {
	case rt.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

func (rt *Runtime) release() { <-rt.slots }

// Check reports whether code compiles.
func (rt *Runtime) Check(code string) error {
	_, err := compile("plugin", code)
	return err
}

// Directory reports whether a plugins directory is configured.
func (rt *Runtime) Directory() bool { return rt.dir != "" }

// Script returns the plugin name on a route: code's version, compiled
// once for every route and generation that uses it, or with code "" the
// directory's. Code that does not compile leaves the plugin's last good
// version serving; with none, its requests fail with 500.
func (rt *Runtime) Script(name, code string, cfg map[string]string) plugin.Plugin {
	s := &script{rt: rt, name: name, cfg: cfg}
	if code == "" {
		return s
	}
	sum := sha256.Sum256([]byte(code))
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if v := rt.byCode[sum]; v != nil {
		s.fixed = v
		return s
	}
	proto, err := compile(name, code)
	if err != nil {
		prev := rt.good[name]
		rt.log.Error("Lua plugin does not compile", "plugin", name, "error", err, "previous version serving", prev != nil)
		if prev != nil {
			s.fixed = prev
		} else {
			s.broken = err
		}
		return s
	}
	v := &version{rt: rt, name: name, proto: proto}
	if old := rt.good[name]; old != nil {
		// Routes of older generations keep their pointer; the cache
		// holds one version per plugin.
		for k, ov := range rt.byCode {
			if ov == old {
				delete(rt.byCode, k)
			}
		}
	}
	rt.byCode[sum], rt.good[name] = v, v
	s.fixed = v
	return s
}

// dirVersion is the directory's current version of a plugin.
func (rt *Runtime) dirVersion(name string) *version {
	return (*rt.dirVersions.Load())[name]
}

// compileVersion compiles a version, for the directory loader.
func (rt *Runtime) compileVersion(name, code string) (*version, error) {
	proto, err := compile(name, code)
	if err != nil {
		return nil, err
	}
	return &version{rt: rt, name: name, proto: proto}, nil
}
