// Package controller runs the cluster-mode control loop: it waits for the
// Kubernetes source to sync, builds the first generation, then coalesces
// changes into new generations, taking the endpoints fast path when only
// EndpointSlices changed.
package controller

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/straitgw/strait/internal/metrics"
	"github.com/straitgw/strait/internal/model"
	"github.com/straitgw/strait/internal/proxy"
	"github.com/straitgw/strait/internal/snapshot"
	"github.com/straitgw/strait/internal/sources/kube"
	"github.com/straitgw/strait/internal/translate"
	"github.com/straitgw/strait/internal/translate/gatewayapi"
)

// Coalescing of Kubernetes events: a batch is processed HoldOff after its
// last event, but never later than MaxDelay after its first. Bursts (a
// Deployment rolling, kubectl apply of many objects) become one generation.
// Builds are incremental (a change costs what it touches, plus about 1 ms
// per 1,000 Ingresses), so the delays are short: under steady churn a
// change waits at most MaxDelay plus one build.
const (
	HoldOff  = 5 * time.Millisecond
	MaxDelay = 25 * time.Millisecond
)

// Generation is what one full generation produced; observers (status and
// events) receive it.
type Generation struct {
	Snapshot *snapshot.Snapshot
	Model    *model.Model
	Problems []model.Problem
	// Gateway is the Gateway API translation; nil when the Gateway API
	// is not served.
	Gateway *gatewayapi.Result
	// Number counts the generations published (full or endpoints) since
	// the start; a translation that changed nothing keeps the number.
	Number uint64
	// Kind is metrics.KindFull or metrics.KindEndpoints: how the
	// generation numbered was published.
	Kind string
	// Published is when it was published.
	Published time.Time
}

// Controller owns the loop.
type Controller struct {
	Source    *kube.Source
	Translate translate.Options
	Proxy     *proxy.Proxy
	Metrics   *metrics.Set
	Log       *slog.Logger
	// Gateway, when set, serves the Gateway API objects of the snapshot
	// too.
	Gateway *GatewayAPI
	// Observe is called after every full generation that changed
	// something; it must not block.
	Observe func(Generation)

	ready atomic.Bool
	mu    sync.Mutex
	cur   Generation
	// builder keeps the translation of the Ingresses a change leaves
	// alone; only full() uses it.
	builder translate.Builder
}

// Ready reports whether the caches have synced and the first generation is
// serving.
func (c *Controller) Ready() bool { return c.ready.Load() }

// Current returns the last full generation.
func (c *Controller) Current() Generation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur
}

// Run syncs the caches, serves the first generation, then follows changes
// until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	start := time.Now()
	if err := c.Source.Start(ctx); err != nil {
		return err
	}
	c.Log.Info("caches synced", "took", time.Since(start).Round(time.Millisecond))
	c.full()
	c.ready.Store(true)

	var (
		pending  kube.Change
		have     bool
		first    time.Time
		holdOff  = time.NewTimer(time.Hour)
		changes  = c.Source.Changes()
		flushNow = func() {
			if pending.Full {
				c.full()
			} else if len(pending.Endpoints) > 0 {
				c.endpoints(pending.Endpoints)
			}
			pending, have = kube.Change{}, false
		}
	)
	holdOff.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ch := <-changes:
			pending.Merge(ch)
			now := time.Now()
			if !have {
				have, first = true, now
			}
			wait := min(HoldOff, MaxDelay-now.Sub(first))
			if wait <= 0 {
				holdOff.Stop()
				flushNow()
				continue
			}
			holdOff.Reset(wait)
		case <-holdOff.C:
			if have {
				flushNow()
			}
		}
	}
}

