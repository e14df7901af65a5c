package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// target is a running server: a proxy under test or a backend.
type target struct {
	name       string
	url        string   // plain-HTTP base URL
	tlsAddr    string   // host:port of the TLS listener; empty for backends
	metricsURL string   // Prometheus endpoint of a Go proxy, for allocation counts; empty otherwise
	proc       *process // root of the process tree whose CPU is charged to it
	backend    bool
}

// measurement is one measured run of one scenario against one proxy.
type measurement struct {
	proxy, scenario string
	round           int // 1-based
	load            loadResult
	cpu             time.Duration // proxy CPU time (user+system) during the run
	mallocs         float64       // heap objects the proxy allocated during the run; NaN when unknown
}

// cpuPerRequest is the proxy's CPU time per completed request, in µs.
func (m measurement) cpuPerRequest() float64 {
	if m.load.Requests == 0 {
		return 0
	}
	return float64(m.cpu) / float64(time.Microsecond) / float64(m.load.Requests)
}

// allocsPerRequest is the proxy's heap allocations per completed request,
// NaN for proxies that are not written in Go.
func (m measurement) allocsPerRequest() float64 {
	if m.load.Requests == 0 {
		return math.NaN()
	}
	return m.mallocs / float64(m.load.Requests)
}

// coreBusy is the fraction of the run's wall time the proxy spent on CPU;
// near 1 means the proxy's core was the bottleneck, well below 1 that wrk's
// and the backend's core was.
func (m measurement) coreBusy() float64 {
	if m.load.Elapsed <= 0 {
		return 0
	}
	return float64(m.cpu) / float64(m.load.Elapsed)
}

// roundOrder returns the proxies in the order round r (1-based) runs them:
// forward in odd rounds, reversed in even ones, so that neither proxy always
// runs first (on a colder machine) or last (after the other's heat).
func roundOrder(proxies []*target, r int) []*target {
	order := slices.Clone(proxies)
	if r%2 == 0 {
		slices.Reverse(order)
	}
	return order
}

// runRounds measures every scenario against every proxy, rounds times, and
// logs each measurement to w as it completes. Scenarios run one after the
// other, each with all its rounds, so that an open-loop scenario can take
// its rate from the finished closed-loop one before it. It returns the
// scenarios as run, open-loop rates filled in.
func runRounds(ctx context.Context, rounds int, scens []scenario, proxies []*target, gen loadGenerator, clk int, w io.Writer) ([]scenario, []measurement, error) {
	var ms []measurement
	scens = slices.Clone(scens)
	for i := range scens {
		sc := &scens[i]
		if sc.kind == openH1 && sc.rate == 0 {
			rate, err := openLoopRate(*sc, ms)
			if err != nil {
				return scens, ms, err
			}
			sc.rate = rate
		}
		if sc.kind == openH1 {
			sc.description += fmt.Sprintf(" Rate this run: %.0f requests/s.", sc.rate)
			logf(w, "%s: open loop at %.0f requests/s", sc.name, sc.rate)
		}
		for r := 1; r <= rounds; r++ {
			for _, t := range roundOrder(proxies, r) {
				m, err := measure(ctx, t, *sc, gen, clk)
				if err != nil {
					return scens, ms, fmt.Errorf("round %d, %s, %s: %w", r, sc.name, t.name, err)
				}
				m.round = r
				ms = append(ms, m)
				logf(w, "round %d/%d %-7s %s: %.0f %s/s, p50 %s, p99 %s, p99.9 %s, errors %d, CPU %.2f µs/%s",
					r, rounds, t.name, sc.name, m.load.RPS, sc.unit, formatLatency(m.load.P50), formatLatency(m.load.P99),
					formatLatency(m.load.P999), m.load.Errors(), m.cpuPerRequest(), sc.unit)
				if m.load.Errors() > 0 {
					logf(w, "warning: %s had %d socket errors and %d non-2xx/3xx responses in round %d",
						t.name, m.load.SocketErrors, m.load.Non2xx, r)
				}
			}
		}
	}
	return scens, ms, nil
}

// measure warms t up, then runs sc against it, reading the proxy's CPU
// counters just before and just after the measured run.
func measure(ctx context.Context, t *target, sc scenario, gen loadGenerator, clk int) (measurement, error) {
	m := measurement{proxy: t.name, scenario: sc.name, mallocs: math.NaN()}
	wu, err := gen.run(ctx, t, sc, warmup)
	if err != nil {
		return m, fmt.Errorf("warm-up: %w", err)
	}
	// A proxy that answers nothing but errors would otherwise post an
	// excellent, meaningless CPU per request.
	if wu.Requests == 0 || wu.Non2xx == wu.Requests {
		return m, fmt.Errorf("warm-up got no successful response (%d requests, %d non-2xx/3xx, %d socket errors)",
			wu.Requests, wu.Non2xx, wu.SocketErrors)
	}
	var mallocsBefore float64
	if t.metricsURL != "" {
		if mallocsBefore, err = scrapeMallocs(ctx, t.metricsURL); err != nil {
			return m, err
		}
	}
	before, err := processTreeTicks(t.proc.PID())
	if err != nil {
		return m, err
	}
	if m.load, err = gen.run(ctx, t, sc, sc.duration); err != nil {
		return m, err
	}
	after, err := processTreeTicks(t.proc.PID())
	if err != nil {
		return m, err
	}
	if t.metricsURL != "" {
		mallocsAfter, err := scrapeMallocs(ctx, t.metricsURL)
		if err != nil {
			return m, err
		}
		m.mallocs = mallocsAfter - mallocsBefore
	}
	if t.proc.exited() {
		return m, t.proc.exitError()
	}
	if after < before {
		return m, fmt.Errorf("CPU counter of pid %d went backwards (%d → %d ticks)", t.proc.PID(), before, after)
	}
	m.cpu = ticksToDuration(after-before, clk)
	return m, nil
}

// ticksToDuration converts clock ticks at clk per second to a duration.
func ticksToDuration(ticks uint64, clk int) time.Duration {
	return time.Duration(ticks) * time.Second / time.Duration(clk)
}
