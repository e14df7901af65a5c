package lua

import (
	"errors"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
	luaparse "github.com/yuin/gopher-lua/parse"
)

// Sandbox limits of one Lua state.
const (
	// callStackSize bounds recursion depth.
	callStackSize = 200
	// registrySize and registryMaxSize bound the value stack (slots).
	registrySize    = 1024
	registryMaxSize = 64 * 1024
	// maxRepBytes bounds string.rep's result.
	maxRepBytes = 1 << 20
)

// removedBase are the base functions a plugin must not have: they read files
// (dofile, loadfile), load modules (require, module) or print the VM's
// registers.
var removedBase = []string{"dofile", "loadfile", "require", "module", "_printregs"}

// newSandbox returns a Lua state with only the base (less removedBase),
// string, table and math libraries: no os, io, package, debug or
// coroutine. collectgarbage does nothing; print goes to log.
func newSandbox(log func(msg string)) *lua.LState {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:    true,
		CallStackSize:   callStackSize,
		RegistrySize:    registrySize,
		RegistryMaxSize: registryMaxSize,
	})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	g := L.G.Global
	for _, n := range removedBase {
		g.RawSetString(n, lua.LNil)
	}
	g.RawSetString("_GOPHER_LUA_VERSION", lua.LNil)
	g.RawSetString("collectgarbage", L.NewFunction(func(L *lua.LState) int {
		// Memory is the Go runtime's to collect: every option is a
		// no-op answering 0.
		L.Push(lua.LNumber(0))
		return 1
	}))
	// string.rep is the one library call that can allocate without
	// bound in a single step, out of the time budget's reach.
	if str, ok := g.RawGetString("string").(*lua.LTable); ok {
		rep := str.RawGetString("rep")
		str.RawSetString("rep", L.NewFunction(func(L *lua.LState) int {
			if n := L.CheckInt(2); n > 0 && len(L.CheckString(1))*n > maxRepBytes {
				L.RaiseError("string.rep: a result over %d bytes", maxRepBytes)
			}
			L.Push(rep)
			L.Push(L.Get(1))
			L.Push(L.Get(2))
			L.Call(2, 1)
			return 1
		}))
	}
	g.RawSetString("print", L.NewFunction(func(L *lua.LState) int {
		log(joinArgs(L, 1))
		return 0
	}))
	return L
}

// joinArgs renders the arguments from index from as print does.
func joinArgs(L *lua.LState, from int) string {
	var b strings.Builder
	for i := from; i <= L.GetTop(); i++ {
		if i > from {
			b.WriteByte('\t')
		}
		b.WriteString(L.ToStringMeta(L.Get(i)).String())
	}
	return b.String()
}

// compile parses and compiles main.lua once per source version; states
// run the result as a function.
func compile(name, code string) (*lua.FunctionProto, error) {
	chunk, err := luaparse.Parse(strings.NewReader(code), name+"/main.lua")
	if err != nil {
		// The message names the chunk already; it ends in a newline.
		return nil, errors.New(strings.Join(strings.Fields(err.Error()), " "))
	}
	proto, err := lua.Compile(chunk, name+"/main.lua")
	if err != nil {
		return nil, fmt.Errorf("%s/main.lua: %w", name, err)
	}
	return proto, nil
}