// full builds a snapshot, translates and, unless nothing changed, compiles
// and swaps.
func (c *Controller) full() {
	start := time.Now()
	snap := c.Source.Snapshot()
	r := c.builder.Build(snap, c.Translate)
	m, problems := r.Model, r.Problems
	var gw *gatewayapi.Result
	if c.Gateway != nil {
		gw = c.Gateway.Translate(snap)
		m = WithGateways(m, gw)
	}
	c.mu.Lock()
	// The Builder knows when nothing it translated changed; the endpoints
	// fast path's changes since make the components they touch change.
	// The Gateway API translation is whole each time, and compared.
	same := c.cur.Model != nil && !r.Changed && sameGatewayModel(gw, c.cur.Gateway)
	old := c.cur.Problems
	served := c.cur.Model
	number, kind, published := c.cur.Number, c.cur.Kind, c.cur.Published
	if same {
		// Keep the model the proxy serves; the new one is equal.
		m = served
	} else {
		number, kind, published = number+1, metrics.KindFull, time.Now()
	}
	c.cur = Generation{Snapshot: snap, Model: m, Problems: problems, Gateway: gw, Number: number, Kind: kind, Published: published}
	c.mu.Unlock()
	LogNewProblems(c.Log, old, problems)
	c.setProblemGauge(problems)
	if same {
		c.Metrics.Served(metrics.KindNoop, time.Since(start))
		if c.Observe != nil {
			c.Observe(c.Current())
		}
		return
	}
	c.Proxy.Apply(m)
	took := time.Since(start)
	c.Metrics.Served(metrics.KindFull, took)
	c.Log.Info("generation applied", "ingresses", len(snap.Ingresses), "translated", r.Translated, "hosts", len(m.Hosts), "gateways", len(m.Gateways), "backends", len(m.Backends), "problems", len(problems), "took", took.Round(time.Microsecond))
	if r.Fallback {
		c.Log.Warn("Ingress components conflicted; every Ingress was translated together", "ingresses", len(snap.Ingresses))
	}
	if c.Observe != nil {
		c.Observe(c.Current())
	}
}

// endpoints is the fast path: the backends of the changed Services get new
// endpoint sets in place; routes and everything else stay compiled.
func (c *Controller) endpoints(svcs map[types.NamespacedName]bool) {
	start := time.Now()
	c.mu.Lock()
	m := c.cur.Model
	c.mu.Unlock()
	if m == nil {
		c.full()
		return
	}
	var updated []model.Backend
	changed := false
	for i := range m.Backends {
		b := &m.Backends[i]
		n := types.NamespacedName{Namespace: b.Service.Namespace, Name: b.Service.Name}
		if !svcs[n] || b.ServiceUpstream {
			// service-upstream backends point at the cluster IP, which
			// EndpointSlices do not change.
			continue
		}
		svc := c.Source.Service(n)
		if svc == nil || svc.Spec.Type == corev1.ServiceTypeExternalName {
			continue
		}
		sp := translate.ServicePort(svc, b.Port)
		if sp == nil {
			// The Service itself changed under us; its own event brings a
			// full generation.
			continue
		}
		eps := translate.Endpoints(c.Source.EndpointSlices(n), sp)
		if slices.Equal(eps, b.Endpoints) {
			continue
		}
		if !c.Proxy.SetEndpoints(b.Name, eps) {
			c.full()
			return
		}
		if updated == nil {
			updated = slices.Clone(m.Backends)
		}
		updated[i].Endpoints = eps
		changed = true
	}
	if !changed {
		c.Metrics.Generations.WithLabelValues(metrics.KindNoop).Inc()
		return
	}
	// The served model is immutable; record a copy with the new endpoints,
	// which the next full generation is compared with.
	nm := *m
	nm.Backends = updated
	c.mu.Lock()
	c.cur.Model = &nm
	c.cur.Number++
	c.cur.Kind, c.cur.Published = metrics.KindEndpoints, time.Now()
	c.mu.Unlock()
	c.Metrics.Served(metrics.KindEndpoints, time.Since(start))
}

func (c *Controller) setProblemGauge(ps []model.Problem) {
	c.Metrics.SetProblems(ProblemReasons(ps))
}

// ProblemReasons lists the reasons of ps, one per problem, for the
// problem gauge.
func ProblemReasons(ps []model.Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Reason
	}
	return out
}

// LogNewProblems logs the problems the previous generation did not already
// have, so that an unrelated change does not repeat them.
func LogNewProblems(log *slog.Logger, old, cur []model.Problem) {
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
