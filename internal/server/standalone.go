package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/straitgw/strait/internal/controller"
	"github.com/straitgw/strait/internal/live"
	"github.com/straitgw/strait/internal/metrics"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
	"github.com/straitgw/strait/internal/snapshot"
	"github.com/straitgw/strait/internal/sources/manifests"
	"github.com/straitgw/strait/internal/translate"
)

// standalone feeds generations from a manifests directory.
type standalone struct {
	cfg     Config
	log     *slog.Logger
	proxy   *proxy.Proxy
	metrics *metrics.Set
	isReady atomic.Bool

	// gateway serves the Gateway API objects of the manifests; nil when
	// it is left out. listeners opens what their listeners need.
	gateway   *controller.GatewayAPI
	listeners *gatewayListeners

	mu       sync.Mutex
	served   *model.Model
	problems []model.Problem
	// number counts the generations published; published is when the
	// last one was.
	number    uint64
	published time.Time
}

func newStandalone(cfg Config, p *proxy.Proxy, m *metrics.Set, gl *gatewayListeners) (*standalone, error) {
	gw, err := gatewayAPI(cfg.Gateway)
	if err != nil {
		return nil, err
	}
	if gw != nil {
		cfg.Classes.GatewayController = cfg.Gateway.ControllerName
	}
	return &standalone{cfg: cfg, log: cfg.Log, proxy: p, metrics: m, gateway: gw, listeners: gl}, nil
}

func (s *standalone) ready() bool { return s.isReady.Load() }

func (s *standalone) run(ctx context.Context, started func()) error {
	src := manifests.New(s.cfg.Manifests, s.log)
	objs, err := src.Load()
	if err != nil {
		return fmt.Errorf("reading manifests: %w", err)
	}
	s.apply(objs)
	s.isReady.Store(true)
	started()
	s.log.Info("watching manifests", "dir", s.cfg.Manifests)
	return src.Run(ctx, s.apply)
}

// apply runs one generation: snapshot, translate, and, unless the model is
// unchanged, compile and swap.
func (s *standalone) apply(objs snapshot.Objects) {
	start := time.Now()
	snap := snapshot.Build(objs, s.cfg.Classes)
	m, problems := translate.Translate(snap, s.cfg.Translate)
	if s.gateway != nil {
		m = controller.WithGateways(m, s.gateway.Translate(snap))
	}
	s.mu.Lock()
	same := s.served != nil && model.Equal(s.served, m)
	old := s.problems
	s.problems = problems
	if !same {
		s.served = m
		s.number++
		s.published = time.Now()
	}
	s.mu.Unlock()
	controller.LogNewProblems(s.log, old, problems)
	s.metrics.SetProblems(controller.ProblemReasons(problems))
	if same {
		s.metrics.Generations.WithLabelValues(metrics.KindNoop).Inc()
		return
	}
	s.proxy.Apply(m)
	s.listeners.reconcile(m)
	took := time.Since(start)
	s.metrics.Served(metrics.KindFull, took)
	s.log.Info("generation applied", "hosts", len(m.Hosts), "gateways", len(m.Gateways), "backends", len(m.Backends), "problems", len(problems), "took", took.Round(time.Microsecond))
}

func (s *standalone) debug() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return debugView{Problems: s.problems, Model: s.proxy.Model()}
}

func (s *standalone) live() live.State {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Every generation of a manifests directory is a full one.
	return live.State{
		Generation: live.Generation{Number: s.number, Kind: metrics.KindFull, Time: s.published},
		Model:      s.proxy.Model(),
		Problems:   s.problems,
	}
}

// debugView is the /debug/model document.
type debugView struct {
	Leader   *bool           `json:"leader,omitempty"`
	Problems []model.Problem `json:"problems"`
	Model    *model.Model    `json:"model"`
}
