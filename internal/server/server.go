// Package server runs one Strait process: the data-plane listeners, the
// health and debug endpoint, and the pipeline that turns source changes
// into routing generations (snapshot, translate, compile, swap).
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync"
	"time"

	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
	"github.com/straitgw/strait/internal/snapshot"
	"github.com/straitgw/strait/internal/sources/manifests"
	"github.com/straitgw/strait/internal/translate"
)

// Config is what `strait serve` and `strait demo` pass in.
type Config struct {
	// Manifests is the directory read in standalone mode.
	Manifests string
	// BindAddress is the address the listeners bind; empty means all.
	BindAddress string
	// HTTPPort, HTTPSPort and HealthzPort are the listen ports; 0 picks a
	// free port (tests).
	HTTPPort, HTTPSPort, HealthzPort int
	// Classes selects the Ingresses served.
	Classes snapshot.ClassOptions
	// Translate holds the controller-wide translation settings.
	Translate translate.Options
	// ShutdownGracePeriod bounds how long in-flight requests may take to
	// finish once shutdown starts.
	ShutdownGracePeriod time.Duration
	// Profiling exposes Go's pprof handlers under /debug/pprof on the
	// health port, as ingress-nginx's --profiling does.
	Profiling bool
	// Log is the process logger.
	Log *slog.Logger
}

// Server is a running Strait process.
type Server struct {
	cfg   Config
	log   *slog.Logger
	proxy *proxy.Proxy

	httpLn, httpsLn, healthLn net.Listener

	mu       sync.Mutex
	hash     string
	problems []model.Problem
	gens     map[string]int // generations by kind: "full", "noop"
	ready    bool
}

// New opens the listeners and loads the initial configuration. Nothing is
// served until Run.
func New(cfg Config) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Manifests == "" {
		return nil, errors.New("--manifests is required: the Kubernetes source is not part of this build")
	}
	p, err := proxy.New(proxy.Options{Log: cfg.Log})
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Log, proxy: p, gens: map[string]int{}}
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
	if s.healthLn, err = listen(cfg.HealthzPort); err != nil {
		s.closeListeners()
		return nil, err
	}
	return s, nil
}

func (s *Server) closeListeners() {
	for _, ln := range []net.Listener{s.httpLn, s.httpsLn, s.healthLn} {
		if ln != nil {
			_ = ln.Close()
		}
	}
}

// HTTPAddr, HTTPSAddr and HealthzAddr return the bound listen addresses.
func (s *Server) HTTPAddr() string { return s.httpLn.Addr().String() }

// HTTPSAddr returns the bound address of the TLS listener.
func (s *Server) HTTPSAddr() string { return s.httpsLn.Addr().String() }

// HealthzAddr returns the bound address of the health and debug listener.
func (s *Server) HealthzAddr() string { return s.healthLn.Addr().String() }

// Proxy returns the data plane, for tests and embedding.
func (s *Server) Proxy() *proxy.Proxy { return s.proxy }

// Run loads the manifests, serves until ctx ends, then shuts down: the
// listeners close, in-flight requests get the grace period to finish, and
// upgraded connections are closed.
func (s *Server) Run(ctx context.Context) error {
	src := manifests.New(s.cfg.Manifests, s.log)
	objs, err := src.Load()
	if err != nil {
		s.closeListeners()
		return fmt.Errorf("reading manifests: %w", err)
	}
	s.apply(objs)

	h1 := s.proxy.H1Server(s.httpLn)
	srvs := []*http.Server{
		s.proxy.Server(s.httpsLn, true),
		{Handler: s.healthHandler(), ReadHeaderTimeout: 10 * time.Second},
	}
	lns := []net.Listener{s.httpsLn, s.healthLn}
	errc := make(chan error, len(srvs)+2)
	go func() { errc <- h1.Serve() }()
	for i := range srvs {
		go func() { errc <- proxy.Serve(srvs[i], lns[i]) }()
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go func() { errc <- src.Run(watchCtx, s.apply) }()

	s.mu.Lock()
	s.ready = true
	s.mu.Unlock()
	s.log.Info("serving", "http", s.HTTPAddr(), "https", s.HTTPSAddr(), "healthz", s.HealthzAddr(), "manifests", s.cfg.Manifests)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	s.mu.Lock()
	s.ready = false
	s.mu.Unlock()
	stopWatch()
	grace := s.cfg.ShutdownGracePeriod
	if grace <= 0 {
		grace = 10 * time.Second
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
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
	s.proxy.CloseTunnels()
	wg.Wait()
	return runErr
}

// apply runs one generation: snapshot, translate, and, unless the model is
// unchanged, compile and swap.
func (s *Server) apply(objs snapshot.Objects) {
	start := time.Now()
	snap := snapshot.Build(objs, s.cfg.Classes)
	m, problems := translate.Translate(snap, s.cfg.Translate)
	h := m.Hash()
	s.mu.Lock()
	same := h == s.hash
	old := s.problems
	s.hash, s.problems = h, problems
	if same {
		s.gens["noop"]++
	} else {
		s.gens["full"]++
	}
	s.mu.Unlock()
	logNewProblems(s.log, old, problems)
	if same {
		return
	}
	s.proxy.Apply(m)
	s.log.Info("generation applied", "hosts", len(m.Hosts), "backends", len(m.Backends), "problems", len(problems), "took", time.Since(start).Round(time.Microsecond))
}

// logNewProblems logs the problems that were not already reported by the
// previous generation, so that an unrelated change does not repeat them.
func logNewProblems(log *slog.Logger, old, cur []model.Problem) {
	seen := make(map[model.Problem]bool, len(old))
	for _, p := range old {
		seen[p] = true
	}
	for _, p := range cur {
		if !seen[p] {
			log.Warn(p.Message, "object", p.Object.String(), "field", p.Field, "reason", p.Reason)
		}
	}
}

// healthHandler serves /healthz (liveness and readiness) and /debug/model,
// the live model with its problems.
func (s *Server) healthHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		ready := s.ready
		s.mu.Unlock()
		if !ready {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/debug/model", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		out := struct {
			Hash        string          `json:"hash"`
			Generations map[string]int  `json:"generations"`
			Problems    []model.Problem `json:"problems"`
			Model       *model.Model    `json:"model"`
		}{s.hash, copyMap(s.gens), s.problems, s.proxy.Model()}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	})
	if s.cfg.Profiling {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

func copyMap(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
