package lua

import (
	"errors"
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/straitgw/strait/internal/plugin"
)

// script is one Lua plugin on one route.
type script struct {
	rt   *Runtime
	name string
	cfg  map[string]string
	// fixed is the ConfigMap version; nil means the directory's current
	// one, looked up per request. broken, when set, fails every request.
	fixed  *version
	broken error
}

var (
	_ plugin.Plugin     = (*script)(nil)
	_ plugin.BodyFilter = (*script)(nil)
)

// Rewrite binds a state to the request for all its phases, then calls
// the module's rewrite.
func (s *script) Rewrite(c *plugin.Call) (*plugin.Answer, error) {
	if s.broken != nil {
		return nil, s.broken
	}
	v := s.fixed
	if v == nil {
		if v = s.rt.dirVersion(s.name); v == nil {
			return nil, fmt.Errorf("no %s/main.lua in the plugins directory", s.name)
		}
	}
	st, err := v.get()
	if err != nil {
		return nil, err
	}
	c.State = st
	st.begin(c)
	if err := st.run("rewrite", s.cfg); err != nil {
		return nil, err
	}
	return st.answer(), nil
}

// Access calls the module's access.
func (s *script) Access(c *plugin.Call) (*plugin.Answer, error) {
	st, ok := c.State.(*state)
	if !ok {
		return nil, errors.New("access without rewrite")
	}
	if err := st.run("access", s.cfg); err != nil {
		return nil, err
	}
	return st.answer(), nil
}

// HeaderFilter calls the module's header_filter with the response head
// as ngx.status and ngx.header. ngx.exit only ends the function there.
func (s *script) HeaderFilter(c *plugin.Call, resp *plugin.Head) error {
	st, ok := c.State.(*state)
	if !ok {
		return nil
	}
	st.b.resp = resp
	st.b.exited = false
	return st.run("header_filter", s.cfg)
}

// FilterBody calls the module's body_filter with the chunk in ngx.arg[1]
// and the end in ngx.arg[2], and sends what ngx.arg[1] holds afterwards.
func (s *script) FilterBody(c *plugin.Call, chunk []byte, last bool) ([]byte, error) {
	st, ok := c.State.(*state)
	if !ok || st.broken {
		return chunk, nil
	}
	if _, has := st.mod.RawGetString("body_filter").(*lua.LFunction); !has {
		return chunk, nil
	}
	L := st.L
	arg := L.CreateTable(2, 0)
	arg.RawSetInt(1, lua.LString(chunk))
	arg.RawSetInt(2, lua.LBool(last))
	st.ngx.RawSetString("arg", arg)
	st.b.exited = false
	err := st.run("body_filter", s.cfg)
	st.ngx.RawSetString("arg", lua.LNil)
	if err != nil {
		return nil, err
	}
	switch v := arg.RawGetInt(1).(type) {
	case lua.LString:
		return []byte(v), nil
	case *lua.LNilType:
		return nil, nil
	default:
		return nil, fmt.Errorf("body_filter: ngx.arg[1] must be a string or nil, not a %s", v.Type())
	}
}

// Log calls the module's log and gives the state back to its pool.
func (s *script) Log(c *plugin.Call, resp *plugin.Head) {
	st, ok := c.State.(*state)
	if !ok {
		return
	}
	c.State = nil
	st.b.resp = resp
	st.b.exited = false
	if st.broken {
		// An earlier phase failed: the state is not trusted again.
		st.v.put(st)
		return
	}
	if err := st.run("log", s.cfg); err != nil {
		s.rt.log.Error("plugin failed", "plugin", s.name, "phase", "log", "route", c.Route, "error", err)
	}
	st.v.put(st)
}
