// Package server runs one Strait process: the data-plane listeners, the
// health, metrics and debug endpoint, and the pipeline that turns source
// changes into routing generations (snapshot, translate, compile, swap),
// fed either by a manifests directory or by the Kubernetes API.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/straitgw/strait/internal/admission"
	"github.com/straitgw/strait/internal/live"
	"github.com/straitgw/strait/internal/metrics"
	luaplugin "github.com/straitgw/strait/internal/plugin/lua"
	"github.com/straitgw/strait/internal/proxy"
	"github.com/straitgw/strait/internal/proxy/upstream"
	"github.com/straitgw/strait/internal/snapshot"
	"github.com/straitgw/strait/internal/translate"
)

// Config is what `strait serve` and `strait demo` pass in.
type Config struct {
	// Manifests is the directory read in standalone mode; empty means
	// cluster mode.
	Manifests string
	// Kube configures cluster mode.
	Kube KubeConfig
	// BindAddress is the address the listeners bind; empty means all.
	BindAddress string
	// HTTPPort, HTTPSPort and HealthzPort are the listen ports; 0 picks a
	// free port (tests).
	HTTPPort, HTTPSPort, HealthzPort int
	// Classes selects the Ingresses served.
	Classes snapshot.ClassOptions
	// Translate holds the controller-wide translation settings.
	Translate translate.Options
	// ShutdownDelay is how long Strait keeps accepting and serving after
	// a shutdown signal while its readiness already fails, so that
	// endpoint controllers and load balancers stop sending it traffic
	// first (what a preStop sleep does for nginx).
	ShutdownDelay time.Duration
	// ShutdownGracePeriod bounds how long in-flight requests may take to
	// finish once shutdown starts.
	ShutdownGracePeriod time.Duration
	// Profiling exposes Go's pprof handlers under /debug/pprof on the
	// health port, as ingress-nginx's --profiling does.
	Profiling bool
	// LiveView serves the live view (/live/, its JSON at /live/api, and a
	// redirect from /) on the health port; see docs/live-view.md.
	LiveView bool
	// Log is the process logger.
	Log *slog.Logger
	// AccessLog receives the access log (one line per request, in the
	// ConfigMap's log-format-upstream); nil means none.
	AccessLog io.Writer
	// Outlier configures passive health checking of endpoints; nil means
	// upstream.DefaultOutlier.
	Outlier *upstream.Outlier
	// Breaker configures the per-backend circuit breaker; nil means
	// upstream.DefaultBreaker.
	Breaker *upstream.Breaker
	// ClientLimits are the client-side protections set by flags; zero
	// fields take their defaults.
	ClientLimits proxy.ClientLimits
	// Gateway configures the Gateway API.
	Gateway GatewayConfig
	// Metrics configures the request metrics on /metrics.
	Metrics MetricsConfig
	// Webhook configures the validating admission webhook (cluster mode
	// only).
	Webhook WebhookConfig
	// Plugins configures the Lua plugin runtime (plugins.go).
	Plugins PluginsConfig
}

// MetricsConfig configures the request metrics, with ingress-nginx's
// flags.
type MetricsConfig struct {
	// Disabled turns the request metrics off (--enable-metrics=false);
	// the control-plane metrics stay.
	Disabled bool
	// Requests are the label and bucket settings. The constant labels
	// are filled in by New.
	Requests metrics.RequestOptions
}

// GatewayConfig configures the Gateway API side.
type GatewayConfig struct {
	// ControllerName is the GatewayClass spec.controllerName served;
	// empty leaves the Gateway API out.
	ControllerName string
	// AddressPool is a CIDR from which each Gateway gets an address of
	// its own; empty means Gateways share the bind address and report
	// the published addresses.
	AddressPool string
}

// pipeline is a source of generations: the manifests directory or the
// Kubernetes API.
type pipeline interface {
	// run serves the first generation, follows changes until ctx ends, and
	// returns only then or on a fatal error.
	run(ctx context.Context, started func()) error
	// ready reports whether the first generation is serving.
	ready() bool
	// debug returns what /debug/model shows.
	debug() any
	// live returns what the live view shows.
	live() live.State
}

