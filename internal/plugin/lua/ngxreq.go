package lua

import (
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// variable is ngx.var.<name>: the request variables nginx has, for the
// names ingress-nginx plugins read; nil for others.
func (st *state) variable(name string) lua.LValue {
	c := st.b.call
	if c == nil {
		return lua.LNil
	}
	r := c.Request
	switch name {
	case "host":
		h := r.Host
		if host, _, err := net.SplitHostPort(h); err == nil {
			h = host
		}
		return lua.LString(strings.ToLower(h))
	case "http_host":
		return lua.LString(r.Host)
	case "uri":
		return lua.LString(r.URL.Path)
	case "request_uri":
		if r.RequestURI != "" {
			return lua.LString(r.RequestURI)
		}
		return lua.LString(r.URL.RequestURI())
	case "args", "query_string":
		return lua.LString(r.URL.RawQuery)
	case "scheme":
		return lua.LString(c.Scheme)
	case "https":
		if c.Scheme == "https" {
			return lua.LString("on")
		}
		return lua.LString("")
	case "remote_addr":
		return lua.LString(c.ClientIP)
	case "request_method":
		return lua.LString(r.Method)
	case "server_port":
		return lua.LString(c.Port)
	case "server_protocol":
		return lua.LString(r.Proto)
	case "status":
		if st.b.resp != nil {
			return lua.LString(itoa(st.b.resp.Status))
		}
		return lua.LNil
	}
	switch {
	case strings.HasPrefix(name, "http_"):
		vs := r.Header.Values(strings.ReplaceAll(name[5:], "_", "-"))
		if len(vs) == 0 {
			return lua.LNil
		}
		return lua.LString(strings.Join(vs, ", "))
	case strings.HasPrefix(name, "arg_"):
		q := r.URL.Query()
		if vs, ok := q[name[4:]]; ok && len(vs) > 0 {
			return lua.LString(vs[0])
		}
		return lua.LNil
	case strings.HasPrefix(name, "cookie_"):
		if ck, err := r.Cookie(name[7:]); err == nil {
			return lua.LString(ck.Value)
		}
		return lua.LNil
	case strings.HasPrefix(name, "sent_http_"):
		if st.b.resp != nil {
			if v := st.b.resp.Header.Get(strings.ReplaceAll(name[10:], "_", "-")); v != "" {
				return lua.LString(v)
			}
		}
		return lua.LNil
	}
	return lua.LNil
}

func itoa(n int) string {
	return lua.LNumber(n).String()
}

// reqGetHeaders returns the request headers with lower-case names (a
// repeated header as an array); looking a name up in any case works.
func (st *state) reqGetHeaders(L *lua.LState) int {
	t := L.CreateTable(0, len(st.b.call.Request.Header))
	for k, vs := range st.b.call.Request.Header {
		t.RawSetString(strings.ToLower(k), values(L, vs))
	}
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		k := strings.ReplaceAll(strings.ToLower(L.CheckString(2)), "_", "-")
		L.Push(L.CheckTable(1).RawGetString(k))
		return 1
	}))
	L.SetMetatable(t, mt)
	L.Push(t)
	return 1
}

// values is one string, or an array for several.
func values(L *lua.LState, vs []string) lua.LValue {
	if len(vs) == 1 {
		return lua.LString(vs[0])
	}
	a := L.CreateTable(len(vs), 0)
	for _, v := range vs {
		a.Append(lua.LString(v))
	}
	return a
}

// headerName turns ngx's header names (content_type) into HTTP's.
func headerName(L *lua.LState, n int) string {
	name := L.CheckString(n)
	if name == "" || strings.ContainsAny(name, " \t\r\n:") {
		L.ArgError(n, "invalid header name")
	}
	return strings.ReplaceAll(name, "_", "-")
}

// headerValues reads a header value argument: a string, a number, an
// array of them, or nil for none.
func headerValues(L *lua.LState, n int) []string {
	var out []string
	add := func(v lua.LValue) {
		s := lua.LVAsString(v)
		if strings.ContainsAny(s, "\r\n") {
			L.ArgError(n, "header value has a line break")
		}
		out = append(out, s)
	}
	switch v := L.Get(n).(type) {
	case *lua.LNilType:
	case *lua.LTable:
		v.ForEach(func(_, e lua.LValue) { add(e) })
	case lua.LString, lua.LNumber:
		add(v)
	default:
		L.ArgError(n, "header value must be a string, a number or an array")
	}
	return out
}

func (st *state) reqSetHeader(L *lua.LState) int {
	name := headerName(L, 1)
	h := st.b.call.Request.Header
	if vs := headerValues(L, 2); len(vs) > 0 {
		h[http.CanonicalHeaderKey(name)] = vs
	} else {
		h.Del(name)
	}
	if strings.EqualFold(name, "host") {
		if vs := headerValues(L, 2); len(vs) > 0 {
			st.b.call.Request.Host = vs[0]
		}
	}
	return 0
}

func (st *state) reqClearHeader(L *lua.LState) int {
	st.b.call.Request.Header.Del(headerName(L, 1))
	return 0
}

func (st *state) reqGetURIArgs(L *lua.LState) int {
	q := st.b.call.Request.URL.Query()
	t := L.CreateTable(0, len(q))
	for k, vs := range q {
		t.RawSetString(k, values(L, vs))
	}
	L.Push(t)
	return 1
}

// reqSetURI changes the path sent upstream (the query is kept).
func (st *state) reqSetURI(L *lua.LState) int {
	p := L.CheckString(1)
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?# \r\n") {
		L.ArgError(1, "the URI must be a path starting with /")
	}
	st.b.call.SetPath(p)
	return 0
}

