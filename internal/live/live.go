// Package live serves Strait's live view on the health port: one
// self-contained HTML page (/live) that shows what the current generation
// serves and how its backends are doing, refreshed every two seconds, and
// the same data as JSON (/live/api, see View) for scripts.
//
// The view reads only immutable generation data (the model) and atomic
// state of the data plane; it costs nothing while nobody looks: there is no
// goroutine, and request rates are sampled when the view is fetched.
package live

import (
	"embed"
	"encoding/json"
	"net/http"
	"time"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy/upstream"
)

// assets are the page, its script and its style sheet. An embed.FS is
// read-only, so sharing it as a package variable is safe.
//
//go:embed assets/index.html assets/app.js assets/style.css
var assets embed.FS

// Paths served. The page refers to its script, style sheet and data by
// relative URLs, so that it works behind a proxy that adds a path prefix
// (kubectl proxy).
const (
	// PagePath is the HTML page; "/" and "/live" redirect to it.
	PagePath = "/live/"
	// APIPath is the JSON document.
	APIPath = "/live/api"
)

// State is what the view shows of the control plane.
type State struct {
	// Generation identifies the generation; its Leader is shown as is.
	Generation Generation
	// Model is the served model; nil before the first generation.
	Model *model.Model
	// Problems are the per-object problems of the last translation.
	Problems []model.Problem
}

// Upstreams is the data plane's backend state (proxy.Proxy has it).
type Upstreams interface {
	// BackendStates returns every backend's state, sorted by name.
	BackendStates() []upstream.BackendState
	// FailureSettings returns the passive health and breaker settings.
	FailureSettings() (upstream.Outlier, upstream.Breaker)
}

// RouteTraffic is one set of request counters of the data plane, with
// ingress-nginx's metric labels. Counters only grow while the process
// runs; a smaller value than before is read as a restart from zero.
type RouteTraffic struct {
	// Namespace and Ingress name the Ingress of the route (for a canary
	// request, the primary's or the canary's).
	Namespace, Ingress string
	// Host is the virtual host's name as in the model ("*" or "" for the
	// catch-all host); Path the route's path as in the model.
	Host, Path string
	// Service is the Service that answered.
	Service string
	// Canary marks requests sent to the canary backend.
	Canary bool
	// Requests counts answered requests; Errors5xx those answered with a
	// 5xx status.
	Requests, Errors5xx uint64
}

// Options configure a Handler.
type Options struct {
	// State returns the current generation; required. It is called once
	// per API fetch and must not block the data plane.
	State func() State
	// Upstreams, when set, gives the endpoints' health and the breakers'
	// counts; nil shows the model's endpoints in state "unknown".
	Upstreams Upstreams
	// Traffic, when set, returns the data plane's per-route counters;
	// nil shows every rate as unknown ("n/a").
	Traffic func() []RouteTraffic
	// Now returns the current time; nil means time.Now. Certificate
	// expiry and rates are computed against it.
	Now func() time.Time
}

// Handler serves the live view. Mount it on "/{$}", "/live" and PagePath.
type Handler struct {
	opts  Options
	certs certCache
	rates rates
}

// New returns a Handler.
func New(opts Options) *Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Handler{opts: opts, rates: rates{src: opts.Traffic}}
}

// contentSecurityPolicy allows the page only its own script, style and
// fetches: user input that slipped through as markup could not run.
const contentSecurityPolicy = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// ServeHTTP serves GET and HEAD only: the view never changes anything.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "the live view is read-only: GET or HEAD only", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/", "/live":
		// A relative Location keeps a proxy's path prefix.
		hd.Set("Location", "live/")
		w.WriteHeader(http.StatusFound)
	case PagePath:
		h.asset(w, "assets/index.html", "text/html; charset=utf-8")
	case PagePath + "app.js":
		h.asset(w, "assets/app.js", "text/javascript; charset=utf-8")
	case PagePath + "style.css":
		h.asset(w, "assets/style.css", "text/css; charset=utf-8")
	case APIPath:
		hd.Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(h.View())
	default:
		http.NotFound(w, r)
	}
}

func (h *Handler) asset(w http.ResponseWriter, name, contentType string) {
	b, err := assets.ReadFile(name)
	if err != nil {
		// The files are embedded at build time; a missing one is a
		// build mistake.
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	_, _ = w.Write(b)
}

// View returns the current document.
func (h *Handler) View() *View {
	now := h.opts.Now()
	st := h.opts.State()
	v := build(st, now, &h.certs)
	if h.opts.Upstreams != nil {
		withHealth(v, h.opts.Upstreams)
	}
	if h.opts.Traffic != nil {
		v.Traffic.Available = true
		window, byRoute := h.rates.observe(now)
		v.Traffic.WindowSeconds = round3(window.Seconds())
		if window > 0 {
			withRates(v, byRoute)
		}
	}
	return v
}
