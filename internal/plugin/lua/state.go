package lua

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/straitgw/strait/internal/plugin"
)

// version is one compiled source of one plugin, with its pool of states.
// Requests that started on it finish on it after a reload.
type version struct {
	rt    *Runtime
	name  string
	proto *lua.FunctionProto
	pool  sync.Pool // of *state
	// code is the source, kept for the directory loader to compare.
	code string
}

// state is one Lua state running a version's module, used by one request
// at a time (from its rewrite phase to its log phase).
type state struct {
	v   *version
	L   *lua.LState
	mod *lua.LTable // main.lua's returned table
	ngx *lua.LTable
	b   binding
	// res caches ngx.re's compiled expressions by pattern and options.
	res map[string]*regexp.Regexp
	// dicts caches ngx.shared's dictionary tables by name.
	dicts map[string]*lua.LTable
	// budget ends calls that run too long.
	budget *budget
	// broken is set when a call failed: the state may be left in the
	// middle of something and is not reused.
	broken bool
}

// binding is the request a state serves now.
type binding struct {
	call *plugin.Call
	// resp is the response head in header_filter and log; nil before.
	resp *plugin.Head
	// status is ngx.status as set in rewrite or access.
	status int
	// exited is set by ngx.exit and ngx.redirect; exitStatus is theirs.
	exited     bool
	exitStatus int
	// body is what ngx.say and ngx.print wrote.
	body []byte
	// answerHeader holds ngx.redirect's Location.
	answerHeader http.Header
}

// errBusy fails a call that found every Lua slot taken for its whole
// budget.
var errBusy = errors.New("every Lua slot stayed busy for the time budget")

// errExit unwinds the Lua stack for ngx.exit; binding.exited tells it
// from an error, even when the plugin caught it with pcall.
var errExit = errors.New("ngx.exit")

// newState builds a sandboxed state and runs the version's main chunk,
// within the time budget, to get the module table.
func (v *version) newState() (*state, error) {
	st := &state{v: v, res: map[string]*regexp.Regexp{}, dicts: map[string]*lua.LTable{}}
	st.L = newSandbox(func(msg string) { v.rt.log.Info(msg, "plugin", v.name, "source", "print") })
	st.installNgx()
	st.budget = newBudget()
	st.L.SetContext(st.budget)
	if !v.rt.acquire() {
		st.L.Close()
		return nil, errBusy
	}
	defer v.rt.release()
	st.budget.start(v.rt.budget)
	st.L.Push(st.L.NewFunctionFromProto(v.proto))
	err := st.L.PCall(0, 1, nil)
	if !st.budget.stop() && err == nil {
		err = fmt.Errorf("over the time budget of %v", v.rt.budget)
	}
	if err != nil {
		st.L.Close()
		return nil, fmt.Errorf("loading main.lua: %w", err)
	}
	mod, ok := st.L.Get(-1).(*lua.LTable)
	st.L.Pop(1)
	if !ok {
		st.L.Close()
		return nil, errors.New("main.lua must return a table of phase functions")
	}
	st.mod = mod
	// ingress-nginx calls init_worker once per nginx worker; a state is
	// Strait's worker.
	if init, ok := mod.RawGetString("init_worker").(*lua.LFunction); ok {
		st.budget.start(v.rt.budget)
		st.L.Push(init)
		err := st.L.PCall(0, 0, nil)
		if !st.budget.stop() && err == nil {
			err = fmt.Errorf("over the time budget of %v", v.rt.budget)
		}
		if err != nil {
			st.L.Close()
			return nil, fmt.Errorf("init_worker: %w", err)
		}
	}
	return st, nil
}

// get takes a state from the pool, or builds one.
func (v *version) get() (*state, error) {
	if st, ok := v.pool.Get().(*state); ok {
		return st, nil
	}
	return v.newState()
}

// put returns a state to the pool unless a call broke it.
func (v *version) put(st *state) {
	st.b = binding{}
	if st.broken {
		st.budget.timer.Stop()
		st.L.Close()
		return
	}
	v.pool.Put(st)
}

// begin binds st to a request: a fresh ngx.ctx, no answer yet.
func (st *state) begin(c *plugin.Call) {
	st.b = binding{call: c}
	st.ngx.RawSetString("ctx", lua.LNil)
}

// run calls the module's function for phase, if it has one, with the
// plugin's configuration, within the time budget.
func (st *state) run(phase string, cfg map[string]string) error {
	fn, ok := st.mod.RawGetString(phase).(*lua.LFunction)
	if !ok {
		return nil
	}
	L := st.L
	conf := L.CreateTable(0, len(cfg))
	for k, v := range cfg {
		conf.RawSetString(k, lua.LString(v))
	}
	if !st.v.rt.acquire() {
		return fmt.Errorf("%s: %w", phase, errBusy)
	}
	st.budget.start(st.v.rt.budget)
	L.Push(fn)
	L.Push(conf)
	err := L.PCall(1, 0, nil)
	inBudget := st.budget.stop()
	st.v.rt.release()
	if !inBudget {
		st.broken = true
		return fmt.Errorf("%s: over its time budget of %v", phase, st.v.rt.budget)
	}
	if st.b.exited {
		return nil
	}
	if err != nil {
		st.broken = true
		return fmt.Errorf("%s: %w", phase, err)
	}
	return nil
}

// answer is what rewrite or access decided: ngx.exit with a status of
// 200 or more, ngx.redirect, or a body written with ngx.say.
func (st *state) answer() *plugin.Answer {
	b := &st.b
	switch {
	case b.exited && b.exitStatus >= http.StatusOK:
		return &plugin.Answer{Status: b.exitStatus, Header: b.answerHeader, Body: b.body}
	case b.exited || len(b.body) == 0:
		// ngx.exit(ngx.OK) or nothing: the request goes on.
		b.exited, b.body = false, nil
		return nil
	default:
		status := b.status
		if status == 0 {
			status = http.StatusOK
		}
		return &plugin.Answer{Status: status, Header: b.answerHeader, Body: b.body}
	}
}

// now is the clock ngx.time reads.
func (st *state) now() time.Time { return st.v.rt.now() }