// Server is a running Strait process.
type Server struct {
	cfg     Config
	log     *slog.Logger
	proxy   *proxy.Proxy
	metrics *metrics.Set
	// requests are the request metrics; nil when off.
	requests *metrics.Requests
	pipe     pipeline
	stopping atomic.Bool

	httpLn, httpsLn, healthLn net.Listener
	// gateways are the Gateway API listeners.
	gateways *gatewayListeners
	// webhook is the validating admission webhook; nil when it is off.
	webhook *admission.Server
	// scripts runs the Lua plugins.
	scripts *luaplugin.Runtime
}

// New checks the configuration, connects what it needs and opens the
// listeners. Nothing is served until Run.
func New(cfg Config) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if err := cfg.Webhook.check(cfg.Manifests != ""); err != nil {
		return nil, err
	}
	certs, err := cfg.Webhook.load(cfg.Log)
	if err != nil {
		return nil, err
	}
	// --configmap names the ConfigMap whose keys set the defaults, in
	// both modes.
	cfg.Translate.ConfigMap = cfg.Kube.ConfigMap
	// ingress-nginx's constant labels: the controller value and the pod,
	// from the downward API variables its manifests set.
	ctl := metrics.Controller{Class: cfg.Classes.ControllerClass, Namespace: os.Getenv("POD_NAMESPACE"), Pod: os.Getenv("POD_NAME")}
	var reqs *metrics.Requests
	if !cfg.Metrics.Disabled {
		ro := cfg.Metrics.Requests
		if err := ro.ValidateBuckets(); err != nil {
			return nil, err
		}
		ro.ControllerClass, ro.ControllerNamespace, ro.ControllerPod = ctl.Class, ctl.Namespace, ctl.Pod
		reqs = metrics.NewRequests(ro)
	}
	scripts, plugins, err := cfg.Plugins.registry(cfg.Log)
	if err != nil {
		return nil, err
	}
	cfg.Translate.Plugins = plugins
	p, err := proxy.New(proxy.Options{Log: cfg.Log, AccessLog: cfg.AccessLog, Outlier: cfg.Outlier, Breaker: cfg.Breaker, ClientLimits: cfg.ClientLimits, Requests: reqs, Plugins: plugins})
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Log, proxy: p, metrics: metrics.New(ctl), requests: reqs, scripts: scripts}
	if reqs != nil {
		s.metrics.Registry.MustRegister(reqs)
	}
	s.metrics.AddSampler(p.Samples)
	// Gateway listeners open as generations name them; the ports of
	// Strait's own listeners are filled in once those are open.
	s.gateways = newGatewayListeners(p, cfg.Log, cfg.BindAddress)
	if cfg.Manifests != "" {
		if s.pipe, err = newStandalone(cfg, p, s.metrics, s.gateways); err != nil {
			return nil, err
		}
	} else {
		if s.pipe, err = newCluster(cfg, p, s.metrics, s.gateways); err != nil {
			return nil, err
		}
	}
	// The listeners use SO_REUSEPORT, so a port named twice would not
	// fail to bind: its connections would be shared between two servers.
	if err := distinctPorts(map[string]int{"--http-port": cfg.HTTPPort, "--https-port": cfg.HTTPSPort, "--healthz-port": cfg.HealthzPort}); err != nil {
		return nil, err
	}
	listen := func(port int) (net.Listener, error) {
		return proxy.Listen(net.JoinHostPort(cfg.BindAddress, strconv.Itoa(port)))
	}
	if s.httpLn, err = listen(cfg.HTTPPort); err != nil {
		return nil, err
	}
	if s.httpsLn, err = listen(cfg.HTTPSPort); err != nil {
		s.closeListeners()
		return nil, err
	}
	// max-worker-connections counts the connections of both, PROXY
	// protocol or not; use-proxy-protocol applies to both.
	s.httpLn = p.ProxyProtocolListener(p.LimitListener(s.httpLn))
	s.httpsLn = p.ProxyProtocolListener(p.LimitListener(s.httpsLn))
	if s.healthLn, err = listen(cfg.HealthzPort); err != nil {
		s.closeListeners()
		return nil, err
	}
	for ln, port := range map[net.Listener]*int{s.httpLn: &s.gateways.httpPort, s.httpsLn: &s.gateways.httpsPort, s.healthLn: &s.gateways.healthzPort} {
		if tcp, ok := ln.Addr().(*net.TCPAddr); ok {
			*port = tcp.Port
		}
	}
	// The webhook listens last: a port the proxy holds then fails to bind
	// here (its listeners share ports only with each other).
	if c, ok := s.pipe.(*cluster); ok && cfg.Webhook.Listen != "" {
		if s.webhook, err = c.webhook(cfg, certs, s.metrics); err != nil {
			s.closeListeners()
			return nil, err
		}
	}
	return s, nil
}

