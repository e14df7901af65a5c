package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		in := append([]float64(nil), tt.in...)
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", in, got, tt.want)
		}
		for i := range in {
			if in[i] != tt.in[i] {
				t.Errorf("median reordered its input: %v", tt.in)
			}
		}
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median(nil) is not NaN")
	}
}

// sampleMeasurements are three rounds of two proxies with one outlier round
// each, so medians differ from means.
func sampleMeasurements() []measurement {
	mk := func(proxy string, round int, rps float64, p50us int, reqs uint64, cpu time.Duration, errs uint64) measurement {
		m := measurement{
			proxy: proxy, scenario: "h1-c16-0b", round: round, cpu: cpu, mallocs: math.NaN(),
			load: loadResult{
				Requests: reqs, Elapsed: 10 * time.Second, RPS: rps, Non2xx: errs,
				P50: time.Duration(p50us) * time.Microsecond, P99: time.Duration(4*p50us) * time.Microsecond,
				P999: time.Duration(10*p50us) * time.Microsecond,
			},
		}
		// Strait allocates 3 objects a request, plus one per 100 in round 2.
		if proxy == "strait" {
			m.mallocs = float64(3 * reqs)
			if round == 2 {
				m.mallocs += float64(reqs / 100)
			}
		}
		return m
	}
	return []measurement{
		mk("nginx", 1, 30000, 1000, 300000, 9*time.Second, 0),           // 30 µs/req
		mk("strait", 1, 20000, 1500, 200000, 10*time.Second, 0),         // 50 µs/req
		mk("strait", 2, 10000, 9000, 100000, 10*time.Second, 4),         // 100 µs/req, bad round
		mk("nginx", 2, 31000, 990, 310000, 9300*time.Millisecond, 0),    // 30 µs/req
		mk("nginx", 3, 5000, 5000, 50000, 10*time.Second, 0),            // 200 µs/req, bad round
		mk("strait", 3, 21000, 1400, 210000, 12600*time.Millisecond, 0), // 60 µs/req
	}
}

func TestSummarize(t *testing.T) {
	rows := summarize([]string{"nginx", "strait"}, sampleMeasurements())
	if len(rows) != 2 || rows[0].proxy != "nginx" || rows[1].proxy != "strait" {
		t.Fatalf("rows = %+v", rows)
	}
	n, s := rows[0], rows[1]
	if n.rps != 30000 || n.p50 != 1000*time.Microsecond || n.cpuPerReq != 30 || n.ratio != 1 || n.rounds != 3 {
		t.Errorf("nginx row = %+v", n)
	}
	if s.rps != 20000 || s.p50 != 1500*time.Microsecond || s.p999 != 15*time.Millisecond || s.cpuPerReq != 60 || s.ratio != 2 || s.allocsPer != 3 {
		t.Errorf("strait row = %+v", s)
	}
	if !math.IsNaN(n.allocsPer) {
		t.Errorf("nginx has allocations per request: %v", n.allocsPer)
	}
	if s.errors != 0 || s.totalErrors != 4 {
		t.Errorf("strait errors median %v total %d, want 0 and 4", s.errors, s.totalErrors)
	}
}

func TestSummarizeWithoutNginx(t *testing.T) {
	rows := summarize([]string{"strait"}, sampleMeasurements())
	if len(rows) != 1 || !math.IsNaN(rows[0].ratio) {
		t.Fatalf("rows = %+v", rows)
	}
	if !strings.Contains(summaryTable(rows, "req"), "| n/a |") {
		t.Errorf("table without nginx lacks n/a ratio:\n%s", summaryTable(rows, "req"))
	}
}

func TestSummaryTable(t *testing.T) {
	got := summaryTable(summarize([]string{"nginx", "strait"}, sampleMeasurements()), "req")
	want := `| proxy | requests/s | p50 | p99 | p99.9 | errors | CPU µs/req | allocs/req | ratio to nginx CPU |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
| nginx | 30000 | 1.00ms | 4.00ms | 10.00ms | 0 | 30.00 | — | 1.00× |
| strait | 20000 | 1.50ms | 6.00ms | 15.00ms | 0 (4 total) | 60.00 | 3.0 | 2.00× |
`
	if got != want {
		t.Errorf("summaryTable =\n%s\nwant\n%s", got, want)
	}
	if h := summaryTable(nil, "conn"); !strings.HasPrefix(h, "| proxy | connections/s | p50 | p99 | p99.9 | errors | CPU µs/conn | allocs/conn |") {
		t.Errorf("connection table heading = %q", h)
	}
}

func TestFormatLatency(t *testing.T) {
	for d, want := range map[time.Duration]string{
		99 * time.Microsecond:   "99µs",
		1234 * time.Microsecond: "1.23ms",
		2500 * time.Millisecond: "2.50s",
	} {
		if got := formatLatency(d); got != want {
			t.Errorf("formatLatency(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestRenderReport(t *testing.T) {
	o, err := parseFlags([]string{"-out", "docs/benchmarks.md", "-scenarios", "h1-c16-0b", "-proxies", "nginx,strait"})
	if err != nil {
		t.Fatal(err)
	}
	ms := sampleMeasurements()
	info := machineInfo{
		cpuModel: "AMD EPYC", cpus: 2, kernel: "6.1.0", nginx: "nginx/1.22.1", haproxy: "2.6.12-1+deb12u4 2026/10/17",
		wrk: "wrk debian/4.1.0-3+b2 [epoll]", h2load: "h2load nghttp2/1.52.0", goVersion: "go version go1.26.8 linux/amd64",
		strait: "commit abc1234", date: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC),
	}
	doc := renderReport(info, o, summarizeAll(o.scenarios, o.proxies, ms), ms)
	for _, want := range []string{
		"## Method", "AMD EPYC, 2 logical CPUs", "Kernel: 6.1.0", "nginx/1.22.1", "HAProxy: 2.6.12-1+deb12u4", "wrk debian/4.1.0-3+b2",
		"h2load nghttp2/1.52.0", "go1.26.8", "2026-01-02 03:04 UTC", "### Scenario h1-c16-0b",
		"go run ./bench -duration 5s -rounds 3 -scenarios h1-c16-0b -proxies nginx,strait -out docs/benchmarks.md",
		"| strait | 20000 | 1.50ms | 6.00ms | 15.00ms | 0 (4 total) | 60.00 | 3.0 | 2.00× |",
		"| h1-c16-0b | 2 | strait | 100000 | 10000 | 9.00ms | 36.00ms | 90.00ms | 4 | 10.00 | 100% | 100.00 | 3.0 |",
		"| h1-c16-0b | 2 | nginx | 310000 | 31000 | 990µs | 3.96ms | 9.90ms | 0 | 9.30 | 93% | 30.00 | — |",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("report lacks %q:\n%s", want, doc)
		}
	}
}

func TestRoundOrderAlternates(t *testing.T) {
	a, b := &target{name: "nginx"}, &target{name: "strait"}
	for r, first := range map[int]string{1: "nginx", 2: "strait", 3: "nginx", 4: "strait"} {
		if got := roundOrder([]*target{a, b}, r)[0].name; got != first {
			t.Errorf("round %d starts with %s, want %s", r, got, first)
		}
	}
}
