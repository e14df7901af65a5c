package proxy

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/plugin"
)

// routePlugins are a route's plugins, built once per compiled route.
type routePlugins struct {
	list []namedPlugin
	log  *slog.Logger
	// bodies is set when a plugin filters bodies.
	bodies bool
}

type namedPlugin struct {
	name string
	p    plugin.Plugin
}

// compilePlugins builds the plugins of a route; nil when it has none.
// A Go plugin whose configuration no longer parses (translate checked
// it) fails its requests rather than being left out.
func compilePlugins(refs []model.PluginRef, reg *plugin.Registry, log *slog.Logger) *routePlugins {
	if len(refs) == 0 {
		return nil
	}
	rp := &routePlugins{list: make([]namedPlugin, 0, len(refs)), log: log}
	for _, ref := range refs {
		var p plugin.Plugin
		switch f := reg.Lookup(ref.Name); {
		case ref.Lua != nil && reg.Scripts() != nil:
			p = reg.Scripts().Script(ref.Name, ref.Lua.Code, ref.Config)
		case ref.Lua == nil && f != nil:
			var err error
			if p, err = f.New(ref.Config); err != nil {
				p = failing{err}
			}
		default:
			p = failing{fmt.Errorf("plugin %q is not available", ref.Name)}
		}
		rp.list = append(rp.list, namedPlugin{ref.Name, p})
		_, filters := p.(plugin.BodyFilter)
		rp.bodies = rp.bodies || filters
	}
	return rp
}

// failing is a plugin that cannot run: it fails every request.
type failing struct{ err error }

func (f failing) Rewrite(*plugin.Call) (*plugin.Answer, error)  { return nil, f.err }
func (f failing) Access(*plugin.Call) (*plugin.Answer, error)   { return nil, f.err }
func (f failing) HeaderFilter(*plugin.Call, *plugin.Head) error { return f.err }
func (f failing) Log(*plugin.Call, *plugin.Head)                {}

// runPlugins runs the rewrite and access phases of rt's plugins and
// wraps w for their header filter. It returns the writer to answer
// through, whether the request was answered (by a plugin or with a 500),
// and what to defer: the log phase.
func (h *handler) runPlugins(w http.ResponseWriter, r *http.Request, rt *route, remote string, https bool) (http.ResponseWriter, bool, func()) {
	rp := rt.plugins
	scheme := "http"
	if https {
		scheme = "https"
	}
	pw := &pluginWriter{ResponseWriter: w, rp: rp, route: rt.name, calls: make([]plugin.Call, len(rp.list))}
	for i := range pw.calls {
		pw.calls[i] = plugin.Call{Request: r, ClientIP: remote, Scheme: scheme, Port: h.li.port, Route: rt.name, ResponseHeader: w.Header()}
	}
	done := func() {
		pw.finishBody()
		head := plugin.Head{Status: pw.status, Header: w.Header()}
		for i, np := range rp.list {
			np.p.Log(&pw.calls[i], &head)
		}
	}
	for _, phase := range [...]string{"rewrite", "access"} {
		for i, np := range rp.list {
			var a *plugin.Answer
			var err error
			if phase == "rewrite" {
				a, err = np.p.Rewrite(&pw.calls[i])
			} else {
				a, err = np.p.Access(&pw.calls[i])
			}
			if err != nil {
				rp.failed(np.name, phase, rt.name, err)
				plainError(w, http.StatusInternalServerError)
				pw.wrote, pw.failed, pw.status = true, true, http.StatusInternalServerError
				return pw, true, done
			}
			if a != nil {
				writeAnswer(pw, a)
				return pw, true, done
			}
		}
	}
	return pw, false, done
}

func (rp *routePlugins) failed(name, phase, route string, err error) {
	rp.log.Error("plugin failed; the request is answered 500", "plugin", name, "phase", phase, "route", route, "error", err)
}