// distinctPorts fails when two flags name the same port (0, any free port,
// may repeat).
func distinctPorts(ports map[string]int) error {
	flags := slices.Sorted(maps.Keys(ports))
	for i, a := range flags {
		for _, b := range flags[i+1:] {
			if ports[a] != 0 && ports[a] == ports[b] {
				return fmt.Errorf("%s and %s are both %d; each listener needs its own port", a, b, ports[a])
			}
		}
	}
	return nil
}

func (s *Server) closeListeners() {
	for _, ln := range []net.Listener{s.httpLn, s.httpsLn, s.healthLn} {
		if ln != nil {
			_ = ln.Close()
		}
	}
	if s.webhook != nil {
		_ = s.webhook.Close()
	}
}

// HTTPAddr returns the bound address of the plain HTTP listener.
func (s *Server) HTTPAddr() string { return s.httpLn.Addr().String() }

// HTTPSAddr returns the bound address of the TLS listener.
func (s *Server) HTTPSAddr() string { return s.httpsLn.Addr().String() }

// HealthzAddr returns the bound address of the health and debug listener.
func (s *Server) HealthzAddr() string { return s.healthLn.Addr().String() }

// WebhookAddr returns the bound address of the validating webhook, "" when
// it is off.
func (s *Server) WebhookAddr() string {
	if s.webhook == nil {
		return ""
	}
	return s.webhook.Addr()
}

// Proxy returns the data plane, for tests and embedding.
func (s *Server) Proxy() *proxy.Proxy { return s.proxy }