// headerTable is ngx.header: the response headers, read and written by
// name (content_type means Content-Type); setting nil removes one.
func (st *state) headerTable() *lua.LTable {
	L := st.L
	t, mt := L.NewTable(), L.NewTable()
	h := func() http.Header {
		if st.b.resp != nil {
			return st.b.resp.Header
		}
		if st.b.call != nil {
			return st.b.call.ResponseHeader
		}
		return nil
	}
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		name := headerName(L, 2)
		vs := h().Values(name)
		if len(vs) == 0 {
			L.Push(lua.LNil)
		} else {
			L.Push(values(L, vs))
		}
		return 1
	}))
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		name := headerName(L, 2)
		hd := h()
		if hd == nil {
			L.RaiseError("ngx.header is not available here")
		}
		if vs := headerValues(L, 3); len(vs) > 0 {
			hd[http.CanonicalHeaderKey(name)] = vs
		} else {
			hd.Del(name)
		}
		return 0
	}))
	L.SetMetatable(t, mt)
	return t
}

// reMatch is ngx.re.match(subject, regex, options): the captures of the
// first match ([0] the whole match, then numbered and named groups; a
// group that did not take part is false), or nil. Expressions are RE2;
// options "i" (case-insensitive), "m", "s" and "x"-less flags apply, the
// others ("j", "o", "u", "a", "d") are accepted and mean nothing here.
func (st *state) reMatch(L *lua.LState) int {
	subject, pattern, opts := L.CheckString(1), L.CheckString(2), L.OptString(3, "")
	key := opts + "/" + pattern
	re := st.res[key]
	if re == nil {
		flags := ""
		for _, o := range opts {
			switch o {
			case 'i', 'm', 's':
				flags += string(o)
			case 'j', 'o', 'u', 'a', 'd', 'J', 'U':
			default:
				L.ArgError(3, "unknown regex option "+string(o))
			}
		}
		expr := pattern
		if strings.ContainsRune(opts, 'a') {
			expr = `\A(?:` + expr + `)`
		}
		if flags != "" {
			expr = "(?" + flags + ")" + expr
		}
		var err error
		if re, err = regexp.Compile(expr); err != nil {
			L.Push(lua.LNil)
			L.Push(lua.LString(err.Error()))
			return 2
		}
		if len(st.res) > 256 {
			clear(st.res)
		}
		st.res[key] = re
	}
	m := re.FindStringSubmatchIndex(subject)
	if m == nil {
		L.Push(lua.LNil)
		return 1
	}
	t := L.CreateTable(len(m)/2, 0)
	names := re.SubexpNames()
	for i := 0; i < len(m)/2; i++ {
		var v lua.LValue = lua.LFalse
		if m[2*i] >= 0 {
			v = lua.LString(subject[m[2*i]:m[2*i+1]])
		}
		t.RawSetInt(i, v)
		if names[i] != "" {
			t.RawSetString(names[i], v)
		}
	}
	L.Push(t)
	return 1
}

// sharedTable is ngx.shared: ngx.shared.<name> is a dictionary with get,
// set, incr and delete methods, kept by the process across requests and
// reloads.
func (st *state) sharedTable() *lua.LTable {
	L := st.L
	t, mt := L.NewTable(), L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		name := L.CheckString(2)
		if dt := st.dicts[name]; dt != nil {
			L.Push(dt)
			return 1
		}
		d, err := st.v.rt.shared.get(name)
		if err != nil {
			L.RaiseError("ngx.shared.%s: %v", name, err)
		}
		dt := st.dictTable(d)
		st.dicts[name] = dt
		L.Push(dt)
		return 1
	}))
	L.SetMetatable(t, mt)
	return t
}

func (st *state) dictTable(d *dict) *lua.LTable {
	L := st.L
	t := L.NewTable()
	key := func(L *lua.LState) string {
		L.CheckTable(1) // called as dict:method(...)
		return L.CheckString(2)
	}
	t.RawSetString("get", L.NewFunction(func(L *lua.LState) int {
		L.Push(toLua(d.Get(key(L))))
		return 1
	}))
	t.RawSetString("set", L.NewFunction(func(L *lua.LState) int {
		k := key(L)
		val, ok := fromLua(L.Get(3))
		if !ok {
			L.ArgError(3, "a shared value must be a string, a number, a boolean or nil")
		}
		forcible := d.Set(k, val, seconds(L.OptNumber(4, 0)))
		L.Push(lua.LTrue)
		L.Push(lua.LNil)
		L.Push(lua.LBool(forcible))
		return 3
	}))
	t.RawSetString("delete", L.NewFunction(func(L *lua.LState) int {
		d.Set(key(L), nil, 0)
		return 0
	}))
	t.RawSetString("incr", L.NewFunction(func(L *lua.LState) int {
		k := key(L)
		n := float64(L.CheckNumber(3))
		init, hasInit := L.Get(4).(lua.LNumber)
		v, err := d.Incr(k, n, float64(init), hasInit, seconds(L.OptNumber(5, 0)))
		if err != nil {
			L.Push(lua.LNil)
			L.Push(lua.LString(err.Error()))
			return 2
		}
		L.Push(lua.LNumber(v))
		return 1
	}))
	return t
}

func seconds(n lua.LNumber) time.Duration {
	if n <= 0 {
		return 0
	}
	return time.Duration(float64(n) * float64(time.Second))
}

func toLua(v any) lua.LValue {
	switch v := v.(type) {
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case bool:
		return lua.LBool(v)
	}
	return lua.LNil
}

func fromLua(v lua.LValue) (any, bool) {
	switch v := v.(type) {
	case lua.LString:
		return string(v), true
	case lua.LNumber:
		return float64(v), true
	case lua.LBool:
		return bool(v), true
	case *lua.LNilType:
		return nil, true
	}
	return nil, false
}