// writeAnswer sends a plugin's answer through the header filters.
func writeAnswer(w http.ResponseWriter, a *plugin.Answer) {
	h := w.Header()
	for k, vs := range a.Header {
		h[k] = vs
	}
	status := a.Status
	if status < 100 || status > 599 {
		status = http.StatusInternalServerError
	}
	if len(a.Body) == 0 && status >= 400 {
		plainError(w, status)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(a.Body)
}

// pluginWriter runs the plugins' header filters when the response head
// is written. A filter's error replaces the response with a 500; the
// body that was meant to follow is dropped.
type pluginWriter struct {
	http.ResponseWriter
	rp     *routePlugins
	route  string
	calls  []plugin.Call
	status int
	wrote  bool
	failed bool // the response is a 500 of Strait's; writes are dropped
	// closeInner ends the compression under the writer (wrapCompression).
	closeInner func()
}

func (pw *pluginWriter) WriteHeader(code int) {
	if pw.wrote {
		return
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		pw.ResponseWriter.WriteHeader(code) // informational
		return
	}
	pw.wrote = true
	head := plugin.Head{Status: code, Header: pw.Header()}
	for i, np := range pw.rp.list {
		if err := np.p.HeaderFilter(&pw.calls[i], &head); err != nil {
			pw.rp.failed(np.name, "header_filter", pw.route, err)
			pw.failed = true
			h := pw.Header()
			clear(h)
			h.Set("Content-Type", "text/plain; charset=utf-8")
			h.Set("X-Content-Type-Options", "nosniff")
			pw.status = http.StatusInternalServerError
			pw.ResponseWriter.WriteHeader(pw.status)
			_, _ = pw.ResponseWriter.Write(statusBody(pw.status))
			return
		}
	}
	if head.Status < 100 || head.Status > 599 {
		head.Status = code
	}
	pw.status = head.Status
	pw.ResponseWriter.WriteHeader(head.Status)
}

func (pw *pluginWriter) Write(b []byte) (int, error) {
	if !pw.wrote {
		pw.WriteHeader(http.StatusOK)
	}
	if pw.failed {
		return len(b), nil
	}
	if !pw.rp.bodies {
		return pw.ResponseWriter.Write(b)
	}
	out, ok := pw.filterBody(b, false)
	if !ok {
		return len(b), nil
	}
	if _, err := pw.ResponseWriter.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// filterBody passes a chunk through the body filters in order; false
// means one failed, and the rest of the body is dropped.
func (pw *pluginWriter) filterBody(chunk []byte, last bool) ([]byte, bool) {
	for i, np := range pw.rp.list {
		bf, ok := np.p.(plugin.BodyFilter)
		if !ok {
			continue
		}
		var err error
		if chunk, err = bf.FilterBody(&pw.calls[i], chunk, last); err != nil {
			pw.rp.failed(np.name, "body_filter", pw.route, err)
			pw.failed = true
			return nil, false
		}
	}
	return chunk, true
}

// finishBody sends what the body filters hold back for the end, then
// ends the compression they write through.
func (pw *pluginWriter) finishBody() {
	if pw.rp.bodies && pw.wrote && !pw.failed {
		if out, ok := pw.filterBody(nil, true); ok && len(out) > 0 {
			_, _ = pw.ResponseWriter.Write(out)
		}
	}
	if pw.closeInner != nil {
		pw.closeInner()
	}
}

// wrapCompression adds response compression under the plugins' writer,
// so that body filters see the body uncompressed and compression ends
// after their last chunk; other writers are wrapped as they are.
func wrapCompression(gc *gzipConf, w http.ResponseWriter, r *http.Request) (http.ResponseWriter, func()) {
	pw, ok := w.(*pluginWriter)
	if !ok || !pw.rp.bodies || pw.wrote {
		return gc.wrap(w, r)
	}
	pw.ResponseWriter, pw.closeInner = gc.wrap(pw.ResponseWriter, r)
	return pw, func() {}
}

// Flush writes the head first, so that it goes through the filters.
func (pw *pluginWriter) Flush() {
	if !pw.wrote {
		pw.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(pw.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection.
func (pw *pluginWriter) Unwrap() http.ResponseWriter { return pw.ResponseWriter }
