package lua

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/plugin"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newRuntime(t *testing.T, budget time.Duration) (*Runtime, *syncBuffer) {
	t.Helper()
	var logs syncBuffer
	if budget == 0 {
		// Generous: a loaded test machine may stall a call.
		budget = 5 * time.Second
	}
	return New(Options{Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Budget: budget}), &logs
}

// outcome is what the phases of one request did.
type outcome struct {
	answer *plugin.Answer
	err    error
	req    *http.Request
	head   plugin.Head
}

// runPhases runs rewrite, access, then (without an answer) header_filter
// on a 200 response with header X-Upstream, then log.
func runPhases(p plugin.Plugin, r *http.Request) outcome {
	c := &plugin.Call{Request: r, ClientIP: "10.0.0.7", Scheme: "http", Port: "80", Route: "test", ResponseHeader: http.Header{}}
	o := outcome{req: r, head: plugin.Head{Status: 200, Header: c.ResponseHeader}}
	defer p.Log(c, &o.head)
	if o.answer, o.err = p.Rewrite(c); o.answer != nil || o.err != nil {
		return o
	}
	if o.answer, o.err = p.Access(c); o.answer != nil || o.err != nil {
		return o
	}
	c.ResponseHeader.Set("X-Upstream", "yes")
	o.err = p.HeaderFilter(c, &o.head)
	return o
}

