package lua

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Log levels of ngx.log, nginx's numbers.
const (
	ngxStderr = 0
	ngxEmerg  = 1
	ngxAlert  = 2
	ngxCrit   = 3
	ngxErr    = 4
	ngxWarn   = 5
	ngxNotice = 6
	ngxInfo   = 7
	ngxDebug  = 8
)

// installNgx sets the global ngx table: the subset of OpenResty's API
// that ingress-nginx plugins use (see docs/plugins.md).
func (st *state) installNgx() {
	L := st.L
	ngx := L.NewTable()
	st.ngx = ngx
	L.SetGlobal("ngx", ngx)
	for name, n := range map[string]int{
		"OK": 0, "ERROR": -1, "DECLINED": -5,
		"HTTP_OK": 200, "HTTP_MOVED_PERMANENTLY": 301, "HTTP_MOVED_TEMPORARILY": 302,
		"HTTP_BAD_REQUEST": 400, "HTTP_UNAUTHORIZED": 401, "HTTP_FORBIDDEN": 403, "HTTP_NOT_FOUND": 404,
		"HTTP_TOO_MANY_REQUESTS": 429, "HTTP_INTERNAL_SERVER_ERROR": 500, "HTTP_SERVICE_UNAVAILABLE": 503,
		"STDERR": ngxStderr, "EMERG": ngxEmerg, "ALERT": ngxAlert, "CRIT": ngxCrit, "ERR": ngxErr,
		"WARN": ngxWarn, "NOTICE": ngxNotice, "INFO": ngxInfo, "DEBUG": ngxDebug,
	} {
		ngx.RawSetString(name, lua.LNumber(n))
	}
	fns := map[string]lua.LGFunction{
		"exit":          st.ngxExit,
		"say":           func(L *lua.LState) int { return st.ngxPrint(L, true) },
		"print":         func(L *lua.LState) int { return st.ngxPrint(L, false) },
		"redirect":      st.ngxRedirect,
		"log":           st.ngxLog,
		"time":          func(L *lua.LState) int { L.Push(lua.LNumber(st.now().Unix())); return 1 },
		"now":           func(L *lua.LState) int { L.Push(lua.LNumber(float64(st.now().UnixMilli()) / 1000)); return 1 },
		"md5":           ngxMD5,
		"encode_base64": ngxEncodeBase64,
		"decode_base64": ngxDecodeBase64,
	}
	for name, f := range fns {
		ngx.RawSetString(name, L.NewFunction(f))
	}
	req := L.NewTable()
	for name, f := range map[string]lua.LGFunction{
		"get_headers":  st.reqGetHeaders,
		"set_header":   st.reqSetHeader,
		"clear_header": st.reqClearHeader,
		"get_method":   func(L *lua.LState) int { L.Push(lua.LString(st.b.call.Request.Method)); return 1 },
		"get_uri_args": st.reqGetURIArgs,
		"set_uri":      st.reqSetURI,
	} {
		req.RawSetString(name, L.NewFunction(st.inRequest(f)))
	}
	ngx.RawSetString("req", req)
	ngx.RawSetString("var", st.readOnly(st.variable))
	ngx.RawSetString("header", st.headerTable())
	re := L.NewTable()
	re.RawSetString("match", L.NewFunction(st.reMatch))
	ngx.RawSetString("re", re)
	ngx.RawSetString("shared", st.sharedTable())
	// ngx.status is read and written through the metatable: it is the
	// response's in header_filter and log. ngx.ctx is made there too.
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		switch L.CheckString(2) {
		case "status":
			L.Push(lua.LNumber(st.status()))
		case "ctx":
			// Made on first use: most requests never touch it. begin
			// removes it.
			ctx := L.NewTable()
			ngx.RawSetString("ctx", ctx)
			L.Push(ctx)
		default:
			L.Push(lua.LNil)
		}
		return 1
	}))
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		k := L.CheckString(2)
		if k != "status" {
			L.RawSet(L.CheckTable(1), L.Get(2), L.Get(3))
			return 0
		}
		n := L.CheckInt(3)
		if n < 100 || n > 599 {
			L.ArgError(3, "status must be from 100 to 599")
		}
		if st.b.resp != nil {
			st.b.resp.Status = n
		} else {
			st.b.status = n
		}
		return 0
	}))
	L.SetMetatable(ngx, mt)
}