// Run serves until ctx ends, then shuts down: readiness fails, the
// listeners close, in-flight requests get the grace period to finish, and
// upgraded connections are closed.
func (s *Server) Run(ctx context.Context) error {
	h1 := s.proxy.H1Server(s.httpLn)
	httpsLn := s.httpsLn
	if s.cfg.Translate.EnableSSLPassthrough {
		httpsLn = s.proxy.PassthroughListener(httpsLn)
	}
	srvs := []*http.Server{
		s.proxy.Server(httpsLn, true),
		{Handler: s.healthHandler(), ReadHeaderTimeout: 10 * time.Second},
	}
	lns := []net.Listener{httpsLn, s.healthLn}
	errc := make(chan error, len(srvs)+3)
	// The health port answers from the start, reporting not ready until
	// the first generation serves; so does the webhook, letting Ingresses
	// in with a warning until then.
	go func() { errc <- proxy.Serve(srvs[1], lns[1]) }()
	if s.webhook != nil {
		go func() { errc <- s.webhook.Serve() }()
	}

	pipeCtx, stopPipe := context.WithCancel(ctx)
	defer stopPipe()
	go func() {
		if err := s.scripts.Watch(pipeCtx); err != nil {
			s.log.Error("watching the plugins directory", "error", err)
		}
	}()
	started := make(chan struct{})
	pipeDone := make(chan error, 1)
	go func() {
		pipeDone <- s.pipe.run(pipeCtx, func() { close(started) })
	}()
	var runErr error
	select {
	case <-started:
		go func() { errc <- h1.Serve() }()
		go func() { errc <- proxy.Serve(srvs[0], lns[0]) }()
		s.log.Info("serving", "http", s.HTTPAddr(), "https", s.HTTPSAddr(), "healthz", s.HealthzAddr())
		select {
		case <-ctx.Done():
		case runErr = <-errc:
		case runErr = <-pipeDone:
			if runErr == nil {
				runErr = errors.New("pipeline stopped")
			}
		}
	case <-ctx.Done():
	case runErr = <-pipeDone:
	}
	s.stopping.Store(true)
	s.proxy.BeginDrain()
	if runErr == nil && s.cfg.ShutdownDelay > 0 {
		// Phase one: not ready, still serving.
		s.log.Info("readiness failing; serving on until the shutdown delay ends", "delay", s.cfg.ShutdownDelay)
		time.Sleep(s.cfg.ShutdownDelay)
	}

	grace := s.cfg.ShutdownGracePeriod
	if grace <= 0 {
		grace = 10 * time.Second
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	deadline, _ := sctx.Deadline()
	var wg sync.WaitGroup
	for _, srv := range srvs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Shutdown(sctx); err != nil {
				_ = srv.Close()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = h1.Shutdown(sctx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.gateways.shutdown(sctx)
	}()
	if s.webhook != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.webhook.Shutdown(sctx); err != nil {
				_ = s.webhook.Close()
			}
		}()
	}
	// Upgraded connections get the grace period too; WebSockets are then
	// sent a close frame (HTTP/2 connections got a GOAWAY from Shutdown).
	s.proxy.DrainTunnels(deadline)
	wg.Wait()
	_ = s.proxy.FlushAccessLog()
	// Spans queued for export get a few seconds to reach the collector:
	// an unreachable one must not hold the exit back.
	tctx, tcancel := context.WithTimeout(context.Background(), tracingFlushTimeout)
	if err := s.proxy.ShutdownTracing(tctx); err != nil {
		s.log.Warn("exporting the last spans failed", "error", err)
	}
	tcancel()
	stopPipe()
	if err := <-pipeDone; err != nil && runErr == nil && ctx.Err() == nil {
		runErr = err
	}
	return runErr
}

// tracingFlushTimeout bounds the export of the last spans at exit.
const tracingFlushTimeout = 5 * time.Second

// healthHandler serves /healthz (ready once the first generation serves,
// failing again at shutdown), /metrics, /debug/model and, when enabled,
// /debug/pprof and the live view.
func (s *Server) healthHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if s.stopping.Load() || !s.pipe.ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("/metrics", s.metrics.Handler())
	mux.HandleFunc("/debug/model", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(s.pipe.debug())
	})
	if s.cfg.LiveView {
		opts := live.Options{State: s.pipe.live, Upstreams: s.proxy}
		if s.requests != nil && s.cfg.Metrics.Requests.PerHost {
			// The request metrics' series are the view's counters; without
			// the host label they cannot be told apart per host.
			opts.Traffic = s.routeTraffic
		}
		lv := live.New(opts)
		for _, p := range []string{"/{$}", "/live", live.PagePath} {
			mux.Handle(p, lv)
		}
	}
	if s.cfg.Profiling {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// routeTraffic reports the request metrics' counters to the live view.
func (s *Server) routeTraffic() []live.RouteTraffic {
	totals := s.requests.Totals()
	out := make([]live.RouteTraffic, len(totals))
	for i, t := range totals {
		out[i] = live.RouteTraffic{
			Namespace: t.Namespace, Ingress: t.Ingress, Host: t.Host, Path: t.Path, Service: t.Service,
			Canary: t.Canary != "", Requests: t.Requests, Errors5xx: t.Errors5xx,
		}
	}
	return out
}