func request(target string, headers ...string) *http.Request {
	r := httptest.NewRequest("GET", target, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

func load(t *testing.T, rt *Runtime, code string) plugin.Plugin {
	t.Helper()
	if err := rt.Check(code); err != nil {
		t.Fatalf("code does not compile: %v", err)
	}
	return rt.Script("t", code, map[string]string{"greeting": "hi"})
}

func TestPhasesAndRequestAPI(t *testing.T) {
	rt, _ := newRuntime(t, 0)
	p := load(t, rt, `
local M = {}
function M.rewrite(conf)
  ngx.req.set_header("X-Seen", ngx.var.request_method .. " " .. ngx.var.uri .. " " .. (ngx.var.arg_q or "-") .. " " .. (ngx.var.cookie_c or "-"))
  ngx.req.set_header("X-Conf", conf.greeting)
  ngx.req.clear_header("X-Drop")
  ngx.ctx.started = ngx.var.remote_addr
  local h = ngx.req.get_headers()
  ngx.req.set_header("X-Agent-Copy", h["User-Agent"] or h["user_agent"] or "none")
  local args = ngx.req.get_uri_args()
  if type(args.multi) == "table" then ngx.req.set_header("X-Multi", #args.multi) end
  ngx.req.set_header("X-Host", ngx.var.host .. " " .. ngx.var.scheme .. " " .. ngx.var.server_port .. " " .. (ngx.var.http_x_custom or "-"))
  ngx.req.set_uri("/rewritten")
end
function M.header_filter()
  ngx.header["X-From-Ctx"] = ngx.ctx.started
  ngx.header.x_upstream = nil
  ngx.header["X-Status"] = ngx.status
  ngx.status = 202
end
return M`)
	r := request("http://Example.test:8080/path?q=1&multi=a&multi=b", "User-Agent", "ua/1", "X-Drop", "x", "Cookie", "c=cv", "X-Custom", "cu")
	o := runPhases(p, r)
	if o.err != nil || o.answer != nil {
		t.Fatalf("err %v answer %+v", o.err, o.answer)
	}
	for k, want := range map[string]string{
		"X-Seen": "GET /path 1 cv", "X-Conf": "hi", "X-Drop": "", "X-Agent-Copy": "ua/1", "X-Multi": "2",
		"X-Host": "example.test http 80 cu",
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("request %s = %q, want %q", k, got, want)
		}
	}
	if r.URL.Path != "/rewritten" || r.RequestURI != "/rewritten?q=1&multi=a&multi=b" {
		t.Errorf("path %q, request URI %q", r.URL.Path, r.RequestURI)
	}
	if got := o.head.Header.Get("X-From-Ctx"); got != "10.0.0.7" {
		t.Errorf("ngx.ctx across phases: %q", got)
	}
	if o.head.Header.Get("X-Upstream") != "" || o.head.Header.Get("X-Status") != "200" || o.head.Status != 202 {
		t.Errorf("header filter: %v status %d", o.head.Header, o.head.Status)
	}
}

func TestAnswers(t *testing.T) {
	rt, _ := newRuntime(t, 0)
	p := load(t, rt, `
return { access = function()
  local tok = ngx.var.http_authorization
  if tok == nil then ngx.header["WWW-Authenticate"] = "Bearer"; return ngx.exit(401) end
  if tok == "Bearer redirect" then return ngx.redirect("https://login.test/", 307) end
  if tok == "Bearer say" then ngx.status = 418; ngx.say("short ", 1, " and stout"); return ngx.exit(ngx.HTTP_OK) end
  if tok == "Bearer pcall" then pcall(ngx.exit, 403); ngx.log(ngx.ERR, "not reached as an answer") end
  if tok ~= "Bearer good" then return ngx.exit(ngx.HTTP_FORBIDDEN) end
  return ngx.exit(ngx.OK)
end }`)
	cases := []struct {
		auth   string
		status int
		check  func(o outcome) string
	}{
		{"", 401, func(o outcome) string { return "" }},
		{"Bearer redirect", 307, func(o outcome) string {
			if o.answer.Header.Get("Location") != "https://login.test/" {
				return "no Location"
			}
			return ""
		}},
		{"Bearer say", 200, func(o outcome) string {
			if string(o.answer.Body) != "short 1 and stout\n" {
				return "body " + string(o.answer.Body)
			}
			return ""
		}},
		{"Bearer pcall", 403, nil},
		{"Bearer bad", 403, nil},
		{"Bearer good", 0, nil},
	}
	for _, c := range cases {
		var r *http.Request
		if c.auth == "" {
			r = request("/")
		} else {
			r = request("/", "Authorization", c.auth)
		}
		o := runPhases(p, r)
		if o.err != nil {
			t.Errorf("%q: %v", c.auth, o.err)
			continue
		}
		got := 0
		if o.answer != nil {
			got = o.answer.Status
		}
		if got != c.status {
			t.Errorf("%q: answer %d, want %d", c.auth, got, c.status)
			continue
		}
		if c.check != nil {
			if msg := c.check(o); msg != "" {
				t.Errorf("%q: %s", c.auth, msg)
			}
		}
	}
}

// TestBodyFilter: body_filter sees each chunk in ngx.arg[1] and the end
// in ngx.arg[2], and what it leaves in ngx.arg[1] is sent.
func TestBodyFilter(t *testing.T) {
	rt, _ := newRuntime(t, 0)
	p := load(t, rt, `return {
  header_filter = function() ngx.header.content_length = nil end,
  body_filter = function()
    local chunk, eof = ngx.arg[1], ngx.arg[2]
    ngx.ctx.n = (ngx.ctx.n or 0) + 1
    if eof then ngx.arg[1] = "|" .. ngx.ctx.n else ngx.arg[1] = string.upper(chunk) end
  end }`)
	c := &plugin.Call{Request: request("/"), ResponseHeader: http.Header{"Content-Length": {"8"}}}
	head := &plugin.Head{Status: 200, Header: c.ResponseHeader}
	if _, err := p.Rewrite(c); err != nil {
		t.Fatal(err)
	}
	if err := p.HeaderFilter(c, head); err != nil || head.Header.Get("Content-Length") != "" {
		t.Fatalf("header filter: %v %v", err, head.Header)
	}
	bf := p.(plugin.BodyFilter)
	var out []byte
	for _, chunk := range []string{"abc", "def"} {
		b, err := bf.FilterBody(c, []byte(chunk), false)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	b, err := bf.FilterBody(c, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, b...)
	p.Log(c, head)
	if string(out) != "ABCDEF|3" {
		t.Errorf("body %q", out)
	}
	// A plugin without body_filter passes chunks through.
	q := load(t, rt, `return {}`)
	c = &plugin.Call{Request: request("/"), ResponseHeader: http.Header{}}
	if _, err := q.Rewrite(c); err != nil {
		t.Fatal(err)
	}
	if b, err := q.(plugin.BodyFilter).FilterBody(c, []byte("same"), false); err != nil || string(b) != "same" {
		t.Errorf("pass-through: %q %v", b, err)
	}
	q.Log(c, &plugin.Head{Status: 200, Header: c.ResponseHeader})
}

// TestInitWorker: init_worker runs once per state, before its first
// request, without request functions.
func TestInitWorker(t *testing.T) {
	rt, _ := newRuntime(t, 0)
	p := load(t, rt, `local M = {}
local ready = "no"
function M.init_worker()
  ready = "yes"
  local ok = pcall(ngx.req.get_method)
  if ok then ready = "request functions ran" end
  ngx.shared.init:incr("states", 1, 0)
end
function M.rewrite() ngx.req.set_header("X-Ready", ready) end
return M`)
	r := request("/")
	if o := runPhases(p, r); o.err != nil || r.Header.Get("X-Ready") != "yes" {
		t.Errorf("init_worker: %v %q", o.err, r.Header.Get("X-Ready"))
	}
	r = request("/")
	runPhases(p, r)
	d, _ := rt.shared.get("init")
	if n, _ := d.Get("states").(float64); n < 1 {
		t.Errorf("init_worker ran %v times", n)
	}
}

func TestHelpers(t *testing.T) {
	rt, _ := newRuntime(t, 0)
	p := load(t, rt, `
return { rewrite = function()
  local m = ngx.re.match("/api/v2/users", [[^/api/v(\d+)/(?P<rest>.*)$]])
  local miss = ngx.re.match("abc", "^x")
  local ci = ngx.re.match("HELLO", "hello", "ijo")
  local _, err = ngx.re.match("x", "(")
  ngx.req.set_header("X-Re", m[0] .. "|" .. m[1] .. "|" .. m.rest .. "|" .. tostring(miss) .. "|" .. ci[0] .. "|" .. tostring(err ~= nil))
  ngx.req.set_header("X-Md5", ngx.md5("abc"))
  ngx.req.set_header("X-B64", ngx.encode_base64("hello?") .. " " .. ngx.decode_base64("aGVsbG8/") .. " " .. tostring(ngx.decode_base64("!!")))
  ngx.req.set_header("X-Time", tostring(ngx.time() > 1600000000))
  local d = ngx.shared.counters
  d:set("k", "v", 0)
  local n = d:incr("hits", 1, 0)
  local _, missing = d:incr("none", 1)
  ngx.req.set_header("X-Shared", d:get("k") .. " " .. n .. " " .. missing)
end }`)
	r := request("/")
	if o := runPhases(p, r); o.err != nil {
		t.Fatal(o.err)
	}
	for k, want := range map[string]string{
		"X-Re":     "/api/v2/users|2|users|nil|HELLO|true",
		"X-Md5":    "900150983cd24fb0d6963f7d28e17f72",
		"X-B64":    "aGVsbG8/ hello? nil",
		"X-Time":   "true",
		"X-Shared": "v 1 not found",
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// The dictionary is the process's: a second request sees the count.
	r = request("/")
	runPhases(p, r)
	if got := r.Header.Get("X-Shared"); got != "v 2 not found" {
		t.Errorf("second request: X-Shared = %q", got)
	}
}

func TestSharedExpiry(t *testing.T) {
	now := time.Unix(1700000000, 0)
	rt := New(Options{Now: func() time.Time { return now }})
	p := rt.Script("t", `return { rewrite = function()
  if ngx.var.arg_set then ngx.shared.s:set("k", "v", 10) end
  ngx.req.set_header("X-V", ngx.shared.s:get("k") or "gone")
end }`, nil)
	r := request("/?set=1")
	runPhases(p, r)
	now = now.Add(9 * time.Second)
	r = request("/")
	runPhases(p, r)
	if r.Header.Get("X-V") != "v" {
		t.Errorf("before expiry: %q", r.Header.Get("X-V"))
	}
	now = now.Add(2 * time.Second)
	r = request("/")
	runPhases(p, r)
	if r.Header.Get("X-V") != "gone" {
		t.Errorf("after expiry: %q", r.Header.Get("X-V"))
	}
}

func TestSandbox(t *testing.T) {
	rt, _ := newRuntime(t, 0)
	p := load(t, rt, `return { rewrite = function()
  local seen = {}
  for _, n in ipairs({"os", "io", "package", "debug", "dofile", "loadfile", "require", "module", "coroutine"}) do
    if _G[n] ~= nil then table.insert(seen, n) end
  end
  ngx.req.set_header("X-Present", table.concat(seen, ","))
  ngx.req.set_header("X-Libs", type(string.format) .. type(table.insert) .. type(math.floor))
end }`)
	r := request("/")
	if o := runPhases(p, r); o.err != nil {
		t.Fatal(o.err)
	}
	if got := r.Header.Get("X-Present"); got != "" {
		t.Errorf("reachable from a plugin: %s", got)
	}
	if got := r.Header.Get("X-Libs"); got != "functionfunctionfunction" {
		t.Errorf("libraries: %s", got)
	}
	// string.rep is bounded; small results still work.
	p = load(t, rt, `return { rewrite = function() ngx.req.set_header("X-Rep", string.rep("ab", 3)) end,
  access = function() return string.rep("x", 1e10) end }`)
	r = request("/")
	if o := runPhases(p, r); o.err == nil || !strings.Contains(o.err.Error(), "string.rep") || r.Header.Get("X-Rep") != "ababab" {
		t.Errorf("string.rep: %v, X-Rep %q", o.err, r.Header.Get("X-Rep"))
	}
	// Calling a removed library fails the call.
	p = load(t, rt, `return { access = function() os.exit(1) end }`)
	if o := runPhases(p, request("/")); o.err == nil || !strings.Contains(o.err.Error(), "access") {
		t.Errorf("os.exit: %v", o.err)
	}
}

func TestBudgetAndErrors(t *testing.T) {
	rt, logs := newRuntime(t, 50*time.Millisecond)
	loop := load(t, rt, `return { rewrite = function() while true do end end }`)
	start := time.Now()
	o := runPhases(loop, request("/"))
	if o.err == nil || !strings.Contains(o.err.Error(), "budget") {
		t.Fatalf("endless loop: %v", o.err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the loop ran %v", d)
	}
	// pcall does not escape the budget.
	loop = load(t, rt, `return { access = function() while true do pcall(function() while true do end end) end end }`)
	if o := runPhases(loop, request("/")); o.err == nil {
		t.Fatal("pcall around a loop escaped the budget")
	}
	failing := load(t, rt, `return { header_filter = function() error("boom") end }`)
	if o := runPhases(failing, request("/")); o.err == nil || !strings.Contains(o.err.Error(), "boom") {
		t.Errorf("error: %v", o.err)
	}
	// A module that fails to load fails its requests.
	bad := rt.Script("bad", `error("at load")`, nil)
	if o := runPhases(bad, request("/")); o.err == nil || !strings.Contains(o.err.Error(), "at load") {
		t.Errorf("load error: %v", o.err)
	}
	notTable := rt.Script("nt", `return 1`, nil)
	if o := runPhases(notTable, request("/")); o.err == nil {
		t.Error("a module returning a number ran")
	}
	// The same states serve later requests.
	ok := load(t, rt, `return { rewrite = function() ngx.req.set_header("X-Ok", "1") end }`)
	for range 3 {
		r := request("/")
		if o := runPhases(ok, r); o.err != nil || r.Header.Get("X-Ok") != "1" {
			t.Fatalf("after failures: %v", o.err)
		}
	}
	_ = logs
}

// TestSlots: calls beyond Options.Parallel wait for a slot, and fail
// once they waited their whole budget.
func TestSlots(t *testing.T) {
	rt := New(Options{Budget: 200 * time.Millisecond, Parallel: 1})
	spin := rt.Script("spin", `return { rewrite = function() while true do end end }`, nil)
	quick := rt.Script("quick", `return { rewrite = function() ngx.req.set_header("X-Q", "1") end }`, nil)
	// Warm quick's pool while the slot is free.
	if o := runPhases(quick, request("/")); o.err != nil {
		t.Fatal(o.err)
	}
	started := make(chan struct{})
	done := make(chan outcome)
	go func() {
		close(started)
		done <- runPhases(spin, request("/"))
	}()
	<-started
	time.Sleep(20 * time.Millisecond)
	// The slot is held by the loop: quick waits, then either runs once
	// the loop is stopped or fails as busy; it never runs alongside.
	r := request("/")
	o := runPhases(quick, r)
	if o.err != nil && !strings.Contains(o.err.Error(), "busy") {
		t.Errorf("quick: %v", o.err)
	}
	if o := <-done; o.err == nil || !strings.Contains(o.err.Error(), "budget") {
		t.Errorf("spin: %v", o.err)
	}
	if o := runPhases(quick, request("/")); o.err != nil {
		t.Errorf("quick after the loop: %v", o.err)
	}
}

func TestVersions(t *testing.T) {
	rt, logs := newRuntime(t, 0)
	v1 := rt.Script("p", `return { rewrite = function() ngx.req.set_header("X-V", "1") end }`, nil)
	same := rt.Script("p", `return { rewrite = function() ngx.req.set_header("X-V", "1") end }`, nil)
	if v1.(*script).fixed != same.(*script).fixed {
		t.Error("the same code compiled twice")
	}
	broken := rt.Script("p", `return { rewrite = function( end }`, nil)
	r := request("/")
	if o := runPhases(broken, r); o.err != nil || r.Header.Get("X-V") != "1" {
		t.Errorf("code that does not compile did not keep the previous version: %v %q", o.err, r.Header.Get("X-V"))
	}
	if !strings.Contains(logs.String(), "does not compile") {
		t.Errorf("no log line: %s", logs.String())
	}
	v2 := rt.Script("p", `return { rewrite = function() ngx.req.set_header("X-V", "2") end }`, nil)
	r = request("/")
	runPhases(v2, r)
	if r.Header.Get("X-V") != "2" {
		t.Errorf("new version: %q", r.Header.Get("X-V"))
	}
	// A plugin that never compiled fails its requests.
	never := rt.Script("q", `syntax error here`, nil)
	if o := runPhases(never, request("/")); o.err == nil {
		t.Error("code that never compiled ran")
	}
}

func TestParallel(t *testing.T) {
	rt, _ := newRuntime(t, time.Second)
	p := load(t, rt, `return {
  rewrite = function() ngx.ctx.id = ngx.var.arg_id end,
  header_filter = function() ngx.header["X-Id"] = ngx.ctx.id end }`)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				id := strings.Repeat("x", g) + string(rune('a'+i%26))
				o := runPhases(p, request("/?id="+id))
				if o.err != nil || o.head.Header.Get("X-Id") != id {
					errs <- id + ": " + o.head.Header.Get("X-Id")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