// inRequest guards the functions that need a request: init_worker runs
// without one.
func (st *state) inRequest(f lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		if st.b.call == nil {
			L.RaiseError("ngx.req is not available outside a request")
		}
		return f(L)
	}
}

func (st *state) status() int {
	if st.b.resp != nil {
		return st.b.resp.Status
	}
	return st.b.status
}

// readOnly returns a table whose fields come from get and cannot be set.
func (st *state) readOnly(get func(string) lua.LValue) *lua.LTable {
	L := st.L
	t, mt := L.NewTable(), L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.Push(get(L.CheckString(2)))
		return 1
	}))
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("ngx.var.%s cannot be set here", L.CheckString(2))
		return 0
	}))
	L.SetMetatable(t, mt)
	return t
}

func (st *state) ngxExit(L *lua.LState) int {
	st.b.exited, st.b.exitStatus = true, L.CheckInt(1)
	L.RaiseError("%s", errExit.Error())
	return 0
}

func (st *state) ngxPrint(L *lua.LState, newline bool) int {
	for i := 1; i <= L.GetTop(); i++ {
		st.appendBody(L.Get(i))
	}
	if newline {
		st.b.body = append(st.b.body, '\n')
	}
	L.Push(lua.LNumber(1))
	return 1
}

// appendBody writes a value as ngx.say does: tables (arrays) element by
// element.
func (st *state) appendBody(v lua.LValue) {
	switch v := v.(type) {
	case *lua.LTable:
		v.ForEach(func(_, e lua.LValue) { st.appendBody(e) })
	case *lua.LNilType:
		st.b.body = append(st.b.body, "nil"...)
	default:
		st.b.body = append(st.b.body, lua.LVAsString(v)...)
		if _, isBool := v.(lua.LBool); isBool {
			st.b.body = append(st.b.body, v.String()...)
		}
	}
}

func (st *state) ngxRedirect(L *lua.LState) int {
	url := L.CheckString(1)
	code := L.OptInt(2, http.StatusFound)
	switch code {
	case 301, 302, 303, 307, 308:
	default:
		L.ArgError(2, "redirect status must be 301, 302, 303, 307 or 308")
	}
	if strings.ContainsAny(url, "\r\n") {
		L.ArgError(1, "the URL has a line break")
	}
	if st.b.answerHeader == nil {
		st.b.answerHeader = http.Header{}
	}
	st.b.answerHeader.Set("Location", url)
	st.b.exited, st.b.exitStatus = true, code
	L.RaiseError("%s", errExit.Error())
	return 0
}

func (st *state) ngxLog(L *lua.LState) int {
	level := L.CheckInt(1)
	msg := joinArgs(L, 2)
	log := st.v.rt.log
	args := []any{"plugin", st.v.name}
	switch {
	case level <= ngxErr:
		log.Error(msg, args...)
	case level == ngxWarn:
		log.Warn(msg, args...)
	case level == ngxDebug:
		log.Debug(msg, args...)
	default:
		log.Info(msg, args...)
	}
	return 0
}

func ngxMD5(L *lua.LState) int {
	sum := md5.Sum([]byte(L.CheckString(1)))
	L.Push(lua.LString(hex.EncodeToString(sum[:])))
	return 1
}

func ngxEncodeBase64(L *lua.LState) int {
	enc := base64.StdEncoding
	if L.OptBool(2, false) {
		enc = base64.RawStdEncoding // no_padding
	}
	L.Push(lua.LString(enc.EncodeToString([]byte(L.CheckString(1)))))
	return 1
}

// ngxDecodeBase64 returns nil for malformed input, as OpenResty does.
func ngxDecodeBase64(L *lua.LState) int {
	s := L.CheckString(1)
	enc := base64.StdEncoding
	if !strings.HasSuffix(s, "=") && len(s)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LString(b))
	return 1
}
