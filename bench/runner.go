package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"
)

// scenario is one load shape. Every scenario is run against every proxy in
// every round. To add more (other connection counts, larger bodies served
// from other backend locations, HTTP/2 through an h2load loadGenerator),
// return more of them from scenarios.
type scenario struct {
	name        string // short label used in progress lines and report headings
	description string // what a reader of the report needs to know about it
	connections int
	duration    time.Duration
	host, path  string
}

// scenarios lists what a run measures: today one HTTP/1.1 scenario with the
// flags' connection count against the backend's 3-byte answer.
func scenarios(o options) []scenario {
	return []scenario{{
		name:        fmt.Sprintf("http1-c%d", o.connections),
		description: fmt.Sprintf("HTTP/1.1 keep-alive, %d connections, %v per run, 3-byte response body", o.connections, o.duration),
		connections: o.connections,
		duration:    o.duration,
		host:        benchHost,
		path:        "/",
	}}
}

// target is a running server: a proxy under test or the backend.
type target struct {
	name    string
	url     string
	proc    *process // root of the process tree whose CPU is charged to it
	backend bool
}

// measurement is one measured run of one scenario against one proxy.
type measurement struct {
	proxy, scenario string
	round           int // 1-based
	load            loadResult
	cpu             time.Duration // proxy CPU time (user+system) during the run
}

// cpuPerRequest is the proxy's CPU time per completed request, in µs.
func (m measurement) cpuPerRequest() float64 {
	if m.load.Requests == 0 {
		return 0
	}
	return float64(m.cpu) / float64(time.Microsecond) / float64(m.load.Requests)
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
// logs each measurement to w as it completes.
func runRounds(ctx context.Context, rounds int, scens []scenario, proxies []*target, gen loadGenerator, clk int, w io.Writer) ([]measurement, error) {
	var ms []measurement
	for r := 1; r <= rounds; r++ {
		for _, sc := range scens {
			for _, t := range roundOrder(proxies, r) {
				m, err := measure(ctx, t, sc, gen, clk)
				if err != nil {
					return ms, fmt.Errorf("round %d, %s, %s: %w", r, sc.name, t.name, err)
				}
				m.round = r
				ms = append(ms, m)
				logf(w, "round %d/%d %-6s %s: %.0f req/s, p50 %s, p99 %s, errors %d, CPU %.2f µs/req",
					r, rounds, t.name, sc.name, m.load.RPS, formatLatency(m.load.P50), formatLatency(m.load.P99),
					m.load.Errors(), m.cpuPerRequest())
				if m.load.Errors() > 0 {
					logf(w, "warning: %s had %d socket errors and %d non-2xx/3xx responses in round %d",
						t.name, m.load.SocketErrors, m.load.Non2xx, r)
				}
			}
		}
	}
	return ms, nil
}

// measure warms t up, then runs sc against it, reading the proxy's CPU
// counters just before and just after the measured run.
func measure(ctx context.Context, t *target, sc scenario, gen loadGenerator, clk int) (measurement, error) {
	m := measurement{proxy: t.name, scenario: sc.name}
	wu, err := gen.run(ctx, t.url, sc, warmup)
	if err != nil {
		return m, fmt.Errorf("warm-up: %w", err)
	}
	// A proxy that answers nothing but errors would otherwise post an
	// excellent, meaningless CPU per request.
	if wu.Requests == 0 || wu.Non2xx == wu.Requests {
		return m, fmt.Errorf("warm-up got no successful response (%d requests, %d non-2xx/3xx, %d socket errors)",
			wu.Requests, wu.Non2xx, wu.SocketErrors)
	}
	before, err := processTreeTicks(t.proc.PID())
	if err != nil {
		return m, err
	}
	if m.load, err = gen.run(ctx, t.url, sc, sc.duration); err != nil {
		return m, err
	}
	after, err := processTreeTicks(t.proc.PID())
	if err != nil {
		return m, err
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
